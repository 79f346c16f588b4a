"""`dailybrief eval cluster`: the metrics, bad input, and pinned quality floors on the shared eval data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import SHARED
from dailybrief.cli import main
from dailybrief.evals.cluster import alike_stories, bcubed, merged_ceiling, pairwise, scores

UCI = SHARED / "eval-data" / "uci-news-aggregator-sample" / "uci-news-dev.csv"
MULTILING = SHARED / "eval-data" / "multiling2011-en-sample" / "documents.jsonl"


def test_pairwise_and_bcubed_by_hand() -> None:
    pred, gold = [0, 0, 1, 1], ["a", "a", "a", "b"]
    p, r, f = pairwise(pred, gold)
    assert (p, round(r, 4), round(f, 4)) == (0.5, 0.3333, 0.4)
    bp, br, bf = bcubed(pred, gold)
    assert (bp, round(br, 4), round(bf, 4)) == (0.75, 0.6667, 0.7059)
    perfect = scores([7, 7, 3], ["x", "x", "y"])
    assert perfect.pairwise_f1 == perfect.bcubed_f1 == perfect.ari == 1.0 and perfect.clusters == 2
    assert scores([1, 2, 3, 4], ["a", "a", "b", "b"]).pairwise_f1 == 0.0


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


ROWS = [
    {"headline": "Anthropic keeps its Mythos model from the public over hacking risk", "story": "mythos"},
    {"headline": "Anthropic 新模型 Mythos 漏洞挖掘能力太强，不对公众发布", "story": "mythos"},
    {"headline": "Anthropic restricts Mythos to eleven organisations", "story": "mythos"},
    {"headline": "Meta signs $21 billion AI infrastructure deal with CoreWeave", "story": "coreweave"},
    {"headline": "Meta 与 CoreWeave 签下 210 亿美元 AI 基础设施协议", "story": "coreweave"},
    {"headline": "Starfall Tactics review: a turn-based strategy game worth the wait", "story": "game"},
    {"headline": "", "story": "empty"},
    {"headline": "A row without a label", "story": ""},
]


def test_eval_cluster_prints_scores_beside_the_baseline(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "mini.csv", ROWS)
    result = CliRunner().invoke(main, ["eval", "cluster", str(path), "--text-column", "headline",
                                       "--label-column", "story"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1] == "pairwise_f1=1.0000"
    assert "6 rows, 3 gold clusters" in result.output
    assert "1 rows with an empty 'headline' were skipped (lines 8)" in result.output
    assert "1 rows with an empty 'story' were skipped (lines 9)" in result.output
    assert any(line.startswith("TF-IDF + agglomerative") for line in lines)
    ours = next(line for line in lines if line.startswith("dailybrief"))
    assert ours.split()[-8] == "3"  # clusters


def test_eval_cluster_warns_of_one_text_under_two_gold_labels(tmp_path: Path) -> None:
    rows = [r for r in ROWS if r["headline"] and r["story"]]
    path = write_csv(tmp_path / "noisy.csv", [*rows, {"headline": rows[0]["headline"].upper(), "story": "other"}])
    result = CliRunner().invoke(main, ["eval", "cluster", str(path), "--text-column", "headline",
                                       "--label-column", "story"])
    assert result.exit_code == 0, result.output
    assert "1 texts occur under more than one gold label" in result.output
    assert f"under {rows[0]['story']}, other" in result.output
    clean = CliRunner().invoke(main, ["eval", "cluster", str(write_csv(tmp_path / "clean.csv", rows)),
                                      "--text-column", "headline", "--label-column", "story"])
    assert "occur under" not in clean.output


def test_gold_stories_as_alike_across_as_within_are_found_and_cap_the_score() -> None:
    rng = np.random.default_rng(3)

    def near(axis: int, n: int) -> np.ndarray:
        v = np.eye(8)[axis] + 0.15 * rng.standard_normal((n, 8))
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    vectors = np.vstack([near(0, 2), near(0, 2), near(1, 2)])  # A and B tell one event; C another
    labels = ["A", "A", "B", "B", "C", "C"]
    [pair] = alike_stories(vectors, labels)
    assert (pair.a, pair.b) == ("A", "B") and pair.between >= min(pair.within)
    # A and B as one story: 7 pairs predicted, 3 of them right, all 3 found -> P 3/7, R 1, F1 0.6.
    assert merged_ceiling(labels, [pair]) == pytest.approx(0.6)
    assert alike_stories(np.vstack([near(0, 2), near(1, 2), near(2, 2)]), labels) == []
    assert merged_ceiling(labels, []) == 1.0


def test_eval_cluster_names_a_missing_column_and_the_ones_there_are(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "mini.csv", ROWS)
    result = CliRunner().invoke(main, ["eval", "cluster", str(path), "--text-column", "TITLE",
                                       "--label-column", "story"])
    assert result.exit_code == 1
    assert "has no column 'TITLE'" in result.output and "headline, story" in result.output
    missing = CliRunner().invoke(main, ["eval", "cluster", str(tmp_path / "nope.csv"), "--text-column", "a",
                                        "--label-column", "b"])
    assert missing.exit_code == 1 and "does not exist" in missing.output


def _f1(output: str) -> float:
    last = output.strip().splitlines()[-1]
    assert last.startswith("pairwise_f1=")
    return float(last.split("=")[1])


@pytest.mark.skipif(not UCI.exists(), reason="needs ../shared/eval-data")
def test_uci_development_half_holds_its_floor() -> None:
    result = CliRunner().invoke(main, ["eval", "cluster", str(UCI), "--text-column", "TITLE", "--label-column", "STORY"])
    assert result.exit_code == 0, result.output
    assert "519 rows, 9 gold clusters" in result.output
    baseline = next(line for line in result.output.splitlines() if line.startswith("TF-IDF"))
    assert _f1(result.output) >= 0.85 > float(baseline.split()[-5])  # pinned floor (0.870 when pinned); beats the baseline
    # Two of its gold stories are one market event by similarity (and share a headline): that caps any score.
    flat = " ".join(result.output.split())
    assert "gold stories dJbOm1zHMJJGWuMjXPV4nRnytnmrM and dchKRTV8vDviyCMH_lfUDTuFThh_M are as alike" in flat
    assert "pairwise F1 would be 0.9309" in flat


@pytest.mark.skipif(not MULTILING.exists(), reason="needs ../shared/eval-data")
def test_multiling_clusters_hold_their_floor(tmp_path: Path) -> None:
    rows = []
    for line in MULTILING.read_text("utf-8").splitlines():
        topic = json.loads(line)
        for doc in topic["documents"]:
            rows.append({"title": doc["text"][0], "text": " ".join(doc["text"][1:]), "topic": topic["instance_id"]})
    path = write_csv(tmp_path / "multiling.csv", rows)
    result = CliRunner().invoke(main, ["eval", "cluster", str(path), "--text-column", "title", "--text-column", "text",
                                       "--label-column", "topic"])
    assert result.exit_code == 0, result.output
    assert "30 rows, 3 gold clusters" in result.output
    assert _f1(result.output) >= 0.8  # pinned floor (0.831 when pinned)
