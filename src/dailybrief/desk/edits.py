"""The changes an editor makes to a draft. Each is a small function on the draft's briefs.

Every change returns a ``Change``: what it touched, the text before and after (for the audit log), and
the decision to replay on a rebuilt draft. Sections are named by their story's id in every language,
so reordering or dropping a story changes each language's brief alike. Sentences are named by their
place and checked against their text, so a stale page can never edit the wrong sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..records import Brief, Paragraph, Reference, Section, Sentence
from ..words import words
from ..write.verify import renumber_references
from .drafts import DeskError, Draft

# (brief, sentence, part) -> (supported, reason): the grounding check, swappable (verify.py today)
Checker = Callable[[Brief, Sentence, str], tuple[bool, str]]


@dataclass(slots=True)
class Change:
    action: str
    target: str
    before: Any = ""
    after: Any = ""
    decision: dict[str, Any] | None = None
    flagged: list[str] = field(default_factory=list)  # the check's reasons for an edited sentence it rejects
    then: Callable[[str], object] | None = None  # what it changes in the store once the draft is saved (by whom)


def _story_sections(brief: Brief) -> list[Section]:
    return [s for s in brief.sections if s.kind == "story"]


def _section(brief: Brief, story_id: str) -> Section:
    for s in brief.sections:
        if s.kind == "story" and s.story_id == story_id:
            return s
    raise DeskError(f"no section for story {story_id} in the {brief.language} brief")


def _order(draft: Draft) -> list[str]:
    return [s.story_id for s in _story_sections(draft.briefs[0])]


def _candidate(draft: Draft, story_id: str) -> dict[str, Any]:
    for c in draft.candidates:
        if c["story_id"] == story_id:
            return c
    raise DeskError(f"story {story_id} is not among this edition's candidates")


def _reorder_all(draft: Draft, order: list[str]) -> None:
    for brief in draft.briefs:
        by_id = {s.story_id: s for s in _story_sections(brief)}
        rest = [s for s in brief.sections if s.kind != "story"]
        brief.sections = [by_id[i] for i in order if i in by_id] + rest


def move(draft: Draft, story_id: str, to: int) -> Change:
    order = _order(draft)
    if story_id not in order:
        raise DeskError(f"story {story_id} has no section to move")
    before = list(order)
    order.remove(story_id)
    to = max(0, min(int(to), len(order)))
    order.insert(to, story_id)
    _reorder_all(draft, order)
    return Change("reorder", story_id, before, order, {"op": "move", "story_id": story_id, "to": to})


def drop(draft: Draft, story_id: str) -> Change:
    title = _section(draft.briefs[0], story_id).title
    for brief in draft.briefs:
        brief.sections = [s for s in brief.sections if not (s.kind == "story" and s.story_id == story_id)]
        renumber_references(brief)
    cand = _candidate(draft, story_id)
    cand["selected"], cand["dropped"], cand["pinned"] = "", True, False
    return Change("drop", story_id, title, "", {"op": "drop", "story_id": story_id})


def pin(draft: Draft, story_id: str, on: bool = True) -> Change:
    cand = _candidate(draft, story_id)
    before, cand["pinned"] = bool(cand.get("pinned")), bool(on)
    return Change("pin" if on else "unpin", story_id, before, bool(on), {"op": "pin", "story_id": story_id, "on": bool(on)})


def _brief(draft: Draft, lang: str) -> Brief:
    for b in draft.briefs:
        if b.language == lang:
            return b
    raise DeskError(f"this draft has no {lang!r} brief")


def _paragraphs(brief: Brief, where: str) -> list[Paragraph]:
    if where == "abstract":
        return brief.abstract
    try:
        return brief.sections[int(where)].paragraphs
    except (ValueError, IndexError):
        raise DeskError(f"no section {where!r} in the {brief.language} brief") from None


def _sentence(brief: Brief, where: str, para: int, sent: int, expect: str) -> tuple[Paragraph, Sentence]:
    try:
        p = _paragraphs(brief, where)[int(para)]
        s = p.sentences[int(sent)]
    except (ValueError, IndexError):
        raise DeskError("that sentence is no longer there; reload the page") from None
    if s.text != expect:
        raise DeskError("that sentence has changed since your page was loaded; reload the page")
    return p, s


def _find(brief: Brief, story_id: str, text: str) -> tuple[str, int, int] | None:
    """Where a sentence with this text is, in this story's section (or the abstract): for replaying edits."""
    places = [("abstract", brief.abstract)] + [(str(i), s.paragraphs) for i, s in enumerate(brief.sections)
                                               if (s.story_id or s.kind) == story_id]
    for where, paras in places:
        for j, p in enumerate(paras):
            for k, s in enumerate(p.sentences):
                if s.text == text:
                    return where, j, k
    return None


def _owner(brief: Brief, where: str) -> str:
    return "abstract" if where == "abstract" else (brief.sections[int(where)].story_id or brief.sections[int(where)].kind)


def edit_sentence(draft: Draft, lang: str, where: str, para: int, sent: int, before: str, text: str,
                  check: Checker) -> Change:
    """Replace a sentence's text; its citations stay, and the grounding check judges it again."""
    text = " ".join(text.split())
    if not text:
        raise DeskError("an edited sentence cannot be empty; delete it instead")
    brief = _brief(draft, lang)
    p, s = _sentence(brief, where, para, sent, before)
    s.text = text
    ok, reason = check(brief, s, p.part)
    s.supported = ok
    owner = _owner(brief, where)
    return Change("edit sentence", f"{lang} {owner}", before, text,
                  {"op": "edit", "story_id": owner, "lang": lang, "before": before, "text": text},
                  [] if ok else [reason or "its sources don't say this"])


def delete_sentence(draft: Draft, lang: str, where: str, para: int, sent: int, before: str) -> Change:
    brief = _brief(draft, lang)
    p, s = _sentence(brief, where, para, sent, before)
    owner = _owner(brief, where)
    p.sentences.remove(s)
    for section in brief.sections:
        section.paragraphs = [x for x in section.paragraphs if x.sentences]
    renumber_references(brief)
    return Change("delete sentence", f"{lang} {owner}", before, "",
                  {"op": "delete", "story_id": owner, "lang": lang, "before": before})


def edit_title(draft: Draft, lang: str, story_id: str, title: str) -> Change:
    title = " ".join(title.split())
    if not title:
        raise DeskError("a section title cannot be empty")
    section = _section(_brief(draft, lang), story_id)
    before, section.title = section.title, title
    return Change("edit title", f"{lang} {story_id}", before, title,
                  {"op": "title", "story_id": story_id, "lang": lang, "text": title})


def editor_note(draft: Draft, lang: str, story_id: str, text: str) -> Change:
    """Text with no citation goes in only as a note labelled as the editor's."""
    text = " ".join(text.split())
    if not text:
        raise DeskError("an editor's note cannot be empty")
    section = _section(_brief(draft, lang), story_id)
    note = words(lang)["editor_note"].format(text=text)
    section.notes.append(note)
    return Change("editor's note", f"{lang} {story_id}", "", note,
                  {"op": "note", "story_id": story_id, "lang": lang, "text": text})


def add_reference(brief: Brief, ref: Reference) -> int:
    n = max((r.n for r in brief.references), default=0) + 1
    ref.n = n
    brief.references.append(ref)
    return n


def replay(draft: Draft, decisions: list[dict[str, Any]], check: Checker,
           more: dict[str, Callable[[Draft, dict[str, Any]], Any]] | None = None) -> list[dict[str, Any]]:
    """Apply earlier decisions to a rebuilt draft where their stories remain; return the ones that no longer apply.

    ``more``: handlers of decisions that need more than the draft (an added story, a merge or split need the
    store)."""
    stale: list[dict[str, Any]] = []
    for d in decisions:
        try:
            if more and d.get("op") in more:
                more[d["op"]](draft, d)
            else:
                _apply(draft, d, check)
        except DeskError as exc:
            stale.append({**d, "why": str(exc)})
    return stale


def _apply(draft: Draft, d: dict[str, Any], check: Checker) -> None:
    op, sid = d.get("op"), d.get("story_id", "")
    if op == "move":
        move(draft, sid, d["to"])
    elif op == "drop":
        drop(draft, sid)
    elif op == "pin":
        pin(draft, sid, d.get("on", True))
    elif op == "title":
        edit_title(draft, d["lang"], sid, d["text"])
    elif op == "note":
        editor_note(draft, d["lang"], sid, d["text"])
    elif op == "demote":
        demote(draft, sid)
    elif op in ("edit", "delete"):
        brief = _brief(draft, d["lang"])
        at = _find(brief, sid, d["before"])
        if at is None:
            raise DeskError("the sentence it changed is no longer in the rebuilt draft")
        if op == "edit":
            edit_sentence(draft, d["lang"], at[0], at[1], at[2], d["before"], d["text"], check)
        else:
            delete_sentence(draft, d["lang"], at[0], at[1], at[2], d["before"])
    else:
        raise DeskError(f"unknown decision {op!r}")


def demote(draft: Draft, story_id: str) -> Change:
    """A section becomes one roundup line: its first cited fact, in every language."""
    title = _section(draft.briefs[0], story_id).title
    for brief in draft.briefs:
        sec = _section(brief, story_id)
        lead = next((s for p in sec.paragraphs if p.part == "facts" for s in p.sentences if s.refs), None)
        brief.sections.remove(sec)
        if lead is not None:
            roundup = next((s for s in brief.sections if s.kind == "roundup"), None)
            if roundup is None:
                roundup = Section(kind="roundup", title=words(brief.language)["roundup"])
                brief.sections.append(roundup)
            roundup.paragraphs.append(Paragraph(part="roundup", sentences=[lead]))
        renumber_references(brief)
    _candidate(draft, story_id)["selected"] = "roundup"
    return Change("demote", story_id, title, "roundup", {"op": "demote", "story_id": story_id})
