"""Distributed runs on real servers: redis-server and `dailybrief worker` processes on 127.0.0.1, the demo day's
feeds from a local HTTP server. The same editions as a single-process run, byte for byte, and nothing lost or
doubled when a worker is SIGKILLed mid-fetch and mid-embedding."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import date
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dailybrief import config
from dailybrief.demo import DEMO_DATE, demo_config, demo_dir
from dailybrief.desk.drafts import Desk
from dailybrief.desk.review import publish_draft
from dailybrief.records import RunReport
from dailybrief.run.distributed import configure, run_distributed
from dailybrief.run.pipeline import Pipeline
from dailybrief.store import Store
from fleet import redis_server, toml_text, wait_for, workers

DAY = date.fromisoformat(DEMO_DATE)
EDITIONS = ("brief.json", "brief.en.json")


class SlowFeeds(SimpleHTTPRequestHandler):
    """The demo's feeds, each answered after `delay` seconds: a fetch shard stays busy long enough to be killed."""

    delay = 0.0

    def do_GET(self) -> None:
        time.sleep(self.delay)
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def feeds() -> Iterator[type[SlowFeeds]]:
    """The demo folder over HTTP; set ``.delay`` on the yielded class (with its base URL as ``.base``)."""
    handler = type("Feeds", (SlowFeeds,), {"delay": 0.0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(demo_dir())))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.base = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def one_store(user_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The run and its workers share the store its config names (not the test's DAILYBRIEF_DB)."""
    monkeypatch.delenv("DAILYBRIEF_DB")


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


def settings(base: str, db: Path, broker: str, **cluster: Any) -> dict[str, Any]:
    data = demo_config(base)
    data["storage"] = {"path": str(db)}
    data["output"] = {"formats": ["json", "md"]}
    data["publish"] = [{"name": "archive", "kind": "folder", "path": str(db.parent / "archive")}]
    data["cluster"] = {"broker": broker, "fetch_shard": 4, "embed_batch": 16, "visibility_timeout": 60.0,
                       "wait": 400.0, **cluster}
    return data


@pytest.fixture(scope="module")
def single(feeds: type[SlowFeeds], tmp_path_factory: pytest.TempPathFactory, broker: str) -> tuple[Path, RunReport, dict]:
    """The demo day in one process: the editions every distributed run must match."""
    root = tmp_path_factory.mktemp("single")
    cfg = config.from_dict(settings(feeds.base, root / "db.sqlite", broker))  # type: ignore[attr-defined]
    store = Store.open(cfg.db_url())
    try:
        run = Pipeline(cfg, store).run(DAY, root / "out")
        counts = tally(store)
    finally:
        store.close()
    assert run.status in ("ok", "degraded"), run.failures
    return root / "out", run, counts


def tally(store: Store) -> dict[str, Any]:
    """What must be there exactly once: items, their vectors and signatures, each source's run, the deliveries.
    (Each column is named: PostgreSQL calls every COUNT "count".)"""
    def q(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r.values()) for r in store.iter_rows(sql)]
    return {"items": q("SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS ids, COUNT(DISTINCT canonical_url) AS urls FROM items"),
            "duplicates": q("SELECT COUNT(*) FROM items WHERE duplicate_of IS NOT NULL"),
            "embeddings": q("SELECT COUNT(*) AS n, COUNT(DISTINCT item_id) AS ids FROM embeddings"),
            "signatures": q("SELECT COUNT(*) FROM signatures"),
            "source_runs": q("SELECT COUNT(*) AS n, COUNT(DISTINCT source_id) AS ids FROM source_runs"),
            "editions": q("SELECT COUNT(*) FROM editions"),
            "deliveries": q("SELECT target, status, COUNT(*) AS n FROM deliveries GROUP BY target, status ORDER BY target")}


def distributed(feeds: type[SlowFeeds], root: Path, broker: str, names: list[str],
                during: Any = None, review: dict[str, Any] | None = None,
                **cluster: Any) -> tuple[RunReport, dict[str, Any], Any]:
    """One distributed run of the demo day on fresh workers, on the SQLite file of its config or the
    PostgreSQL database DAILYBRIEF_DB names; `during(pool, app)` runs beside it; `review`: its [review]."""
    data = settings(feeds.base, root / "db.sqlite", broker, **cluster)  # type: ignore[attr-defined]
    if review:
        data["review"] = review
    (root / "dailybrief.toml").write_text(toml_text(data), "utf-8")
    cfg = config.load(str(root / "dailybrief.toml"))
    env = {**os.environ, "DAILYBRIEF_HOME": str(root / "home"), "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[2] / "src"), os.environ.get("PYTHONPATH", "")])}
    env.pop("DAILYBRIEF_BROKER", None)
    app = configure(cfg)
    app.control.purge()  # nothing left over from an earlier test's run
    with workers(root / "dailybrief.toml", env, root, names) as pool:
        wait_for(lambda: len(app.control.ping(timeout=1.0) or []) >= len(names), 120, "the workers to answer")
        side = threading.Thread(target=during, args=(pool, app), daemon=True) if during else None
        if side:
            side.start()
        store = Store.open(cfg.db_url())
        try:
            run = run_distributed(Pipeline(cfg, store), DAY, root / "out")
            counts = tally(store)
        finally:
            store.close()
        if side:
            side.join(60)
        return run, counts, pool


def same_editions(a: Path, b: Path) -> None:
    for name in EDITIONS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_two_workers_write_the_same_editions_as_one_process(feeds, broker, single, tmp_path: Path) -> None:
    out, one, expected = single
    run, counts, pool = distributed(feeds, tmp_path, broker, ["w1", "w2"])
    assert run.status == one.status, run.failures
    same_editions(out, tmp_path / "out")
    assert counts == expected
    # Both workers took tasks: the fetch went out in shards, the embedding in batches.
    for name in ("w1", "w2"):
        log = pool.log(name)
        assert "dailybrief.fetch_shard" in log or "dailybrief.embed_batch" in log, log[-2000:]
    stages = [s.name for s in run.stages]
    assert stages.count("fetch") == 4 and {"dedup", "cluster", "rank", "write", "render", "publish"} <= set(stages)


def active(app: Any, task: str) -> tuple[str, int] | None:
    """The worker running a `task` right now, and the pid of its pool process, if any."""
    for worker, tasks in (app.control.inspect(timeout=1.0).active() or {}).items():
        for t in tasks:
            if t["name"] == task:
                return str(worker).split("@")[0], int(t["worker_pid"])
    return None


@pytest.mark.timeout(600)
def test_workers_killed_mid_fetch_and_mid_embedding_lose_and_double_nothing(feeds, broker, single, tmp_path,
                                                                            pg_url, monkeypatch) -> None:
    """Three workers writing to one PostgreSQL store (the fleet's system of record). Mid-fetch, one worker's
    pool process gets SIGKILL: the worker gives the task back at once (task_reject_on_worker_lost).
    Mid-embedding, a whole worker does (a lost machine): its task goes to another after
    [cluster].visibility_timeout. Either way the rerun inserts nothing twice, and the editions are the
    single-process run's (on SQLite), byte for byte."""
    out, one, expected = single
    killed: list[tuple[str, str]] = []

    def kill(pool: Any, app: Any) -> None:
        name, pid = wait_for(lambda: active(app, "dailybrief.fetch_shard"), 300, "a fetch task running", every=0.1)
        pool.kill_process(pid)
        killed.append(("fetch_shard", name))
        name, pid = wait_for(lambda: active(app, "dailybrief.embed_batch"), 300, "an embed task running", every=0.1)
        pool.kill(name)
        killed.append(("embed_batch", name))

    monkeypatch.setenv("DAILYBRIEF_DB", pg_url)  # the run and its workers (whose environment this is) alike
    feeds.delay = 3.0  # each feed answers after 3 s: a shard's task is busy for that long at least
    try:
        run, counts, pool = distributed(feeds, tmp_path, broker, ["k1", "k2", "k3"], during=kill)
    finally:
        feeds.delay = 0.0
    assert [t for t, _ in killed] == ["fetch_shard", "embed_batch"], killed
    assert run.status == one.status, run.failures
    same_editions(out, tmp_path / "out")
    assert counts == expected  # nothing lost, nothing twice: one delivery per edition and target among them
    assert "exited with 'signal 9 (SIGKILL)'" in pool.log(killed[0][1])  # that worker saw its process die, lived on


def test_a_reviewed_distributed_run_stops_at_a_draft_on_postgresql_and_approval_sends_it_once(
        feeds, broker, single, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """[review] required on a fleet whose store is PostgreSQL: the workers build the edition and keep it as the
    desk's draft; nothing is delivered until it is approved, and approving twice sends it once."""
    out, _one, _ = single
    monkeypatch.setenv("DAILYBRIEF_DB", pg_url)
    run, counts, _pool = distributed(feeds, tmp_path, broker, ["r1"],
                                     review={"required": True, "desk_url": "https://desk.example/"})
    assert run.status == "draft", run.failures
    assert run.outputs["draft"].startswith("https://desk.example/")
    assert counts["deliveries"] == [] and not (tmp_path / "out" / "brief.json").exists()
    cfg = config.load(str(tmp_path / "dailybrief.toml"))
    store = Store.open(pg_url)
    try:
        draft = Desk(store).draft(DAY)
        assert draft is not None and draft.status == "draft" and draft.run_id == run.id
        written = json.loads((out / "brief.json").read_text("utf-8"))
        zh = next(b for b in draft.briefs if b.language == "zh")
        assert [s.title for s in zh.sections] == [s["title"] for s in written["sections"]]
        first = publish_draft(cfg, store, DAY, "abe")
        again = publish_draft(cfg, store, DAY, "abe")
        assert first.status == "published", first.message
        assert again.status == "already", again.message
        assert [(d["target"], d["status"]) for d in store.deliveries(DAY)] == [("archive", "delivered")]
        assert Desk(store).draft(DAY).status == "published"  # type: ignore[union-attr]
    finally:
        store.close()


def test_each_edition_of_several_is_built_by_the_workers_as_in_one_process(feeds, broker, tmp_path: Path) -> None:
    """[[editions]]: one fetch fanned out for all, then one group of a chord (and release) per edition; each edition
    the same as a single-process run of the same editions: ai's files byte for byte, and english, reviewed on its
    own desk, held as the same draft while ai, unreviewed, publishes."""
    from dailybrief.run.editions import plan, run_editions

    def editions(root: Path) -> dict[str, Any]:
        data = settings(feeds.base, root / "db.sqlite", broker)  # type: ignore[attr-defined]
        english = [s["name"] for s in data["sources"] if s.get("language", "en") == "en"]
        data["editions"] = [{"name": "ai"},
                            {"name": "english", "sources": english, "languages": ["en"], "title": "AI in English",
                             "publish": [],  # the archive folder is the first edition's
                             "review": {"required": True, "desk_url": "https://english-desk.example/"}}]
        return data

    def run_all(root: Path, distributed: bool) -> tuple[list[Any], list[dict[str, Any]]]:
        cfg = config.load(str(root / "dailybrief.toml"))
        store = Store.open(cfg.db_url())
        try:
            runs = run_editions(plan(cfg, day=DAY), store, root / "out", distributed=distributed)
            draft = Desk(store.scoped("english")).draft(DAY)
            assert Desk(store.scoped("ai")).draft(DAY) is None and draft is not None
            return runs, [b.as_dict() for b in draft.briefs]
        finally:
            store.close()

    one_root, many_root = tmp_path / "one", tmp_path / "many"
    for root in (one_root, many_root):
        root.mkdir()
        (root / "dailybrief.toml").write_text(toml_text(editions(root)), "utf-8")
    single_runs, single_draft = run_all(one_root, distributed=False)
    assert [(r.run.name, r.run.status) for r in single_runs] == [("ai", "ok"), ("english", "draft")], \
        [r.run.failures for r in single_runs]
    cfg = config.load(str(many_root / "dailybrief.toml"))
    env = {**os.environ, "DAILYBRIEF_HOME": str(many_root / "home"), "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[2] / "src"), os.environ.get("PYTHONPATH", "")])}
    env.pop("DAILYBRIEF_BROKER", None)
    app = configure(cfg)
    app.control.purge()
    with workers(many_root / "dailybrief.toml", env, many_root, ["w1"]) as pool:
        wait_for(lambda: len(app.control.ping(timeout=1.0) or []) >= 1, 120, "the worker to answer")
        many, many_draft = run_all(many_root, distributed=True)
        log = pool.log("w1")
    assert [(r.run.name, r.run.status) for r in many] == [("ai", "ok"), ("english", "draft")], \
        [r.run.failures for r in many]
    for f in EDITIONS:
        assert (one_root / "out" / "ai" / f).read_bytes() == (many_root / "out" / "ai" / f).read_bytes(), f
    assert many_draft == single_draft and [b["language"] for b in many_draft] == ["en"]
    assert not (many_root / "out" / "english").exists()  # held: nothing written until it is approved
    assert many[1].run.outputs["draft"] == f"https://english-desk.example/edition/{DAY}"
    # Each edition published once through its delivery log: ai to the archive, english (held) nowhere yet.
    assert [(d.target, d.status) for d in many[0].pipe.deliveries] == [("archive", "delivered")]
    assert many[1].pipe.deliveries == []
    # One group: the second edition's run was under way before the first's ended (not one after the other).
    assert many[1].run.started < many[0].run.finished
    # The first edition's run fetched for both; each edition was built and released by a task of its own.
    assert [s.name for s in many[0].run.stages].count("fetch") == 4
    assert "fetch_tasks" not in [s.name for s in many[1].run.stages]
    assert log.count("dailybrief.build_edition") >= 2 and log.count("dailybrief.release_edition") >= 2
