"""Rank stage: score each story and order them, keeping the parts of each score and how each was made.

    score = authority + outlets + engagement + recency + novelty + topics + watch + beat

- authority: the best source tier among the story's items (official and primary sources above aggregators);
- outlets: log2(1 + distinct outlets): ten outlets count, but not ten times one;
- engagement: the story's best item's figures (points and comments, or score: stars, likes) on its own source's
  scale that day: log(1 + figure) / log(1 + the source's largest figure among the day's items), 0-1, so a
  1,300-point Hacker News thread and a repo's 90,000 stars each count as their source's top;
- recency: halves every ``half_life_hours`` before the edition's end;
- novelty: +w for a story never briefed; a follow-up gets between -w (nothing new) and 0 (only new outlets);
- topics: the configured topics the story matches (keywords in titles and leads), weight × strength;
- watch: names from the watch-list that the story mentions;
- beat: the story's relevance to the edition's beat (beat.py), 0-1. Off-beat stories rank after all others;
- announcement: a title of the story announces something (ANNOUNCES, or a versioned name such as GPT-5.5), or a
  lab's own post is among its items: the news, rather than talk about it.

Every part is multiplied by its weight in ``[rank]`` of the config.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime

from ..config import RankConfig, stage_settings
from ..records import Item, Story
from .cluster import release_keys
from .embed import lead

_RANK = RankConfig()  # every default below is the [rank] section's
TIER_WEIGHT = _RANK.tiers
PARTS = ("authority", "outlets", "engagement", "recency", "novelty", "topics", "watch", "beat", "announcement")
# A title that announces something: a launch, a release, a versioned name, a Show HN. Commentary about a field is
# discussed as much as its news, so without this the day's essays outrank the day's releases.
ANNOUNCES = re.compile(r"^(?:Show|Launch) HN\b|\b(?:introduc(?:es|ing|ed)|launch(?:es|ed|ing)?|releas(?:es|ed|ing)|"
                       r"announc(?:es|ed|ing)|unveil(?:s|ed)?|open[- ]sourc(?:es|ed)|is now (?:open|available)|ships|"
                       r"debuts?)\b", re.IGNORECASE)


@dataclass(slots=True)
class Topic:
    name: str
    keywords: list[str]
    weight: float = 1.0
    zh: str = ""
    en: str = ""

    def label(self, language: str) -> str:
        return (self.zh if language == "zh" else self.en) or self.name


@dataclass(slots=True)
class RankSettings:
    tier: dict[str, float] = field(default_factory=lambda: dict(TIER_WEIGHT))
    authority: float = _RANK.authority
    outlets: float = _RANK.outlets
    engagement: float = _RANK.engagement
    recency: float = _RANK.recency
    half_life_hours: float = _RANK.half_life_hours
    novelty: float = _RANK.novelty
    topic: float = _RANK.topic
    watch: float = _RANK.watch
    beat: float = _RANK.beat
    announcement: float = _RANK.announcement
    watchlist: list[str] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)

    @classmethod
    def from_config(cls, r: RankConfig) -> RankSettings:
        """From a config's [rank] table."""
        return stage_settings(cls, r, tier={**TIER_WEIGHT, **r.tiers}, watchlist=list(r.watchlist),
                              topics=[Topic(t.name, list(t.keywords), t.weight, t.zh, t.en) for t in r.topics])


def _pattern(term: str) -> re.Pattern[str]:
    """Latin terms match as whole words, case-insensitively; CJK terms as substrings."""
    if re.search(r"[\u3400-\u9fff]", term):
        return re.compile(re.escape(term))
    return re.compile(r"(?<![\w-])" + re.escape(term) + r"(?![\w-])", re.IGNORECASE)


_PATTERNS: dict[str, re.Pattern[str]] = {}


def mentions(text: str, terms: list[str]) -> list[str]:
    """The terms that occur in text (each once, in the terms' order)."""
    found = []
    for term in terms:
        pat = _PATTERNS.get(term)
        if pat is None:
            pat = _PATTERNS[term] = _pattern(term)
        if pat.search(text):
            found.append(term)
    return found


def story_text(story: Story) -> str:
    """What topics and watch-lists are matched in: titles, and the leads of non-community items."""
    parts = [i.title for i in story.items]
    parts += [lead(i.body, 400) for i in story.items if i.tier != "community"]
    return "\n".join(parts)


def topic_matches(story: Story, topics: list[Topic]) -> list[tuple[Topic, list[str]]]:
    """Topics the story matches, strongest first, each with the keywords found."""
    text = story_text(story)
    found = [(t, mentions(text, t.keywords)) for t in topics]
    found = [(t, kw) for t, kw in found if kw]
    found.sort(key=lambda tk: -tk[0].weight * min(len(tk[1]), 3))
    return found


def _latest(items: list[Item]) -> datetime | None:
    times = [i.published or i.fetched for i in items if (i.published or i.fetched)]
    return max(times) if times else None  # type: ignore[type-var]


def figure(item: Item) -> int:
    """An item's engagement figure: points and comments of a thread, else its score (stars, likes, votes)."""
    if item.points is not None or item.comment_count is not None:
        return (item.points or 0) + (item.comment_count or 0)
    return item.score or 0


def source_scales(stories: list[Story]) -> dict[str, float]:
    """Per source: log(1 + its largest figure) among the day's items, the scale its figures are read on."""
    scales: dict[str, float] = {}
    for story in stories:
        for item in story.items:
            f = figure(item)
            if f > 0:
                scales[item.source_name] = max(scales.get(item.source_name, 0.0), math.log1p(f))
    return scales


UNSCORED_SHARE = 0.5  # a community post that comes with no figures at all (a front page's list): middling


def _unscored(item: Item) -> bool:
    return item.points is None and item.comment_count is None and item.score is None


def engagement(story: Story, scales: dict[str, float]) -> tuple[float, Item | None]:
    """The story's best item's figure on its source's scale (0-1), and that item. A community post that comes with
    no figures at all (a curated front page's list) counts UNSCORED_SHARE: that it is listed is all we know."""
    best, top = 0.0, None
    for item in story.items:
        f = figure(item)
        scale = scales.get(item.source_name, 0.0)
        share = math.log1p(f) / scale if f > 0 and scale > 0 else \
            UNSCORED_SHARE if item.tier == "community" and _unscored(item) else 0.0
        if share > best:
            best, top = share, item
    return best, top


def score_story(story: Story, now: datetime, settings: RankSettings,
                scales: dict[str, float] | None = None) -> tuple[dict[str, float], dict[str, str]]:
    """The parts of a story's score, and a note on how each was made up."""
    s = settings
    parts: dict[str, float] = {}
    notes: dict[str, str] = {}

    best = max(story.items, key=lambda i: s.tier.get(i.tier, 1.0), default=None)
    parts["authority"] = s.authority * (s.tier.get(best.tier, 1.0) if best else 0.0)
    notes["authority"] = f"{best.tier}: {best.source_name}" if best else "no items"

    outlets = story.outlets
    parts["outlets"] = s.outlets * math.log2(1 + len(outlets))
    notes["outlets"] = f"{len(outlets)} outlet{'s' if len(outlets) != 1 else ''}: " + ", ".join(outlets[:6]) + \
        (" …" if len(outlets) > 6 else "")

    scales = scales if scales is not None else source_scales([story])
    share, top = engagement(story, scales)
    parts["engagement"] = s.engagement * share
    notes["engagement"] = ("no figures" if top is None else
                           f"{share:.2f}: listed by {top.source_name}, with no figures" if not figure(top) else
                           f"{share:.2f} of the day's top on {top.source_name}: {figure(top)} "
                           f"({top.points or 0} points, {top.comment_count or 0} comments, score {top.score or 0})")

    latest = _latest(story.items)
    if latest is not None:
        age_h = max(0.0, (now - latest).total_seconds() / 3600)
        parts["recency"] = s.recency * 0.5 ** (age_h / s.half_life_hours)
        notes["recency"] = f"latest item {age_h:.1f} h before the edition's end"
    else:
        parts["recency"] = 0.0
        notes["recency"] = "no dates"

    if story.follow_up:
        new = story.new_outlets
        share = len(new) / max(1, len(outlets))
        parts["novelty"] = s.novelty * (share - 1.0)
        notes["novelty"] = (f"follow-up (briefed {story.briefed_on}): {story.new_items or len(story.items)} new items, "
                            f"{len(new)} of {len(outlets)} outlets new")
    else:
        parts["novelty"] = s.novelty
        notes["novelty"] = "new story" if story.first_seen == story.last_seen else \
            f"not briefed before (first seen {story.first_seen})"

    matched = topic_matches(story, s.topics)
    story.topics = [t.name for t, _ in matched]
    if matched:
        chosen, kws = matched[0]
        parts["topics"] = s.topic * chosen.weight * min(len(kws), 3) / 3
        notes["topics"] = "; ".join(f"{t.name} ×{t.weight:g} ({', '.join(k[:3])})" for t, k in matched)
    else:
        parts["topics"] = 0.0
        notes["topics"] = "no configured topic"

    watched = mentions(story_text(story), s.watchlist) if s.watchlist else []
    parts["watch"] = s.watch * min(len(watched), 2)
    notes["watch"] = ", ".join(watched) if watched else ("—" if s.watchlist else "no watch-list")

    parts["beat"] = s.beat * story.relevance
    notes["beat"] = (f"relevance {story.relevance_note or f'{story.relevance:.2f}'}"
                     + ("" if story.on_beat else " — off the beat: no section, no roundup line"))

    official = next((i for i in story.items if i.tier == "official"), None)
    said = next((i for i in story.items if ANNOUNCES.search(i.title) or release_keys(i.title)), None)
    parts["announcement"] = s.announcement * (1.0 if official or said else 0.0)
    notes["announcement"] = (f"the lab's own post: {official.source_name}" if official else
                             f"announces: {said.title[:60]}" if said else "no announcement in its titles")
    return parts, notes


def rank(stories: list[Story], now: datetime, settings: RankSettings | None = None) -> list[Story]:
    """Stories ordered best first; ties break on id so the order is stable."""
    settings = settings or RankSettings()
    scales = source_scales(stories)
    for story in stories:
        story.score_parts, story.score_notes = score_story(story, now, settings, scales)
        story.score = round(sum(story.score_parts.values()), 6)
    return sorted(stories, key=lambda s: (not s.on_beat, -s.score, s.id))
