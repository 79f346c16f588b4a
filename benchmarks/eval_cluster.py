"""Run `dailybrief eval cluster` on the shared clustering sets: the UCI News Aggregator sample (its
development half) and the MultiLing 2011 clusters.

    python benchmarks/eval_cluster.py

The MultiLing documents come as JSON lines; they are written to a temporary CSV (title = first sentence,
text = the rest, label = the topic) and evaluated like any CSV. Nothing is copied into the repository.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "eval-data"
UCI = DATA / "uci-news-aggregator-sample" / "uci-news-dev.csv"
MULTILING = DATA / "multiling2011-en-sample" / "documents.jsonl"


def run(args: list[str]) -> str:
    cmd = [sys.executable, "-m", "dailybrief", "eval", "cluster", *args]
    print("$ dailybrief eval cluster " + " ".join(args), flush=True)
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    print(done.stdout + done.stderr, flush=True)
    return done.stdout


def main() -> None:
    if not DATA.exists():
        sys.exit(f"{DATA} is missing: this script reads the shared eval data in place")
    run([str(UCI), "--text-column", "TITLE", "--label-column", "STORY"])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "multiling2011-en.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["title", "text", "topic"])
            for line in MULTILING.read_text("utf-8").splitlines():
                topic = json.loads(line)
                for doc in topic["documents"]:
                    w.writerow([doc["text"][0], " ".join(doc["text"][1:]), topic["instance_id"]])
        run([str(path), "--text-column", "title", "--text-column", "text", "--label-column", "topic"])


if __name__ == "__main__":
    main()
