"""Embeddings: offline (no network at run time), multilingual, from title and lead, each item embedded once."""

from __future__ import annotations

import os
import signal
import socket
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from dailybrief.records import Item
from dailybrief.store import Store
from dailybrief.stories.embed import LEAD_BUDGET, TITLE_CHARS, USEEmbedder, embed_items, item_text, lead

PAIRS = [
    ("Meta signs a $21 billion AI infrastructure deal with CoreWeave", "Meta 与 CoreWeave 签下 210 亿美元 AI 基础设施协议"),
    ("OpenAI publishes a child safety blueprint", "OpenAI 发布儿童安全蓝图"),
    ("Google DeepMind proposes a framework for measuring progress toward AGI", "谷歌 DeepMind 提出衡量 AGI 进展的框架"),
    ("A liquid cooling retrofit cut the data centre's energy use", "数据中心完成液冷改造，能耗明显下降"),
    ("The new phone has a 6.8-inch screen and a large battery", "这款新手机配备 6.8 英寸屏幕和大容量电池"),
]


def test_the_model_runs_with_the_network_off(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the embedder tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    vecs = USEEmbedder().encode(["a sentence", "一句话"])
    assert vecs.shape == (2, 512) and np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-4)


def test_english_and_chinese_translations_are_each_others_nearest() -> None:
    model = USEEmbedder()
    en = model.encode([e for e, _ in PAIRS])
    zh = model.encode([z for _, z in PAIRS])
    sims = en @ zh.T
    assert list(sims.argmax(axis=1)) == list(range(len(PAIRS)))
    assert list(sims.argmax(axis=0)) == list(range(len(PAIRS)))


# One-thread workers and the two-thread in-process path sum in a different order (a BLAS splits its dot products by
# thread count), so float32 vectors may differ in their last bits (up to 2e-7 was seen on another machine). That is
# rounding, not a different answer: compare to a tolerance 100x the rounding and 1000x below any similarity cut.
SAME_VECTOR = 1e-5


def _same(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=0, atol=SAME_VECTOR)


def test_large_batches_are_encoded_by_worker_processes_with_the_same_vectors() -> None:
    texts = [f"{e} ({n})" for n in range(6) for e, _ in PAIRS] + [z for _, z in PAIRS]
    alone = USEEmbedder(workers=1).encode(texts)
    assert np.abs(alone[0] - alone[1]).max() > 100 * SAME_VECTOR  # the tolerance is far below what tells texts apart
    parallel = USEEmbedder(workers=2, parallel_min=10)
    try:
        together = parallel.encode(texts)
        assert parallel._pool is not None  # the batch really went to the workers
        _same(together, alone)
        # A worker that dies mid-run costs nothing: the batch is encoded here and the answer is the same.
        for proc in list(parallel._pool._processes.values()):
            os.kill(proc.pid, signal.SIGKILL)
            proc.join()
        _same(parallel.encode(texts), alone)
        assert parallel.workers == 1 and parallel._pool is None
    finally:
        parallel.close()


def test_lead_is_the_opening_within_a_budget_where_chinese_counts_more() -> None:
    en = "First sentence is here. Second sentence follows it. " * 5
    assert 120 < len(lead(en)) <= 160 and lead(en).endswith("it.") and en.startswith(lead(en))  # whole sentences
    long = "word " * 100
    assert len(lead(long)) <= 160 and lead(long).endswith("word")  # one long sentence is clipped at a word
    zh = "这是第一句话，讲的是新模型。" * 10
    cost = sum(3 if "\u4e00" <= ch <= "\u9fff" else 1 for ch in lead(zh))
    assert 120 < cost <= 160 and lead(zh).endswith("。") and zh.startswith(lead(zh))
    assert lead("") == ""
    item = Item(id="i", source_id="s", source_name="S", tier="press", url="", canonical_url="",
                title="Title", text="Body one. Body two.")
    assert item_text(item) == "Title. Body one. Body two."


class Counting:
    name = "counting"

    def __init__(self) -> None:
        self.texts: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.texts.extend(texts)
        rng = np.random.default_rng(len(self.texts))
        v = rng.standard_normal((len(texts), 8)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_each_item_is_embedded_once_and_cached_in_the_store(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "d.db")
    items = [Item(id=f"i{n}", source_id="s", source_name="S", tier="press", url="", canonical_url="",
                  title=f"Title {n}", published=datetime(2026, 4, 10, tzinfo=timezone.utc)) for n in range(3)]
    model = Counting()
    first = embed_items(items[:2], model, store)
    again = embed_items(items, model, store)
    assert model.texts == ["Title 0", "Title 1", "Title 2"]  # the first two came from the store
    assert np.array_equal(first, again[:2])
    store.close()
    reopened = Store.open(tmp_path / "d.db")
    assert np.array_equal(embed_items(items, model, reopened), again) and len(model.texts) == 3


def test_what_an_item_is_embedded_from_is_short_whatever_the_item_holds() -> None:
    item = Item(id="i", source_id="s", source_name="S", tier="press", url="", canonical_url="",
                title="Headline " * 11_000, text="A sentence of the body. " * 4_000)  # ~100,000 characters each
    assert len(item_text(item)) <= TITLE_CHARS + 2 + 2 * LEAD_BUDGET
    normal = Item(id="j", source_id="s", source_name="S", tier="press", url="", canonical_url="",
                  title="A real headline of a normal length", text="Body.")
    assert item_text(normal) == "A real headline of a normal length. Body."  # real titles are embedded whole
