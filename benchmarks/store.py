"""Store write benchmark: the same writes on SQLite and on PostgreSQL, medians of --repeat runs.

    .venv/bin/python benchmarks/store.py [--items 5000] [--repeat 3] [--pg postgresql://...]

Each repeat opens a new store and times, in this order, what one day's run writes: `add_items` (in
batches of 500, as the fetch stage stores each source's batch), `add_items` again (the rerun: every
item known, only its engagement figures refreshed), `put_embeddings` (512 float32 each, in batches of
256), `save_story` (one story per 5 items) and `items_between` (reading the day back).

Without --pg it starts a throwaway PostgreSQL cluster on 127.0.0.1 (Debian's `postgresql`, as
`make test` does, with fsync on: the figures are a real server's) and stops it at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

import pgserver  # noqa: E402
from dailybrief.records import Item  # noqa: E402
from dailybrief.store import Store  # noqa: E402

DAY = date(2026, 4, 10)
START = datetime(2026, 4, 10, tzinfo=timezone.utc)


def items(n: int, points: int) -> list[Item]:
    return [Item(id=f"item{k:06d}", source_id=f"s{k % 50}", source_name=f"Source {k % 50}", tier="press",
                 url=f"https://s{k % 50}.example/{k}", canonical_url=f"https://s{k % 50}.example/{k}",
                 title=f"Lab {k} ships a model with better reasoning", summary="A summary. " * 20,
                 published=START + timedelta(seconds=k), content_hash=f"h{k}", points=points) for k in range(n)]


def one_run(where: str, n: int) -> dict[str, float]:
    store = Store.open(where)
    times: dict[str, float] = {}

    def timed(name: str, work: Callable[[], object]) -> None:
        t = time.perf_counter()
        work()
        times[name] = time.perf_counter() - t

    first, again = items(n, 1), items(n, 2)
    rng = np.random.default_rng(1)
    vectors = {i.id: rng.standard_normal(512).astype(np.float32) for i in first}
    ids = list(vectors)
    timed("add_items (new)", lambda: [store.add_items(first[k : k + 500]) for k in range(0, n, 500)])
    timed("add_items (rerun)", lambda: [store.add_items(again[k : k + 500]) for k in range(0, n, 500)])
    timed("put_embeddings", lambda: [store.put_embeddings({i: vectors[i] for i in ids[k : k + 256]}, "m")
                                     for k in range(0, n, 256)])
    timed("save_story", lambda: [store.save_story(f"st{k}", "T", DAY, DAY, vectors[ids[k]], ids[k : k + 5], DAY)
                                 for k in range(0, n, 5)])
    timed("items_between", lambda: store.items_between(START, START + timedelta(days=1)))
    store.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pg", default="", help="an empty PostgreSQL database to use (default: a throwaway cluster)")
    args = ap.parse_args()

    def report(name: str, runs: list[dict[str, float]]) -> None:
        print(f"\n{name}: {args.items:,} items, median of {len(runs)}")
        for stage in runs[0]:
            med = statistics.median(r[stage] for r in runs)
            print(f"  {stage:<20} {med:8.3f} s  {args.items / med:10,.0f} items/s")

    with tempfile.TemporaryDirectory() as tmp:
        report("SQLite", [one_run(str(Path(tmp) / f"bench{k}.db"), args.items) for k in range(args.repeat)])
    if args.pg:
        report("PostgreSQL", [one_run(args.pg, args.items) for _ in range(1)])
        return
    with pgserver.cluster(durable=True) as pg:
        report("PostgreSQL", [one_run(pg.create_database(f"bench{k}"), args.items) for k in range(args.repeat)])


if __name__ == "__main__":
    main()
