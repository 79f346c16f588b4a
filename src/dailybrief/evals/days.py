"""Evaluation on real news days: the whole pipeline on a day's candidate pool, scored against the briefings that
human-run digests published for the same morning.

    candidates.jsonl ──feeds on 127.0.0.1──▶ fetch ─▶ dedup ─▶ cluster ─▶ rank ─▶ write ─▶ sections
    briefing.json / briefing_alt_ainews.json + ceiling.json ──────────────────────────────▶ top@k, lead@k

A day folder holds ``candidates.jsonl`` (title, url, summary, source, published and the feed's figures),
``briefing.json`` (with ``briefing_time_utc``), ``briefing_alt_ainews.json`` and ``ceiling.json`` (which
candidates match each published story, strict or lenient). Each feed of the pool is served as RSS with an
honest tier (lab blogs official, Hacker News community, trending lists code, paper lists paper), the front page
as the ranked listing it is (in its order, each item's place kept), and the pipeline runs as of the briefing's time.

- **top@k**: a published story is covered when a reference cited in one of the first k story sections has the
  (normalised) URL of one of its strict matches or its own URL;
- **lead@k**: the section is about it: its heading is a matched item's title, or its facts cite one;
- the baseline ranks the same run's items by Hacker News points alone, one item a section.

Pairs (``same-event-pairs.jsonl``): a pair is predicted the same when the run puts both candidates in one story.
Topics (``topic-labels.jsonl``): an item is kept when the edition's beat finds it relevant.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from xml.sax.saxutils import escape

from .. import config as config_mod
from ..demo import serve_directory
from ..errors import DailybriefError
from ..records import Brief, Item, Story
from ..run.pipeline import Pipeline
from ..store import Store
from ..stories.beat import Beat, BeatScorer
from ..stories.embed import Embedder, embed_items

# The window ends at the briefing's time and reaches back 50 h: the pools' 48 h before the briefing, and date-only
# posts stamped at the first midnight (D-2 00:00, which a 01:00 briefing's 49 h would leave just outside: the
# window's start is exclusive).
EVAL_SPAN = timedelta(hours=50)
KS = ("N", 5, 10)  # the cut-offs scored: the briefing's own story count, 5 and 10


class EvalDaysError(DailybriefError):
    """A golden day cannot be read; the message says which file and why."""


# -- the pool as feeds --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FeedKind:
    outlet: str
    tier: str
    figures: str = ""  # how the feed shows its figures: "hn" (points, comments), "stars", "likes"
    ranked: bool = False  # a ranked listing (a front page): served in its order, each item's place kept


# The feeds of the pools, by name (the part after "ai-news-direct:"); lab blogs are official, the rest honest too.
FEEDS: dict[str, FeedKind] = {
    "hackernews_best_stories": FeedKind("Hacker News", "community", "hn"),
    "hn-front-page": FeedKind("Hacker News", "community", ranked=True),  # one site: the best list and the front page
    "github_trends": FeedKind("GitHub Trending", "code", "stars"),
    "huggingface_trending_models": FeedKind("Hugging Face trending models", "code", "likes"),
    "huggingface_trending_datasets": FeedKind("Hugging Face trending datasets", "code", "likes"),
    "huggingface_daily_papers": FeedKind("Hugging Face Daily Papers", "paper", "likes"),
    "aibase_daily": FeedKind("AIbase", "press"),
    "deeplearning_ai_batch": FeedKind("The Batch", "press"),
    "artificial_analysis": FeedKind("Artificial Analysis", "press"),
}
OFFICIAL_PREFIXES = {"anthropic": "Anthropic", "openai": "OpenAI", "meta_ai": "Meta AI", "bytedance_seed": "ByteDance Seed",
                     "thinkingmachines": "Thinking Machines", "z_ai": "Z.ai", "minimax": "MiniMax",
                     "moonshot": "Moonshot AI", "deepseek": "DeepSeek", "google": "Google", "deepmind": "Google DeepMind"}


def feed_kind(source: str) -> tuple[str, FeedKind]:
    """The feed a candidate came from (its name) and how to serve it."""
    name = source.split(":", 1)[1] if source.startswith("ai-news-direct:") else \
        "hn-front-page" if source.startswith("hn-front-page") else re.sub(r"\W+", "_", source).strip("_")
    if name in FEEDS:
        return name, FEEDS[name]
    for prefix, lab in OFFICIAL_PREFIXES.items():
        if name.startswith(prefix):
            rest = name[len(prefix):].strip("_").replace("_", " ")
            return name, FeedKind(f"{lab} {rest.title()}".strip(), "official")
    return name, FeedKind(name.replace("_", " ").title(), "press")


_FIGURES = re.compile(r"\b(?:Downloads|Likes)\s*:\s*[\d,]+")
_HN = re.compile(r"HN score (\d+), (\d+) comments(?:; discussion (\S+))?")


def _rss_item(c: dict[str, Any], kind: FeedKind) -> str:
    summary = str(c.get("summary") or "")
    comments = ""
    if c.get("summary_lang") == "zh":
        summary = ""  # the front page's summaries are an LLM's, in Chinese: no real feed carries them
    categories = []
    if kind.figures == "hn":
        m = _HN.search(summary)
        points, count = (c.get("points"), c.get("comments")) if c.get("points") is not None else \
            ((int(m.group(1)), int(m.group(2))) if m else (None, None))
        thread = m.group(3) if m and m.group(3) else (f"https://news.ycombinator.com/item?id={c['hn_id']}"
                                                     if c.get("hn_id") else "")
        summary = _HN.sub("", summary).strip(" ;")
        if points is not None:  # as hnrss.org writes them
            summary = f"{summary}\n\nPoints: {points}\n# Comments: {count or 0}".strip()
        if thread:
            comments = f"<comments>{escape(thread)}</comments>"
    elif kind.figures == "stars" and c.get("stars_today") is not None:
        categories.append(f"score:{int(c['stars_today'])}")
    elif kind.figures == "likes" and c.get("likes") is not None:
        categories.append(f"score:{int(c['likes'])}")
        summary = _FIGURES.sub("", summary).strip()  # the figures go in the score, not the text
    when = datetime.fromisoformat(str(c["published"]).replace("Z", "+00:00"))
    cats = "".join(f"<category>{escape(x)}</category>" for x in categories)
    return (f"<item><title>{escape(str(c['title']))}</title><link>{escape(str(c['url']))}</link>"
            f"<guid isPermaLink=\"false\">{escape(str(c['id']))}</guid><pubDate>{format_datetime(when)}</pubDate>"
            f"<description>{escape(summary)}</description>{comments}{cats}</item>")


def write_feeds(candidates: Sequence[dict[str, Any]], folder: Path) -> list[dict[str, Any]]:
    """One RSS file per feed of the pool in `folder`; the [[sources]] that read them, with "{base}" for the server."""
    by_feed: dict[str, list[dict[str, Any]]] = {}
    for c in candidates:
        by_feed.setdefault(feed_kind(str(c.get("source", "")))[0], []).append(c)
    folder.mkdir(parents=True, exist_ok=True)
    sources = []
    for name in sorted(by_feed):
        kind = feed_kind(str(by_feed[name][0].get("source", "")))[1]
        listed = sorted(by_feed[name], key=lambda c: int(c.get("hn_rank") or 0)) if kind.ranked else by_feed[name]
        body = "".join(_rss_item(c, kind) for c in listed)
        (folder / f"{name}.xml").write_text(
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(kind.outlet)}</title>'
            f"<link>https://example.org/{name}</link><description>{escape(name)}</description>{body}</channel></rss>",
            "utf-8")
        sources.append({"name": kind.outlet, "kind": "rss", "url": f"{{base}}/{name}.xml", "tier": kind.tier,
                        "language": "en", "comments": False, "ranked": kind.ranked})
    return sources


# -- a golden day ---------------------------------------------------------------------------------------------
_DROP_PARAMS = re.compile(r"^(utm_.*|ref|source|s)$")


def normalise_url(url: str) -> str:
    """The golden set's URL key: lower-case host without www., no scheme, fragment, trailing / or tracking params."""
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _DROP_PARAMS.match(k)])
    return f"{host}{parts.path}".rstrip("/") + (f"?{query}" if query else "")


@dataclass(slots=True)
class GoldStory:
    title: str
    strict: set[str]    # normalised URLs of its strict matches and its own
    lenient: set[str]
    matched: bool       # strictly matched: some candidate can cover it


@dataclass(slots=True)
class GoldDay:
    day: date
    folder: Path
    briefing_time: datetime
    candidates: list[dict[str, Any]]
    briefings: dict[str, list[GoldStory]]  # "primary", "ainews"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise EvalDaysError(f"{path} is missing; a golden day folder needs candidates.jsonl, briefing.json "
                            "and ceiling.json") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EvalDaysError(f"{path} is not JSON ({exc}); restore it from the data set") from None


def _gold(stories: list[dict[str, Any]], ceiling: list[dict[str, Any]]) -> list[GoldStory]:
    by_index = {int(s.get("story_index", n)): s for n, s in enumerate(ceiling)}
    out = []
    for n, s in enumerate(stories):
        c = by_index.get(n, {})
        own = {normalise_url(u) for u in s.get("urls") or [] if u}
        matches = c.get("matches") or []
        strict = own | {normalise_url(m["url"]) for m in matches if m.get("strength") == "strict" and m.get("url")}
        lenient = strict | {normalise_url(m["url"]) for m in matches if m.get("url")}
        out.append(GoldStory(str(s.get("title", "")), strict, lenient,
                             bool(c.get("matched")) and c.get("strength") == "strict"))
    return out


def read_day(folder: str | Path) -> GoldDay:
    folder = Path(folder)
    cand_path = folder / "candidates.jsonl"
    try:
        lines = cand_path.read_text("utf-8").splitlines()
    except FileNotFoundError:
        raise EvalDaysError(f"{cand_path} is missing; give a golden day's folder (it holds candidates.jsonl)") from None
    try:
        candidates = [json.loads(line) for line in lines if line.strip()]
    except json.JSONDecodeError as exc:
        raise EvalDaysError(f"{cand_path} has a line that is not JSON ({exc})") from None
    primary = _read_json(folder / "briefing.json")
    ceiling = _read_json(folder / "ceiling.json")
    briefings = {"primary": _gold(primary.get("stories") or [], ceiling.get("stories") or [])}
    alt = folder / "briefing_alt_ainews.json"
    if alt.exists():
        briefings["ainews"] = _gold(_read_json(alt).get("stories") or [],
                                    (ceiling.get("alt_ainews") or {}).get("stories") or [])
    when = str(primary.get("briefing_time_utc") or "")
    if not when:
        raise EvalDaysError(f"{folder / 'briefing.json'} has no briefing_time_utc; the run needs the briefing's time")
    return GoldDay(date.fromisoformat(folder.name) if re.fullmatch(r"\d{4}-\d\d-\d\d", folder.name)
                   else datetime.fromisoformat(when.replace("Z", "+00:00")).date(),
                   folder, datetime.fromisoformat(when.replace("Z", "+00:00")), candidates, briefings)


def day_folders(root: str | Path) -> list[Path]:
    root = Path(root)
    if (root / "candidates.jsonl").exists():
        return [root]
    found = sorted(p for p in root.iterdir() if (p / "candidates.jsonl").exists()) if root.is_dir() else []
    if not found:
        raise EvalDaysError(f"{root} holds no golden day (a folder with candidates.jsonl); give the data set's folder")
    return found


# -- running the pipeline on a day ------------------------------------------------------------------------------
@dataclass(slots=True)
class DayRun:
    day: GoldDay
    ranked: list[Story]
    briefs: list[Brief]
    items: list[Item]                       # every item fetched, duplicates included
    story_of: dict[str, str]                # item id -> story id (duplicates: their original's story)
    item_of: dict[str, str]                 # candidate id -> item id
    counts: dict[str, int] = field(default_factory=dict)


def run_day(day: GoldDay, embedder: Embedder, write: bool = True, top_stories: int = 10) -> DayRun:
    """The whole pipeline on one golden day, its feeds served from 127.0.0.1, as of the briefing's time."""
    with tempfile.TemporaryDirectory(prefix="dailybrief-eval-") as tmp:
        sources = write_feeds(day.candidates, Path(tmp) / "feeds")
        with serve_directory(Path(tmp) / "feeds") as base:
            cfg = config_mod.from_dict({
                "edition": {"languages": ["en"], "timezone": "UTC",
                            "top_stories": top_stories, "roundup_items": 8},
                "fetch": {"respect_robots": False, "retries": 0},
                "sources": [{**s, "url": s["url"].replace("{base}", base)} for s in sources],
            })
            store = Store.open(Path(tmp) / "eval.db")  # its own, whatever DAILYBRIEF_DB names
            try:
                pipe = Pipeline(cfg, store, embedder=embedder, as_of=day.briefing_time, span=EVAL_SPAN)
                run = pipe.new_run(day.day)
                pipe.fetch(run)
                ranked = pipe.stories(run, day.day)
                briefs = pipe.write(run, day.day, ranked) if write else []
                start, end = pipe.window(day.day)
                items = store.items_between(start, end, include_duplicates=True)
                counts = {k: int(v) for s in run.stages for k, v in s.counts.items() if isinstance(v, (int, float))}
            finally:
                store.close()
    story_of = {i.id: s.id for s in ranked for i in s.items}
    for item in items:
        root, seen = item, set()
        while root.duplicate_of and root.id not in seen:
            seen.add(root.id)
            root = next((x for x in items if x.id == root.duplicate_of), root)
        if item.id not in story_of and root.id in story_of:
            story_of[item.id] = story_of[root.id]
    by_key: dict[tuple[str, str], str] = {}
    for item in items:
        by_key.setdefault((item.source_name, item.url), item.id)
        by_key.setdefault((item.source_name, f"{item.url}|{item.title}"), item.id)
        if item.thread_url:  # one thread, whatever article it links to now
            by_key.setdefault((item.source_name, f"thread:{item.thread_url}"), item.id)
    item_of = {}
    for c in day.candidates:
        outlet = feed_kind(str(c.get("source", "")))[1].outlet
        m = _HN.search(str(c.get("summary") or ""))
        found = by_key.get((outlet, f"{c['url']}|{c['title']}")) or by_key.get((outlet, str(c["url"]))) or \
            (by_key.get((outlet, f"thread:{m.group(3)}")) if m and m.group(3) else None)
        if found:
            item_of[str(c["id"])] = found
    return DayRun(day, ranked, briefs, items, story_of, item_of, counts)


# -- scoring ---------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Ranked:
    """One ranked list of sections, as URL sets: what each cites, and what it is about (its lead)."""

    cited: list[set[str]]
    lead: list[set[str]]


def brief_sections(brief: Brief, items: dict[str, Item] | None = None) -> Ranked:
    """What each story section cites and is about; a reference counts by its URL and its item's (a thread cited
    by its discussion page links the article)."""
    refs = {r.n: r for r in brief.references}
    items = items or {}

    def urls_of(n: int) -> set[str]:
        r = refs[n]
        item = items.get(r.item_id)
        return {normalise_url(r.url)} | ({normalise_url(item.url)} if item else set())

    cited, lead = [], []
    for section in (s for s in brief.sections if s.kind == "story"):
        urls: set[str] = set()
        about: set[str] = set()
        for p in section.paragraphs:
            for sent in p.sentences:
                found = set().union(*(urls_of(n) for n in sent.refs if n in refs))
                urls |= found
                if p.part == "facts":
                    about |= found
        about |= set().union(*(urls_of(r.n) for r in refs.values()
                               if r.title.strip().casefold() == section.title.strip().casefold()
                               and normalise_url(r.url) in urls))
        cited.append(urls)
        lead.append(about)
    return Ranked(cited, lead)


def points_baseline(items: Iterable[Item]) -> Ranked:
    """The same run's items ranked by Hacker News points alone, one item a section."""
    pointed = sorted((i for i in items if i.points and i.duplicate_of is None), key=lambda i: (-(i.points or 0), i.id))
    urls = [{normalise_url(i.url)} for i in pointed]
    return Ranked(urls, urls)


@dataclass(slots=True)
class Recall:
    """Stories covered at each cut-off, of how many, and how many a generator could cover at all (strict)."""

    n: int = 0
    ceiling: int = 0
    top: dict[str, int] = field(default_factory=lambda: {str(k): 0 for k in KS})
    lead: dict[str, int] = field(default_factory=lambda: {str(k): 0 for k in KS})

    def add(self, other: Recall) -> None:
        self.n += other.n
        self.ceiling += other.ceiling
        for k in self.top:
            self.top[k] += other.top[k]
            self.lead[k] += other.lead[k]


def recall(stories: list[GoldStory], ranked: Ranked) -> Recall:
    out = Recall(len(stories), sum(1 for s in stories if s.matched))
    for key in KS:
        k = len(stories) if key == "N" else int(key)
        cited = set().union(*ranked.cited[:k]) if ranked.cited[:k] else set()
        about = set().union(*ranked.lead[:k]) if ranked.lead[:k] else set()
        out.top[str(key)] = sum(1 for s in stories if s.strict & cited)
        out.lead[str(key)] = sum(1 for s in stories if s.strict & about)
    return out


@dataclass(slots=True)
class DayScore:
    day: date
    ours: dict[str, Recall]       # by briefing
    baseline: dict[str, Recall]
    sections: int
    counts: dict[str, int]


def score_day(run: DayRun) -> DayScore:
    ranked = brief_sections(run.briefs[0], {i.id: i for i in run.items}) if run.briefs else Ranked([], [])
    base = points_baseline(run.items)
    base = Ranked(base.cited[: len(ranked.cited)], base.lead[: len(ranked.cited)])  # as many sections as ours
    return DayScore(run.day.day, {b: recall(g, ranked) for b, g in run.day.briefings.items()},
                    {b: recall(g, base) for b, g in run.day.briefings.items()}, len(ranked.cited), run.counts)


def pooled(days: Sequence[DayScore], which: str, briefing: str) -> Recall:
    total = Recall()
    for d in days:
        got = getattr(d, which).get(briefing)
        if got is not None:
            total.add(got)
    return total


def lead_recall(days: Sequence[DayScore]) -> float:
    """Pooled primary lead@N over the pooled strict ceiling."""
    p = pooled(days, "ours", "primary")
    return p.lead["N"] / p.ceiling if p.ceiling else 0.0


def format_recall(r: Recall) -> str:
    return " ".join(f"{r.top[str(k)]:>3}" for k in KS) + "  " + " ".join(f"{r.lead[str(k)]:>3}" for k in KS)


def report_lines(days: Sequence[DayScore]) -> list[str]:
    """The eval's printed table: per day and pooled, ours beside the baseline, for each briefing."""
    head = "top@N top@5 top@10  lead@N lead@5 lead@10"
    lines = []
    for briefing in ("primary", "ainews"):
        if not any(briefing in d.ours for d in days):
            continue
        lines.append(f"{briefing} briefing: stories covered (strict), ours | hn-points baseline")
        lines.append(f"{'day':<11} {'N':>3} {'ceil':>4}  ours {head} | hn-points {head}")
        for d in days:
            if briefing in d.ours:
                o, b = d.ours[briefing], d.baseline[briefing]
                lines.append(f"{d.day.isoformat():<11} {o.n:>3} {o.ceiling:>4}  ours {format_recall(o)}"
                             f"{'':16} | hn-points {format_recall(b)}")
        o, b = pooled(days, "ours", briefing), pooled(days, "baseline", briefing)
        lines.append(f"{'pooled':<11} {o.n:>3} {o.ceiling:>4}  ours {format_recall(o)}{'':16} | hn-points "
                     f"{format_recall(b)}")
        for name, r in (("ours", o), ("hn-points", b)):
            ceil = r.ceiling or 1
            lines.append(f"  {name:<9} of strict ceiling: " + "  ".join(
                f"top@{k}={r.top[str(k)] / ceil:.3f}" for k in KS) + "  " + "  ".join(
                f"lead@{k}={r.lead[str(k)] / ceil:.3f}" for k in KS))
    base = pooled(days, "baseline", "primary")
    lines.append(f"baseline_lead_recall={base.lead['N'] / base.ceiling if base.ceiling else 0.0:.4f}")
    lines.append(f"lead_recall={lead_recall(days):.4f}")
    return lines


# -- merge pairs ---------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Confusion:
    """Confusion counts of a yes/no prediction against labels, with precision and recall of "yes"."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, predicted: bool, actual: bool) -> None:
        if predicted and actual:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif actual:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(slots=True)
class PairScore(Confusion):
    """Predicted "same story" against the labels."""

    missing: int = 0  # pairs with a candidate the run did not keep (out of the window, say): predicted different

    def line(self, name: str) -> str:
        return (f"{name:<15} same {self.tp + self.fn:>3}  different {self.fp + self.tn:>3}  "
                f"precision={self.precision:.3f} recall={self.recall:.3f}  (tp {self.tp} fp {self.fp} fn {self.fn}; "
                f"{self.missing} with an item the run did not keep)")


@dataclass(slots=True)
class PairsReport:
    all: PairScore
    same_url: PairScore
    different_url: PairScore
    wrong: list[str]  # the different-URL pairs got wrong: "fp|fn  a_title  ~  b_title"


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    try:
        return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    except FileNotFoundError:
        raise EvalDaysError(f"{path} does not exist; give the path of a .jsonl file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EvalDaysError(f"{path} has a line that is not JSON ({exc})") from None


def _days_of(path: Path, rows: list[dict[str, Any]]) -> dict[str, GoldDay]:
    days = {}
    for name in sorted({str(r.get("day", "")) for r in rows}):
        folder = path.parent / name
        if not (folder / "candidates.jsonl").exists():
            raise EvalDaysError(f"{path.name} names day {name!r}, but {folder} holds no candidates.jsonl; "
                                "keep the file in its data set's folder")
        days[name] = read_day(folder)
    return days


def evaluate_pairs(path: str | Path, embedder: Embedder, runs: dict[str, DayRun] | None = None) -> PairsReport:
    """Merge precision and recall on labelled pairs; the pairs at different URLs are the hard part."""
    path = Path(path)
    rows = read_jsonl(path)
    days = _days_of(path, rows)
    runs = runs if runs is not None else {}
    for name, day in days.items():
        if name not in runs:
            runs[name] = run_day(day, embedder, write=False)
    report = PairsReport(PairScore(), PairScore(), PairScore(), [])
    for row in rows:
        run = runs[str(row["day"])]
        urls = {str(c["id"]): normalise_url(str(c["url"])) for c in run.day.candidates}
        a, b = run.item_of.get(str(row["a_id"])), run.item_of.get(str(row["b_id"]))
        sa, sb = run.story_of.get(a or ""), run.story_of.get(b or "")
        predicted = sa is not None and sa == sb
        same = row.get("label") == "same"
        part = report.same_url if urls.get(str(row["a_id"])) == urls.get(str(row["b_id"])) else report.different_url
        for score in (report.all, part):
            score.add(predicted, same)
            if sa is None or sb is None:
                score.missing += 1
        if part is report.different_url and predicted != same:
            report.wrong.append(f"{'fp' if predicted else 'fn'}  {row.get('a_title', '')[:60]}  ~  "
                                f"{row.get('b_title', '')[:60]}")
    return report


# -- relevance to the beat ------------------------------------------------------------------------------------------
@dataclass(slots=True)
class TopicsReport(Confusion):
    """The beat's keep decision against the labels "yes"/"no" (borderline apart)."""

    borderline_kept: int = 0
    borderline: int = 0
    missing: int = 0
    wrong: list[str] = field(default_factory=list)


def evaluate_topics(path: str | Path, embedder: Embedder, runs: dict[str, DayRun] | None = None) -> TopicsReport:
    """Precision and recall of the beat's keep decision against the labels "yes"/"no"; borderline apart."""
    path = Path(path)
    rows = read_jsonl(path)
    days = _days_of(path, rows)
    runs = runs if runs is not None else {}
    scorer = BeatScorer(Beat(), embedder)
    report = TopicsReport()
    for name, day in days.items():
        run = runs.get(name) or run_day(day, embedder, write=False)
        items = {i.id: i for i in run.items}
        wanted = [items[run.item_of[str(r["id"])]] for r in rows
                  if r.get("day") == name and run.item_of.get(str(r["id"])) in items]
        scored = dict(zip([i.id for i in wanted], scorer.score(wanted, embed_items(wanted, embedder)), strict=True))
        for r in (r for r in rows if r.get("day") == name):
            got = scored.get(run.item_of.get(str(r["id"]), ""))
            if got is None:
                report.missing += 1
                continue
            keep = got[0] >= scorer.beat.cut
            label = r.get("ai")
            if label == "borderline":
                report.borderline += 1
                report.borderline_kept += keep
            else:
                report.add(keep, label == "yes")
            if label in ("yes", "no") and keep != (label == "yes"):
                report.wrong.append(f"{'fp' if keep else 'fn'} {got[0]:.2f} {got[1]:<28} {str(r.get('title'))[:70]}")
    return report
