"""ROUGE of the extractive writer on MultiLing 2011 English, with a lead baseline from the same run.

    .venv/bin/python benchmarks/summarise.py [--words 250]

Data: ../shared/eval-data/multiling2011-en-sample (3 topics of 10 WikiNews articles, each with three
human reference summaries A, B and C of about 250 words; read in place, never copied). Each topic
becomes one story of ten press items; the extractive writer's fact picker (MMR over USE sentence
embeddings) chooses sentences until the word budget is met. Baselines from the same run:

- lead: the first sentence of each article in turn, then the second of each, ... until the budget;
- lead-1: the opening sentences of the first article until the budget;
- the two MultiLing peer systems whose summaries ship with the sample.

Sentences shorter than five words (datelines, headlines) are skipped by every system built here.
ROUGE-1/2 (n-gram overlap) and ROUGE-L (longest common subsequence), F1 on lower-cased alphanumeric
tokens without stemming or stopword removal, averaged over the three references, then over the topics.
These are not the official ROUGE-1.5.5 figures (which stem): compare rows with each other.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dailybrief.records import Item, Story  # noqa: E402
from dailybrief.stories.embed import default_embedder  # noqa: E402
from dailybrief.write.writer import ExtractiveWriter, ReferenceBook  # noqa: E402

DATA = ROOT.parent / "shared" / "eval-data" / "multiling2011-en-sample"
_TOKEN = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _f1(overlap: int, cand: int, ref: int) -> float:
    if not overlap or not cand or not ref:
        return 0.0
    p, r = overlap / cand, overlap / ref
    return 2 * p * r / (p + r)


def rouge_n(cand: list[str], ref: list[str], n: int) -> float:
    c = Counter(tuple(cand[i : i + n]) for i in range(len(cand) - n + 1))
    r = Counter(tuple(ref[i : i + n]) for i in range(len(ref) - n + 1))
    return _f1(sum((c & r).values()), sum(c.values()), sum(r.values()))


def rouge_l(cand: list[str], ref: list[str]) -> float:
    prev = [0] * (len(ref) + 1)
    for a in cand:
        cur = [0]
        for j, b in enumerate(ref):
            cur.append(prev[j] + 1 if a == b else max(prev[j + 1], cur[j]))
        prev = cur
    return _f1(prev[-1], len(cand), len(ref))


def scores(summary: str, references: list[str]) -> tuple[float, float, float]:
    cand = tokens(summary)
    refs = [tokens(r) for r in references]
    return (statistics.mean(rouge_n(cand, r, 1) for r in refs), statistics.mean(rouge_n(cand, r, 2) for r in refs),
            statistics.mean(rouge_l(cand, r) for r in refs))


def budget(sentences: list[str], words: int) -> str:
    out: list[str] = []
    count = 0
    for s in sentences:
        if count >= words:
            break
        n = len(s.split())
        out.append(s if count + n <= words else " ".join(s.split()[: words - count]))
        count += n
    return " ".join(out)


def usable(sentence: str) -> bool:
    return len(sentence.split()) >= 5


def lead(docs: list[list[str]], words: int) -> str:
    docs = [[s for s in d if usable(s)] for d in docs]
    order = [d[i] for i in range(max(map(len, docs))) for d in docs if i < len(d)]
    return budget(order, words)


def extractive(docs: list[list[str]], topic: str, words: int) -> str:
    items = [Item(id=f"{topic}-{n}", source_id="multiling", source_name=f"WikiNews {n}", tier="press", url="",
                  canonical_url="", title="", text="\n".join(s for s in d if usable(s)), language="en")
             for n, d in enumerate(docs)]
    story = Story(id=topic, items=items, first_seen=None, last_seen=None)  # type: ignore[arg-type]
    writer = ExtractiveWriter(default_embedder(), facts=40)
    facts, _ = writer._facts(story, "en", ReferenceBook())
    return budget([s.text for s in facts], words)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--words", type=int, default=250, help="word budget of every summary")
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"{DATA} is missing: the benchmark reads ../shared/eval-data in place")
    docs = {}
    for line in (DATA / "documents.jsonl").read_text("utf-8").splitlines():
        row = json.loads(line)
        docs[row["instance_id"]] = [d["text"] for d in row["documents"]]
    refs: dict[str, list[str]] = {}
    peers: dict[str, dict[str, str]] = {}
    for line in (DATA / "summaries.jsonl").read_text("utf-8").splitlines():
        row = json.loads(line)
        if row["summarizer_type"] != "peer":
            continue
        refs[row["instance_id"]] = [" ".join(r["text"]) for r in row["references"]]
        peers.setdefault(f"MultiLing peer {row['summarizer_id']}", {})[row["instance_id"]] = " ".join(row["summary"]["text"])

    default_embedder().encode(["warm up"])  # model load is not the summariser's time
    systems: dict[str, dict[str, str]] = {"extractive (dailybrief)": {}, "lead": {}, "lead-1": {}}
    started = time.perf_counter()
    for topic, d in sorted(docs.items()):
        systems["extractive (dailybrief)"][topic] = extractive(d, topic, args.words)
    seconds = time.perf_counter() - started
    for topic, d in sorted(docs.items()):
        systems["lead"][topic] = lead(d, args.words)
        systems["lead-1"][topic] = budget([s for s in d[0] if usable(s)], args.words)
    systems.update(peers)

    print(f"ROUGE F1 on MultiLing 2011 English sample: {len(docs)} topics x 10 articles, references A/B/C, "
          f"summaries cut at {args.words} words")
    print(f"{'system':<26}{'ROUGE-1':>9}{'ROUGE-2':>9}{'ROUGE-L':>9}{'words':>7}")
    for name, by_topic in systems.items():
        rows = [scores(by_topic[t], refs[t]) for t in sorted(docs)]
        mean = [statistics.mean(r[i] for r in rows) for i in range(3)]
        words = statistics.mean(len(by_topic[t].split()) for t in sorted(docs))
        print(f"{name:<26}{mean[0]:>9.4f}{mean[1]:>9.4f}{mean[2]:>9.4f}{words:>7.0f}")
    print(f"extractive writer: {seconds / len(docs):.2f} s per topic (10 articles) on this machine")


if __name__ == "__main__":
    main()
