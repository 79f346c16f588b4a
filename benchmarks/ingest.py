"""Ingest benchmark: 500 feeds of 30 entries each, from a local server with realistic latency.

    .venv/bin/python benchmarks/ingest.py [--feeds 500] [--entries 30] [--hosts 50] [--repeat 3]

A separate process serves the feeds with asyncio on `--hosts` ports of
127.0.0.1 (each port is a host to the client's per-host limit), answering each
request after a random 50-300 ms, gzip-compressed when asked, with an ETag and
a Last-Modified date, and 304 to a matching conditional request.

Each figure comes from a fresh process, so its peak memory (max RSS) is its own:

- first run: `Pipeline.fetch` with the default [fetch] settings and 500 configured
  sources: fetch, parse and store everything in a new SQLite database
  (target <= 10 s on 2 cores, issue 17);
- second run: the same, on the same database: every feed answers 304
  (target <= 3 s);
- a plain sequential loop (one httpx.Client, one feed after another, the same
  parsing and storing) for the ratio.

The concurrent runs are repeated (`--repeat`) and their medians printed; the
sequential loop runs once (it takes minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import multiprocessing as mp
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

WORDS = ("model inference training open weights benchmark agents reasoning context tokens latency GPU cluster "
         "release paper dataset evaluation safety alignment policy startup funding chips memory compiler kernel "
         "quantization distillation retrieval search robotics vision speech multimodal license pricing").split()
LAST_MODIFIED = "Fri, 10 Apr 2026 06:00:00 GMT"


# -- the feeds -------------------------------------------------------------------------
def make_feed(n: int, entries: int) -> bytes:
    rng = random.Random(n)  # noqa: S311 - test data, not secrets
    now = datetime(2026, 4, 10, 6, tzinfo=timezone.utc)
    items = []
    for k in range(entries):
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 12))).capitalize()
        paras = "".join(
            "<p>" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(25, 60))).capitalize() + ".</p>"
            for _ in range(rng.randint(2, 4)))
        when = now - timedelta(minutes=37 * k + n % 60)
        items.append(
            f"<item><title>{escape(title)}</title><link>https://site{n}.example/posts/{k}-{n}?utm_source=rss</link>"
            f"<guid isPermaLink=\"false\">site{n}-{k}</guid><pubDate>{format_datetime(when)}</pubDate>"
            f"<dc:creator>Author {rng.randint(1, 40)}</dc:creator><category>{rng.choice(WORDS)}</category>"
            f"<description>{escape(paras)}</description></item>")
    return ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<channel><title>Site {n}</title><link>https://site{n}.example/</link><description>Feed {n}</description>"
            + "".join(items) + "</channel></rss>").encode()


# -- the server (its own process) ----------------------------------------------------------
def serve(feeds: int, entries: int, hosts: int, ready: Any, stop: Any) -> None:
    bodies = {n: make_feed(n, entries) for n in range(feeds)}
    zipped = {n: gzip.compress(b, 5) for n, b in bodies.items()}
    rng = random.Random(42)  # noqa: S311 - latency jitter, not secrets

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                await asyncio.sleep(rng.uniform(0.05, 0.30))
                n = int(path.rsplit("/", 1)[-1].split(".")[0]) if path.startswith("/feed/") else -1
                etag = f'"v1-{n}"'
                if n not in bodies:
                    status, body, extra = "404 Not Found", b"not found", ""
                elif headers.get("if-none-match") == etag or headers.get("if-modified-since") == LAST_MODIFIED:
                    status, body, extra = "304 Not Modified", b"", f"ETag: {etag}\r\n"
                else:
                    gz = "gzip" in headers.get("accept-encoding", "")
                    body = zipped[n] if gz else bodies[n]
                    status = "200 OK"
                    extra = (f"ETag: {etag}\r\nLast-Modified: {LAST_MODIFIED}\r\n"
                             "Content-Type: application/rss+xml; charset=utf-8\r\n"
                             + ("Content-Encoding: gzip\r\n" if gz else ""))
                writer.write(f"HTTP/1.1 {status}\r\n{extra}Content-Length: {len(body)}\r\n\r\n".encode() + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = [await asyncio.start_server(handle, "127.0.0.1", 0, backlog=512) for _ in range(hosts)]
        ready.send([s.sockets[0].getsockname()[1] for s in servers])
        while not stop.poll():
            await asyncio.sleep(0.1)

    asyncio.run(main())


# -- the client phases (each in a fresh process) ---------------------------------------------
def _config(ports: list[int], feeds: int, db: str) -> Any:
    from dailybrief import config

    sources = [{"name": f"Site {n}", "kind": "rss", "url": f"http://127.0.0.1:{ports[n % len(ports)]}/feed/{n}.xml",
                "tier": "press", "language": "en"} for n in range(feeds)]
    fetch = {"parse_processes": int(os.environ["BENCH_PARSE_PROCESSES"])} if "BENCH_PARSE_PROCESSES" in os.environ else {}
    return config.from_dict({"sources": sources, "storage": {"path": db}, "fetch": fetch})


def phase_pipeline(ports: list[int], feeds: int, db: str, out: Any) -> None:
    from dailybrief.run.pipeline import Pipeline
    from dailybrief.store import Store

    cfg = _config(ports, feeds, db)
    store = Store.open(db)
    pipe = Pipeline(cfg, store)
    run = pipe.new_run(date(2026, 4, 10))
    start = time.perf_counter()
    pipe.fetch(run)
    seconds = time.perf_counter() - start
    counts = {s.name: s.counts for s in run.stages}
    stage_seconds = {s.name: s.seconds for s in run.stages}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # the parse workers, reaped when the fetch ends
    out.send({"seconds": seconds, "stages": stage_seconds, "fetch": counts["fetch"], "store": counts["store"],
              "items": store.count("items"),
              "cpu": usage.ru_utime + usage.ru_stime + kids.ru_utime + kids.ru_stime,
              "workers_maxrss_mb": kids.ru_maxrss / 1024,
              "failures": run.failures[:3], "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def phase_sequential(ports: list[int], feeds: int, db: str, out: Any) -> None:
    import httpx

    from dailybrief.ingest.sources.feed import parse_items
    from dailybrief.store import Store

    cfg = _config(ports, feeds, db)
    store = Store.open(db)
    sources = cfg.enabled_sources()
    store.upsert_sources(sources)
    start = time.perf_counter()
    stored = 0
    with httpx.Client(timeout=20, headers={"User-Agent": "dailybrief-bench"}) as client:
        for src in sources:
            resp = client.get(src.url)
            items, _ = parse_items(resp.content, str(resp.url), dict(resp.headers), src)
            stored += len(store.add_items(items))
    seconds = time.perf_counter() - start
    out.send({"seconds": seconds, "items": stored,
              "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def run_phase(ctx: Any, target: Any, *args: Any) -> dict[str, Any]:
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=target, args=(*args, send))
    proc.start()
    result = recv.recv()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--entries", type=int, default=30)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-sequential", action="store_true")
    args = parser.parse_args()

    ctx = mp.get_context("spawn")
    ready_recv, ready_send = ctx.Pipe(duplex=False)
    stop_recv, stop_send = ctx.Pipe(duplex=False)
    server = ctx.Process(target=serve, args=(args.feeds, args.entries, args.hosts, ready_send, stop_recv), daemon=True)
    server.start()
    ports = ready_recv.recv()
    print(f"ingest benchmark: {args.feeds} feeds x {args.entries} entries, {args.hosts} hosts on 127.0.0.1, "
          f"50-300 ms per response; {os.cpu_count()} cores; python {sys.version.split()[0]}; "
          f"load average before: {os.getloadavg()[0]:.1f}")
    firsts, seconds_ = [], []
    try:
        with tempfile.TemporaryDirectory(prefix="dailybrief-ingest-") as tmp:
            for r in range(args.repeat):
                db = str(Path(tmp) / f"run{r}.db")
                first = run_phase(ctx, phase_pipeline, ports, args.feeds, db)
                second = run_phase(ctx, phase_pipeline, ports, args.feeds, db)
                firsts.append(first)
                seconds_.append(second)
                print(f"  repeat {r + 1}: first run {first['seconds']:.2f} s, {first['cpu']:.1f} s CPU "
                      f"({first['items']} items stored, {first['fetch']['failed']} failed, peak {first['maxrss_mb']:.0f} MB"
                      f" + parse workers {first['workers_maxrss_mb']:.0f} MB each); "
                      f"second run {second['seconds']:.2f} s, {second['cpu']:.1f} s CPU "
                      f"({second['fetch']['not_modified']} not modified, "
                      f"peak {second['maxrss_mb']:.0f} MB)", flush=True)
                print("    first run by stage: " + ", ".join(f"{k} {v:.2f} s" for k, v in first["stages"].items()))
                if first["failures"]:
                    print(f"    failures: {first['failures']}")
            seq = None if args.skip_sequential else run_phase(ctx, phase_sequential, ports, args.feeds,
                                                              str(Path(tmp) / "seq.db"))
    finally:
        stop_send.send(True)
        server.join(5)
    print(f"load average after: {os.getloadavg()[0]:.1f} (other work on the machine slows every figure)")
    m1 = statistics.median(f["seconds"] for f in firsts)
    m2 = statistics.median(s["seconds"] for s in seconds_)
    print(f"first run (fetch, parse, store everything): median {m1:.2f} s over {args.repeat}  "
          f"[target <= 10 s: {'met' if m1 <= 10 else 'NOT met'}]; items stored {firsts[0]['items']}; "
          f"peak memory {max(f['maxrss_mb'] for f in firsts):.0f} MB "
          f"(+ {max(f['workers_maxrss_mb'] for f in firsts):.0f} MB per parse worker process)")
    print(f"second run (all 304 Not Modified): median {m2:.2f} s over {args.repeat}  "
          f"[target <= 3 s: {'met' if m2 <= 3 else 'NOT met'}]; peak memory {max(s['maxrss_mb'] for s in seconds_):.0f} MB")
    if seq is not None:
        print(f"plain sequential loop (httpx.Client, same parse and store): {seq['seconds']:.2f} s, "
              f"{seq['items']} items, peak memory {seq['maxrss_mb']:.0f} MB")
        ratio = seq["seconds"] / m1
        print(f"ratio sequential / concurrent first run: {ratio:.1f}x  [target >= 10x: {'met' if ratio >= 10 else 'NOT met'}]")


if __name__ == "__main__":
    main()
