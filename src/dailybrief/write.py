"""Write stage: turn ranked stories into a Brief whose every story sentence is cited.

Writers sit behind a small interface and are registered by name in
``WRITERS``. The extractive writer needs no model: it picks central,
non-redundant sentences from the stories' own sources (MMR over sentence
embeddings) and cites each one. It writes no analysis, and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .embed import Embedder
from .records import Branding, Brief, Item, Paragraph, Reference, Section, Sentence, Story
from .text import clip, split_sentences

if TYPE_CHECKING:
    from .themes import Theme

FACT_TIERS = ("official", "press", "paper", "code")

WORDS = {
    "zh": {
        "points": "{n} 分", "comments": "{n} 条评论", "score": "得分 {n}",
        "no_analysis": "产业分析需要语言模型：在配置的 [writer] 中设置 kind = \"openai\" 及其端点后生成。"
                       "抽取式写作只转述来源原文，不做推断。",
        "outlets": "今日共收录 {items} 条报道，来自 {outlets} 个信源，归并为 {stories} 个事件；以下是其中最受关注的 {top} 个。",
        "thread": "{platform} 讨论帖",
        "follow": "此事件已在 {day} 的简报中报道，以下为新进展。",
    },
    "en": {
        "points": "{n} points", "comments": "{n} comments", "score": "score {n}",
        "no_analysis": "Analysis needs a language model: set [writer] kind = \"openai\" and its endpoint in the "
                       "config. The extractive writer only restates its sources; it does not infer.",
        "outlets": "Today's edition draws on {items} reports from {outlets} sources, merged into {stories} "
                   "events; these are the {top} that matter most.",
        "thread": "{platform} thread",
        "follow": "This story was briefed on {day}; what follows is new.",
    },
}


class Writer(Protocol):
    name: str

    def write(self, stories: Sequence[Story], roundup: Sequence[Story], edition: date, language: str,
              title: str, branding: Branding) -> Brief: ...


@dataclass(slots=True)
class ReferenceBook:
    """Numbers references in order of first citation; only ingested items can be cited."""

    refs: list[Reference] = field(default_factory=list)
    _by_item: dict[str, int] = field(default_factory=dict)

    def cite(self, item: Item, note: str = "") -> int:
        if item.id in self._by_item:
            return self._by_item[item.id]
        n = len(self.refs) + 1
        self.refs.append(Reference(n=n, item_id=item.id, url=item.url, outlet=item.source_name,
                                   title=item.title, published=item.published, note=note, tier=item.tier))
        self._by_item[item.id] = n
        return n


@dataclass(slots=True)
class Candidate:
    text: str
    item: Item
    position: int


def _good_sentence(text: str) -> bool:
    if "http://" in text or "https://" in text:
        return False
    n = len(text)
    cjk = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    if cjk > n * 0.3:
        return 12 <= n <= 220
    return 40 <= n <= 420 and text[-1] in ".!?\"'”’)"


def mmr(vectors: np.ndarray, relevance: np.ndarray, k: int, lam: float = 0.7, redundant: float = 0.85) -> list[int]:
    """Maximal marginal relevance: up to k indices, skipping near-repeats of what is chosen."""
    chosen: list[int] = []
    left = list(range(len(relevance)))
    while left and len(chosen) < k:
        if chosen:
            overlap = (vectors[left] @ vectors[chosen].T).max(axis=1)
        else:
            overlap = np.zeros(len(left))
        gains = lam * relevance[left] - (1 - lam) * overlap
        best = int(np.argmax(gains))
        idx = left.pop(best)
        if chosen and overlap[best] >= redundant:
            continue
        chosen.append(idx)
    return chosen


def _platform(item: Item) -> str:
    return item.source_name


class ExtractiveWriter:
    """Cited sentences picked from the sources; needs no model."""

    name = "extractive"

    def __init__(self, embedder: Embedder, facts: int = 4, views: int = 4, progress: Callable[[str], None] | None = None):
        self.embedder = embedder
        self.facts = facts
        self.views = views
        self.progress = progress

    # -- facts --------------------------------------------------------------
    def _fact_candidates(self, story: Story) -> list[Candidate]:
        out: list[Candidate] = []
        for item in story.items:
            if item.tier not in FACT_TIERS:
                continue
            for pos, sent in enumerate(split_sentences(item.body)):
                if _good_sentence(sent):
                    out.append(Candidate(sent, item, pos))
        return out

    def _facts(self, story: Story, language: str, book: ReferenceBook) -> tuple[list[Sentence], np.ndarray | None]:
        cands = self._fact_candidates(story)
        if not cands:
            # Nothing but titles: state the headline of each primary item.
            items = [i for i in story.items if i.tier in FACT_TIERS] or story.items[:1]
            return [Sentence(i.title, [book.cite(i, self._note(i, language))]) for i in items[:2]], None
        vecs = self.embedder.encode([c.text for c in cands])
        centroid = vecs.mean(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-9)
        rel = vecs @ centroid
        rel += np.array([0.08 / (1 + c.position) for c in cands])            # leads carry the news
        rel += np.array([0.06 if c.item.tier == "official" else 0.0 for c in cands])
        rel += np.array([0.10 if c.item.language == language else 0.0 for c in cands])
        picked = mmr(vecs, rel, self.facts)
        # Keep the order a reader expects: by source, then position in it.
        rank_of = {it.id: n for n, it in enumerate(story.items)}
        picked.sort(key=lambda i: (rank_of[cands[i].item.id], cands[i].position))
        sentences = []
        for i in picked:
            refs = [book.cite(cands[i].item, self._note(cands[i].item, language))]
            # Other sources that state the same thing are cited too.
            sims = vecs @ vecs[i]
            for j in np.argsort(-sims):
                if sims[j] < 0.8 or len(refs) >= 3:
                    break
                other = cands[int(j)].item
                if other.id != cands[i].item.id:
                    n = book.cite(other, self._note(other, language))
                    if n not in refs:
                        refs.append(n)
            sentences.append(Sentence(cands[i].text, refs))
        return sentences, vecs[picked]

    # -- views --------------------------------------------------------------
    def _views(self, story: Story, language: str, book: ReferenceBook) -> list[Paragraph]:
        words = WORDS[language]
        threads = [i for i in story.items if i.tier == "community"]
        threads.sort(key=lambda i: (-(i.engagement), i.id))
        paras: list[Paragraph] = []
        for item in threads[:3]:
            figures = []
            if item.points is not None:
                figures.append(words["points"].format(n=item.points))
            if item.score is not None:
                figures.append(words["score"].format(n=item.score))
            if item.comment_count is not None:
                figures.append(words["comments"].format(n=item.comment_count))
            lead = " · ".join([_platform(item), *figures])
            n = book.cite(item, self._note(item, language))
            comments = [c for c in item.comments if len(c.text) >= 20]
            sentences: list[Sentence] = []
            if comments:
                vecs = self.embedder.encode([c.text for c in comments])
                rel = np.array([np.log1p(max(c.score or 0, 0)) / 10 + 1.0 for c in comments])
                for k in sorted(mmr(vecs, rel, self.views, lam=0.5, redundant=0.8)):
                    c = comments[k]
                    who = c.author or "—"
                    sep = "：" if language == "zh" else ": "
                    sentences.append(Sentence(f"{who}{sep}{clip(c.text, 220)}", [n]))
            else:
                body = split_sentences(item.body)
                text = clip(body[0], 220) if body else item.title
                sentences.append(Sentence(text, [n]))
            paras.append(Paragraph("views", sentences, lead=lead))
        return paras

    # -- notes --------------------------------------------------------------
    @staticmethod
    def _note(item: Item, language: str) -> str:
        words = WORDS[language]
        if item.tier == "community":
            figures = []
            if item.points is not None:
                figures.append(words["points"].format(n=item.points))
            if item.comment_count is not None:
                figures.append(words["comments"].format(n=item.comment_count))
            head = words["thread"].format(platform=item.source_name)
            return head + (f"（{'，'.join(figures)}）" if language == "zh" and figures else
                           f" ({', '.join(figures)})" if figures else "")
        first = split_sentences(item.summary or item.text)
        return clip(first[0], 110) if first else ""

    # -- the brief ------------------------------------------------------------
    @staticmethod
    def _title(story: Story, language: str) -> str:
        primary = [i for i in story.items if i.tier in FACT_TIERS] or story.items
        same = [i for i in primary if i.language == language]
        return (same or primary)[0].title

    def write(self, stories: Sequence[Story], roundup: Sequence[Story], edition: date, language: str,
              title: str, branding: Branding) -> Brief:
        words = WORDS[language]
        book = ReferenceBook()
        brief = Brief(edition=edition, language=language, title=title, branding=branding)
        leads: list[Sentence] = []
        for story in stories:
            if self.progress:
                self.progress(story.title)
            facts, _ = self._facts(story, language, book)
            section = Section(kind="story", title=self._title(story, language), story_id=story.id,
                              writer=self.name, follow_up=story.follow_up, outlets=story.outlets)
            if story.follow_up:
                section.notes.append(follow_up_note(story, language))
            section.paragraphs.append(Paragraph("facts", facts))
            section.paragraphs.extend(self._views(story, language, book))
            section.notes.append(words["no_analysis"])
            brief.sections.append(section)
            if facts:
                leads.append(facts[0])
        if roundup:
            items = []
            for story in roundup:
                head = ([i for i in story.items if i.tier in FACT_TIERS] or story.items)[0]
                n = book.cite(head, self._note(head, language))
                extra = [book.cite(i, self._note(i, language)) for i in story.items[1:3]]
                text = f"{clip(self._title(story, language), 120)}（{head.source_name}）" if language == "zh" \
                    else f"{clip(self._title(story, language), 120)} ({head.source_name})"
                items.append(Paragraph("roundup", [Sentence(text, [n, *[e for e in extra if e != n]])]))
            brief.sections.append(Section(kind="roundup", title="", paragraphs=items, writer=self.name))
        brief.themes = [clip(s.title, 40) for s in brief.sections if s.kind == "story"][:3]
        all_items = {i.id for s in [*stories, *roundup] for i in s.items}
        all_outlets = {i.source_name for s in [*stories, *roundup] for i in s.items}
        opening = Sentence(words["outlets"].format(items=len(all_items), outlets=len(all_outlets),
                                                   stories=len(stories) + len(roundup), top=len(stories)), [])
        brief.abstract = [Paragraph("abstract", [opening, *leads[:3]])]
        brief.references = book.refs
        return brief


def follow_up_note(story: Story, language: str) -> str:
    """What a follow-up section says is new since the story was last briefed."""
    when = (story.briefed_on or story.first_seen).isoformat()
    new = story.new_outlets
    n = story.new_items or len(story.items)
    if language == "zh":
        head = f"跟进：此事件已在 {when} 的简报中报道（首见于 {story.first_seen.isoformat()}）。"
        more = f"此后新增 {n} 篇报道，" + (f"新信源：{'、'.join(new[:5])}。" if new else "均来自此前已报道的信源。")
        return head + more
    head = f"Follow-up: this story was briefed on {when} (first seen {story.first_seen.isoformat()}). "
    more = f"New since then: {n} report{'s' if n != 1 else ''}" + \
        (f", from new outlets {', '.join(new[:5])}." if new else ", all from outlets that covered it before.")
    return head + more


def _numbers(ns: list[int], language: str) -> str:
    if language == "zh":
        return "、".join(map(str, ns))
    return ", ".join(map(str, ns[:-1])) + (" and " if len(ns) > 1 else "") + str(ns[-1])


def theme_sentence(themes: Sequence[Theme], brief: Brief) -> Sentence | None:
    """The abstract's sentence naming the day's themes and the sections of each."""
    number = {s.story_id: n for n, s in enumerate(brief.sections, start=1) if s.kind == "story"}
    parts = []
    for theme in themes:
        ns = sorted(number[i] for i in theme.story_ids if i in number)
        if ns:
            parts.append((theme.name(brief.language), ns))
    if not parts:
        return None
    if brief.language == "zh":
        count = {1: "一", 2: "两", 3: "三"}.get(len(parts), str(len(parts)))
        items = [f"{name}（第 {_numbers(ns, 'zh')} 节）" for name, ns in parts]
        joined = items[0] if len(items) == 1 else "、".join(items[:-1]) + "与" + items[-1]
        return Sentence(f"今日重点事件可归为{count}条主线：{joined}。", [])
    items = [f"{name} (section{'s' if len(ns) > 1 else ''} {_numbers(ns, 'en')})" for name, ns in parts]
    joined = items[0] if len(items) == 1 else "; ".join(items[:-1]) + "; and " + items[-1]
    threads = "one thread" if len(parts) == 1 else f"{len(parts)} threads"
    return Sentence(f"The day's top stories run along {threads}: {joined}.", [])


def apply_themes(brief: Brief, themes: Sequence[Theme]) -> Brief:
    """Name the themes in the brief and say in the abstract which sections belong to each."""
    brief.themes = [t.name(brief.language) for t in themes]
    sentence = theme_sentence(themes, brief)
    if sentence is not None:
        if brief.abstract and brief.abstract[0].sentences:
            brief.abstract[0].sentences.insert(1, sentence)
        else:
            brief.abstract.insert(0, Paragraph("abstract", [sentence]))
    return brief


WRITERS: dict[str, type] = {"extractive": ExtractiveWriter}
