"""Rank stage: score each story and order them, keeping the parts of each score and how each was made.

    score = authority + outlets + listings + engagement + recency + novelty + topics + watch + beat + announcement

- authority: the best source tier among the story's items (official and primary sources above aggregators); a
  page on one of the beat's own sites (a lab's, ``[edition.beat] sites``) posted by a community or the press
  counts as the lab's own post;
- outlets: log2(1 + distinct outlets): ten outlets count, but not ten times one;
- listings: log2(1 + the feeds that list the story beyond one per outlet), copies of its items included: a link on
  a site's front page and on its best list was chosen twice;
- engagement: the story's standing on the sites that show it that day, 0-1, the higher of two readings on one
  scale per site (source name) and day. Its best item's figure (points and comments, or score: stars, likes) is
  ranked among the site's figures that day (0 the lowest, 0.5 the middle, 1 the top), so a 1,300-point Hacker
  News thread and a repo's 90,000 stars each count as their site's top, and the spread is the day's, not the
  figures' size; a thread's points and comments are read as heat (per (age + 2 h) ** 1.8, as Hacker News ranks
  its front page), so yesterday's big thread does not outrank this morning's. A place on a ranked listing (a front
  page: ``[[sources]] ranked``; an item's own, or a copy's) stands where the site's figure of that place stands:
  #1 is the top, #k of n below it by (k - 1) / n. A community post with neither counts as its site's middle item;
- recency: halves every ``half_life_hours`` before the edition's end;
- novelty: +w for a story never briefed; a follow-up gets between -w (nothing new) and 0 (only new outlets);
- topics: the configured topics the story matches (keywords in titles and leads), weight × strength;
- watch: names from the watch-list that the story mentions;
- beat: the story's relevance to the edition's beat (beat.py), 0-1. Off-beat stories rank after all others;
- announcement: a title of the story announces something (ANNOUNCES, or a versioned name such as GPT-5.5; a
  percentage or a sum is no version), a post links a project's own page (a repository's or a model's:
  PROJECT_PAGE), or a lab's own post (or its page) is among its items: the news, rather than talk about it;
- commentary: minus its weight when every item of the story is talk about the news rather than news (talk_kind): a
  first-person account or an essay's opinion, a community's thread about itself, a status page's incident notice,
  a newsletter's issue, a job posting; a story that also announces something is news.

Every part is multiplied by its weight in ``[rank]`` of the config.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from ..config import RankConfig, stage_settings
from ..records import Item, Story
from .cluster import is_digest, release_keys
from .embed import lead

_RANK = RankConfig()  # every default below is the [rank] section's
TIER_WEIGHT = _RANK.tiers
PARTS = ("authority", "outlets", "listings", "engagement", "recency", "novelty", "topics", "watch", "beat",
         "announcement", "commentary")
# A title that announces something: a launch, a release, a versioned name, a Show HN. Commentary about a field is
# discussed as much as its news, so without this the day's essays outrank the day's releases.
ANNOUNCES = re.compile(r"^(?:Show|Launch) HN\b|\b(?:introduc(?:es|ing|ed)|launch(?:es|ed|ing)?|releas(?:es|ed|ing)|"
                       r"announc(?:es|ed|ing)|unveil(?:s|ed)?|open[- ]sourc(?:es|ed)|is now (?:open|available)|ships|"
                       r"debuts?|acquir(?:es|ed|ing)|to acquire|acquisition|invest(?:s|ing|ment)? in|raises)\b",
                       re.IGNORECASE)
# Figures that look like versions to release_keys but are none: percentages, sums, multiples ("93%", "$60B", "10x").
NOT_VERSIONS = re.compile(r"[$€£¥]?\d[\d,.]*\s*(?:%|percent\b|[kKmMbBxX]\b)")
# Titles of talk about the news rather than news: a first-person account, an essay's opinion, a question put to a
# community. Cues of form, not of subject: they say nothing about what the piece is about.
OPINION = re.compile(r"^(?:(?:Ask|Tell) HN\b|I(?:['’](?:m|ve|d|ll))?\s|My\s|We should\b|Why I\b|Thoughts on\b|"
                     r"(?:A|The) case (?:for|against)\b|In defen[cs]e of\b|Against\s)|\bconsidered harmful\b",
                     re.IGNORECASE)
# A job posting ("Trellis AI (YC W24) is hiring engineers"): an advertisement, not news.
HIRING = re.compile(r"\b(?:is|are|now) hiring\b", re.IGNORECASE)
# A service's status page: an incident notice ("status.example.com", "examplestatus.com", ".../incidents/...").
STATUS_PAGE = re.compile(r"^(?:status\.|[^/]*status\.(?:com|io)(?:/|$)|[^/]+/incidents?/)")
# A newsletter's issue ("/the-batch/issue-350/"): many stories under one link.
NEWSLETTER_ISSUE = re.compile(r"/issues?[-_]\d+/?$")


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
    listings: float = _RANK.listings
    engagement: float = _RANK.engagement
    recency: float = _RANK.recency
    half_life_hours: float = _RANK.half_life_hours
    novelty: float = _RANK.novelty
    topic: float = _RANK.topic
    watch: float = _RANK.watch
    beat: float = _RANK.beat
    announcement: float = _RANK.announcement
    commentary: float = _RANK.commentary
    watchlist: list[str] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)
    lab_sites: list[str] = field(default_factory=list)  # the beat's own sites ([edition.beat] sites)

    @classmethod
    def from_config(cls, r: RankConfig, lab_sites: Iterable[str] = ()) -> RankSettings:
        """From a config's [rank] table, and the beat's sites ([edition.beat] sites)."""
        return stage_settings(cls, r, tier={**TIER_WEIGHT, **r.tiers}, watchlist=list(r.watchlist),
                              topics=[Topic(t.name, list(t.keywords), t.weight, t.zh, t.en) for t in r.topics],
                              lab_sites=list(lab_sites))


# Pages on a lab's site that are not its announcements: service status, forums, support, reference docs.
LAB_SITE_NOT = re.compile(r"^(?:[\w-]*\b(?:status|discuss|community|forums?|support|help|docs)\.|[^/]+/docs(?:/|$))")


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


def talk_kind(item: Item) -> str:
    """Why an item is talk about the news rather than news ("" when it is not): an opinion or first-person title,
    a community's thread about its own site, a status page's incident, a newsletter's issue (or a digest's
    title), a job posting."""
    parts = urlsplit(item.url)
    host = _host(item.url)
    if STATUS_PAGE.match(host + parts.path):
        return "a status page's incident notice"
    if is_digest_item(item):
        return "a digest of many stories"
    if item.tier == "community" and item.thread_url and host and host == _host(item.thread_url):
        return "the community's thread about itself"
    if OPINION.search(item.title):
        return "a first-person account or an opinion"
    if HIRING.search(item.title):
        return "a job posting"
    return ""


# A project's own page on a code or model host: a repository's or a model's front page (not its issues or files).
PROJECT_PAGE = re.compile(r"^(?:github\.com|gitlab\.com|codeberg\.org|huggingface\.co)/[\w.-]+/[\w.-]+/?$")


def announces(item: Item) -> bool:
    """An item that announces something: its title (ANNOUNCES, or a versioned name; a percentage or a sum is no
    version) or its page's name ("/introducing-talkie") says so, or it is a post of a project's own page (a
    repository or a model, PROJECT_PAGE: what is shown is the thing released; a trending list's entry is not)."""
    parts = urlsplit(item.url)
    slug = parts.path.rstrip("/").rsplit("/", 1)[-1].replace("-", " ").replace("_", " ")
    return bool(ANNOUNCES.search(item.title) or release_keys(NOT_VERSIONS.sub(" ", item.title)) or
                ANNOUNCES.search(slug) or (item.tier != "code" and PROJECT_PAGE.match(_host(item.url) + parts.path)))


def is_digest_item(item: Item) -> bool:
    """A digest of many stories: a title that lists several, or a newsletter's issue."""
    return is_digest(item.title) or bool(NEWSLETTER_ISSUE.search(urlsplit(item.url).path))


def lab_site(url: str, sites: Iterable[str]) -> str:
    """The site of `sites` that url is a page of ("" when none): a host matches itself and its subdomains, a site
    with a path ("huggingface.co/blog") that path and below; status pages and forums are not the lab's posts."""
    parts = urlsplit(url)
    host = _host(url)
    if not host or LAB_SITE_NOT.match(host + parts.path):
        return ""
    for site in sites:
        site_host, _, path = site.partition("/")
        if (host == site_host or host.endswith("." + site_host)) and \
                (not path or parts.path.strip("/").startswith(path.strip("/"))):
            return site
    return ""


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


def best_places(places: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """The best (lowest) place on each site's ranked listing among several items' places."""
    out: dict[str, int] = {}
    for found in places:
        for site, place in found.items():
            out[site] = min(place, out.get(site, place))
    return out


GRAVITY = 1.8  # how fast a thread's votes cool: Hacker News's published ranking, votes / (age + 2 h) ** 1.8


def heat(item: Item, now: datetime) -> float:
    """How much attention a post holds at `now`: a thread's points and comments as a rate, the way a community
    site ranks its own front page (votes over (age + 2 h) to the power 1.8, Hacker News's published gravity), so
    a thread that drew 600 points in three hours stands above one that drew 900 over two days; a list's score
    (stars today, likes) is already a standing and stays as it is."""
    f = figure(item)
    if f <= 0 or (item.points is None and item.comment_count is None):
        return float(f)
    when = item.published or item.fetched
    age = max(0.0, (now - when).total_seconds() / 3600) if when else 24.0
    return f / (age + 2.0) ** GRAVITY


@dataclass(slots=True)
class Scales:
    """Per site (source name), what its figures and its ranked listing's places are read against that day: its
    figures, sorted, and the length of its listing (the last place any of the day's items holds)."""

    figures: dict[str, list[float]] = field(default_factory=dict)
    listing: dict[str, int] = field(default_factory=dict)

    def share(self, site: str, f: float) -> float:
        """A figure's standing among the site's figures that day, 0-1: the share of the others it is above, ties
        counted half, so the day's lowest is 0, its middle 0.5 and its top 1, whatever the site counts (points or
        stars) and however far its top stands above the rest."""
        got = self.figures.get(site, [])
        if len(got) < 2:
            return 1.0 if got else UNSCORED_SHARE
        below, upto = bisect.bisect_left(got, f), bisect.bisect_right(got, f)
        return (below + max(0, upto - below - 1) / 2) / (len(got) - 1)

    def place(self, site: str, position: int) -> float:
        """A place on the site's ranked listing that day, 0-1 on the same scale as its figures: the listing is the
        site's own ranking of what holds attention now, so its #k stands where the site's k-th figure of the day
        stands (of its figures, or of the listing when it shows more than them)."""
        return 1.0 - (position - 1) / self.places(site, position)

    def places(self, site: str, position: int) -> int:
        """How many places a site's ranking that day is read as having: its figures, or its listing's length."""
        return max(len(self.figures.get(site, [])), self.listing.get(site, 0), position)


def source_scales(stories: list[Story], now: datetime) -> Scales:
    """The day's scales: each site's figures (their heat at `now`) among the day's items, and the length of its
    ranked listing."""
    figures: dict[str, list[float]] = {}
    listing: dict[str, int] = {}
    for story in stories:
        for item in story.items:
            f = heat(item, now)
            if f > 0:
                figures.setdefault(item.source_name, []).append(f)
        for site, place in _places(story).items():
            listing[site] = max(place, listing.get(site, 0))
    return Scales({name: sorted(v) for name, v in figures.items()}, listing)


UNSCORED_SHARE = 0.5  # a community post with no figures and no place: its site's middle item


def _unscored(item: Item) -> bool:
    return item.points is None and item.comment_count is None and item.score is None


def _places(story: Story) -> dict[str, int]:
    """The story's best place on each site's ranked listing: its items' own, and their copies' (listed_at)."""
    return best_places([*({i.source_name: i.position} for i in story.items if i.position), story.listed_at])


def engagement(story: Story, scales: Scales, now: datetime) -> tuple[float, str]:
    """The story's standing on the sites that show it, 0-1, and how it was found: its best item's figure among its
    site's figures that day, or its best place on a site's ranked listing (a front page), whichever is higher. A
    community post with neither (a list that shows no figures and no order) counts as its site's middle item."""
    best, how = 0.0, "no figures"
    for item in story.items:
        f = figure(item)
        if f > 0:
            share = scales.share(item.source_name, heat(item, now))
            note = (f"{share:.2f}: {f} on {item.source_name} ({item.points or 0} points, {item.comment_count or 0} "
                    f"comments, score {item.score or 0}) among the day's {len(scales.figures.get(item.source_name, []))}")
        elif item.tier == "community" and _unscored(item) and not item.position and not story.listed_at:
            share, note = UNSCORED_SHARE, f"{UNSCORED_SHARE:.2f}: listed by {item.source_name}, with no figures"
        else:
            continue
        if share > best:
            best, how = share, note
    for site, place in _places(story).items():
        share = scales.place(site, place)
        if share > best:
            best, how = share, f"{share:.2f}: #{place} of {scales.places(site, place)} on {site}'s ranked listing"
    return best, how


def score_story(story: Story, now: datetime, settings: RankSettings,
                scales: Scales | None = None) -> tuple[dict[str, float], dict[str, str]]:
    """The parts of a story's score, and a note on how each was made up."""
    s = settings
    parts: dict[str, float] = {}
    notes: dict[str, str] = {}

    # A lab's own page, posted by a community or the press, is the lab's post: the announcement itself.
    labs = [i for i in story.items if i.tier != "official" and lab_site(i.url, s.lab_sites)]
    best = max(story.items, key=lambda i: s.tier.get(i.tier, 1.0), default=None)
    by_lab = bool(labs) and s.tier.get("official", 1.0) > (s.tier.get(best.tier, 1.0) if best else 0.0)
    parts["authority"] = s.authority * (s.tier.get("official", 1.0) if by_lab else
                                        s.tier.get(best.tier, 1.0) if best else 0.0)
    notes["authority"] = (f"the lab's own page ({lab_site(labs[0].url, s.lab_sites)}), via {labs[0].source_name}"
                          if by_lab else f"{best.tier}: {best.source_name}" if best else "no items")

    outlets = story.outlets
    parts["outlets"] = s.outlets * math.log2(1 + len(outlets))
    notes["outlets"] = f"{len(outlets)} outlet{'s' if len(outlets) != 1 else ''}: " + ", ".join(outlets[:6]) + \
        (" …" if len(outlets) > 6 else "")

    extra = max(0, len(story.feeds) - len(outlets))
    parts["listings"] = s.listings * math.log2(1 + extra)
    notes["listings"] = (f"{len(story.feeds)} feeds list it, {extra} more than its outlets" if extra else
                         "one feed per outlet")

    scales = scales if scales is not None else source_scales([story], now)
    share, how = engagement(story, scales, now)
    parts["engagement"] = s.engagement * share
    notes["engagement"] = how

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

    official = next((i for i in story.items if i.tier == "official"), None) or next(iter(labs), None)
    talk = [(i, why) for i in story.items if (why := talk_kind(i))]
    said = next((i for i in story.items if announces(i) and i not in [t for t, _ in talk]), None)
    parts["announcement"] = s.announcement * (1.0 if official or said else 0.0)
    notes["announcement"] = (f"the lab's own post: {official.source_name}" if official else
                             f"announces: {said.title[:60]}" if said else "no announcement in its titles")

    all_talk = bool(talk) and len(talk) == len(story.items) and not (official or said)
    parts["commentary"] = -s.commentary if all_talk else 0.0
    notes["commentary"] = (f"talk, not news: {talk[0][1]} ({talk[0][0].title[:50]})" if all_talk else
                           "news: it announces something" if talk else "no item is only talk")
    return parts, notes


def rank(stories: list[Story], now: datetime, settings: RankSettings | None = None) -> list[Story]:
    """Stories ordered best first; ties break on id so the order is stable."""
    settings = settings or RankSettings()
    scales = source_scales(stories, now)
    for story in stories:
        story.score_parts, story.score_notes = score_story(story, now, settings, scales)
        story.score = round(sum(story.score_parts.values()), 6)
    return sorted(stories, key=lambda s: (not s.on_beat, -s.score, s.id))
