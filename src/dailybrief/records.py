"""Typed records that pass between the pipeline stages.

    Source ──fetch──▶ Item ──cluster──▶ Story ──write──▶ Brief
                                                  (Section ▸ Paragraph ▸ Sentence, Reference)

Records are plain dataclasses. ``as_dict`` gives the JSON-ready form used by
``brief.json`` and by the store.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from .ids import content_hash

TIERS: tuple[str, ...] = ("official", "press", "community", "paper", "code")  # the kinds of source, as config lists them
# The same kinds, most authoritative first: the order a story's items are clustered, deduplicated, cited and
# charted in (the one tier order; config's tier weights say how much each counts in ranking).
AUTHORITY: tuple[str, ...] = ("official", "press", "paper", "code", "community")
DEFAULT_EDITION = "daily"  # the name of the edition [edition] describes, unless [edition].name says otherwise
_AUTHORITY_RANK = {tier: rank for rank, tier in enumerate(AUTHORITY)}


def authority_rank(tier: str) -> int:
    """A tier's place in AUTHORITY, 0 the first; an unknown tier comes after every known one."""
    return _AUTHORITY_RANK.get(tier, len(AUTHORITY))


@dataclass(slots=True)
class Source:
    """A configured source: where to fetch, how much to trust it, and its language."""

    name: str
    kind: str
    url: str
    tier: str = "press"
    language: str = "en"
    comments: bool = True  # follow comment feeds of community threads
    full_text: bool = False  # fetch each new item's page and extract its main text
    ranked: bool = False  # its feed is a ranked listing (a front page, a hot list): each item keeps its place
    options: dict[str, Any] = field(default_factory=dict)  # the kind's own keys (categories, repos, ...)
    key: str = ""  # what else makes it this source (e.g. its categories); part of its id

    @property
    def id(self) -> str:
        return content_hash(self.kind, self.url, self.key) if self.key else content_hash(self.kind, self.url)


@dataclass(slots=True)
class Comment:
    """One comment of a community thread."""

    author: str
    text: str
    url: str = ""
    score: int | None = None
    published: datetime | None = None


@dataclass(slots=True)
class Item:
    """One article, post, paper or release, as ingested."""

    id: str
    source_id: str
    source_name: str
    tier: str
    url: str
    canonical_url: str
    title: str
    summary: str = ""
    text: str = ""
    language: str = "en"
    author: str = ""
    published: datetime | None = None
    fetched: datetime | None = None
    points: int | None = None
    comment_count: int | None = None
    score: int | None = None
    comments_url: str = ""
    thread_url: str = ""  # a community post about an article: its discussion's page (url is the article)
    position: int | None = None  # its place in a ranked listing (Source.ranked), 1 the first: the best it reached
    comments: list[Comment] = field(default_factory=list)
    content_hash: str = ""
    duplicate_of: str | None = None

    @property
    def body(self) -> str:
        """The best text available: full text, else the summary."""
        return self.text or self.summary

    @property
    def engagement(self) -> int:
        return (self.points or 0) + (self.score or 0) + (self.comment_count or 0)


@dataclass(slots=True)
class Story:
    """A cluster of items about one event."""

    id: str
    items: list[Item]
    first_seen: date
    last_seen: date
    score: float = 0.0
    score_parts: dict[str, float] = field(default_factory=dict)
    follow_up: bool = False  # already briefed in an earlier edition
    title: str = ""
    briefed_on: date | None = None  # the last edition that briefed it
    earlier_items: int = 0  # items it had before (up to its last briefing, if it had one)
    new_items: int = 0  # items since then
    earlier_outlets: list[str] = field(default_factory=list)  # outlets that reported it before
    score_notes: dict[str, str] = field(default_factory=dict)  # how each score part was made up
    topics: list[str] = field(default_factory=list)  # configured topics it matches
    relevance: float = 1.0  # to the edition's beat, 0-1 (beat.py)
    relevance_note: str = ""  # how it was found
    on_beat: bool = True  # relevance reaches the beat's cut: it may head a section or fill the roundup
    listed_by: list[str] = field(default_factory=list)  # the feeds (source ids) that list its items, copies too
    listed_at: dict[str, int] = field(default_factory=dict)  # ranked listings its items' copies are on: site -> place

    @property
    def feeds(self) -> list[str]:
        """The feeds that list the story: its items' and those of their copies (a link on two of a site's lists)."""
        return list(dict.fromkeys([*(i.source_id for i in self.items), *self.listed_by]))

    @property
    def code_only(self) -> bool:
        """Only repos and model pages (trending lists): news only when someone else covers it."""
        return bool(self.items) and all(i.tier == "code" for i in self.items)

    @property
    def papers_only(self) -> bool:
        return bool(self.items) and all(i.tier == "paper" for i in self.items)

    @property
    def new_outlets(self) -> list[str]:
        """Outlets reporting it now that had not before."""
        before = set(self.earlier_outlets)
        return [o for o in self.outlets if o not in before]

    @property
    def outlets(self) -> list[str]:
        seen: dict[str, None] = {}
        for item in self.items:
            seen.setdefault(item.source_name, None)
        return list(seen)


@dataclass(slots=True)
class Sentence:
    text: str
    refs: list[int] = field(default_factory=list)
    supported: bool | None = None  # set by verify: None = not checked, False = its sources don't support it
    # The passages of its cited items the writer drew it from: an item's id (its article: title, summary, text)
    # or "<item id>#c<N>" (its N-th comment). Empty: any one passage of the cited items. verify checks a sentence
    # against one of these, or the two together when it names exactly two.
    passages: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Paragraph:
    part: str
    sentences: list[Sentence] = field(default_factory=list)
    lead: str = ""  # optional bold lead-in, e.g. the platform of a view, or the name of a position
    holders: list[str] = field(default_factory=list)  # who holds a position: platform or outlet, with figures
    listed: bool = False  # its sentences are a list's entries (a roundup's line of repos), joined as a list


@dataclass(slots=True)
class Section:
    """One numbered part of the briefing: a story, or the roundup."""

    kind: Literal["story", "roundup"]
    title: str
    paragraphs: list[Paragraph] = field(default_factory=list)
    story_id: str = ""
    writer: str = "extractive"
    follow_up: bool = False
    outlets: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Figures, filled by the pipeline (figures.py); renderers draw them only when present.
    coverage: dict[str, int] = field(default_factory=dict)  # authority tier -> distinct outlets
    momentum: list[int] = field(default_factory=list)  # items per day, the 7 days up to the edition, oldest first


@dataclass(slots=True)
class Reference:
    n: int
    item_id: str
    url: str
    outlet: str
    title: str
    published: datetime | None
    note: str = ""
    tier: str = "press"


@dataclass(slots=True)
class Branding:
    organisation: list[str] = field(default_factory=list)
    website: str = ""
    contact: list[str] = field(default_factory=list)
    qr_url: str = ""
    qr_caption: str = ""
    logo: str = ""
    about: str = ""


@dataclass(slots=True)
class Brief:
    """One edition of the briefing."""

    edition: date
    language: str
    title: str
    branding: Branding
    themes: list[str] = field(default_factory=list)
    abstract: list[Paragraph] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    generated: datetime | None = None
    notes: list[str] = field(default_factory=list)
    url: str = ""  # where readers find this edition online ([output].edition_url); chat messages link to it
    # Set by verify: {"sentences": n, "cited": n, "supported": n} over the whole edition.
    faithfulness: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return as_dict(self)


def as_dict(record: Any) -> Any:
    """A JSON-ready form of a record: dates become ISO strings."""
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return {f.name: as_dict(getattr(record, f.name)) for f in dataclasses.fields(record)}
    if isinstance(record, (list, tuple)):
        return [as_dict(x) for x in record]
    if isinstance(record, dict):
        return {k: as_dict(v) for k, v in record.items()}
    if isinstance(record, (datetime, date)):
        return record.isoformat()
    return record


@dataclass(slots=True)
class SourceResult:
    """What one source's fetch produced: items, or the reason it failed."""

    source: Source
    items: list[Item] = field(default_factory=list)
    error: str = ""
    status: int | None = None
    not_modified: bool = False
    seconds: float = 0.0
    refused: list[str] = field(default_factory=list)  # URLs the fetch guard did not connect to, and why
    notes: list[str] = field(default_factory=list)  # what the run summary should say about this source


@dataclass(slots=True)
class StageReport:
    name: str
    seconds: float = 0.0
    counts: dict[str, int | float | str] = field(default_factory=dict)  # str: a share ("3/4") or a version
    errors: list[str] = field(default_factory=list)
    ok: bool = True


FETCH_STAGES = ("fetch", "store", "dedup")  # what a fetch alone records (Pipeline.fetch); a run has more


@dataclass(slots=True)
class RunReport:
    """The record of one run of one edition (``name``, of ``edition``'s date): its stages, counts, failures and
    outputs."""

    id: str
    edition: date
    started: datetime
    stages: list[StageReport] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    status: str = "running"
    finished: datetime | None = None
    name: str = DEFAULT_EDITION  # the edition ([edition].name, or an [[editions]] entry's)

    @property
    def fetch_only(self) -> bool:
        """A run that only fetched (`dailybrief fetch`): it made no edition, whatever its date and status say."""
        return bool(self.stages) and all(s.name in FETCH_STAGES for s in self.stages)

    def count(self, stage: str, key: str) -> int | float:
        for s in self.stages:
            if s.name == stage:
                value = s.counts.get(key, 0)
                return value if isinstance(value, int | float) else 0
        return 0


def _parse_dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def brief_from_dict(data: dict[str, Any]) -> Brief:
    """The inverse of ``Brief.as_dict``: read a brief.json back."""

    def paragraphs(rows: list[dict[str, Any]]) -> list[Paragraph]:
        return [Paragraph(part=p["part"], lead=p.get("lead", ""), holders=list(p.get("holders", [])),
                          listed=bool(p.get("listed", False)),
                          sentences=[Sentence(s["text"], list(s["refs"]), s.get("supported"), list(s.get("passages", [])))
                                     for s in p["sentences"]]) for p in rows]

    return Brief(
        edition=date.fromisoformat(data["edition"]),
        language=data["language"],
        title=data["title"],
        branding=Branding(**data["branding"]),
        themes=list(data.get("themes", [])),
        abstract=paragraphs(data.get("abstract", [])),
        sections=[
            Section(kind=s["kind"], title=s["title"], paragraphs=paragraphs(s["paragraphs"]),
                    story_id=s.get("story_id", ""), writer=s.get("writer", ""), follow_up=s.get("follow_up", False),
                    outlets=list(s.get("outlets", [])), notes=list(s.get("notes", [])),
                    coverage={str(k): int(v) for k, v in (s.get("coverage") or {}).items()},
                    momentum=[int(v) for v in s.get("momentum") or []])
            for s in data.get("sections", [])
        ],
        references=[
            Reference(n=r["n"], item_id=r["item_id"], url=r["url"], outlet=r["outlet"], title=r["title"],
                      published=_parse_dt(r.get("published")), note=r.get("note", ""), tier=r.get("tier", "press"))
            for r in data.get("references", [])
        ],
        generated=_parse_dt(data.get("generated")),
        notes=list(data.get("notes", [])),
        url=str(data.get("url", "") or ""),
        faithfulness=dict(data.get("faithfulness", {})),
    )
