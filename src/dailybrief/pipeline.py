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

import numpy as np

from . import cluster as cluster_stage
from . import rank as rank_stage
from .config import Config
from .dedup import exact_duplicates, mark_near_duplicates
from .embed import Embedder, default_embedder, embed_items, item_text
from .errors import DailybriefError, NoBriefError, PublishError, RenderError
from .fetch import FetchSettings, fetch_sources
from .publish import FolderPublisher
from .records import Brief, Item, RunReport, SourceResult, StageReport, Story, brief_from_dict
from .store import Store, utcnow
from .themes import Theme, build_themes
from .write import ExtractiveWriter, apply_themes

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
            marked: set[str] = set()
            exact = exact_duplicates(new)
            for item_id, of in exact.items():
                self.store.mark_duplicate(item_id, of)
                marked.add(item_id)
            for item in new:
                if item.id in exact:
                    continue
                earlier = self.store.find_by_hash(item.content_hash, item.id)
                if earlier and earlier < item.id:
                    self.store.mark_duplicate(item.id, earlier)
                    marked.add(item.id)
            near = mark_near_duplicates(self.store, [i for i in new if i.id not in marked])
            rep.counts = {"duplicates": len(marked), "near_duplicates": len(near)}
        return new

    def stories(self, run: RunReport, day: date) -> list[Story]:
        start, end = edition_window(self.cfg, day)
        settings = cluster_stage.ClusterSettings()
        with self.stage(run, "cluster") as rep:
            items = self.store.items_between(start, end)
            if not items:
                raise NoBriefError(
                    f"no items published between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} "
                    f"({self.cfg.edition.timezone}); fetch first, or pick a --date that has news"
                )
            # Earlier days not clustered yet are clustered first, oldest first, so today's items can
            # join the stories they continue.
            lo = day - timedelta(days=settings.lookback_days)
            done = self.store.clustered_days(lo, day)
            caught_up = 0
            for back in range(settings.lookback_days, 0, -1):
                earlier = day - timedelta(days=back)
                if earlier in done:
                    continue
                earlier_items = self.store.items_between(*edition_window(self.cfg, earlier))
                if earlier_items:
                    self._cluster(earlier, earlier_items, settings)
                    caught_up += 1
            stories, counts = self._cluster(day, items, settings)
            rep.counts = {"items": len(items), "stories": len(stories),
                          "multi_outlet": sum(1 for s in stories if len(s.outlets) > 1), **counts,
                          "earlier_days_clustered": caught_up}
        with self.stage(run, "rank") as rep:
            settings_rank = rank_stage.RankSettings.from_config(self.cfg.rank, self.cfg.edition.window_hours)
            ranked = rank_stage.rank(stories, end, settings_rank)
            rep.counts = {"stories": len(ranked)}
        return ranked

    def _cluster(self, day: date, items: list[Item], settings: cluster_stage.ClusterSettings
                 ) -> tuple[list[Story], dict[str, int]]:
        """Cluster one day's items against the stories still open, store the result, return the day's stories."""
        self.store.forget_day(day)
        index = cluster_stage.StoryIndex(settings=settings)
        index.advance(day)
        opened = self.store.open_stories(day, settings.lookback_days)
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
                np.array([cluster_stage.is_short(member_items[i], settings) for i, _ in rows]),
                np.array([(day - date.fromisoformat(d)).days for _, d in rows]),
                date.fromisoformat(o["briefed_on"]) if o["briefed_on"] else None,
                [item_text(member_items[i]) for i, _ in rows],
            )
            prior.update({i: o["id"] for i, _ in rows})
        # Items of this window already in an earlier day's story (overlapping windows) stay there.
        fresh = [i for i in items if i.id not in prior]
        carried = [i for i in items if i.id in prior]
        vectors = embed_items(fresh, self.embedder, self.store)
        stories, result = cluster_stage.cluster_items(fresh, vectors, day, index)
        by_id = {s.id: s for s in stories}
        for item in carried:
            k = index.ids.index(prior[item.id])
            story = by_id.get(prior[item.id])
            if story is None:
                briefed = index.briefed_on[k]
                story = by_id[prior[item.id]] = Story(
                    id=index.ids[k], items=[], first_seen=index.first_seen[k], last_seen=day,
                    follow_up=briefed is not None and briefed < day, briefed_on=briefed)
            story.items.append(item)
        stories = []
        day_of = {item_id: d for item_id, _, d in members}
        for story in sorted(by_id.values(), key=lambda s: s.id):
            # What it had before: up to its last briefing, or before today when it was never briefed.
            cutoff = (story.briefed_on or day - timedelta(days=1)).isoformat()
            before = [member_items[i] for i, d in by_story.get(story.id, []) if d <= cutoff]
            story.earlier_items = len(before)
            story.earlier_outlets = list(dict.fromkeys(i.source_name for i in before))
            story.new_items = sum(1 for i in story.items if day_of.get(i.id, day.isoformat()) > cutoff)
            story.items.sort(key=cluster_stage.item_order)
            story.title = story.title or cluster_stage.story_title(story.items)
            if story.follow_up and not story.new_items:
                continue  # briefed already and nothing new since: not presented again
            stories.append(story)
        for story in stories:
            k = index.ids.index(story.id)
            new_ids = [i.id for i in story.items if i.id not in prior]
            if new_ids:
                self.store.save_story(story.id, story.title, story.first_seen, day, index.centroid(k), new_ids, day)
        return stories, {"joined_earlier": len(result.joined), "follow_ups": sum(1 for s in stories if s.follow_up),
                         "linked_pairs": result.linked}

    def write(self, run: RunReport, day: date, ranked: list[Story]) -> list[Brief]:
        ed = self.cfg.edition
        top, rest = ranked[: ed.top_stories], ranked[ed.top_stories : ed.top_stories + ed.roundup_items]
        briefs = []
        with self.stage(run, "write") as rep:
            if self.cfg.writer.kind != "extractive":
                rep.errors.append(f"writer '{self.cfg.writer.kind}' is not available in this version; "
                                  "fell back to the extractive writer")
                run.failures.append(rep.errors[-1])
            if self.hooks.write_total:
                self.hooks.write_total(len(top) * len(ed.languages))
            writer = ExtractiveWriter(self.embedder, progress=self.hooks.wrote)
            branding = self.cfg.branding.to_branding(self.cfg.base_dir)
            themes = self.themes(top)
            for lang in ed.languages:
                briefs.append(apply_themes(writer.write(top, rest, day, lang, ed.title, branding), themes))
            self.store.mark_briefed([s.id for s in top], day)
            rep.counts = {"themes": len(themes),
                          "sections": sum(sum(1 for s in b.sections if s.kind == "story") for b in briefs),
                          "references": sum(len(b.references) for b in briefs),
                          "sentences": sum(len(p.sentences) for b in briefs for s in b.sections for p in s.paragraphs)}
        return briefs

    def themes(self, top: list[Story]) -> list[Theme]:
        """The top stories' themes, from the configured topics and the stories' centroids."""
        centroids = {s.id: cluster_stage.centroid(embed_items(s.items, self.embedder, self.store)) for s in top}
        topics = rank_stage.RankSettings.from_config(self.cfg.rank).topics
        return build_themes(top, centroids, topics, tuple(self.cfg.edition.languages))

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
