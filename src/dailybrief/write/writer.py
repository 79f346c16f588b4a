"""Write stage: turn ranked stories into a Brief whose every story sentence is cited.

    stories ──ChainWriter──▶ Brief
               ├─ section(story):  the first writer that can (LLM), else the extractive one
               ├─ roundup:          extractive (a cited headline per item)
               └─ abstract(brief):  built from the themes, by the same chain

Writers sit behind a small interface (``SectionWriter``) and are registered by
name in ``WRITERS``. The extractive writer needs no model: it picks central,
non-redundant sentences from the stories' own sources (MMR over sentence
embeddings) and cites each one. It writes no analysis, and says so. A writer
that cannot write a story raises ``WriterError`` -- or anything else: any
exception while writing one story (or the abstract) makes the chain write that
part with the extractive writer, log the traceback, record
``section.writer = "llm→extractive"`` and note the fallback in the section, the
brief and ``ChainWriter.fallbacks``. A story the extractive writer cannot write
either is left out (named in ``ChainWriter.fallbacks``); the rest is written.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .. import plugins
from ..errors import WriterError
from ..ids import passage_id
from ..records import Branding, Brief, Comment, Item, Paragraph, Reference, Section, Sentence, Story
from ..stories.cluster import artifact_name, heading_item, is_digest, story_title, title_language
from ..stories.embed import Embedder
from ..stories.rank import lab_site
from ..text import cjk_ratio, clip, split_sentences
from ..words import count_word, counted, join_all, words
from .verify import instruction_like

if TYPE_CHECKING:
    from ..config import WriterConfig
    from ..store import Store
    from ..stories.themes import Theme

log = logging.getLogger(__name__)

FACT_TIERS = ("official", "press", "paper", "code")
LEAD_BONUS = 0.08  # relevance added to an article's first sentence (halved for the second, ...)
PRIMARY_TIERS = ("official", "press")  # facts come from these; papers and code only when a story has nothing else
LEADS = 4  # lead items a section cites at most (lead_items): a story seldom has more lab pages than two
HEADLINES = 3  # headlines a story told only by titles states: its lead items' first, then its other primary items'


def own_pages(sites: Sequence[str]) -> Callable[[Item], bool]:
    """Whether an item is the lab's own page: an official source's post, or a page on one of the beat's sites
    posted by a community or the press (rank.lab_site: the one rule of what a lab's page is, which ranks it too)."""
    found = tuple(sites)
    return lambda item: item.tier == "official" or bool(found and lab_site(item.url, found))


def lead_items(items: Sequence[Item], language: str, own: Callable[[Item], bool]) -> list[Item]:
    """The items a story's section cites whatever else it says: the one it is headed by, the lab's own pages (the
    most discussed first), the press's first report and the community thread with the largest reaction (points
    and comments). A digest of many stories is none of them while the story has another item."""
    pool = [i for i in items if not is_digest(i.title)] or list(items)
    head = heading_item(pool, language, own)
    labs = sorted((i for i in pool if own(i)), key=lambda i: -i.engagement)
    press = [i for i in pool if i.tier == "press"][:1]
    threads = sorted((i for i in pool if i.tier == "community"), key=lambda i: (-i.engagement, i.id))[:1]
    return list({i.id: i for i in [head, *labs, *press, *threads]}.values())[:LEADS]


class Writer(Protocol):
    name: str

    def write(self, stories: Sequence[Story], roundup: Sequence[Story], edition: date, language: str,
              title: str, branding: Branding) -> Brief: ...


class SectionWriter(Protocol):
    """Writes one story's section, and the abstract; raises WriterError when it cannot."""

    name: str

    def section(self, story: Story, language: str, book: ReferenceBook) -> Section: ...

    def abstract(self, brief: Brief, language: str, book: ReferenceBook) -> list[Paragraph]: ...


@dataclass(slots=True)
class ReferenceBook:
    """Numbers references in order of first citation; only ingested items can be cited. With `tz` (the edition's
    time zone) a reference's time is given in it, so its date is the one the edition's readers live by."""

    refs: list[Reference] = field(default_factory=list)
    _by_item: dict[str, int] = field(default_factory=dict)
    tz: tzinfo | None = None

    def cite(self, item: Item, note: str = "") -> int:
        if item.id in self._by_item:
            return self._by_item[item.id]
        n = len(self.refs) + 1
        # A community post is cited by its discussion, the page its quoted comments are on.
        self.refs.append(Reference(n=n, item_id=item.id, url=item.thread_url or item.url, outlet=item.source_name,
                                   title=item.title, published=self.local(item), note=note, tier=item.tier))
        self._by_item[item.id] = n
        return n

    def local(self, item: Item) -> datetime | None:
        when = item.published
        return when.astimezone(self.tz) if when is not None and self.tz is not None and when.tzinfo else when


@dataclass(slots=True)
class Candidate:
    text: str
    item: Item
    position: int


SAME_FACT = 0.8  # sentences this close state the same thing: each cites the other's source, and only one is told
LOW_VOTES = 0.1  # a comment with under this share of the thread's top score speaks for few readers


def _voted(comments: list[Comment]) -> list[Comment]:
    """The comments a thread's readers voted up: those with at least LOW_VOTES of its top score (a one-liner
    with 12 points under a 312-point comment is a joke or an aside), and never fewer than two."""
    scores = [c.score for c in comments if c.score is not None]
    if len(scores) < len(comments) or not scores or max(scores) <= 0:
        return comments  # votes unknown: all stay
    floor = LOW_VOTES * max(scores)
    kept = [c for c in comments if (c.score or 0) >= floor]
    if len(kept) < 2:
        kept = sorted(comments, key=lambda c: -(c.score or 0))[:2]
    chosen = {id(c) for c in kept}
    return [c for c in comments if id(c) in chosen]


def _good_sentence(text: str) -> bool:
    if "http://" in text or "https://" in text or instruction_like(text):
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


def _figures(item: Item, language: str, score: bool = True) -> list[str]:
    w = words(language)
    pairs = [("points", item.points), ("score", item.score if score else None), ("comments", item.comment_count)]
    return [w[key].format(n=n) for key, n in pairs if n is not None]


def attribution(item: Item, language: str) -> str:
    """Platform and figures of a community item: 'Hacker News · 412 points · 318 comments'."""
    return " · ".join([item.source_name, *_figures(item, language)])


def holder(item: Item, language: str, author: str = "", score: int | None = None) -> str:
    """Who holds a view: a comment's platform, author and score; a thread's platform and figures; else the outlet."""
    if author:
        figure = [words(language)["comment_score"].format(n=score)] if score is not None else []
        return " · ".join([item.source_name, author, *figure])
    return attribution(item, language) if item.tier == "community" else item.source_name


def reference_note(item: Item, language: str) -> str:
    """The one-line note of a reference: a thread's platform and figures, else the item's lead."""
    w = words(language)
    if item.tier == "community":
        figures = _figures(item, language, score=False)
        head = w["thread"].format(platform=item.source_name)
        return head + (w["paren"].format(text=w["figure_sep"].join(figures)) if figures else "")
    first = split_sentences(item.summary or item.text)
    return clip(first[0], 110) if first else ""


def as_read(story: Story, max_chars: int) -> Story:
    """The story as the write stage (its writer and verifier) reads it: each item's title, text and summary,
    and its comment thread as a whole, at most ``max_chars`` characters ([writer].max_item_chars). Every
    sentence the stage embeds comes from these, so its work is bounded by the cap, not by what a feed or a
    thread holds. Copies: the stored items are untouched."""
    return replace(story, items=[_item_as_read(i, max_chars) for i in story.items])


def _item_as_read(item: Item, max_chars: int) -> Item:
    if max(len(item.title), len(item.text), len(item.summary), sum(len(c.text) for c in item.comments)) <= max_chars:
        return item
    comments: list[Comment] = []
    left = max_chars
    for c in item.comments:
        if left <= 0:
            break
        comments.append(c if len(c.text) <= left else replace(c, text=c.text[:left]))
        left -= len(comments[-1].text)
    return replace(item, title=item.title[:max_chars], text=item.text[:max_chars], summary=item.summary[:max_chars],
                   comments=comments)


class ExtractiveWriter:
    """Cited sentences picked from the sources; needs no model."""

    name = "extractive"

    def __init__(self, embedder: Embedder, facts: int = 4, views: int = 4, progress: Callable[[str], None] | None = None,
                 lab_sites: Sequence[str] = ()):
        self.embedder = embedder
        self.facts = facts
        self.views = views
        self.progress = progress
        self.own = own_pages(lab_sites)  # the lab's own pages head a section ([edition.beat] sites)

    # -- facts --------------------------------------------------------------
    def _fact_candidates(self, story: Story) -> list[Candidate]:
        out: list[Candidate] = []
        # A digest's text tells many stories; it tells this one only when nothing else does.
        items = [i for i in story.items if not is_digest(i.title)] or story.items
        for tiers in (PRIMARY_TIERS, FACT_TIERS):
            for item in items:
                if item.tier not in tiers:
                    continue
                for pos, sent in enumerate(split_sentences(item.body)):
                    if _good_sentence(sent):
                        out.append(Candidate(sent, item, pos))
            if out:
                break
        return out

    def _facts(self, story: Story, language: str, book: ReferenceBook) -> tuple[list[Sentence], np.ndarray | None]:
        cands = self._fact_candidates(story)
        # The extractive writer cannot translate: when the edition's language has a few sentences to tell the
        # facts with, the reader gets them in it; a story told (almost) only in the other language is quoted in it.
        own = [c for c in cands if c.item.language == language]
        if len(own) >= max(2, self.facts // 2):
            cands = own
        if not cands:
            # Nothing but titles: state the headlines of the lead items (the heading's, the lab's, the press's and
            # the most discussed thread's), then of the other primary items; each title once.
            leads = lead_items(story.items, language, self.own)
            rest = [i for i in story.items if i.tier in FACT_TIERS and not is_digest(i.title)]
            chosen: dict[str, Item] = {}
            for it in [*leads, *rest]:
                chosen.setdefault(it.title.strip().casefold(), it)
            # A repo's or model's slug ("moonshotai/Kimi-K2.6") names the thing, it is no headline: it is cited
            # on the first headline, and stated only when the story has no other title.
            heads = list(chosen.values())[:HEADLINES]
            titled = [it for it in heads if not artifact_name(it.title)] or heads[:1]
            sentences = [Sentence(it.title, [book.cite(it, self._note(it, language))], passages=[it.id])
                         for it in titled]
            for it in heads:
                if it not in titled:
                    sentences[0].refs.append(book.cite(it, self._note(it, language)))
                    sentences[0].passages.append(it.id)
            return sentences, None
        vecs = self.embedder.encode([c.text for c in cands])
        centroid = vecs.mean(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-9)
        rel = vecs @ centroid
        rel += np.array([LEAD_BONUS / (1 + c.position) for c in cands])     # leads carry the news
        rel += np.array([0.06 if c.item.tier == "official" else 0.0 for c in cands])
        rel += np.array([0.10 if c.item.language == language else 0.0 for c in cands])
        picked = mmr(vecs, rel, self.facts)
        # A sentence and its translation are one fact told twice (the writer cites them as stating the same
        # thing): the one MMR took first, the edition's language when it has it, stays.
        kept: list[int] = []
        for i in picked:
            if not any(cands[i].item.language != cands[j].item.language and float(vecs[i] @ vecs[j]) >= SAME_FACT
                       for j in kept):
                kept.append(i)
        picked = kept
        # Keep the order a reader expects: by source, then position in it.
        rank_of = {it.id: n for n, it in enumerate(story.items)}
        picked.sort(key=lambda i: (rank_of[cands[i].item.id], cands[i].position))
        sentences = []
        for i in picked:
            refs = [book.cite(cands[i].item, self._note(cands[i].item, language))]
            named = [cands[i].item.id]  # the article it is quoted from, and those that state it too
            # Other sources that state the same thing are cited too.
            sims = vecs @ vecs[i]
            for j in np.argsort(-sims):
                if sims[j] < SAME_FACT or len(refs) >= 3:
                    break
                other = cands[int(j)].item
                if other.id != cands[i].item.id:
                    n = book.cite(other, self._note(other, language))
                    if n not in refs:
                        refs.append(n)
                        named.append(other.id)
            sentences.append(Sentence(cands[i].text, refs, passages=named))
        return sentences, vecs[picked]

    # -- views --------------------------------------------------------------
    def _views(self, story: Story, language: str, book: ReferenceBook) -> list[Paragraph]:
        w = words(language)
        threads = [i for i in story.items if i.tier == "community"]
        threads.sort(key=lambda i: (-(i.engagement), i.id))
        paras: list[Paragraph] = []
        for item in threads[:3]:
            lead = attribution(item, language)
            position = {id(c): k for k, c in enumerate(item.comments, start=1)}
            comments = [c for c in item.comments if len(c.text) >= 20 and not instruction_like(c.text)]
            comments = _voted(comments)
            sentences: list[Sentence] = []
            body = split_sentences(item.body)
            if not comments and not body:
                continue  # a bare title is no view (and no reference of its own): the facts state it already
            n = book.cite(item, self._note(item, language))
            if comments:
                vecs = self.embedder.encode([c.text for c in comments])
                rel = np.array([np.log1p(max(c.score or 0, 0)) / 10 + 1.0 for c in comments])
                for k in sorted(mmr(vecs, rel, self.views, lam=0.5, redundant=0.8)):
                    c = comments[k]
                    who = c.author or "—"
                    if c.score is not None:
                        who += w["paren"].format(text=w["points"].format(n=c.score))
                    sentences.append(Sentence(f"{who}{w['lead_sep']}{clip(c.text, 220)}", [n],
                                              passages=[passage_id(item.id, position[id(c)])]))
            else:
                sentences.append(Sentence(clip(body[0], 220), [n], passages=[item.id]))
            paras.append(Paragraph("views", sentences, lead=lead))
        return paras

    # -- notes --------------------------------------------------------------
    @staticmethod
    def _note(item: Item, language: str) -> str:
        return reference_note(item, language)

    # -- the brief ------------------------------------------------------------
    def _title(self, story: Story, language: str) -> str:
        return story_title(story.items, language, self.own)

    def _cite_leads(self, story: Story, language: str, book: ReferenceBook, title: str, facts: list[Sentence],
                    views: list[Paragraph]) -> None:
        """The lead items (lead_items) that neither the facts nor the views cite. The heading's item is cited by
        the first fact, which tells its story. Another one told only by its title (a lab's page or the most discussed
        thread, shared with no text) has its headline stated as a fact when the section does not state it yet, it is
        in the edition's language and it is no repo's or model's slug; else it joins the first fact too. One with a
        text of its own was weighed with the rest when the facts were picked. The press's report is left out when
        the facts quote the press or the lab already."""
        cited = {book.refs[n - 1].item_id for s in [*facts, *(x for p in views for x in p.sentences)] for n in s.refs}
        primary = any(book.refs[n - 1].tier in PRIMARY_TIERS for s in facts for n in s.refs)
        stated = {title.strip().casefold(), *(s.text.strip().casefold() for s in facts)}
        head = heading_item(story.items, language, self.own)
        for item in lead_items(story.items, language, self.own):
            if item.id in cited or (item.id != head.id and item.body.strip()) or \
                    (primary and item.tier == "press" and not self.own(item)):
                continue
            n = book.cite(item, self._note(item, language))
            if item.title.strip().casefold() not in stated and title_language(item) == language and \
                    not artifact_name(item.title):  # a repo's or model's slug is a name, not a headline
                facts.append(Sentence(item.title, [n], passages=[item.id]))
                stated.add(item.title.strip().casefold())
            elif facts:
                facts[0].refs.append(n)
                facts[0].passages.append(item.id)
            cited.add(item.id)

    def section(self, story: Story, language: str, book: ReferenceBook) -> Section:
        facts, _ = self._facts(story, language, book)
        title = self._title(story, language)
        section = Section(kind="story", title=title, story_id=story.id,
                          writer=self.name, follow_up=story.follow_up, outlets=story.outlets)
        if story.follow_up:
            section.notes.append(follow_up_note(story, language))
        views = self._views(story, language, book)
        self._cite_leads(story, language, book, title, facts, views)
        section.paragraphs.append(Paragraph("facts", facts))
        section.paragraphs.extend(views)
        if not any(i.body.strip() or i.comments for i in story.items):
            section.notes.append(words(language)["title_only"])  # once, instead of the title again as a view
        return section

    def roundup(self, roundup: Sequence[Story], language: str, book: ReferenceBook) -> Section:
        items = []
        # Repos and papers on their own (trending lists, paper lists) get one line each, not a line apiece.
        for kind, word in (("code_only", "tools_line"), ("papers_only", "papers_line")):
            group = [s for s in roundup if getattr(s, kind)]
            if group:
                # One entry per repo or paper, each resting on its own item: a list, not one claim of all of them.
                heads = list({h.id: h for h in (heading_item(s.items, language, self.own) for s in group)}.values())
                entries = [Sentence(clip(h.title, 60), [book.cite(h, self._note(h, language))], passages=[h.id])
                           for h in heads]
                items.append(Paragraph("roundup", entries, lead=words(language)[word], listed=True))
        roundup = [s for s in roundup if not (s.code_only or s.papers_only)]
        for story in roundup:
            head = ([i for i in story.items if i.tier in FACT_TIERS] or story.items)[0]
            titled = heading_item(story.items, language, self.own)
            n = book.cite(head, self._note(head, language))
            extra = [book.cite(i, self._note(i, language)) for i in [titled, *story.items[1:3]]]
            # The outlet named is the one whose headline it is (a Chinese report's title is not the lab's).
            text = clip(titled.title, 120) + words(language)["paren"].format(text=titled.source_name)
            items.append(Paragraph("roundup", [Sentence(text, list(dict.fromkeys([n, *extra])),
                                                        passages=list(dict.fromkeys([titled.id, head.id])))]))
        return Section(kind="roundup", title="", paragraphs=items, writer=self.name)

    @staticmethod
    def themes(brief: Brief) -> list[str]:
        """Themes when nothing else set them: the top stories' headlines."""
        return [clip(s.title, 40) for s in brief.sections if s.kind == "story"][:3]

    def abstract(self, brief: Brief, language: str, book: ReferenceBook) -> list[Paragraph]:
        """Built from the themes: for each, the lead sentence of the story closest to it, cited. Only whole
        sentences from the stories' texts: a story told only by its headline (or a repo's name) has none."""
        stories = [s for s in brief.sections if s.kind == "story"]
        titles = {r.title.strip().casefold() for r in book.refs} | {s.title.strip().casefold() for s in stories}
        leads = [self._lead(s, language, titles) for s in stories]
        pool = [(s, lead) for s, lead in zip(stories, leads, strict=True) if lead is not None]
        themes = brief.themes or self.themes(brief)
        if not pool or not themes:
            return []
        vecs = self.embedder.encode([*themes, *(f"{s.title}. {lead.text}" for s, lead in pool)])
        theme_vecs, story_vecs = vecs[: len(themes)], vecs[len(themes):]
        chosen: list[int] = []
        for tv in theme_vecs:
            order = [int(i) for i in np.argsort(-(story_vecs @ tv)) if int(i) not in chosen]
            if order:
                chosen.append(order[0])
        return [Paragraph("abstract", [Sentence(pool[i][1].text, list(pool[i][1].refs),
                                                passages=list(pool[i][1].passages)) for i in chosen])]

    @staticmethod
    def _lead(section: Section, language: str, titles: set[str] | frozenset[str] = frozenset()) -> Sentence | None:
        """A section's first fact that is a whole sentence and no headline (`titles`), in the edition's language
        when one is."""
        facts = [x for p in section.paragraphs if p.part == "facts" for x in p.sentences
                 if _good_sentence(x.text) and x.text.strip().casefold() not in titles]
        same = [x for x in facts if (cjk_ratio(x.text) > 0.3) == (language == "zh")]
        chosen = same or facts
        return chosen[0] if chosen else None

    def write(self, stories: Sequence[Story], roundup: Sequence[Story], edition: date, language: str,
              title: str, branding: Branding) -> Brief:
        return ChainWriter([], self).write(stories, roundup, edition, language, title, branding)


@dataclass(slots=True)
class Fallback:
    """One part the primary writer could not write."""

    part: str  # a story title, or "abstract"
    language: str
    writer: str
    reason: str
    left_out: bool = False  # the extractive writer could not write it either: it is not in the edition

    def __str__(self) -> str:
        if self.left_out:
            return f"{self.part!r} ({self.language}) left out: no writer could write it ({self.reason})"
        return f"{self.writer} → extractive for {self.part!r} ({self.language}): {self.reason}"


def _reason(exc: BaseException) -> str:
    """Why a part could not be written: a WriterError's own message, else the exception's type and text."""
    return str(exc) if isinstance(exc, WriterError) else f"{type(exc).__name__}: {exc}"


class ChainWriter:
    """Writes each part with the first writer that can; the extractive writer is always last."""

    def __init__(self, writers: Sequence[SectionWriter], extractive: ExtractiveWriter,
                 progress: Callable[[str], None] | None = None, tz: tzinfo | None = None) -> None:
        self.writers = list(writers)
        self.extractive = extractive
        self.tz = tz  # the edition's time zone: the references' dates are given in it
        self.progress = progress or extractive.progress
        self.fallbacks: list[Fallback] = []
        self.down: dict[str, str] = {}  # writers that gave up for the whole run, with why
        self.model_themes: dict[str, bool] = {}  # per language: did a model name the themes itself?
        self.seconds: dict[str, float] = {}  # per language: wall time spent writing its edition

    @property
    def name(self) -> str:
        return "→".join([*(w.name for w in self.writers), self.extractive.name])

    def _try(self, part: str, language: str, call: Callable[[Any], Any]) -> tuple[Any, str, str]:
        """(result, writer name, fallback reason) from the first writer that can.

        Any exception counts, not only WriterError: one story never stops an edition. When the
        extractive writer fails too, the result is None (the part is left out, and named).
        """
        reason = ""
        for writer in self.writers:
            if writer.name in self.down:
                reason = self.down[writer.name]
            else:
                try:
                    return call(writer), writer.name, ""
                except Exception as exc:  # any failure of one part falls back, loudly
                    reason = _reason(exc)
                    if getattr(exc, "fatal", False):
                        self.down[writer.name] = reason
                    # A WriterError is an expected refusal; anything else is a bug worth its traceback.
                    log.warning("%s could not write %r (%s)", writer.name, part, language,
                                exc_info=not isinstance(exc, WriterError))
            self.fallbacks.append(Fallback(part, language, writer.name, reason))
            log.warning("%s", self.fallbacks[-1])
        try:
            return call(self.extractive), self.extractive.name, reason
        except Exception as exc:  # the part is left out; the rest of the edition is written
            log.exception("the extractive writer could not write %r (%s)", part, language)
            self.fallbacks.append(Fallback(part, language, self.extractive.name, _reason(exc), left_out=True))
            return None, self.extractive.name, _reason(exc)

    def section(self, story: Story, language: str, book: ReferenceBook) -> Section | None:
        """One story's section by the first writer that can (labelled when it fell back); None when none could."""
        return self._section(story, language, book)[0]

    def _section(self, story: Story, language: str, book: ReferenceBook) -> tuple[Section | None, str]:
        section, name, reason = self._try(story.title, language, lambda w: w.section(story, language, book))
        if section is not None and reason:
            section.writer = f"{self.writers[0].name}→{name}"
            section.notes.insert(0, words(language)["fallback"].format(reason=clip(reason, 160)))
        return section, reason

    def write(self, stories: Sequence[Story], roundup: Sequence[Story], edition: date, language: str,
              title: str, branding: Branding) -> Brief:
        started = time.perf_counter()
        try:
            return self._write(stories, roundup, edition, language, title, branding)
        finally:
            self.seconds[language] = self.seconds.get(language, 0.0) + time.perf_counter() - started

    def _write(self, stories: Sequence[Story], roundup: Sequence[Story], edition: date, language: str,
               title: str, branding: Branding) -> Brief:
        w = words(language)
        book = ReferenceBook(tz=self.tz)
        brief = Brief(edition=edition, language=language, title=title, branding=branding)
        fell_back: list[str] = []
        left_out: list[str] = []
        for story in stories:
            if self.progress:
                self.progress(story.title)
            section, reason = self._section(story, language, book)
            if section is None:
                left_out.append(story.title)  # named in self.fallbacks (the run summary) and the brief's notes
                continue
            if reason:
                fell_back.append(section.title)
            brief.sections.append(section)
        if roundup:
            brief.sections.append(self.extractive.roundup(roundup, language, book))
        abstract, _, reason = self._try("abstract", language, lambda w: w.abstract(brief, language, book))
        brief.abstract = abstract or []
        if reason:
            fell_back.append(w["the_abstract"])
        self.model_themes[language] = bool(brief.themes)
        if not brief.themes:
            brief.themes = self.extractive.themes(brief)
        all_items = {i.id for s in [*stories, *roundup] for i in s.items}
        all_outlets = {i.source_name for s in [*stories, *roundup] for i in s.items}
        events, top = len(stories) + len(roundup), len(stories)
        brief.notes.append(w["outlets"].format(
            items=counted(w, "n_reports", len(all_items)), outlets=counted(w, "n_sources", len(all_outlets)),
            stories=counted(w, "n_events", events),
            top=w["top_none"] if not top else counted(w, "top_all" if top == events else "top", top)))
        # Once per edition, not in every section, and only when no model is configured: a section a model could
        # not write says so itself (w["fallback"]), and the edition's notes name them (w["fallbacks"]).
        if not self.writers and any(sec.kind == "story" for sec in brief.sections):
            brief.notes.append(w["no_analysis"])
        if fell_back:
            titles = w["fallback_sep"].join(clip(t, 40) for t in fell_back)
            brief.notes.append(w["fallbacks"].format(n=len(fell_back), titles=titles))
        if left_out:
            titles = w["fallback_sep"].join(clip(t, 40) for t in left_out)
            brief.notes.append(w["left_out"].format(n=len(left_out), titles=titles))
        brief.references = book.refs
        return brief


@dataclass(slots=True)
class WriterContext:
    """What a writer factory may use."""

    config: WriterConfig
    embedder: Embedder
    store: Store | None = None
    base_dir: Path = field(default_factory=Path.cwd)
    progress: Callable[[str], None] | None = None
    lab_sites: Sequence[str] = ()  # the beat's own sites ([edition.beat] sites): a lab's page heads its section
    tz: tzinfo | None = None  # the edition's time zone ([edition].timezone): the references' dates are in it


WriterFactory = Callable[[WriterContext], SectionWriter]
_BUILTIN_MODULES = {"openai": "dailybrief.write.llm"}  # imported on first use; they register themselves


def register_writer(name: str, factory: WriterFactory) -> WriterFactory:
    WRITERS[name] = factory
    return factory


def get_writer(name: str) -> WriterFactory:
    if name not in WRITERS and name in _BUILTIN_MODULES:
        importlib.import_module(_BUILTIN_MODULES[name])
    if name not in WRITERS:
        plugins.load(plugins.WRITERS, name, register_writer)
    try:
        return WRITERS[name]
    except KeyError:
        known = ", ".join(sorted({*WRITERS, *_BUILTIN_MODULES, *plugins.declared(plugins.WRITERS)}))
        raise WriterError(f"no writer named {name!r}; use one of {known}") from None


def build_writer(ctx: WriterContext) -> ChainWriter:
    """The configured writer, chained to the extractive one."""
    models = [] if ctx.config.kind == "extractive" else [get_writer(ctx.config.kind)(ctx)]
    return ChainWriter(models, extractive_writer(ctx), tz=ctx.tz)


def extractive_writer(ctx: WriterContext) -> ExtractiveWriter:
    """The extractive writer for a run: the fallback of every chain, and the writer of its own name."""
    return ExtractiveWriter(ctx.embedder, progress=ctx.progress, lab_sites=ctx.lab_sites)


WRITERS: dict[str, WriterFactory] = {"extractive": extractive_writer}


def follow_up_note(story: Story, language: str) -> str:
    """What a follow-up section says is new since the story was last briefed."""
    w = words(language)
    when = (story.briefed_on or story.first_seen).isoformat()
    new = story.new_outlets
    n = story.new_items or len(story.items)
    head = w["follow_up_head"].format(when=when, first=story.first_seen.isoformat())
    more = counted(w, "new_reports", n)
    tail = counted(w, "new_outlets", len(new), outlets=w["list_sep"].join(new[:5])) if new else w["same_outlets"]
    return head + more + tail


def theme_sentence(themes: Sequence[Theme], brief: Brief) -> Sentence | None:
    """The abstract's sentence naming the day's themes and the sections of each."""
    w = words(brief.language)
    number = {s.story_id: n for n, s in enumerate(brief.sections, start=1) if s.kind == "story"}
    parts = []
    for theme in themes:
        ns = sorted(number[i] for i in theme.story_ids if i in number)
        if ns and theme.name(brief.language):  # a thread nothing names is not named in the abstract
            parts.append((theme.name(brief.language), ns))
    if not parts:
        return None
    items = [w["theme_sections_one" if len(ns) == 1 else "theme_sections_many"].format(
        name=name, numbers=join_all([str(k) for k in ns], w["number_sep"], w["number_and"])) for name, ns in parts]
    joined = join_all(items, w["theme_sep"], w["theme_and"])
    key = "themes_sentence_one" if len(parts) == 1 else "themes_sentence_many"
    return Sentence(w[key].format(count=count_word(len(parts), brief.language), n=len(parts), themes=joined), [])


def apply_themes(brief: Brief, themes: Sequence[Theme]) -> Brief:
    """Name the themes in the brief and say in the abstract which sections belong to each."""
    brief.themes = [name for t in themes if (name := t.name(brief.language))]
    sentence = theme_sentence(themes, brief)
    if sentence is not None:
        if brief.abstract and brief.abstract[0].sentences:
            brief.abstract[0].sentences.insert(0, sentence)
        else:
            brief.abstract.insert(0, Paragraph("abstract", [sentence]))
    return brief
