"""The day's figures: numbers the renderers draw, attached to a brief's sections.

- ``coverage``: for each story, how many distinct outlets reported it, by
  authority tier (official, press, paper, code, community). The PDF and both
  HTML variants draw it as one stacked bar per story.
- ``momentum``: for each story, how many of its items were filed on each of
  the days up to the edition (7 by default), read from the store, so a story
  that continues over several days shows its course as a small line.

Both are plain fields of :class:`~dailybrief.records.Section`; a renderer
draws them only when they are present (and momentum only for a story seen on
at least two days).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from ..records import AUTHORITY, Brief, Story
from ..store import Store

__all__ = ["MOMENTUM_DAYS", "annotate", "coverage", "momentum"]

MOMENTUM_DAYS = 7


def coverage(story: Story) -> dict[str, int]:
    """Distinct outlets per authority tier, in tier order; an outlet counts once, under its first tier."""
    seen: dict[str, str] = {}
    for item in story.items:
        seen.setdefault(item.source_name, item.tier if item.tier in AUTHORITY else "other")
    counts: dict[str, int] = {}
    for tier in (*AUTHORITY, "other"):
        n = sum(1 for t in seen.values() if t == tier)
        if n:
            counts[tier] = n
    return counts


def momentum(store: Store, story_ids: Iterable[str], edition: date, days: int = MOMENTUM_DAYS) -> dict[str, list[int]]:
    """Items per day for each story, the `days` days up to and including the edition, oldest first."""
    start = edition - timedelta(days=days - 1)
    per_day = store.story_day_counts(story_ids, start, edition)
    span = [start + timedelta(days=i) for i in range(days)]
    return {sid: [counts.get(day, 0) for day in span] for sid, counts in per_day.items()}


def annotate(briefs: Sequence[Brief], stories: Sequence[Story], store: Store, edition: date,
             days: int = MOMENTUM_DAYS) -> int:
    """Fill each story section's coverage and momentum; returns the number of sections annotated."""
    by_id = {s.id: s for s in stories}
    lines = momentum(store, by_id, edition, days)
    done = 0
    for brief in briefs:
        for section in brief.sections:
            story = by_id.get(section.story_id)
            if section.kind != "story" or story is None:
                continue
            section.coverage = coverage(story)
            section.momentum = lines.get(story.id, [])
            done += 1
    return done
