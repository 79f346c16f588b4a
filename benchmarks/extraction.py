"""Score `dailybrief extract` on the Zyte article-extraction benchmark, beside plain trafilatura.

    .venv/bin/python benchmarks/extraction.py [--data ../shared/eval-data/article-extraction-benchmark]

The pages are decompressed to a temporary folder and given, all at once, to
`dailybrief extract --json` (a real subprocess, as a user would run it). Plain
trafilatura (``trafilatura.extract(html)``, its defaults) runs on the same
pages in the same run. Both are scored with the benchmark's own metric
(its evaluate.py): tokens are ``\\w+`` runs, 4-token shingles are compared as
multisets per page, each page's TP/FP/FN are normalised to sum to 1,
precision and recall are the means over pages (precision over pages where
something was predicted or expected...), and F1 comes from the two means.
The stored outputs of trafilatura 2.0.0 and readability-lxml are scored too,
as a check on the metric (published: F1 0.958 and 0.922).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "eval-data" / "article-extraction-benchmark"
_TOKEN = re.compile(r"\w+", re.UNICODE | re.MULTILINE | re.IGNORECASE | re.DOTALL)


# -- the benchmark's metric -------------------------------------------------------------
def _shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n])


def page_counts(true: str, pred: str) -> tuple[float, float, float]:
    t, p = _shingles(true), _shingles(pred)
    tp = float(sum((t & p).values()))
    fp = float(sum((p - t).values()))
    fn = float(sum((t - p).values()))
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (tp, fp, fn)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


def score(truth: dict[str, str], predicted: dict[str, str]) -> tuple[float, float, float]:
    """(precision, recall, F1) over the benchmark's pages, as its evaluate.py computes them."""
    counts = [page_counts(truth[k], predicted.get(k) or "") for k in truth]
    precision = statistics.mean(_precision(*c) for c in counts if c[0] + c[1] > 0)
    recall = statistics.mean(_recall(*c) for c in counts if c[0] + c[2] > 0)
    return precision, recall, 2 * precision * recall / (precision + recall)


# -- the data -------------------------------------------------------------------------
def ground_truth(data: Path) -> dict[str, str]:
    return {k: v.get("articleBody", "") for k, v in json.loads((data / "ground-truth.json").read_text("utf-8")).items()}


def pages(data: Path) -> dict[str, str]:
    return {k: gzip.decompress((data / "html" / f"{k}.html.gz").read_bytes()).decode("utf-8")
            for k in ground_truth(data)}


def stored_output(data: Path, name: str) -> dict[str, str]:
    out = json.loads((data / "output" / f"{name}.json").read_text("utf-8"))["output"]
    return {k: v.get("articleBody", "") for k, v in out.items()}


# -- the run --------------------------------------------------------------------------
def run_dailybrief(html: dict[str, str]) -> tuple[dict[str, str], float]:
    with tempfile.TemporaryDirectory(prefix="dailybrief-bench-") as tmp:
        paths = {}
        for key, text in html.items():
            path = Path(tmp) / f"{key}.html"
            path.write_text(text, "utf-8")
            paths[str(path)] = key
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "dailybrief", "extract", "--json", *paths],
                              capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"dailybrief extract failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return {paths[p]: t or "" for p, t in json.loads(proc.stdout).items()}, seconds


def run_plain_trafilatura(html: dict[str, str]) -> tuple[dict[str, str], float]:
    import trafilatura

    start = time.perf_counter()
    out = {k: trafilatura.extract(h) or "" for k, h in html.items()}
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    import trafilatura

    truth = ground_truth(args.data)
    html = pages(args.data)
    ours, ours_s = run_dailybrief(html)
    plain, plain_s = run_plain_trafilatura(html)
    print(f"article-extraction-benchmark: {len(truth)} pages; trafilatura {trafilatura.__version__}")
    print(f"{'extractor':<34} {'precision':>9} {'recall':>7} {'F1':>6} {'seconds':>8}")
    rows = [("dailybrief extract", ours, f"{ours_s:.1f}"),
            (f"plain trafilatura {trafilatura.__version__} (same run)", plain, f"{plain_s:.1f}")]
    for name in ("trafilatura", "readability"):
        rows.append((f"stored output/{name}.json", stored_output(args.data, name), "-"))
    for name, predicted, seconds in rows:
        p, r, f = score(truth, predicted)
        print(f"{name:<34} {p:>9.3f} {r:>7.3f} {f:>6.3f} {seconds:>8}")
    f_ours, f_plain = score(truth, ours)[2], score(truth, plain)[2]
    print(f"target F1 >= 0.950 (trafilatura's published 0.958): {'met' if f_ours >= 0.95 else 'NOT met'}; "
          f"ours - plain trafilatura = {f_ours - f_plain:+.3f}")


if __name__ == "__main__":
    main()
