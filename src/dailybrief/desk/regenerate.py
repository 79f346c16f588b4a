"""Regenerate one section, or the abstract, with the configured model writer and the editor's instruction.

The instruction is the editor's: it goes into the system message, as theirs. The sources go where they
always go, in the data block the system message declares to be data, never instructions. The new text
cites the same kind of references (the story's items) and every sentence is checked again.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from ..config import Config
from ..records import Brief, Paragraph, Section, Story
from ..store import Store
from ..stories.cluster import item_order
from ..stories.embed import Embedder
from ..write.llm import LLMWriter
from ..write.verify import renumber_references
from ..write.writer import ChainWriter, ReferenceBook, SectionWriter, WriterContext, build_writer, get_writer
from .drafts import DeskError, Draft
from .edits import Change, Checker

INSTRUCTION_MAX = 300  # characters of the editor's instruction


def model_writer(cfg: Config, store: Store, embedder: Embedder, instruction: str) -> SectionWriter:
    if cfg.writer.kind == "extractive":
        raise DeskError("no model writer is configured ([writer].kind = \"extractive\"); set [writer] to a model "
                        "endpoint to regenerate with it")
    writer = get_writer(cfg.writer.kind)(WriterContext(cfg.writer, embedder, store, cfg.base_dir))
    if isinstance(writer, LLMWriter):
        writer.instruction = " ".join(instruction.split())[:INSTRUCTION_MAX]
    return writer


def section_writer(cfg: Config, store: Store, embedder: Embedder) -> ChainWriter:
    """The writer the run uses: the configured model when there is one, the extractive writer otherwise (and
    whenever the model cannot write a section)."""
    return build_writer(WriterContext(cfg.writer, embedder, store, cfg.base_dir, lab_sites=cfg.edition.beat.sites,
                                      tz=cfg.edition.tz))


def write_section(writer: ChainWriter, story: Story, brief: Brief) -> Section:
    """Story's section in the brief's language, its references added to the brief's."""
    book = reference_book(brief)
    section = writer.section(story, brief.language, book)
    if section is None:
        raise DeskError(f"no writer could write a section of {story.title!r}; see the desk's log")
    brief.references = book.refs
    return section


def check_all(brief: Brief, paragraphs: list[Paragraph], check: Checker) -> None:
    """Check every sentence again: those the check rejects are shown flagged."""
    for p in paragraphs:
        for s in p.sentences:
            s.supported = check(brief, s, p.part)[0]


def reference_book(brief: Brief) -> ReferenceBook:
    """The brief's references, to cite more of: a new one's time is in the zone the brief's are given in."""
    zone = next((r.published.tzinfo for r in brief.references if r.published is not None), None)
    book = ReferenceBook(refs=copy.deepcopy(brief.references), tz=zone)
    book._by_item = {r.item_id: r.n for r in book.refs}
    return book


def _story(draft: Draft, store: Store, story_id: str) -> Story:
    cand = next((c for c in draft.candidates if c["story_id"] == story_id), None)
    if cand is None:
        raise DeskError(f"story {story_id} is not among this edition's candidates")
    items = sorted(store.items(cand.get("item_ids") or [i["id"] for i in cand["items"]]), key=item_order)
    if not items:
        raise DeskError("this story's items are no longer in the store")
    day: date = draft.edition
    return Story(id=story_id, items=items, first_seen=day, last_seen=day, title=cand["title"])


def regenerate(draft: Draft, store: Store, writer: Any, lang: str, target: str, check: Checker) -> Change:
    """Rewrite the section of story `target` (or the abstract, target = "abstract") in one language."""
    brief = next((b for b in draft.briefs if b.language == lang), None)
    if brief is None:
        raise DeskError(f"this draft has no {lang!r} brief")
    book = reference_book(brief)
    if target == "abstract":
        before = " ".join(s.text for p in brief.abstract for s in p.sentences)
        brief.abstract = writer.abstract(brief, lang, book)
        paragraphs = brief.abstract
    else:
        old = next((s for s in brief.sections if s.kind == "story" and s.story_id == target), None)
        if old is None:
            raise DeskError(f"no section for story {target} in the {lang} brief")
        before = " ".join(s.text for p in old.paragraphs for s in p.sentences)
        new = writer.section(_story(draft, store, target), lang, book)
        new.notes = old.notes  # the editor's notes stay
        brief.sections[brief.sections.index(old)] = new
        paragraphs = new.paragraphs
    brief.references = book.refs
    check_all(brief, paragraphs, check)
    renumber_references(brief)
    after = " ".join(s.text for p in paragraphs for s in p.sentences)
    return Change("regenerate", f"{lang} {target}", before, after)


def drop_roundup_lines(brief: Brief, item_ids: set[str]) -> None:
    """The roundup lines citing any of these items leave the roundup (their story has a section now)."""
    theirs = {r.n for r in brief.references if r.item_id in item_ids}
    for sec in brief.sections:
        if sec.kind == "roundup":
            sec.paragraphs = [p for p in sec.paragraphs if not any(set(s.refs) & theirs for s in p.sentences)]
    brief.sections = [s for s in brief.sections if s.kind != "roundup" or s.paragraphs]


def promote(draft: Draft, store: Store, writer: ChainWriter, story_id: str, check: Checker) -> Change:
    """A roundup item or an unselected candidate gets a section of its own in every language, written by the
    configured writer (section_writer); the roundup lines citing its items leave the roundup."""
    if any(s.story_id == story_id for s in draft.briefs[0].sections if s.kind == "story"):
        raise DeskError("this story already has a section")
    story = _story(draft, store, story_id)
    for brief in draft.briefs:
        section = write_section(writer, story, brief)
        drop_roundup_lines(brief, {i.id for i in story.items})
        check_all(brief, section.paragraphs, check)
        at = next((i for i, s in enumerate(brief.sections) if s.kind != "story"), len(brief.sections))
        brief.sections.insert(at, section)
        renumber_references(brief)
    cand = next(c for c in draft.candidates if c["story_id"] == story_id)
    before, cand["selected"], cand["dropped"] = cand["selected"] or "not selected", "section", False
    return Change("promote", story_id, before, "section", {"op": "promote", "story_id": story_id})
