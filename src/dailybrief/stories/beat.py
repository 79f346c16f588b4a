"""The edition's beat: how relevant each item is to what the edition covers, offline.

    item ──title and lead──▶ beat terms (whole words, CJK substrings)          ─┐
         └──embedding (embed.py)──▶ closest of the beat's topic sentences (cos) ─┴─▶ relevance in [0, 1]

A beat is a description in words and a list of topics, each a short phrase, with the terms that name the beat
outright (for AI: "LLM", "Claude", "大模型"). An item whose title names a beat term is on the beat; one whose
lead, or its link's words (the site's name and the page's: "grith.ai/blog/clinejection-when-your-ai-tool-…"), do
is nearly so; otherwise its embedding's closest topic decides, scaled between ``low`` (unrelated news
scores about this) and ``high`` (clearly on the topic). A post from an official source (a lab's newsroom, chosen
for the beat) is on it at least at ``cut``. A story is as relevant as its most relevant item that
names it.

Off-beat stories (relevance below ``cut``) never head a section or fill the roundup; the ranking weighs the rest
by relevance, and ``stories --explain`` shows it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import numpy as np

from ..config import AI_DESCRIPTION, AI_TERMS, AI_TOPICS, BeatConfig
from ..records import Item, Story
from ..store import Store
from .embed import Embedder, embed_items, lead


@dataclass(slots=True)
class Beat:
    name: str = "AI"
    description: str = AI_DESCRIPTION
    topics: list[str] = field(default_factory=lambda: list(AI_TOPICS))
    terms: list[str] = field(default_factory=lambda: list(AI_TERMS))
    low: float = 0.22     # the closest topic's cosine that unrelated news reaches (relevance 0)
    high: float = 0.50    # ... and that news clearly on a topic reaches (relevance 1)
    cut: float = 0.5      # relevance below this is off the beat
    title_term: float = 1.0  # relevance of an item whose title names a beat term
    lead_term: float = 0.7   # ... whose lead does

    @classmethod
    def from_config(cls, conf: BeatConfig) -> Beat:
        """The [edition.beat] section as the stage uses it (blank terms dropped)."""
        return cls(name=conf.name, description=conf.description, topics=list(conf.topics),
                   terms=[t for t in conf.terms if t.strip()], cut=conf.cut)


def _pattern(term: str) -> re.Pattern[str]:
    if re.search(r"[\u3400-\u9fff]", term):
        return re.compile(re.escape(term))
    flags = 0 if any(c.isupper() for c in term[1:]) or (term.isupper() and len(term) <= 4) else re.IGNORECASE
    # A whole word, or a name with its version glued on ("Qwen3.6", "GPT4o" name Qwen and GPT).
    version = r"(?=\d)" if term[-1].isalpha() else r"(?!)"
    return re.compile(r"(?<![\w])" + re.escape(term) + r"(?:(?![\w])|" + version + ")", flags)


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def link_words(url: str) -> str:
    """A link's words, as a reader sees them in it: the site's name and the page's path, split at dots, slashes,
    hyphens and the humps of camelCase ("grith.ai/blog/clinejection-when" -> "grith ai blog clinejection when",
    "BerriAI/litellm" -> "Berri AI litellm"); the scheme, www and the query are not words."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    return " ".join(w for w in re.split(r"[^0-9A-Za-z]+", _CAMEL.sub(" ", f"{host} {parts.path}")) if w)


class BeatScorer:
    """Relevance of items to a beat; the topics' vectors are encoded once."""

    def __init__(self, beat: Beat, embedder: Embedder) -> None:
        self.beat = beat
        self.embedder = embedder
        self._terms = [(t, _pattern(t)) for t in beat.terms]
        # In a link the words are lower-case: "ai" there is "AI" (whole words still).
        self._link_terms = [(t, re.compile(p.pattern, p.flags | re.IGNORECASE)) for t, p in self._terms]
        self._topics: np.ndarray | None = None

    @property
    def topic_vectors(self) -> np.ndarray:
        if self._topics is None:
            self._topics = np.asarray(self.embedder.encode([self.beat.description, *self.beat.topics]),
                                      dtype=np.float32)
        return self._topics

    def term_in(self, text: str, link: bool = False) -> str:
        """The first beat term found in text ("" when none); in a link's words, `link`, case aside."""
        for term, pat in self._link_terms if link else self._terms:
            if pat.search(text):
                return term
        return ""

    def score(self, items: Sequence[Item], vectors: np.ndarray) -> list[tuple[float, str]]:
        """Per item: its relevance, and why (the term found, or the closest topic's cosine)."""
        b = self.beat
        out: list[tuple[float, str]] = []
        sims = (np.asarray(vectors, dtype=np.float32) @ self.topic_vectors.T).max(axis=1) if len(items) else []
        for item, sim in zip(items, sims, strict=True):
            embedded = float(np.clip((float(sim) - b.low) / (b.high - b.low), 0.0, 1.0))
            if term := self.term_in(item.title):
                value, why = max(b.title_term, embedded), f"title names {term!r}"
            elif (term := self.term_in(lead(item.body, 300))) and b.lead_term > embedded:
                value, why = b.lead_term, f"lead names {term!r}"
            elif (term := self.term_in(link_words(item.url), link=True)) and b.lead_term > embedded:
                value, why = b.lead_term, f"link names {term!r}"
            else:
                value, why = embedded, f"closest topic {float(sim):.2f}"
            if item.tier == "official" and value < b.cut:
                # A lab's own newsroom was chosen for this beat: its posts are on it ("Introducing X" says little).
                value, why = b.cut, f"the lab's own post ({why})"
            out.append((value, why))
        return out


def story_relevance(story: Story, relevance: dict[str, tuple[float, str]]) -> tuple[float, str]:
    """A story's relevance: its most relevant item's, and which item that is."""
    scored = [(relevance[i.id], i) for i in story.items if i.id in relevance]
    if not scored:
        return 1.0, "not scored"
    (value, why), item = max(scored, key=lambda t: t[0][0])
    return value, f"{value:.2f} ({why}: {item.title[:50]})"


def score_beat(stories: list[Story], beat: Beat, embedder: Embedder, store: Store) -> int:
    """Set each story's relevance to the beat (and whether it is on it); the number off the beat."""
    items = [i for s in stories for i in s.items]
    scored = BeatScorer(beat, embedder).score(items, embed_items(items, embedder, store))
    relevance = dict(zip([i.id for i in items], scored, strict=True))
    for story in stories:
        story.relevance, story.relevance_note = story_relevance(story, relevance)
        story.on_beat = story.relevance >= beat.cut
    return sum(1 for s in stories if not s.on_beat)
