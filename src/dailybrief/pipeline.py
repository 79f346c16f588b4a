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
from . import figures
from . import rank as rank_stage
from .config import Config
from .dedup import exact_duplicates, mark_near_duplicates
from .embed import Embedder, default_embedder, embed_items, item_text
from .errors import DailybriefError, NoBriefError, RenderError
from .fetch import fetch_comments, fetch_sources
from .publish import Delivery, Edition, FolderPublisher, deliver, file_stem
from .records import Brief, Item, RunReport, SourceResult, StageReport, Story, brief_from_dict
from .store import Store, utcnow
from .themes import Theme, build_themes
from .verify import Faithfulness, SourceText, VerifySettings, verify_brief
from .write import ChainWriter, WriterContext, apply_themes, build_writer

FAILING_STREAK = 3  # the default of [fetch].failing_runs


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


class Pipeline:
    def __init__(self, cfg: Config, store: Store, hooks: Hooks | None = None,
                 embedder: Embedder | None = None) -> None:
        self.cfg = cfg
        self.store = store
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
            states = {}
            for s in sources:
                state = self.store.source_state(s.id)
                if s.full_text or s.kind == "webpage":
                    state["known"] = self.store.known_urls(s.id)
                states[s.id] = state
            if self.hooks.fetch_total:
                self.hooks.fetch_total(len(sources))
            results = asyncio.run(fetch_sources(sources, self.cfg.fetch.settings(), states, self.hooks.fetched))
            fetched: list[Item] = []
            flag_after = self.cfg.fetch.failing_runs
            for result, got in results:
                streak = self.store.record_fetch(result, got.etag if got else None, got.last_modified if got else None,
                                                 cache=got.cache if got else None, run_id=run.id)
                name = result.source.name
                if result.error:
                    run.failures.append(f"{name}: {result.error}")
                    rep.errors.append(f"{name}: {result.error}")
                    if streak >= flag_after:
                        run.failures.append(f"{name}: has failed {streak} runs in a row; check or disable it")
                for w in got.warnings if got else []:
                    rep.errors.append(f"{name}: {w}")
                fetched.extend(result.items)
            rep.counts = {"sources": len(sources), "failed": sum(1 for r, _ in results if r.error),
                          "not_modified": sum(1 for r, _ in results if r.not_modified), "fetched": len(fetched)}
        with self.stage(run, "store") as rep:
            new = self.store.add_items(fetched)
            per_source: dict[str, int] = {}
            for item in new:
                per_source[item.source_id] = per_source.get(item.source_id, 0) + 1
            self.store.set_new_items(run.id, {s.id: per_source.get(s.id, 0) for s in sources})
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

    def comments(self, run: RunReport, ranked: list[Story]) -> None:
        """Fetch the top comments of the community threads that made the briefing and still have none."""
        by_id = {s.id: s for s in self.cfg.enabled_sources()}
        wanted = [(by_id[i.source_id], i) for story in ranked[: self.cfg.edition.top_stories] for i in story.items
                  if i.tier == "community" and not i.comments and i.comments_url and i.source_id in by_id
                  and by_id[i.source_id].comments]
        if not wanted or not self.cfg.fetch.top_comments:
            return
        with self.stage(run, "comments") as rep:
            found, errors = asyncio.run(fetch_comments(wanted, self.cfg.fetch.settings()))
            for _, item in wanted:
                if item.id in found:
                    item.comments = found[item.id]
                    self.store.set_comments(item.id, item.comments)
            rep.errors.extend(errors)
            rep.counts = {"threads": len(wanted), "with_comments": len(found)}

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
            if self.hooks.write_total:
                self.hooks.write_total(len(top) * len(ed.languages))
            ctx = WriterContext(self.cfg.writer, self.embedder, self.store, self.cfg.base_dir, self.hooks.wrote)
            writer = self.writer = build_writer(ctx)  # kept for inspection: per-edition figures (benchmarks)
            branding = self.cfg.branding.to_branding(self.cfg.base_dir)
            v = self.cfg.verify
            settings = VerifySettings(unsupported=v.unsupported, lexical=v.lexical, semantic=v.semantic,
                                      cross_semantic=v.cross_semantic, analysis_semantic=v.analysis_semantic)
            items = {i.id: i for s in [*top, *rest] for i in s.items}
            source = SourceText(items, self.embedder)
            faithful = Faithfulness()
            themes = self.themes(top)
            for lang in ed.languages:
                brief = writer.write(top, rest, day, lang, ed.title_for(lang), branding)
                faithful.add(verify_brief(brief, items, self.embedder, settings, source))
                briefs.append(brief)
            for brief in briefs:
                if not writer.model_themes.get(brief.language):  # a model's own themes stand
                    apply_themes(brief, themes)
            figures.annotate(briefs, top, self.store, day)
            for brief in briefs:
                brief.url = self.cfg.output.edition_link(day, brief.language, file_stem(brief.language, ed.languages))
            self.store.mark_briefed([s.id for s in top], day)
            for fallback in writer.fallbacks:
                rep.errors.append(str(fallback))
                run.failures.append(f"write: {fallback}")
            for flagged in faithful.flagged[:20]:
                rep.errors.append(f"unsupported ({settings.unsupported}): {flagged}")
            sections = [s for b in briefs for s in b.sections if s.kind == "story"]
            rep.counts = {"themes": len(themes), "sections": len(sections),
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

    def publish(self, run: RunReport, day: date, files: list[Path], out: Path | None,
                briefs: list[Brief] | None = None) -> list[Path]:
        """Place the files in the edition's folder, then deliver the edition to every [[publish]] target."""
        with self.stage(run, "publish") as rep:
            main = FolderPublisher(out, dated=False) if out else FolderPublisher(self.cfg.out_dir())
            placed = main.publish(files, day)
            for p in placed:
                run.outputs[p.name] = str(p)
            counts = self._deliver(run, rep, Edition(day, briefs, placed)) if briefs else {}
            rep.counts = {"files": len(placed), **counts}
        return placed

    def publish_edition(self, run: RunReport, edition: Edition, names: list[str] | None = None,
                        force: bool = False) -> list[Delivery]:
        """Deliver an already-built edition (``dailybrief publish``)."""
        with self.stage(run, "publish") as rep:
            rep.counts = self._deliver(run, rep, edition, names, force)
        return self.deliveries

    def _deliver(self, run: RunReport, rep: StageReport, edition: Edition, names: list[str] | None = None,
                 force: bool = False) -> dict[str, int]:
        self.deliveries = deliver(self.cfg, self.store, edition, names=names, force=force)
        for d in self.deliveries:
            if d.status in ("failed", "skipped"):
                rep.errors.append(f"publish {d.target}: {d.detail}")
                run.failures.append(rep.errors[-1])
        counts = {"targets": len(self.deliveries)}
        for status in ("delivered", "unchanged", "skipped", "failed"):
            counts[status] = sum(1 for d in self.deliveries if d.status == status)
        return counts

    def finish_and_alert(self, run: RunReport, status: str) -> RunReport:
        """Finish the run; a failed or degraded run notifies [alerts].target."""
        from .alerts import notify_run

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

    def run(self, day: date, out: Path | None = None, fetch: bool = True) -> RunReport:
        run = self.new_run(day)
        try:
            if fetch:
                self.fetch(run)
            ranked = self.stories(run, day)
            if fetch:
                self.comments(run, ranked)
            briefs = self.write(run, day, ranked)
            with tempfile.TemporaryDirectory(prefix="dailybrief-") as tmp:
                files = self.render(run, briefs, Path(tmp))
                placed = self.publish(run, day, files, out, briefs)
            for brief, stem in ((b, file_stem(b.language, self.cfg.edition.languages)) for b in briefs):
                digest = hashlib.sha256(json.dumps(brief.as_dict(), sort_keys=True).encode()).hexdigest()[:16]
                where = next((str(p) for p in placed if p.name == f"{stem}.json"), "")
                self.store.record_edition(day, brief.language, run.id, where, digest)
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


def load_briefs(folder: Path) -> list[Brief]:
    """Briefs saved as brief*.json in a folder, first language first."""
    files = sorted(folder.glob("brief*.json"), key=lambda p: (p.name != "brief.json", p.name))
    return [brief_from_dict(json.loads(p.read_text("utf-8"))) for p in files]
