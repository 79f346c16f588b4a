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
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

from . import cluster as cluster_stage
from . import rank as rank_stage
from .config import Config
from .dedup import exact_duplicates
from .embed import Embedder, default_embedder, embed_items
from .errors import DailybriefError, NoBriefError, PublishError, RenderError
from .fetch import FetchSettings, fetch_sources
from .publish import FolderPublisher
from .records import Brief, Item, RunReport, SourceResult, StageReport, Story, brief_from_dict
from .store import Store, utcnow
from .verify import Faithfulness, SourceText, VerifySettings, verify_brief
from .write import WriterContext, build_writer

FAILING_STREAK = 3


@dataclass(slots=True)
class Hooks:
    """Progress callbacks the CLI fills in; all optional."""

    fetch_total: Callable[[int], None] | None = None
    fetched: Callable[[SourceResult], None] | None = None
    write_total: Callable[[int], None] | None = None
    wrote: Callable[[str], None] | None = None


def edition_window(cfg: Config, day: date) -> tuple[datetime, datetime]:
    """[start, end) of an edition day: the window_hours before the end of `day` in its time zone."""
    end = datetime.combine(day + timedelta(days=1), dtime(0), tzinfo=cfg.edition.tz)
    return end - timedelta(hours=cfg.edition.window_hours), end


def file_stem(language: str, languages: list[str]) -> str:
    """brief for the first language, brief.<lang> for the others."""
    return "brief" if language == languages[0] else f"brief.{language}"


class Pipeline:
    def __init__(self, cfg: Config, store: Store, hooks: Hooks | None = None,
                 embedder: Embedder | None = None) -> None:
        self.cfg = cfg
        self.store = store
        self.hooks = hooks or Hooks()
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    # -- recording ------------------------------------------------------------
    def new_run(self, day: date) -> RunReport:
        started = utcnow()
        run_id = hashlib.sha256(f"{day}|{started.isoformat()}".encode()).hexdigest()[:16]
        run = RunReport(id=run_id, edition=day, started=started)
        self.store.save_run(run)
        return run

    @contextmanager
    def stage(self, run: RunReport, name: str) -> Iterator[StageReport]:
        report = StageReport(name)
        run.stages.append(report)
        start = time.perf_counter()
        try:
            yield report
        except DailybriefError as exc:
            report.ok = False
            report.errors.append(str(exc))
            raise
        finally:
            report.seconds = round(time.perf_counter() - start, 3)
            self.store.save_run(run)

    def finish(self, run: RunReport, status: str) -> RunReport:
        run.status = status
        run.finished = utcnow()
        self.store.save_run(run)
        return run

    # -- stages ---------------------------------------------------------------
    def fetch(self, run: RunReport) -> list[Item]:
        sources = self.cfg.enabled_sources()
        with self.stage(run, "fetch") as rep:
            self.store.upsert_sources(sources)
            states = {s.id: self.store.source_state(s.id) for s in sources}
            if self.hooks.fetch_total:
                self.hooks.fetch_total(len(sources))
            f = self.cfg.fetch
            settings = FetchSettings(connect_timeout=f.connect_timeout, timeout=f.timeout,
                                     concurrency=f.concurrency, per_host=f.per_host, max_bytes=f.max_bytes,
                                     user_agent=f.user_agent, comment_threads=f.comment_threads)
            results = asyncio.run(fetch_sources(sources, settings, states, self.hooks.fetched))
            fetched: list[Item] = []
            for result, got in results:
                streak = self.store.record_fetch(result, got.etag if got else None, got.last_modified if got else None)
                name = result.source.name
                if result.error:
                    run.failures.append(f"{name}: {result.error}")
                    rep.errors.append(f"{name}: {result.error}")
                    if streak >= FAILING_STREAK:
                        run.failures.append(f"{name}: has failed {streak} runs in a row; check or disable it")
                for w in got.warnings if got else []:
                    rep.errors.append(f"{name}: {w}")
                fetched.extend(result.items)
            rep.counts = {"sources": len(sources), "failed": sum(1 for r, _ in results if r.error),
                          "not_modified": sum(1 for r, _ in results if r.not_modified), "fetched": len(fetched)}
        with self.stage(run, "store") as rep:
            new = self.store.add_items(fetched)
            rep.counts = {"fetched": len(fetched), "new": len(new)}
        with self.stage(run, "dedup") as rep:
            dupes = 0
            for item_id, of in exact_duplicates(new).items():
                self.store.mark_duplicate(item_id, of)
                dupes += 1
            for item in new:
                if item.id in exact_duplicates(new):
                    continue
                earlier = self.store.find_by_hash(item.content_hash, item.id)
                if earlier and earlier < item.id:
                    self.store.mark_duplicate(item.id, earlier)
                    dupes += 1
            rep.counts = {"duplicates": dupes}
        return new

    def stories(self, run: RunReport, day: date) -> list[Story]:
        start, end = edition_window(self.cfg, day)
        with self.stage(run, "cluster") as rep:
            items = self.store.items_between(start, end)
            if not items:
                raise NoBriefError(
                    f"no items published between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} "
                    f"({self.cfg.edition.timezone}); fetch first, or pick a --date that has news"
                )
            vectors = embed_items(items, self.embedder, self.store)
            self.store.forget_day(day)
            earlier = self.store.earlier_stories(day, cluster_stage.ClusterSettings().lookback_days)
            clustered = cluster_stage.cluster_day(items, vectors, day, earlier)
            for story, centroid in clustered:
                self.store.save_story(story.id, story.title, story.first_seen, story.last_seen, centroid,
                                      [i.id for i in story.items], day)
            stories = [s for s, _ in clustered]
            rep.counts = {"items": len(items), "stories": len(stories),
                          "multi_outlet": sum(1 for s in stories if len(s.outlets) > 1)}
        with self.stage(run, "rank") as rep:
            ranked = rank_stage.rank(stories, end, rank_stage.RankSettings(window_hours=self.cfg.edition.window_hours))
            rep.counts = {"stories": len(ranked)}
        return ranked

    def write(self, run: RunReport, day: date, ranked: list[Story]) -> list[Brief]:
        ed = self.cfg.edition
        top, rest = ranked[: ed.top_stories], ranked[ed.top_stories : ed.top_stories + ed.roundup_items]
        briefs = []
        with self.stage(run, "write") as rep:
            if self.hooks.write_total:
                self.hooks.write_total(len(top) * len(ed.languages))
            ctx = WriterContext(self.cfg.writer, self.embedder, self.store, self.cfg.base_dir, self.hooks.wrote)
            writer = build_writer(ctx)
            branding = self.cfg.branding.to_branding(self.cfg.base_dir)
            v = self.cfg.verify
            settings = VerifySettings(unsupported=v.unsupported, lexical=v.lexical, semantic=v.semantic,
                                      cross_semantic=v.cross_semantic, analysis_semantic=v.analysis_semantic)
            items = {i.id: i for s in [*top, *rest] for i in s.items}
            source = SourceText(items, self.embedder)
            faithful = Faithfulness()
            for lang in ed.languages:
                brief = writer.write(top, rest, day, lang, ed.title, branding)
                faithful.add(verify_brief(brief, items, self.embedder, settings, source))
                briefs.append(brief)
            self.store.mark_briefed([s.id for s in top], day)
            for fallback in writer.fallbacks:
                rep.errors.append(str(fallback))
                run.failures.append(f"write: {fallback}")
            for flagged in faithful.flagged[:20]:
                rep.errors.append(f"unsupported ({settings.unsupported}): {flagged}")
            sections = [s for b in briefs for s in b.sections if s.kind == "story"]
            rep.counts = {"sections": len(sections),
                          "references": sum(len(b.references) for b in briefs),
                          **faithful.as_brief_dict(), "dropped": faithful.dropped, "marked": faithful.marked,
                          **{f"by_{name}": sum(1 for s in sections if s.writer == name)
                             for name in sorted({s.writer for s in sections})},
                          "fallbacks": len(writer.fallbacks)}
            for w in writer.writers:
                usage = getattr(w, "usage", None)
                if usage is not None:
                    rep.counts.update(usage.counts())
        return briefs

    def render(self, run: RunReport, briefs: list[Brief], staging: Path) -> list[Path]:
        from .render import RENDERERS

        files: list[Path] = []
        with self.stage(run, "render") as rep:
            langs = [b.language for b in briefs]
            for brief in briefs:
                stem = file_stem(brief.language, langs)
                for fmt in self.cfg.output.formats:
                    renderer = RENDERERS[fmt]
                    try:
                        files.append(renderer.render(brief, staging / f"{stem}{renderer.suffix}"))
                    except RenderError as exc:
                        rep.errors.append(f"{fmt}: {exc}")
                        run.failures.append(f"render {fmt}: {exc}")
            rep.counts = {"files": len(files)}
        return files

    def publish(self, run: RunReport, day: date, files: list[Path], out: Path | None) -> list[Path]:
        with self.stage(run, "publish") as rep:
            main = FolderPublisher(out, dated=False) if out else FolderPublisher(self.cfg.out_dir())
            placed = main.publish(files, day)
            for target in self.cfg.publish:
                try:
                    FolderPublisher(Path(target.path)).publish(files, day)
                except PublishError as exc:
                    rep.errors.append(f"{target.name}: {exc}")
                    run.failures.append(f"publish {target.name}: {exc}")
            for p in placed:
                run.outputs[p.name] = str(p)
            rep.counts = {"files": len(placed), "targets": 1 + len(self.cfg.publish)}
        return placed

    # -- whole runs ---------------------------------------------------------------
    def build(self, run: RunReport, day: date) -> list[Brief]:
        return self.write(run, day, self.stories(run, day))

    def run(self, day: date, out: Path | None = None, fetch: bool = True) -> RunReport:
        run = self.new_run(day)
        try:
            if fetch:
                self.fetch(run)
            briefs = self.build(run, day)
            with tempfile.TemporaryDirectory(prefix="dailybrief-") as tmp:
                files = self.render(run, briefs, Path(tmp))
                placed = self.publish(run, day, files, out)
            for brief, stem in ((b, file_stem(b.language, self.cfg.edition.languages)) for b in briefs):
                digest = hashlib.sha256(json.dumps(brief.as_dict(), sort_keys=True).encode()).hexdigest()[:16]
                where = next((str(p) for p in placed if p.name == f"{stem}.json"), "")
                self.store.record_edition(day, brief.language, run.id, where, digest)
        except NoBriefError as exc:
            run.failures.append(str(exc))
            return self.finish(run, "empty")
        except DailybriefError as exc:
            run.failures.append(str(exc))
            return self.finish(run, "failed")
        except BaseException as exc:
            run.failures.append(f"crashed: {type(exc).__name__}: {exc}")
            self.finish(run, "failed")
            raise
        return self.finish(run, "degraded" if run.failures else "ok")


def load_briefs(folder: Path) -> list[Brief]:
    """Briefs saved as brief*.json in a folder, first language first."""
    files = sorted(folder.glob("brief*.json"), key=lambda p: (p.name != "brief.json", p.name))
    return [brief_from_dict(json.loads(p.read_text("utf-8"))) for p in files]
