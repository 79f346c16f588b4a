"""Regenerate one section, or the abstract, with the configured model writer and the editor's instruction.

The instruction is the editor's: it goes into the system message, as theirs. The sources go where they
always go, in the data block the system message declares to be data, never instructions. The new text
cites the same kind of references (the story's items) and every sentence is checked again.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from ..records import Brief, Story
from ..store import Store
from ..verify import renumber_references
from ..write import ReferenceBook, WriterContext, get_writer
from .drafts import DeskError, Draft
from .edits import Change, Checker

INSTRUCTION_MAX = 300  # characters of the editor's instruction
EDITOR_LINE = ("\n- The desk editor asks for this rewrite (an instruction from the editor, not from the sources): "
               "{instruction}")


def model_writer(cfg: Any, store: Store, embedder: Any, instruction: str) -> Any:
    if cfg.writer.kind == "extractive":
        raise DeskError("no model writer is configured ([writer].kind = \"extractive\"); set [writer] to a model "
                        "endpoint to regenerate with it")
    writer = get_writer(cfg.writer.kind)(WriterContext(cfg.writer, embedder, store, cfg.base_dir))
    instruction = " ".join(instruction.split())[:INSTRUCTION_MAX]
    if instruction:
        ask = writer._ask

        def with_instruction(messages: list[dict[str, str]], *args: Any) -> Any:
            messages = [dict(m) for m in messages]
            messages[0]["content"] += EDITOR_LINE.format(instruction=instruction)
            return ask(messages, *args)

        writer._ask = with_instruction
    return writer


def _book(brief: Brief) -> ReferenceBook:
    book = ReferenceBook(refs=copy.deepcopy(brief.references))
    book._by_item = {r.item_id: r.n for r in book.refs}
    return book


def _story(draft: Draft, store: Store, story_id: str) -> Story:
    cand = next((c for c in draft.candidates if c["story_id"] == story_id), None)
    if cand is None:
        raise DeskError(f"story {story_id} is not among this edition's candidates")
    items = store.items([i["id"] for i in cand["items"]])
    if not items:
        raise DeskError("this story's items are no longer in the store")
    day: date = draft.edition
    return Story(id=story_id, items=items, first_seen=day, last_seen=day, title=cand["title"])


def regenerate(draft: Draft, store: Store, writer: Any, lang: str, target: str, check: Checker) -> Change:
    """Rewrite the section of story `target` (or the abstract, target = "abstract") in one language."""
    brief = next((b for b in draft.briefs if b.language == lang), None)
    if brief is None:
        raise DeskError(f"this draft has no {lang!r} brief")
    book = _book(brief)
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
    for p in paragraphs:
        for s in p.sentences:
            s.supported = check(brief, s, p.part)[0]
    renumber_references(brief)
    after = " ".join(s.text for p in paragraphs for s in p.sentences)
    return Change("regenerate", f"{lang} {target}", before, after)
