"""Fix the stories themselves: merge two stories, split an item off a story.

Both change the stored stories (``Store.merge_stories`` / ``Store.split_item``: the ``stories`` and
``story_items`` rows, and the ``story_moves`` that clustering the day again keeps), so a rebuilt draft and
the next days' story tracking see them. In the draft, the affected sections are written again by the
configured writer from their new items, and every new sentence is checked again.

The store changes once the draft is saved (``Change.then``): a change refused as a conflict touches nothing.
A replayed decision (a rebuilt draft) finds the store already changed and the rebuilt sections already
written from the corrected stories; it only redoes what is missing.
"""

from __future__ import annotations

from typing import Any

from ..ids import split_story_id
from ..records import Brief, Section, Story
from ..store import Store
from ..stories.cluster import item_order
from ..words import words
from ..write.verify import renumber_references
from ..write.writer import ChainWriter
from .drafts import DeskError, Draft
from .edits import Change, Checker
from .regenerate import check_all, drop_roundup_lines, reference_book, write_section

SHOWN_ITEMS = 8  # items listed per candidate (the desk's candidates view)


def _candidate(draft: Draft, story_id: str) -> dict[str, Any] | None:
    return next((c for c in draft.candidates if c["story_id"] == story_id), None)


def _item_ids(cand: dict[str, Any]) -> list[str]:
    return list(cand.get("item_ids") or [i["id"] for i in cand["items"]])


def _section(brief: Brief, story_id: str) -> Section | None:
    return next((s for s in brief.sections if s.kind == "story" and s.story_id == story_id), None)


def _story(draft: Draft, store: Store, story_id: str, title: str, item_ids: list[str]) -> Story:
    items = sorted(store.items(item_ids), key=item_order)
    if not items:
        raise DeskError("the story's items are no longer in the store")
    return Story(id=story_id, items=items, first_seen=draft.edition, last_seen=draft.edition, title=title)


def _rewrite(brief: Brief, old: Section, story: Story, writer: ChainWriter, check: Checker) -> Section:
    """Write the section of `story` in place of `old` (its editor's notes stay), checked again."""
    new = write_section(writer, story, brief)
    mark = words(brief.language)["editor_note"].split("{text}")[0]
    new.notes += [n for n in old.notes if n.startswith(mark)]
    brief.sections[brief.sections.index(old)] = new
    check_all(brief, new.paragraphs, check)
    return new


def _listed(cand: dict[str, Any], items: list[dict[str, Any]], ids: list[str]) -> None:
    cand["item_ids"], cand["item_count"] = ids, len(ids)
    cand["items"] = [i for i in items if i["id"] in ids][:SHOWN_ITEMS]


def merge(draft: Draft, store: Store, writer: ChainWriter, story_id: str, into: str, check: Checker) -> Change:
    """Story `story_id` becomes part of story `into`: one section, written from both stories' items."""
    if story_id == into:
        raise DeskError("a story cannot be merged into itself")
    a, b = _candidate(draft, story_id), _candidate(draft, into)
    if a is None or b is None:
        raise DeskError(f"story {story_id if a is None else into} is not among this edition's candidates")
    if a.get("merged_into"):
        raise DeskError(f"story {story_id} was merged into {a['merged_into']} already")
    for sid in (story_id, into):
        if not store.story_item_ids(sid):
            raise DeskError(f"story {sid} is not one clustering made (a page added from a URL?); only stored "
                            "stories can be merged: drop or demote it instead")
    ids = list(dict.fromkeys([*_item_ids(b), *_item_ids(a)]))
    story = _story(draft, store, into, b["title"], ids)
    for brief in draft.briefs:
        sa, sb = _section(brief, story_id), _section(brief, into)
        place = sb or sa  # the merged story's section is where `into`'s was, else where `story_id`'s was
        if place is not None:
            if sa is not None and sb is not None:
                brief.sections.remove(sa)
                sb.notes += [n for n in sa.notes if n not in sb.notes]
            drop_roundup_lines(brief, set(ids))
            _rewrite(brief, place, story, writer, check)
        renumber_references(brief)
    _listed(b, [*b["items"], *a["items"]], ids)
    b.setdefault("merged", []).append(story_id)
    if a["selected"] == "section" or any(_section(br, into) for br in draft.briefs):
        b["selected"] = "section"
    a["selected"], a["merged_into"], a["pinned"] = "", into, False
    return Change("merge", f"{story_id} -> {into}", {"story": story_id, "items": _item_ids(a)},
                  {"story": into, "items": ids}, {"op": "merge", "story_id": story_id, "into": into},
                  then=lambda user: store.merge_stories(story_id, into, user))


def split(draft: Draft, store: Store, writer: ChainWriter, story_id: str, item_id: str, check: Checker) -> Change:
    """Item `item_id` leaves story `story_id` for a story of its own, listed in the roundup; the story's section
    is written again from the items it keeps."""
    cand = _candidate(draft, story_id)
    if cand is None:
        raise DeskError(f"story {story_id} is not among this edition's candidates")
    ids = _item_ids(cand)
    if item_id not in ids:
        raise DeskError("that source is not part of this story (any more); reload the page")
    rest = [i for i in ids if i != item_id]
    if item_id not in store.story_item_ids(story_id):
        raise DeskError("the store no longer files that source under this story; reload the page")
    if not rest:
        raise DeskError("this story has only that source; drop or demote it instead")
    kept = _story(draft, store, story_id, cand["title"], rest)
    alone = _story(draft, store, split_story_id(item_id), "", [item_id])
    alone.title = alone.items[0].title
    for brief in draft.briefs:
        sec = _section(brief, story_id)
        if sec is not None:
            _rewrite(brief, sec, kept, writer, check)
        drop_roundup_lines(brief, {item_id})
        book = reference_book(brief)
        line = writer.extractive.roundup([alone], brief.language, book)
        brief.references = book.refs
        roundup = next((s for s in brief.sections if s.kind == "roundup"), None)
        if roundup is None:
            brief.sections.append(line)
        else:
            roundup.paragraphs.extend(line.paragraphs)
        renumber_references(brief)
    shown = cand["items"]
    _listed(cand, shown, rest)
    if _candidate(draft, alone.id) is None:
        it = next((i for i in shown if i["id"] == item_id), None) or _shown(alone)
        draft.candidates.append({
            "story_id": alone.id, "rank": len(draft.candidates) + 1, "title": alone.title, "score": 0.0,
            "parts": {}, "notes": {}, "topics": [], "outlets": [alone.items[0].source_name], "follow_up": False,
            "selected": "roundup", "pinned": False, "dropped": False, "split_from": story_id,
            "items": [it], "item_ids": [item_id], "item_count": 1})
    return Change("split item", f"{story_id} -> {alone.id}", {"story": story_id, "items": ids},
                  {"story": alone.id, "items": [item_id], "title": alone.title},
                  {"op": "split", "story_id": story_id, "item_id": item_id},
                  then=lambda user: store.split_item(item_id, story_id, user))


def _shown(story: Story) -> dict[str, Any]:
    i = story.items[0]
    return {"id": i.id, "title": i.title, "url": i.url, "source": i.source_name, "tier": i.tier,
            "published": i.published.isoformat() if i.published else ""}
