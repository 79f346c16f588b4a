"""Distributed runs: the heavy stages as Celery tasks on a Redis broker (`[cluster]`, `dailybrief worker`).

    run_distributed ─┬─ group(fetch_shard × ⌈sources / fetch_shard⌉)   async HTTP inside each (ingest.Fetcher:
                     │                                                  the same per-host limits, retries,
                     │                                                  conditional GETs), items stored at once
                     ├─ dedup                                           here: it needs every new item
                     ├─ chord(group(embed_batch × ⌈items / embed_batch⌉),   one BLAS thread per worker process
                     │        build_edition)                            cluster, rank, comments, write
                     └─ release_edition                                 render, place, deliver (delivery log);
                                                                        with [review] required, build_edition
                                                                        keeps a draft for the desk instead

Several editions ([[editions]], run/editions.py, run_all_distributed): the first edition's run sends the fetch shards
of every edition's sources; then one group holds every edition's chord (the embedding batches of what has no vector
yet, then its build as the callback) and release, named by the edition, so the workers build the editions side by
side, each from that edition's config and records.

Exactly once under failure: every task is idempotent and acknowledged late (``task_acks_late``), so a task whose
worker died (SIGKILL, a lost machine) is given to another worker after ``[cluster].visibility_timeout`` and run
again. Items are keyed by content-hash ids and inserted with INSERT OR IGNORE, embeddings and signatures by item
id, a source's history by (run, source); a shard stores its items before the sources' validators, so a rerun
never hears 304 for items it did not store; and each target gets an edition once, through the delivery log.

Only the process that sent a run writes its record: a task runs the stages on a Pipeline that records nothing
(``record=False``) and sends back their reports, failures and outputs, which the run adds to its own.
"""

from __future__ import annotations

import os
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from celery import Celery, chord, group
from celery.signals import worker_process_init

from ..config import Config
from ..errors import ConfigError, DailybriefError, NoBriefError
from ..publish.base import Delivery
from ..records import DEFAULT_EDITION, RunReport, Source, StageReport, brief_from_dict
from ..store import Store, utcnow
from ..stories import cluster as cluster_stage
from ..stories.embed import USEEmbedder, cache_key, embed_items
from .pipeline import Pipeline, check_due, registered_review

__all__ = ["app", "configure", "run_all_distributed", "run_distributed", "start_worker"]

app = Celery("dailybrief", set_as_current=False)


def configure(cfg: Config) -> Celery:
    """The Celery app set up from [cluster]: broker and results on the same Redis, tasks acknowledged only once
    done and given back when their worker is lost, one task reserved per worker process."""
    url = cfg.cluster.broker_url()
    app.conf.update(
        broker_url=url, result_backend=url, task_serializer="json", result_serializer="json", accept_content=["json"],
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": cfg.cluster.visibility_timeout,
                                  # the sweep that hands a lost worker's tasks to another, about once a
                                  # tenth of the visibility timeout (kombu's default is every 100 s)
                                  "unacked_restore_interval": max(1, int(cfg.cluster.visibility_timeout / 10)),
                                  "unacked_restore_throttle": 1},
        result_backend_transport_options={"visibility_timeout": cfg.cluster.visibility_timeout},
        result_expires=7 * 24 * 3600, broker_connection_retry_on_startup=True, worker_hijack_root_logger=False,
        task_track_started=True,
    )
    return app


# -- the worker's side -----------------------------------------------------------------------------------
@dataclass
class _Worker:
    """What a worker process holds between tasks: the config it was started with, and (opened in the
    process itself, after the pool forked it) the store and a one-thread embedder."""

    cfg: Config | None = None
    pid: int = 0
    store: Store | None = None
    embedder: USEEmbedder | None = None

    def pipeline(self, edition: str | None = None) -> Pipeline:
        """A pipeline for the worker's config, or for edition `edition` of it (its sources, beat, targets, records)."""
        if self.cfg is None:
            raise ConfigError("cluster", "", "a dailybrief task ran outside `dailybrief worker`; start workers "
                              "with `dailybrief --config FILE worker`")
        if self.store is None or self.pid != os.getpid():
            self.store, self.pid = Store.open(self.cfg.db_url()), os.getpid()
            self.embedder = USEEmbedder(threads=1, workers=1)
        cfg = self.cfg if edition is None else self.cfg.for_edition(edition)
        return Pipeline(cfg, self.store, embedder=self.embedder, record=False)


_WORKER = _Worker()


@worker_process_init.connect
def _one_blas_thread(**_: Any) -> None:
    """Each pool process computes with one BLAS thread: the processes are the parallelism."""
    from threadpoolctl import threadpool_limits  # lazy: only worker processes need it

    threadpool_limits(1)


def start_worker(cfg: Config, concurrency: int | None = None, loglevel: str = "INFO", hostname: str = "") -> None:
    """Run a Celery worker in the foreground until it is stopped (`dailybrief worker`)."""
    _WORKER.cfg = cfg
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    configure(cfg)
    argv = ["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency or os.cpu_count() or 1}",
            "--pool=prefork", "--without-gossip", "--without-mingle"]
    if hostname:
        argv.append(f"--hostname={hostname}")
    app.worker_main(argv)


@dataclass
class _Part:
    """What a task sends back to the run: its stages, failures and outputs, and the ids it handled."""

    stages: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    briefs: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    draft: bool = False  # the edition was kept as a draft for review: nothing is released
    error: str = ""  # "empty" (NoBriefError) or "failed" (another DailybriefError), with its message
    message: str = ""

    @classmethod
    def of(cls, run: RunReport, **more: Any) -> dict[str, Any]:
        return asdict(cls(stages=[asdict(s) for s in run.stages], failures=run.failures, outputs=run.outputs, **more))


def _scratch(run_id: str, day: str, edition: str = DEFAULT_EDITION) -> RunReport:
    return RunReport(id=run_id, edition=date.fromisoformat(day), started=utcnow(), name=edition)


@app.task(name="dailybrief.fetch_shard")
def fetch_shard(run_id: str, day: str, source_ids: list[str]) -> dict[str, Any]:
    """Fetch and store one shard of the sources (async HTTP inside)."""
    pipe = _WORKER.pipeline()
    wanted = set(source_ids)
    run = _scratch(run_id, day)
    fetched, new = pipe.fetch_and_store(run, [s for s in pipe.cfg.enabled_sources() if s.id in wanted])
    return _Part.of(run, ids=[i.id for i in fetched], new=[i.id for i in new])


@app.task(name="dailybrief.embed_batch")
def embed_batch(item_ids: list[str]) -> dict[str, float]:
    """Embed a batch of stored items (the store caches each vector by item id)."""
    start = time.perf_counter()
    pipe = _WORKER.pipeline()
    items = pipe._bounded(pipe.store.items(item_ids))
    embed_items(items, pipe.embedder, pipe.store)
    return {"items": len(items), "seconds": time.perf_counter() - start}


@app.task(name="dailybrief.build_edition")
def build_edition(_embedded: Any, run_id: str, day: str, fetch: bool, edition: str | None = None) -> dict[str, Any]:
    """An edition's clustering, ranking and writing, once its items are embedded (the chord's callback)."""
    pipe = _WORKER.pipeline(edition)
    run = _scratch(run_id, day, pipe.cfg.edition.name)
    batches = _embedded if isinstance(_embedded, list) else []
    run.stages.append(StageReport("embed", round(sum(b["seconds"] for b in batches), 3),  # the tasks' time, summed
                                  {"items": sum(int(b["items"]) for b in batches), "tasks": len(batches)}))
    try:
        ranked = pipe.stories(run, run.edition)
        if fetch:
            pipe.comments(run, ranked)
            pipe.lead_texts(run, ranked)
        briefs = pipe.write(run, run.edition, ranked)
        if pipe.cfg.review.required:  # the draft waits for the editor's desk, as in a single-process run
            registered_review().hold(pipe, run, run.edition, ranked, briefs)
            return _Part.of(run, draft=True)
    except NoBriefError as exc:
        return _Part.of(run, error="empty", message=str(exc))
    except DailybriefError as exc:
        return _Part.of(run, error="failed", message=str(exc))
    return _Part.of(run, briefs=[b.as_dict() for b in briefs])


@app.task(name="dailybrief.release_edition")
def release_edition(built: dict[str, Any], run_id: str, day: str, out: str | None,
                    edition: str | None = None) -> dict[str, Any]:
    """Render an edition, place it and deliver it to every target, each once (the delivery log)."""
    if built["error"] or built["draft"] or not built["briefs"]:
        return built
    pipe = _WORKER.pipeline(edition)
    run = _scratch(run_id, day, pipe.cfg.edition.name)
    try:
        pipe.release(run, run.edition, [brief_from_dict(b) for b in built["briefs"]], Path(out) if out else None)
    except DailybriefError as exc:
        return {**_Part.of(run, error="failed", message=str(exc)), "stages": built["stages"] + _Part.of(run)["stages"]}
    part = _Part.of(run, deliveries=[asdict(d) for d in pipe.deliveries])
    return {**part, "stages": built["stages"] + part["stages"], "failures": built["failures"] + part["failures"]}


# -- the run's side ---------------------------------------------------------------------------------------
def _merge(run: RunReport, part: dict[str, Any]) -> None:
    run.stages.extend(StageReport(**s) for s in part["stages"])
    run.failures.extend(part["failures"])
    run.outputs.update(part["outputs"])


def _batches(ids: list[str], size: int) -> list[list[str]]:
    return [ids[k : k + size] for k in range(0, len(ids), size)]


def run_distributed(pipe: Pipeline, day: date, out: Path | None = None, fetch: bool = True,
                    now: datetime | None = None, sources: list[Source] | None = None) -> RunReport:
    """Pipeline.run with the heavy stages on the workers: the same edition, the same record, the same exit.
    ``sources`` as for Pipeline.run: what to fetch (default: the edition's enabled sources; [] none)."""
    check_due(pipe.cfg, day, now or utcnow())
    return run_all_distributed([(pipe, day, out)], fetch, pipe.cfg.enabled_sources() if sources is None else sources)[0]


def run_all_distributed(editions: list[tuple[Pipeline, date, Path | None]], fetch: bool = True,
                        sources: list[Source] | None = None) -> list[RunReport]:
    """Several editions' runs at once on the workers (run/editions.py checked that each is due): the first
    edition's run sends the fetch shards of `sources` (default: its enabled sources) and the dedup, then one Celery
    group holds every edition's chord (its embedding batches, its build as the callback) and release, so the
    editions are built side by side. An item without a vector is embedded in the batches of the first edition that
    reads it (an edition whose build starts first embeds what it still lacks itself: the store keeps one vector).
    Each edition has its own run record, ended as Pipeline.run ends one; a crash is raised once every run is ended."""
    first, first_day, _ = editions[0]
    cfg = first.cfg
    configure(cfg)
    runs = [pipe.new_run(day) for pipe, day, _ in editions]
    wait = cfg.cluster.wait
    todo = cfg.enabled_sources() if sources is None else sources
    parts: list[dict[str, Any]] = []
    trouble: BaseException | None = None
    try:
        if fetch and todo:
            _fetch(first, runs[0], first_day, todo)
        with ExitStack() as opened:  # every edition's wall time of the fan-out: embedding, build, release
            reps = [opened.enter_context(pipe.stage(run, "edition_tasks")) for (pipe, _, _), run in zip(editions, runs,
                                                                                                      strict=True)]
            taken: set[str] = set()
            flows = []
            for (pipe, day, out), run, rep in zip(editions, runs, reps, strict=True):
                ids = [i for i in _unembedded(pipe, day) if i not in taken]
                taken.update(ids)
                batches = _batches(ids, cfg.cluster.embed_batch)
                name = pipe.cfg.edition.name
                body = build_edition.s(run.id, day.isoformat(), fetch, name)
                head = chord([embed_batch.s(b) for b in batches], body) if batches else body.clone(args=(0,))
                flows.append(head | release_edition.s(run.id, day.isoformat(), str(out) if out else None, name))
                rep.counts = {"embed_tasks": len(batches)}
            parts = list(group(flows).apply_async().get(timeout=wait))
    except BaseException as exc:  # noqa: BLE001 - every edition's run records it below, and conclude re-raises it
        trouble = exc
    reports: list[RunReport] = []
    crash: BaseException | None = None
    for k, ((pipe, day, _), run) in enumerate(zip(editions, runs, strict=True)):

        def stages(k: int = k, pipe: Pipeline = pipe, run: RunReport = run) -> str | None:
            if trouble is not None:
                raise trouble
            part = parts[k]
            _merge(run, part)
            pipe.deliveries = [Delivery(**d) for d in part["deliveries"]]
            if part["error"] == "empty":
                raise NoBriefError(part["message"])
            if part["error"]:
                raise DailybriefError(part["message"])
            return "draft" if part["draft"] else None

        try:
            reports.append(pipe.conclude(run, day, stages))
        except BaseException as exc:  # noqa: BLE001 - conclude ended this run; end the others, then raise it
            crash = crash or exc
            reports.append(run)
    if crash is not None:
        raise crash
    return reports


def _fetch(pipe: Pipeline, run: RunReport, day: date, todo: list[Source]) -> None:
    """The fetch shards of `todo` on the workers, then the dedup here (it needs every new item), in `run`."""
    shards = _batches([s.id for s in todo], pipe.cfg.cluster.fetch_shard)
    with pipe.stage(run, "fetch_tasks") as rep:  # the wall time of the fan-out; each shard's stages follow
        parts = group(fetch_shard.s(run.id, day.isoformat(), shard) for shard in shards).apply_async().get(
            timeout=pipe.cfg.cluster.wait) if shards else []
        rep.counts = {"tasks": len(shards)}
    fetched: list[str] = []
    new: set[str] = set()
    for part in parts:
        _merge(run, part)
        fetched.extend(part["ids"])
        new.update(part["new"])
    pipe.store.save_run(run)
    # New: stored new by a shard, or stored by a shard whose worker died before it answered (its rerun
    # found them stored already): what no dedup has seen yet, so has no signature.
    new.update(set(fetched) - set(pipe.store.signatures(fetched)))
    pipe.dedup(run, pipe.store.items(sorted(new)))


def _unembedded(pipe: Pipeline, day: date) -> list[str]:
    """The ids of the items the edition's clustering reads (its sources', in its window and the look-back days
    before it) that have no vector yet."""
    lookback = cluster_stage.ClusterSettings().lookback_days
    start, _ = pipe.window(day - timedelta(days=lookback))
    _, end = pipe.window(day)
    wanted = pipe.cfg.source_ids  # an [[editions]] entry's sources (None: every source's)
    ids = [i.id for i in pipe.store.items_between(start, end) if wanted is None or i.source_id in wanted]
    cached = pipe.store.embeddings(ids, cache_key(pipe.embedder)) if ids else {}
    return [i for i in ids if i not in cached]

