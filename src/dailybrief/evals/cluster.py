"""Evaluation of the cluster stage against gold labels, beside a TF-IDF + agglomerative baseline.

    CSV rows ──▶ Items ──embed──▶ StoryIndex (one batch, the production settings) ──▶ predicted stories
                        └──TF-IDF──▶ agglomerative, average linkage (the baseline)  ──▶ predicted clusters

Scores: pairwise precision, recall and F1 over all pairs of rows (the measure Miranda et al. 2018 report),
B-cubed precision, recall and F1, and the adjusted Rand index.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np

from ..errors import DailybriefError
from ..ids import content_hash
from ..records import Item
from ..stories.cluster import ClusterSettings, StoryIndex, cluster_items
from ..stories.embed import Embedder, item_text

BASELINE_DISTANCE = 0.8  # the baseline's cut: cosine distance between TF-IDF vectors, fixed (not tuned)


class EvalError(DailybriefError):
    """The evaluation input cannot be used; the message says why and how to fix it."""


@dataclass(slots=True)
class Scores:
    clusters: int
    pairwise_p: float
    pairwise_r: float
    pairwise_f1: float
    bcubed_p: float
    bcubed_r: float
    bcubed_f1: float
    ari: float


def _pairs(counts: Counter) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def pairwise(pred: Sequence[object], gold: Sequence[object]) -> tuple[float, float, float]:
    """Precision, recall and F1 over all pairs of rows: a pair is positive when both are in one cluster."""
    together = _pairs(Counter(zip(pred, gold, strict=True)))
    predicted, actual = _pairs(Counter(pred)), _pairs(Counter(gold))
    p = together / predicted if predicted else 1.0
    r = together / actual if actual else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def bcubed(pred: Sequence[object], gold: Sequence[object]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 (Bagga & Baldwin 1998), averaged over rows."""
    n = len(pred)
    if not n:
        return 1.0, 1.0, 1.0
    joint = Counter(zip(pred, gold, strict=True))
    cp, cg = Counter(pred), Counter(gold)
    p = sum(m * m / cp[a] for (a, _), m in joint.items()) / n
    r = sum(m * m / cg[b] for (_, b), m in joint.items()) / n
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def scores(pred: Sequence[object], gold: Sequence[object]) -> Scores:
    from sklearn.metrics import adjusted_rand_score  # lazy: scikit-learn, for `eval cluster` only

    p, r, f = pairwise(pred, gold)
    bp, br, bf = bcubed(pred, gold)
    return Scores(len(set(pred)), p, r, f, bp, br, bf, float(adjusted_rand_score(list(map(str, gold)),
                                                                                 list(map(str, pred)))))


@dataclass(slots=True)
class Rows:
    texts: list[list[str]]   # per row: the text columns' values (the first is the title)
    labels: list[str]
    skipped: list[str]       # why rows were left out


def read_csv(path: str | Path, text_columns: Sequence[str], label_column: str) -> Rows:
    """The rows of a CSV with their texts and gold labels; rows without a title or label are skipped."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [c for c in [*text_columns, label_column] if c not in header]
            if missing:
                raise EvalError(f"{path.name} has no column {missing[0]!r}; its columns are: "
                                f"{', '.join(header) or '(none)'}. Pass one of those to --text-column/--label-column")
            rows = Rows([], [], [])
            no_text, no_label = [], []
            for n, row in enumerate(reader, start=2):
                texts = [(row.get(c) or "").strip() for c in text_columns]
                label = (row.get(label_column) or "").strip()
                if not texts[0]:
                    no_text.append(n)
                elif not label:
                    no_label.append(n)
                else:
                    rows.texts.append(texts)
                    rows.labels.append(label)
    except FileNotFoundError:
        raise EvalError(f"{path} does not exist; give the path of a CSV file") from None
    except UnicodeDecodeError:
        raise EvalError(f"{path} is not UTF-8 text; save it as UTF-8 CSV") from None
    except csv.Error as exc:
        raise EvalError(f"{path} is not a readable CSV ({exc}); check its quoting") from None
    for lines, what in ((no_text, f"an empty {text_columns[0]!r}"), (no_label, f"an empty {label_column!r}")):
        if lines:
            shown = ", ".join(map(str, lines[:5])) + (" …" if len(lines) > 5 else "")
            rows.skipped.append(f"{len(lines)} rows with {what} were skipped (lines {shown})")
    if not rows.labels:
        raise EvalError(f"{path.name} has no row with both a text and a label; check the column names")
    return rows


def conflicting_labels(rows: Rows) -> list[tuple[str, list[str]]]:
    """Texts that occur more than once with different gold labels: no clusterer that reads only the text can
    put them apart, so each caps the score any method can reach. (text, its labels) pairs, in row order."""
    seen: dict[str, list[str]] = {}
    for texts, label in zip(rows.texts, rows.labels, strict=True):
        key = " ".join(" ".join(texts).split()).casefold()
        if label not in seen.setdefault(key, []):
            seen[key].append(label)
    return [(key, labels) for key, labels in seen.items() if len(labels) > 1]


@dataclass(slots=True)
class AlikeStories:
    """Two gold stories whose rows are as alike across them as within them: by similarity they are one."""

    a: str
    b: str
    between: float           # mean similarity of a row of one to a row of the other
    within: tuple[float, float]  # mean similarity of two rows of each


def alike_stories(vectors: np.ndarray, labels: Sequence[str]) -> list[AlikeStories]:
    """Pairs of gold stories (two rows or more each) whose mean similarity across is at least the lower of their
    mean similarities within: no clusterer that goes by the similarity of texts can put them apart."""
    groups: dict[str, list[int]] = {}
    for n, label in enumerate(labels):
        groups.setdefault(label, []).append(n)
    names = sorted(k for k, rows in groups.items() if len(rows) >= 2)
    sums = {k: vectors[groups[k]].sum(axis=0) for k in names}

    def within(k: str) -> float:
        n = len(groups[k])
        return float((sums[k] @ sums[k] - n) / (n * (n - 1)))  # unit rows: drop the n self-pairs

    inside = {k: within(k) for k in names}
    out = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            between = float(sums[a] @ sums[b]) / (len(groups[a]) * len(groups[b]))
            if between >= min(inside[a], inside[b]):
                out.append(AlikeStories(a, b, between, (inside[a], inside[b])))
    return out


def merged_ceiling(labels: Sequence[str], alike: Sequence[AlikeStories]) -> float:
    """Pairwise F1 of the gold labels themselves with each alike pair made one story: the best a clusterer that
    merges them can reach, however right it is about every other row."""
    parent = {label: label for label in labels}

    def root(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    for pair in alike:
        parent[root(pair.b)] = root(pair.a)
    return pairwise([root(label) for label in labels], list(labels))[2]


def rows_to_items(rows: Rows, day: date) -> list[Item]:
    """One Item per row: the first text column is the title, the others its text."""
    when = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    items = []
    for n, texts in enumerate(rows.texts):
        item_id = content_hash("eval", n, *texts)
        items.append(Item(id=item_id, source_id="eval", source_name="eval", tier="press", url="", canonical_url="",
                          title=texts[0], text="\n".join(t for t in texts[1:] if t), published=when))
    return items


def cluster_labels(items: list[Item], vectors: np.ndarray, settings: ClusterSettings | None = None) -> list[str]:
    """Story ids for the items, clustered as one day's batch with the production settings."""
    index = StoryIndex(dim=vectors.shape[1] if len(vectors) else 512, settings=settings)
    stories, _ = cluster_items(items, vectors, date(2000, 1, 1), index)
    story_of = {i.id: s.id for s in stories for i in s.items}
    return [story_of[i.id] for i in items]


def baseline_labels(texts: list[str], distance: float = BASELINE_DISTANCE) -> list[int]:
    """TF-IDF vectors (sublinear tf, words and CJK characters) cut by average-linkage agglomerative clustering."""
    from sklearn.cluster import AgglomerativeClustering  # lazy: scikit-learn, for `eval cluster` only
    from sklearn.feature_extraction.text import TfidfVectorizer  # lazy: scikit-learn, for `eval cluster` only

    if len(texts) < 2:
        return [0] * len(texts)
    pattern = r"(?u)\b\w\w+\b|[\u4e00-\u9fff]"
    matrix = TfidfVectorizer(sublinear_tf=True, token_pattern=pattern).fit_transform(texts)
    model = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance)
    return [int(x) for x in model.fit_predict(matrix.toarray())]


def best_baseline(texts: list[str], gold: list[str]) -> tuple[float, Scores]:
    """The baseline at the cut that suits these labels best (chosen on them: an upper bound, not a result)."""
    best: tuple[float, Scores] | None = None
    for cut in np.arange(0.05, 1.0, 0.05):
        sc = scores(baseline_labels(texts, float(cut)), gold)
        if best is None or sc.pairwise_f1 > best[1].pairwise_f1:
            best = (round(float(cut), 2), sc)
    assert best is not None
    return best


@dataclass(slots=True)
class Report:
    rows: int
    gold_clusters: int
    ours: Scores
    baseline: Scores
    skipped: list[str]
    embed_seconds: float
    cluster_seconds: float
    oracle_cut: float = 0.0
    oracle: Scores | None = None
    conflicts: list[tuple[str, list[str]]] = field(default_factory=list)
    alike: list[AlikeStories] = field(default_factory=list)
    ceiling: float = 1.0     # pairwise F1 with the alike stories merged and every other row right


def evaluate(path: str | Path, text_columns: Sequence[str], label_column: str, embedder: Embedder,
             settings: ClusterSettings | None = None) -> Report:
    rows = read_csv(path, text_columns, label_column)
    items = rows_to_items(rows, date(2000, 1, 1))
    texts = [item_text(i) for i in items]
    t0 = time.perf_counter()
    vectors = embedder.encode(texts)
    t1 = time.perf_counter()
    ours = cluster_labels(items, vectors, settings)
    t2 = time.perf_counter()
    base = baseline_labels(texts)
    cut, oracle = best_baseline(texts, rows.labels)
    alike = alike_stories(vectors, rows.labels)
    return Report(len(items), len(set(rows.labels)), scores(ours, rows.labels), scores(base, rows.labels),
                  rows.skipped, t1 - t0, t2 - t1, cut, oracle, conflicting_labels(rows), alike,
                  merged_ceiling(rows.labels, alike))
