"""The cluster stage over the store: each day's items join the stories still open, or start new ones.

    items of the day ─▶ StoryIndex (the open stories, rebuilt from the store) ─▶ cluster_items ─▶ save_story
    catch_up: earlier days never clustered are clustered first, oldest first, so today's items can join what they
    continue; stored_day: a day's stories as its build saw them, read back without re-clustering.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import numpy as np

from ..records import Item, Story
from ..store import Store, StoryRow
from .cluster import (
    ClusterSettings,
    StoryIndex,
    artifacts_of,
    centroid,
    cluster_items,
    is_short,
    item_order,
    parties,
    reading_order,
    release_keys,
    site_pages,
    story_kind,
    story_title,
)
from .embed import Embedder, embed_items, item_text

__all__ = ["StoryTracker"]


class StoryTracker:
    """Stories across days, kept in the store: the cluster stage's logic and its state."""

    def __init__(self, store: Store, embedder: Embedder, settings: ClusterSettings,
                 source_ids: frozenset[str] | None = None) -> None:
        self.store, self.embedder, self.settings = store, embedder, settings
        self.source_ids = source_ids  # an edition of some sources: only their items (None: every item)

    def edition_items(self, items: list[Item]) -> list[Item]:
        """The items of the edition's sources."""
        return items if self.source_ids is None else [i for i in items if i.source_id in self.source_ids]

    def catch_up(self, day: date, window: Callable[[date], tuple[datetime, datetime]]) -> int:
        """Cluster the days of the lookback before `day` that never were, oldest first; how many were."""
        lookback = self.settings.lookback_days
        done = self.store.clustered_days(day - timedelta(days=lookback), day)
        caught_up = 0
        for back in range(lookback, 0, -1):
            earlier = day - timedelta(days=back)
            if earlier in done:
                continue
            earlier_items = self.edition_items(self.store.items_between(*window(earlier)))
            if earlier_items:
                self.cluster_day(earlier, earlier_items)
                caught_up += 1
        return caught_up

    def cluster_day(self, day: date, items: list[Item]) -> tuple[list[Story], dict[str, int]]:
        """Cluster one day's items against the stories still open, store the result, return the day's stories.

        What is read here (the open stories, their members) is of the days before `day` only, so the day's
        earlier clustering is replaced at the end, in one transaction with the new one."""
        index = StoryIndex(settings=self.settings)
        index.advance(day)
        opened = self.store.open_stories(day, self.settings.lookback_days)
        members = self.store.story_members([o["id"] for o in opened], day)
        member_items = {i.id: i for i in self.store.items(sorted({m[0] for m in members}))}
        members = [m for m in members if m[0] in member_items]
        by_story: dict[str, list[tuple[str, str]]] = {}
        for item_id, story_id, d in members:
            by_story.setdefault(story_id, []).append((item_id, d))
        ids = sorted(member_items)
        vecs = dict(zip(ids, embed_items([member_items[i] for i in ids], self.embedder, self.store), strict=True))
        prior: dict[str, str] = {}
        for o in opened:
            rows = by_story.get(o["id"], [])
            if not rows:
                continue
            index.add_story(
                o["id"], date.fromisoformat(o["first_seen"]), date.fromisoformat(o["last_seen"]),
                np.vstack([vecs[i] for i, _ in rows]),
                np.array([is_short(member_items[i], self.settings) for i, _ in rows]),
                np.array([(day - date.fromisoformat(d)).days for _, d in rows]),
                date.fromisoformat(o["briefed_on"]) if o["briefed_on"] else None,
                [item_text(member_items[i]) for i, _ in rows],
                story_kind([member_items[i].tier for i, _ in rows]),
                frozenset().union(*(release_keys(member_items[i].title) for i, _ in rows)),
                frozenset().union(*(artifacts_of(member_items[i]) for i, _ in rows)),
                [member_items[i].title for i, _ in rows],
                frozenset().union(*(parties(member_items[i]) for i, _ in rows)),
                frozenset().union(*(site_pages(member_items[i]) for i, _ in rows)),
            )
            prior.update({i: o["id"] for i, _ in rows})
        # Items of this window already in an earlier day's story (overlapping windows) stay there.
        fresh = [i for i in items if i.id not in prior]
        carried = [i for i in items if i.id in prior]
        vectors = embed_items(fresh, self.embedder, self.store)
        stories, result = cluster_items(fresh, vectors, day, index)
        by_id = {s.id: s for s in stories}
        position = {story_id: k for k, story_id in enumerate(index.ids)}  # a day's stories are many: no list search

        def story_of(story_id: str) -> Story:
            if story_id not in by_id:
                k = position.get(story_id, -1)
                briefed = index.briefed_on[k] if k >= 0 else None
                by_id[story_id] = Story(id=story_id, items=[], first_seen=index.first_seen[k] if k >= 0 else day,
                                        last_seen=day, follow_up=briefed is not None and briefed < day,
                                        briefed_on=briefed)
            return by_id[story_id]

        for item in carried:
            story_of(prior[item.id]).items.append(item)
        # The editors' merges and splits (the desk) stand: an item they moved goes where they put it.
        moves = self.store.story_moves([i.id for i in items])
        for s in list(by_id.values()):
            for item in [i for i in s.items if moves.get(i.id, s.id) != s.id]:
                s.items.remove(item)
                s.title = ""  # named again after its items
                to = story_of(moves[item.id])
                to.items.append(item)
                to.title = ""
        by_id = {k: s for k, s in by_id.items() if s.items}
        stories = []
        day_of = {item_id: d for item_id, _, d in members}
        for story in sorted(by_id.values(), key=lambda s: s.id):
            # What it had before: up to its last briefing, or before today when it was never briefed.
            cutoff = (story.briefed_on or day - timedelta(days=1)).isoformat()
            before = [member_items[i] for i, d in by_story.get(story.id, []) if d <= cutoff]
            story.earlier_items = len(before)
            story.earlier_outlets = list(dict.fromkeys(i.source_name for i in before))
            story.new_items = sum(1 for i in story.items if day_of.get(i.id, day.isoformat()) > cutoff)
            story.items.sort(key=reading_order)
            story.title = story.title or story_title(story.items)
            if story.follow_up and not story.new_items:
                continue  # briefed already and nothing new since: not presented again
            stories.append(story)
        filed: list[StoryRow] = []
        for s in stories:
            new_ids = [i.id for i in s.items if i.id not in prior]
            if new_ids:
                mean = (index.centroid(position[s.id]) if s.id in position
                        else centroid(embed_items(s.items, self.embedder, self.store)))
                filed.append(StoryRow(s.id, s.title, s.first_seen, day, mean, new_ids))
        self.store.replace_day(day, filed)  # the day's earlier clustering goes in the same transaction
        return stories, {"joined_earlier": len(result.joined), "follow_ups": sum(1 for s in stories if s.follow_up),
                         "linked_pairs": result.linked}

    def stored_day(self, day: date) -> list[Story] | None:
        """The stories clustering filed under `day`, as the build saw them (not ranked); None if `day` was never
        clustered.

        Reads only: nothing is re-clustered or recorded (``dailybrief stories``).
        """
        rows = self.store.day_stories(day)
        if not rows:
            return None
        ids = sorted({r["story_id"] for r in rows})
        members = self.store.story_members(ids, day)
        items = {i.id: i for i in self.store.items({r["item_id"] for r in rows} | {m[0] for m in members})}
        stories = []
        for sid in ids:
            mine = [r for r in rows if r["story_id"] == sid]
            briefed = date.fromisoformat(mine[0]["briefed_on"]) if mine[0]["briefed_on"] else None
            cutoff = (briefed or day - timedelta(days=1)).isoformat()
            before = [items[i] for i, s, d in members if s == sid and d <= cutoff and i in items]
            story = Story(id=sid, items=sorted((items[r["item_id"]] for r in mine if r["item_id"] in items),
                                               key=item_order),
                          first_seen=date.fromisoformat(mine[0]["first_seen"]), last_seen=day,
                          follow_up=briefed is not None, briefed_on=briefed, earlier_items=len(before),
                          earlier_outlets=list(dict.fromkeys(i.source_name for i in before)))
            story.new_items = len(story.items)
            story.title = story_title(story.items) if story.items else ""
            stories.append(story)
        return stories
