"""Scale benchmark: N feeds x 30 entries from 127.0.0.1 (50-300 ms per answer), one process against Celery workers.

    .venv/bin/python benchmarks/scale.py [--feeds 5000] [--entries 30] [--hosts 100] [--modes process,1,2]

The feeds are benchmarks/ingest.py's, from its server process. Each mode writes the same English edition
(extractive writer, JSON only) from a fresh SQLite store in a fresh process:

- `process`: `Pipeline.run`, everything in one process (parsing in threads, `[fetch].parse_processes = 0`:
  feedparser-rs made it cheap);
- `1`, `2`: `run_distributed` with that many `dailybrief worker` processes (one pool process each, so one
  core each), on a redis-server started here on 127.0.0.1.

For each it prints the items per second (items stored / the run's wall time), the peak memory (max RSS) of the
run's process and of each worker process, and the time per stage: wall time for the run's own stages (and for
the fan-outs: `fetch_tasks`, `edition_tasks`), the tasks' time summed for the stages they ran. On a 2-core
machine two workers cannot beat one process by much: the figure to read is how the time per item holds as
workers are added; docs/scaling.md extrapolates from it.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

import ingest  # noqa: E402 - benchmarks/ingest.py: the feeds and their server

DAY = date(2026, 4, 10)


def settings(ports: list[int], feeds: int, root: Path, broker: str) -> dict[str, Any]:
    sources = [{"name": f"Site {n}", "kind": "rss", "url": f"http://127.0.0.1:{ports[n % len(ports)]}/feed/{n}.xml",
                "tier": "press", "language": "en"} for n in range(feeds)]
    return {"sources": sources, "storage": {"path": str(root / "db.sqlite")},
            "edition": {"languages": ["en"], "timezone": "UTC", "cutoff": "24:00", "top_stories": 10,
                        "title": {"en": "Scale"}},
            "output": {"formats": ["json"]}, "fetch": {"allow_private": ["127.0.0.1"], "parse_processes": 0},
            "cluster": {"broker": broker, "fetch_shard": 100, "embed_batch": 1024}}


def peak_mb(pid: int) -> float:
    """A process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def family(pid: int) -> list[int]:
    """A process and its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            kids = (task / "children").read_text().split() if (task / "children").exists() else []
            todo.extend(int(k) for k in kids)
    return out


def phase(mode: str, ports: list[int], feeds: int, root: str, broker: str, out: Any) -> None:
    from dailybrief import config
    from dailybrief.run.distributed import configure, run_distributed
    from dailybrief.run.pipeline import Pipeline
    from dailybrief.store import Store
    from fleet import toml_text, wait_for, workers  # lazy: in the phase's own process

    where = Path(root)
    data = settings(ports, feeds, where, broker)
    (where / "dailybrief.toml").write_text(toml_text(data), "utf-8")
    cfg = config.load(str(where / "dailybrief.toml"))
    store = Store.open(cfg.db_url())
    pipe = Pipeline(cfg, store)
    memory: dict[str, float] = {}
    start = time.perf_counter()
    if mode == "process":
        run = pipe.run(DAY, where / "out")
        seconds = time.perf_counter() - start
    else:
        env = {**os.environ, "DAILYBRIEF_HOME": str(where / "home"),
               "PYTHONPATH": os.pathsep.join([str(HERE.parent / "src"), os.environ.get("PYTHONPATH", "")])}
        names = [f"w{k}" for k in range(int(mode))]
        app = configure(cfg)
        app.control.purge()
        with workers(where / "dailybrief.toml", env, where, names) as pool:
            wait_for(lambda: len(app.control.ping(timeout=1.0) or []) >= len(names), 180, "the workers")
            start = time.perf_counter()
            run = run_distributed(pipe, DAY, where / "out")
            seconds = time.perf_counter() - start
            for name, proc in pool.procs.items():
                for k, pid in enumerate(family(proc.pid)):
                    memory[f"{name}{'' if k == 0 else f'/pool{k}'}"] = peak_mb(pid)
    memory = {"run": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **memory}
    stages: dict[str, float] = defaultdict(float)
    for s in run.stages:
        stages[s.name] += s.seconds
    out.send({"seconds": seconds, "items": store.count("items"), "status": run.status,
              "failures": run.failures[:3], "stages": dict(stages), "memory": memory})
    # The embedding pool's idle workers, stopped here: in a multiprocessing child (this phase), exiting with them
    # alive waits for them forever (seen with Python 3.11's ProcessPoolExecutor; not investigated further).
    close = getattr(pipe.embedder, "close", None)
    if close is not None:
        close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=5000)
    parser.add_argument("--entries", type=int, default=30)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--modes", default="process,1,2", help="comma-separated: process, or a number of workers")
    args = parser.parse_args()
    from fleet import redis_server  # lazy: after sys.path has the tests' helpers

    ctx = mp.get_context("spawn")
    ready_recv, ready_send = ctx.Pipe(duplex=False)
    stop_recv, stop_send = ctx.Pipe(duplex=False)
    server = ctx.Process(target=ingest.serve, args=(args.feeds, args.entries, args.hosts, ready_send, stop_recv),
                         daemon=True)
    server.start()
    ports = ready_recv.recv()
    print(f"scale benchmark: {args.feeds} feeds x {args.entries} entries, {args.hosts} hosts on 127.0.0.1, "
          f"50-300 ms per answer; {os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.1f}", flush=True)
    results = {}
    try:
        with tempfile.TemporaryDirectory(prefix="dailybrief-scale-") as tmp, redis_server(Path(tmp)) as broker:
            for mode in args.modes.split(","):
                root = Path(tmp) / f"mode-{mode}"
                root.mkdir()
                recv, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=phase, args=(mode, ports, args.feeds, str(root), broker, send))
                proc.start()
                res = results[mode] = recv.recv()
                proc.join()
                label = "one process" if mode == "process" else f"{mode} worker{'s' if mode != '1' else ''}"
                print(f"{label}: {res['seconds']:.1f} s, {res['items']} items, {res['items'] / res['seconds']:.0f} items/s, "
                      f"status {res['status']}{' ' + str(res['failures']) if res['failures'] else ''}")
                print("  peak memory (MB): " + ", ".join(f"{k} {v:.0f}" for k, v in res["memory"].items()))
                print("  seconds per stage: " + ", ".join(f"{k} {v:.1f}" for k, v in res["stages"].items()), flush=True)
    finally:
        stop_send.send(True)
        server.join(5)
    print(f"load average after: {os.getloadavg()[0]:.1f} (other work on the machine slows every figure)")


if __name__ == "__main__":
    main()
