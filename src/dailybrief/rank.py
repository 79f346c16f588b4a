"""Rank stage: score each story and order them, with the parts of each score kept."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from .records import Story

TIER_WEIGHT = {"official": 3.0, "press": 2.0, "paper": 1.5, "code": 1.0, "community": 1.0}


@dataclass(slots=True)
class RankSettings:
    tier: dict[str, float] = field(default_factory=lambda: dict(TIER_WEIGHT))
    outlets: float = 2.0
    engagement: float = 0.8
    recency: float = 1.0
    follow_up_penalty: float = 1.5
    window_hours: float = 24.0


def score_story(story: Story, now: datetime, settings: RankSettings) -> dict[str, float]:
    tiers = {i.tier for i in story.items}
    authority = max((settings.tier.get(t, 1.0) for t in tiers), default=0.0)
    outlets = settings.outlets * math.log2(1 + len(story.outlets))
    engagement = settings.engagement * math.log10(1 + sum(i.engagement for i in story.items))
    latest = max((i.published or i.fetched for i in story.items if (i.published or i.fetched)), default=None)
    if latest is not None:
        age_h = max(0.0, (now - latest).total_seconds() / 3600)
        recency = settings.recency * max(0.0, 1 - age_h / max(settings.window_hours, 1))
    else:
        recency = 0.0
    novelty = -settings.follow_up_penalty if story.follow_up else 0.0
    return {"authority": authority, "outlets": outlets, "engagement": engagement,
            "recency": recency, "novelty": novelty}


def rank(stories: list[Story], now: datetime, settings: RankSettings | None = None) -> list[Story]:
    """Stories ordered best first; ties break on id so the order is stable."""
    settings = settings or RankSettings()
    for story in stories:
        story.score_parts = score_story(story, now, settings)
        story.score = round(sum(story.score_parts.values()), 6)
    return sorted(stories, key=lambda s: (-s.score, s.id))
