"""What a fresh process pays to import dailybrief's faces (every worker process does), medians of fresh runs.

    python benchmarks/imports.py [--runs 7]

Prints, per module, the median wall time of `python -c "import <module>"` and the same minus a bare
interpreter's start measured in the same run, and which of the heavy libraries the import loaded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
MODULES = ("dailybrief", "dailybrief.records", "dailybrief.config", "dailybrief.run.pipeline")
HEAVY = ("numpy", "httpx", "lxml", "scipy", "pydantic", "feedparser", "sklearn")


def wall(code: str, runs: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    runs = ap.parse_args().runs
    bare = wall("pass", runs)
    print(f"bare interpreter: {bare:.3f} s (median of {runs})")
    for module in MODULES:
        t = wall(f"import {module}", runs)
        probe = f"import sys, {module}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
        loaded = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True,
                                env={**os.environ, "PYTHONPATH": str(SRC)}).stdout.strip()
        print(f"import {module}: {t:.3f} s median, {t - bare:.3f} s over the bare interpreter; "
              f"heavy libraries loaded: {loaded or 'none'}")


if __name__ == "__main__":
    main()
