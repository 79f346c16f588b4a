"""The daily run: call the stages in order and record what each did.

    fetch ─▶ store ─▶ dedup ─▶ embed ─▶ cluster ─▶ rank ─▶ write ─▶ render ─▶ publish

Each stage is its own module; this one only wires them together, times
them, and writes the run record. A failing source or format is reported and
the run goes on; only "nothing to brief" stops it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from .. import redact
from ..config import Config
from ..errors import ConfigError, DailybriefError, NoBriefError, NotDueError, RenderError
from ..glossary import Glossary
from ..ingest.fetch import bound_item, fetch_comments, fetch_page_texts, fetch_sources
from ..publish.alerts import notify_run
from ..publish.base import Delivery, Edition, FolderPublisher, file_stem
from ..publish.delivery import deliver
from ..records import Brief, Item, RunReport, Source, SourceResult, StageReport, Story
from ..render.formats import get_renderer
from ..store import Store, process_alive, utcnow
from ..stories import cluster as cluster_stage
from ..stories import rank as rank_stage
from ..stories.beat import Beat, score_beat
from ..stories.dedup import dedup_new
from ..stories.embed import Embedder, default_embedder
from ..stories.themes import Theme, edition_themes
from ..stories.tracking import StoryTracker
from ..write import figures
from ..write.judge import ModelJudge
from ..write.llm import Usage
from ..write.verify import (
    CHECKER_VERSION,
    Faithfulness,
    SourceText,
    unsupported_policy,
    verify_brief,
    verify_model_themes,
    verify_themes,
)
from ..write.writer import ChainWriter, WriterContext, apply_themes, as_read, build_writer, own_pages

STALE_TEMP_SECONDS = 3600  # a dailybrief-* folder in TMPDIR untouched this long is a killed run's leftover
MISSED_LOOKBACK_DAYS = 7  # how far back a run looks for editions that were never written
PUBLISH_STAGE = "publish"  # the stage that sends the edition: a run with it made the day's edition


@dataclass(slots=True)
class Hooks:
    """Progress callbacks the CLI fills in; all optional."""

    fetch_total: Callable[[int], None] | None = None
    fetched: Callable[[SourceResult], None] | None = None
    write_total: Callable[[int], None] | None = None
    wrote: Callable[[str], None] | None = None


@dataclass(frozen=True, slots=True)
class Review:
    """The editor's desk as the run sees it. desk/review.py registers it: the run never imports the desk.

    ``hold`` keeps a written day as a draft instead of publishing it; ``auto_publish_job`` is the scheduler's
    minute job that publishes an untouched draft at ``[review] auto_publish_at``.
    """

    hold: Callable[[Pipeline, RunReport, date, list[Story], list[Brief]], object]
    auto_publish_job: Callable[[str | None], object]


_REVIEW: list[Review] = []


def register_review(review: Review) -> None:
    """Install the review step (the desk does, when it is imported); the last one registered wins."""
    _REVIEW[:] = [review]


def registered_review() -> Review:
    """The installed review step, or a config error naming the fix."""
    if not _REVIEW:
        raise ConfigError("review.required", True, "the editor's desk is not loaded; run through the `dailybrief` "
                          "command, or `import dailybrief.desk` before building a Pipeline")
    return _REVIEW[0]


def edition_window(cfg: Config, day: date) -> tuple[datetime, datetime]:
    """(start, end] of edition `day`: from the cutoff on the day before to the cutoff on `day`.

    Consecutive editions tile time, so every item belongs to exactly one edition's window.
    """
    return cfg.edition.window(day)


def check_due(cfg: Config, day: date, now: datetime) -> None:
    """Refuse to write an edition whose window is still open: what is published later would belong to no edition."""
    _, end = edition_window(cfg, day)
    if now < end:
        tz = cfg.edition.tz
        latest = cfg.edition.due(now)
        raise NotDueError(
            f"the edition of {day} briefs what is published up to {end:%Y-%m-%d %H:%M} ({cfg.edition.timezone}), "
            f"and it is {now.astimezone(tz):%Y-%m-%d %H:%M} now; run it at or after its cutoff "
            f"([edition].cutoff = \"{cfg.edition.cutoff}\"), or write the latest complete edition, {latest}, "
            f"with `dailybrief run --date {latest}` (or `dailybrief run` with no --date)")


def missed_editions(cfg: Config, store: Store, day: date) -> list[date]:
    """Days in the week before `day`, after the first edition ever written, that have no edition (a daily's: an
    edition of several days, a weekly, has no missed days to name) and were not quiet: a day whose run found
    nothing to brief was not missed."""
    if cfg.edition.days > 1:
        return []
    lo = day - timedelta(days=MISSED_LOOKBACK_DAYS)
    written = store.edition_days(lo, day) | store.quiet_days(lo, day)
    first = store.first_edition()
    if first is None:
        return []
    return [d for d in (day - timedelta(days=k) for k in range(MISSED_LOOKBACK_DAYS, 0, -1))
            if d > first and d not in written]


class Pipeline:
    def __init__(self, cfg: Config, store: Store, hooks: Hooks | None = None,
                 embedder: Embedder | None = None, as_of: datetime | None = None,
                 span: timedelta = timedelta(days=1), record: bool = True) -> None:
        self.cfg = cfg
        # False in a worker's task: its stages are reported back to the run that sent it (distributed.py),
        # which alone writes the run's record.
        self.record = record
        # When set, the edition is made as of this moment: its window ends here instead of at the end of the day
        # (eval days: a briefing published at 09:00 saw only what was out by then).
        self.as_of = as_of
        self.span = span  # with as_of: how far back from that moment the window reaches (eval days)
        name = cfg.edition.name  # the edition's own records: its runs, stories, deliveries
        self.store = store.as_edition(name)
        self.hooks = hooks or Hooks()
        self._embedder = embedder
        self.deliveries: list[Delivery] = []  # what the last publish stage did, target by target
        self.alert_note = ""  # what the last alert did ("" when none was due)
        self.writer: ChainWriter | None = None  # the last write stage's writers, with their per-edition figures

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    # -- recording ------------------------------------------------------------
    def new_run(self, day: date) -> RunReport:
        """Record a new run. Call it holding the run lock, as every command that records a run does (run,
        fetch, build, stories, publish, demo, schedule): what a killed run left behind is recovered first, here
        in one place, and named in this run's failures."""
        recovered = self.recover()
        started = utcnow()
        run_id = hashlib.sha256(f"{day}|{started.isoformat()}".encode()).hexdigest()[:16]
        run = RunReport(id=run_id, edition=day, started=started, name=self.cfg.edition.name)
        run.failures.extend(recovered)
        self.store.save_run(run)
        return run

    @contextmanager
    def stage(self, run: RunReport, name: str) -> Iterator[StageReport]:
        report = StageReport(name)
        run.stages.append(report)
        if self.record:
            self.store.heartbeat(run.id)  # a sign of life at each stage's start and end (save_run)
        start = time.perf_counter()
        try:
            yield report
        except DailybriefError as exc:
            report.ok = False
            report.errors.append(str(exc))
            raise
        finally:
            report.seconds = round(time.perf_counter() - start, 3)
            if self.record:
                self.store.save_run(run)

    def finish(self, run: RunReport, status: str) -> RunReport:
        run.status = status
        run.finished = utcnow()
        self.store.save_run(run)
        return run

    def window(self, day: date) -> tuple[datetime, datetime]:
        """(start, end] of the edition of `day`; with as_of, the `span` up to that moment (of an earlier day: as many
        days before)."""
        if self.as_of is None:
            return edition_window(self.cfg, day)
        end = self.as_of - timedelta(days=(self.as_of.astimezone(self.cfg.edition.tz).date() - day).days)
        return end - self.span, end

    # -- stages ---------------------------------------------------------------
    def fetch(self, run: RunReport, sources: list[Source] | None = None) -> list[Item]:
        _, new = self.fetch_and_store(run, self.cfg.enabled_sources() if sources is None else sources)
        self.dedup(run, new)
        return new

    def fetch_and_store(self, run: RunReport, sources: list[Source]) -> tuple[list[Item], list[Item]]:
        """Fetch `sources` and store their items; (every item fetched, the new ones). The items are stored before the sources'
        validators (ETag, Last-Modified), so a run killed between the two fetches them again instead of
        hearing 304 for items it never stored. A shard of a distributed run is one call (distributed.py)."""
        with self.stage(run, "fetch") as fetch_rep:
            self.store.upsert_sources(sources)
            states = {}
            for s in sources:
                state = self.store.source_state(s.id)
                if s.full_text or s.kind == "webpage":
                    state["known"] = self.store.known_urls(s.id)
                states[s.id] = state
            if self.hooks.fetch_total:
                self.hooks.fetch_total(len(sources))
            results = asyncio.run(fetch_sources(sources, self.cfg.fetch.settings(), states, self.hooks.fetched))
            fetched: list[Item] = [item for result, _ in results for item in result.items]
            fetch_rep.counts = {"sources": len(sources), "failed": sum(1 for r, _ in results if r.error),
                                "not_modified": sum(1 for r, _ in results if r.not_modified), "fetched": len(fetched)}
        with self.stage(run, "store") as rep:
            new = self.store.add_items(fetched)
            flag_after = self.cfg.fetch.failing_runs
            for result, got in results:
                streak = self.store.record_fetch(result, got.etag if got else None, got.last_modified if got else None,
                                                 cache=got.cache if got else None, run_id=run.id)
                name = result.source.name
                if result.error:
                    run.failures.append(f"{name}: {result.error}")
                    fetch_rep.errors.append(f"{name}: {result.error}")
                    if streak >= flag_after:
                        run.failures.append(f"{name}: has failed {streak} runs in a row; check or disable it")
                for w in got.warnings if got else []:
                    fetch_rep.errors.append(f"{name}: {w}")
                for line in [*(f"refused {r}" for r in result.refused), *result.notes]:
                    run.failures.append(f"{name}: {line}")
                    fetch_rep.errors.append(run.failures[-1])
            per_source: dict[str, int] = {}
            for item in new:
                per_source[item.source_id] = per_source.get(item.source_id, 0) + 1
            self.store.set_new_items(run.id, {s.id: per_source.get(s.id, 0) for s in sources})
            rep.counts = {"fetched": len(fetched), "new": len(new)}
        return fetched, new

    def dedup(self, run: RunReport, new: list[Item]) -> None:
        """Mark the new items that repeat an earlier one, exactly or nearly."""
        with self.stage(run, "dedup") as rep:
            rep.counts = dict(dedup_new(self.store, new))

    def comments(self, run: RunReport, ranked: list[Story]) -> None:
        """Fetch the top comments of the community threads that made the briefing and still have none."""
        by_id = {s.id: s for s in self.cfg.enabled_sources()}
        wanted = [(by_id[i.source_id], i) for story in ranked[: self.cfg.edition.top_stories] for i in story.items
                  if i.tier == "community" and not i.comments and i.comments_url and i.source_id in by_id
                  and by_id[i.source_id].comments]
        if not wanted or not self.cfg.fetch.top_comments:
            return
        with self.stage(run, "comments") as rep:
            refused: list[str] = []
            found, errors = asyncio.run(fetch_comments(wanted, self.cfg.fetch.settings(), refused))
            run.failures.extend(refused)
            for _, item in wanted:
                if item.id in found:
                    item.comments = found[item.id]
                    self.store.set_comments(item.id, item.comments)
            rep.errors.extend(errors)
            rep.counts = {"threads": len(wanted), "with_comments": len(found)}

    def lead_texts(self, run: RunReport, ranked: list[Story]) -> None:
        """The page text of each section's lead item that came with no summary (the full-text path), so its facts
        are the article's, not the headline again."""
        top, _ = sections_and_roundup(ranked, self.cfg.edition.top_stories, 0)
        own = own_pages(self.cfg.edition.beat.sites)  # the item the section is headed by, as the writer picks it
        wanted = [it for it in (cluster_stage.heading_item(s.items, None, own) for s in top) if not it.body.strip()]
        if not wanted:
            return
        with self.stage(run, "lead_text") as rep:
            found, errors = asyncio.run(fetch_page_texts(wanted, self.cfg.fetch.settings()))
            for item in wanted:
                if item.id in found:
                    item.text = found[item.id]
                    self.store.set_text(item.id, item.text)
            rep.errors.extend(errors)
            rep.counts = {"wanted": len(wanted), "fetched": len(found)}

    def stories(self, run: RunReport, day: date) -> list[Story]:
        start, end = self.window(day)
        with self.stage(run, "cluster") as rep:
            tracker = self.tracker()
            items = self._bounded(tracker.edition_items(self.store.items_between(start, end)))
            if not items:
                raise NoBriefError(
                    f"no items published after {start:%Y-%m-%d %H:%M} and up to {end:%Y-%m-%d %H:%M} "
                    f"({self.cfg.edition.timezone}), the window of the edition of {day}; fetch first, or pick a "
                    "--date that has news"
                )
            caught_up = tracker.catch_up(day, self.window)
            stories, counts = tracker.cluster_day(day, items)
            rep.counts = {"items": len(items), "stories": len(stories),
                          "multi_outlet": sum(1 for s in stories if len(s.outlets) > 1), **counts,
                          "earlier_days_clustered": caught_up}
        with self.stage(run, "rank") as rep:
            ranked = self._rank(stories, day)
            rep.counts = {"stories": len(ranked), "off_beat": sum(1 for s in ranked if not s.on_beat),
                          "code_only": sum(1 for s in ranked if s.on_beat and s.code_only)}
        return ranked

    def _bounded(self, items: list[Item]) -> list[Item]:
        """Items as the stages may read them: no more text each than [fetch].max_item_chars (rows stored
        before the cap existed included), so a run's time follows its inputs' size, not their content."""
        return [bound_item(i, self.cfg.fetch.max_item_chars) for i in items]

    def _rank(self, stories: list[Story], day: date) -> list[Story]:
        """Each story's relevance to the beat, the feeds that list it and its places on ranked listings (its copies'
        too), then the ranking."""
        self.beat(stories)
        copies = self.store.copies_by_source(i.id for s in stories for i in s.items)
        places = self.store.copy_positions(i.id for s in stories for i in s.items)
        for story in stories:
            story.listed_by = sorted({f for i in story.items for f in copies.get(i.id, [])})
            story.listed_at = rank_stage.best_places(places.get(i.id, {}) for i in story.items)
        return rank_stage.rank(stories, self.window(day)[1], rank_stage.RankSettings.from_config(
            self.cfg.rank, self.cfg.edition.beat.sites))

    def stored_stories(self, day: date) -> list[Story] | None:
        """The stories clustering filed under `day`, as the build saw them, ranked; None if `day` was never clustered.

        Reads only: nothing is re-clustered or recorded (``dailybrief stories``).
        """
        stories = self.tracker().stored_day(day)
        return None if stories is None else self._rank(stories, day)

    def tracker(self) -> StoryTracker:
        return StoryTracker(self.store, self.embedder, self.cfg.clustering, self.cfg.source_ids)

    def beat(self, stories: list[Story]) -> int:
        """Set each story's relevance to the edition's beat; the number off the beat."""
        return score_beat(stories, Beat.from_config(self.cfg.edition.beat), self.embedder, self.store)

    def write(self, run: RunReport, day: date, ranked: list[Story]) -> list[Brief]:
        """The stages from ranked stories to checked briefs, one per language: themes, write, verify, figures."""
        ed = self.cfg.edition
        top, rest = sections_and_roundup(ranked, ed.top_stories, ed.roundup_items)
        if not top and not rest:  # an edition of nothing would be published and sent as if it were news
            raise NoBriefError(
                f"nothing to brief in the edition of {day}: "
                f"{'its one story is' if len(ranked) == 1 else f'all its {len(ranked)} stories are'} off the beat "
                f"({ed.beat.name}); "
                "check [edition.beat] if that is wrong, or pick a --date that has news")
        cap = self.cfg.writer.max_item_chars
        top, rest = [as_read(s, cap) for s in top], [as_read(s, cap) for s in rest]
        with self.stage(run, "themes") as rep:
            themes = self.themes(top)
            rep.counts = {"themes": len(themes)}
        briefs = []
        with self.stage(run, "write") as rep:
            if self.hooks.write_total:
                self.hooks.write_total(len(top) * len(ed.languages))
            ctx = WriterContext(self.cfg.writer, self.embedder, self.store, self.cfg.base_dir, self.hooks.wrote,
                                ed.beat.sites, ed.tz)
            writer = self.writer = build_writer(ctx)  # kept for inspection: per-edition figures (benchmarks)
            branding = self.cfg.branding.to_branding(self.cfg.base_dir)
            for lang in ed.languages:
                briefs.append(writer.write(top, rest, day, lang, ed.title_for(lang), branding))
            for brief in briefs:
                brief.url = self.cfg.output.edition_link(day, brief.language, file_stem(brief.language, ed.languages))
            self.store.mark_briefed([s.id for s in top], day)
            for fallback in writer.fallbacks:
                rep.errors.append(str(fallback))
                run.failures.append(f"write: {fallback}")
            sections = [s for b in briefs for s in b.sections if s.kind == "story"]
            rep.counts = {"sections": len(sections), "references": sum(len(b.references) for b in briefs),
                          **{f"by_{name}": sum(1 for s in sections if s.writer == name)
                             for name in sorted({s.writer for s in sections})},
                          "fallbacks": len(writer.fallbacks)}
            usage = model_usage(writer)
            if usage is not None:
                rep.counts.update(usage.counts())
        with self.stage(run, "verify") as rep:
            before = usage.copy() if usage is not None else None
            faithful = self.verify(briefs, [*top, *rest], themes, writer)
            policy = unsupported_policy(self.cfg.verify.unsupported, self.cfg.review.required)
            for flagged in faithful.flagged[:20]:
                rep.errors.append(f"unsupported ({policy}): {flagged}")
            for title in faithful.dropped_sections:
                rep.errors.append(f"section dropped, none of its sentences is supported: {title}")
            rep.counts = {"sentences": faithful.sentences, "cited": faithful.cited, "supported": faithful.supported,
                          "dropped": faithful.dropped, "marked": faithful.marked,
                          "dropped_sections": len(faithful.dropped_sections),
                          **{f"supported_{part}": f"{row['supported']}/{row['sentences']}"
                             for part, row in sorted(faithful.by_part.items())},
                          "checker": CHECKER_VERSION, **{f"judge_{k}": n for k, n in faithful.judge.items()}}
            if usage is not None and before is not None and faithful.judge:  # the judge's calls, counted here
                rep.counts.update(usage.copy().add(before, -1).counts())
        with self.stage(run, "figures") as rep:
            rep.counts = {"sections": figures.annotate(briefs, top, self.store, day)}
            for brief in briefs:
                redact.scrub_fields(brief)  # a fallback's note may quote what an endpoint echoed back
        return briefs

    def verify(self, briefs: list[Brief], stories: list[Story], themes: list[Theme], writer: ChainWriter
               ) -> Faithfulness:
        """Check every sentence of the briefs against the passages it cites (and, with a model, ask it to judge)."""
        v = self.cfg.verify
        items = {i.id: i for s in stories for i in s.items}
        source = SourceText(items, self.embedder, self.glossary(), v.check_settings())
        client = next((c for c in (getattr(w, "client", None) for w in writer.writers) if c is not None), None)
        judge = ModelJudge(client) if client is not None and v.judge and not writer.down else None
        faithful = Faithfulness()
        for brief in briefs:
            result = verify_brief(brief, items, self.embedder, v, source, judge, reviewed=self.cfg.review.required)
            model_named = writer.model_themes.get(brief.language, False)
            if model_named:  # a model named the themes itself: each is checked, the off-topic ones left out
                brief.themes = verify_model_themes(brief, source, result)
            if not model_named or not brief.themes:
                apply_themes(brief, themes)  # the abstract's theme sentence, built from checked sections
                named = [(name, t.story_ids, t.topic) for t in themes if (name := t.name(brief.language))]
                verify_themes(brief, named, source, result)
            faithful.add(result)
        return faithful

    def themes(self, top: list[Story]) -> list[Theme]:
        """The top stories' themes, from the configured topics and the stories' centroids."""
        return edition_themes(top, self.embedder, self.store, rank_stage.RankSettings.from_config(self.cfg.rank).topics,
                              tuple(self.cfg.edition.languages), self.glossary())

    def glossary(self) -> Glossary:
        """The writer's names (zh and en forms), which the themes and the check use too."""
        return Glossary.load(self.cfg.writer.glossary_path(self.cfg.base_dir))

    def render(self, run: RunReport, briefs: list[Brief], staging: Path) -> list[Path]:
        files: list[Path] = []
        with self.stage(run, "render") as rep:
            langs = [b.language for b in briefs]
            for brief in briefs:
                stem = file_stem(brief.language, langs)
                for fmt in self.cfg.output.formats:
                    renderer = get_renderer(fmt)
                    try:
                        files.append(renderer.render(brief, staging / f"{stem}{renderer.suffix}"))
                    except RenderError as exc:
                        rep.errors.append(f"{fmt}: {exc}")
                        run.failures.append(f"render {fmt}: {exc}")
            rep.counts = {"files": len(files)}
        return files

    def publish(self, run: RunReport, day: date, files: list[Path], out: Path | None,
                briefs: list[Brief] | None = None) -> list[Path]:
        """Place the files in the edition's folder, then deliver the edition to every [[publish]] target."""
        with self.stage(run, PUBLISH_STAGE) as rep:
            main = FolderPublisher(out, dated=False) if out else FolderPublisher(self.cfg.out_dir())
            placed = main.publish(files, day)
            for p in placed:
                run.outputs[p.name] = str(p)
            cfg = self.cfg.model_copy(update={"out_override": out}) if out else self.cfg  # targets follow --out
            counts = self._deliver(run, rep, Edition(day, briefs, placed), cfg=cfg) if briefs else {}
            rep.counts = {"files": len(placed), **counts}
        return placed

    def publish_edition(self, run: RunReport, edition: Edition, names: list[str] | None = None,
                        force: bool = False) -> list[Delivery]:
        """Deliver an already-built edition (``dailybrief publish``)."""
        with self.stage(run, PUBLISH_STAGE) as rep:
            rep.counts = self._deliver(run, rep, edition, names, force)
        return self.deliveries

    def _deliver(self, run: RunReport, rep: StageReport, edition: Edition, names: list[str] | None = None,
                 force: bool = False, cfg: Config | None = None) -> dict[str, int | float | str]:
        self.deliveries = deliver(cfg or self.cfg, self.store, edition, names=names, force=force)
        for d in self.deliveries:
            if d.status in ("failed", "skipped", "interrupted"):
                rep.errors.append(f"publish {d.target}: {d.detail}")
                run.failures.append(rep.errors[-1])
            elif d.status == "delivered" and d.kind in ("folder", "site"):
                run.outputs[f"{d.kind} {d.target}"] = d.detail  # the summary says where every copy went
        counts: dict[str, int | float | str] = {"targets": len(self.deliveries)}
        for status in ("delivered", "unchanged", "skipped", "failed", "interrupted"):
            counts[status] = sum(1 for d in self.deliveries if d.status == status)
        return counts

    def finish_and_alert(self, run: RunReport, status: str) -> RunReport:
        """Finish the run; a failed or degraded run notifies [alerts].target."""
        self.finish(run, status)
        try:
            self.alert_note = notify_run(self.cfg, self.store, run)
        except Exception as exc:  # noqa: BLE001 - an alert must never turn into a crash of its own
            self.alert_note = f"alert failed: {type(exc).__name__}: {exc}"
        if self.alert_note and not self.alert_note.startswith(("alert sent", "alert already sent")):
            run.failures.append(self.alert_note)
            self.store.save_run(run)
        return run

    # -- whole runs ---------------------------------------------------------------
    def build(self, run: RunReport, day: date) -> list[Brief]:
        return self.write(run, day, self.stories(run, day))

    def staging(self) -> Path:
        """Where render writes before publish places the files: under the data directory, so a run
        killed mid-render leaves nothing in TMPDIR, and the next run clears what it left."""
        db = self.cfg.db_path()
        return (db.parent if str(db) != ":memory:" else Path(tempfile.gettempdir())) / "staging"

    def recover(self) -> list[str]:
        """What a killed run left behind: its record still ``running`` (marked interrupted now) and its
        staging folders (removed). Call it holding the run lock (new_run does)."""
        notes = self.store.mark_orphans()
        root = self.staging()
        for stale in root.glob("dailybrief-*") if root.is_dir() else ():
            # dailybrief-<pid>-…: another edition's or another database's run on this machine may be rendering
            # into its own folder right now; only a dead process's folder is left over
            pid = stale.name.split("-")[1]
            if not (pid.isdigit() and process_alive(int(pid))):
                shutil.rmtree(stale, ignore_errors=True)
        # TMPDIR: the PDF's typst folder, and older versions' staging. Ours, and untouched for an hour (a
        # `dailybrief render` running beside this run is never that slow).
        cutoff = time.time() - STALE_TEMP_SECONDS
        for stale in Path(tempfile.gettempdir()).glob("dailybrief-*"):
            try:
                info = stale.lstat()
            except OSError:
                continue
            if stale.is_dir() and not stale.is_symlink() and info.st_uid == os.getuid() and info.st_mtime < cutoff:
                shutil.rmtree(stale, ignore_errors=True)
        return notes

    def run(self, day: date, out: Path | None = None, fetch: bool = True, now: datetime | None = None,
            sources: list[Source] | None = None) -> RunReport:
        """Write, render and publish edition `day`; NotDueError (before any work) while its window is open.

        ``sources``: what this run fetches (default: the edition's enabled sources; [] fetches none, as the
        second edition of one run does: run_editions fetched them all once)."""
        check_due(self.cfg, day, now or utcnow())
        run = self.new_run(day)

        def stages() -> str | None:
            if fetch and sources != []:
                self.fetch(run, sources)
            ranked = self.stories(run, day)
            if fetch:
                self.comments(run, ranked)
                self.lead_texts(run, ranked)
            briefs = self.write(run, day, ranked)
            if self.cfg.review.required:  # the editor's desk publishes it on approval (desk/review.py)
                registered_review().hold(self, run, day, ranked, briefs)
                return "draft"
            self.release(run, day, briefs, out)
            return None

        return self.conclude(run, day, stages)

    def conclude(self, run: RunReport, day: date, stages: Callable[[], str | None]) -> RunReport:
        """Run a run's stages and end it: its status from how they went, the missed editions named, the alert sent.
        ``stages`` returns a status to end with as it is ("draft"), or None for a run that went to the end."""
        try:
            status = stages()
            if status is not None:
                return self.finish(run, status)
            missed = missed_editions(self.cfg, self.store, day)
            if missed:
                run.failures.append(
                    f"missed editions: {', '.join(map(str, missed))} never written (the machine was off, or their "
                    f"runs failed); backfill each with `dailybrief run --date {missed[0]}` and so on, oldest first")
        except NoBriefError as exc:
            run.failures.append(str(exc))
            return self.finish_and_alert(run, "empty")
        except DailybriefError as exc:
            run.failures.append(str(exc))
            return self.finish_and_alert(run, "failed")
        except BaseException as exc:
            run.failures.append(f"crashed: {type(exc).__name__}: {exc}")
            if isinstance(exc, Exception):
                self.finish_and_alert(run, "failed")
            else:
                self.finish(run, "failed")
            raise
        return self.finish_and_alert(run, "degraded" if run.failures else "ok")


    def release(self, run: RunReport, day: date, briefs: list[Brief], out: Path | None = None) -> None:
        """Render the briefs, place them and deliver them to every target; record the edition."""
        root = self.staging()
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f"dailybrief-{os.getpid()}-", dir=root) as tmp:
            files = self.render(run, briefs, Path(tmp))
            placed = self.publish(run, day, files, out, briefs)
        for brief, stem in ((b, file_stem(b.language, self.cfg.edition.languages)) for b in briefs):
            where = next((str(p) for p in placed if p.name == f"{stem}.json"), "")
            self.store.record_edition(day, brief.language, run.id, where, brief_digest(brief))


def model_usage(writer: ChainWriter) -> Usage | None:
    """What the chain's model writer has spent so far (None without one)."""
    return next((u for u in (getattr(w, "usage", None) for w in writer.writers) if isinstance(u, Usage)), None)


def brief_digest(brief: Brief) -> str:
    """A short hash of a brief's content: the same edition rebuilt has the same digest."""
    return hashlib.sha256(json.dumps(brief.as_dict(), sort_keys=True).encode()).hexdigest()[:16]
def sections_and_roundup(ranked: list[Story], top: int, roundup: int) -> tuple[list[Story], list[Story]]:
    """The stories that get a section, and those of the roundup. Off-beat stories get neither; repos and papers
    alone (trending lists, paper lists) are not news by themselves, so they go to the roundup's own lines, and a
    digest of many stories heads no section of its own."""
    eligible = [s for s in ranked if s.on_beat]
    sections = [s for s in eligible if not (s.code_only or s.papers_only)
                and not all(rank_stage.is_digest_item(i) for i in s.items if i.tier != "code")][:top]
    chosen = {s.id for s in sections}
    return sections, [s for s in eligible if s.id not in chosen][:roundup]

