"""Dedup stage: canonical URLs, content hashes, exact and near-duplicate marking.

Two reports are the same item when their canonical URLs match (tracking
parameters, fragments and host case stripped) or when their normalised
title and text hash the same. A report is a near-duplicate of another when
their texts share most of their shingles (MinHash, below): a syndicated or
reposted copy at another URL. Translations and close rewrites in another
language are found by embedding similarity in the cluster stage, which keeps
them (each language's edition wants its own) but always puts them in one story.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import unicodedata
import zlib
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import numpy as np

from ..ids import canonical_url
from ..records import Item, authority_rank

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger(__name__)


def exact_duplicates(items: Iterable[Item]) -> dict[str, str]:
    """Map each item id whose content repeats an earlier item to that item's id."""
    first: dict[str, str] = {}
    dupes: dict[str, str] = {}
    for item in sorted(items, key=lambda i: (i.published is None, i.published, i.id)):
        if not item.content_hash:
            continue
        if item.content_hash in first and first[item.content_hash] != item.id:
            dupes[item.id] = first[item.content_hash]
        else:
            first.setdefault(item.content_hash, item.id)
    return dupes


# -- the page of one article -----------------------------------------------------------------------------------
# A path segment that names no article: a site's home page under another name, or a language's home.
_HOME_SEGMENTS = frozenset({"index", "index.html", "index.htm", "index.php", "home", "default.aspx", "en", "en-us",
                            "en-gb", "zh", "zh-cn"})
# Code hosts: a page of one repo or model is "owner/name"; a shorter path is the host's own (trending, an owner).
CODE_HOSTS = frozenset({"github.com", "gitlab.com", "huggingface.co", "codeberg.org"})


def article_page(url: str) -> str:
    """The canonical URL of the article a link names, or "" when it names none: a bare domain or a site's home
    page ("example.com/", "/index.html", "/en/"), or a code host's own pages ("github.com/trending", an owner's
    "github.com/openai"). Two posts of a home page are no evidence of one event."""
    canonical = canonical_url(url)
    parts = urlsplit(canonical)
    if not parts.hostname:
        return ""
    segments = [p for p in parts.path.split("/") if p and p.casefold() not in _HOME_SEGMENTS]
    if parts.query:
        return canonical
    host = parts.hostname.removeprefix("www.")
    return canonical if len(segments) >= (2 if host in CODE_HOSTS else 1) else ""


# -- near-duplicates: MinHash over shingles that handle Chinese ---------------------------------------------
#
# A text becomes tokens: every CJK character is a token of its own, every run of Latin letters or digits is
# one. Shingles are runs of three tokens, so Chinese gets character trigrams and English word trigrams, and
# mixed text ("Meta 与 CoreWeave 签下") both. Shingles are hashed with CRC32 and MinHashed with NUM_PERM
# universal hash functions; LSH banding finds candidate pairs, and the estimated Jaccard similarity decides.

_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff]|[^\W_]+", re.UNICODE)
NUM_PERM = 128
BANDS = 32                       # 32 bands of 4 rows: pairs above ~0.42 Jaccard become candidates
_PRIME = np.uint64((1 << 61) - 1)
_MAX32 = np.uint64(0xFFFFFFFF)
_rng = np.random.RandomState(1)  # fixed seed: signatures are stable across runs and machines
_PERM_A = _rng.randint(1, 1 << 32, size=NUM_PERM, dtype=np.uint64)
_PERM_B = _rng.randint(0, 1 << 32, size=NUM_PERM, dtype=np.uint64)


def tokens(text: str) -> list[str]:
    """Case-folded tokens: one per CJK character, one per Latin word or number."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def shingles(text: str, n: int = 3) -> set[str]:
    """Runs of `n` tokens (character n-grams for Chinese, word n-grams for Latin script)."""
    toks = tokens(text)
    if len(toks) <= n:
        return {" ".join(toks)} if toks else set()
    return {" ".join(toks[i : i + n]) for i in range(len(toks) - n + 1)}


def minhash(text: str) -> np.ndarray:
    """The MinHash signature (NUM_PERM uint32 values) of a text's shingles."""
    return minhash_many([text])[0]


_S61 = np.uint64(61)


def minhash_many(texts: list[str], chunk: int = 16) -> np.ndarray:
    """MinHash signatures of many texts at once, one row each.

    Each shingle's CRC32 h becomes (a·h + b) mod p for every permutation, p = 2^61 - 1 (a, b, h < 2^32; the
    uint64 product may wrap, deterministically). The modulo is Mersenne folding, x mod p = (x & p) + (x >> 61)
    less p once, since 2^61 = 1 mod p: the same values as ``%`` at a tenth of its cost. A few texts at a time,
    computed in place in two buffers that grow as needed and are reused (no fresh array per step), and each
    text's minimum a plain ``min`` over its rows: measured, half the CPU of fresh arrays per chunk."""
    out = np.full((len(texts), NUM_PERM), 0xFFFFFFFF, dtype=np.uint32)
    buf = np.empty((0, NUM_PERM), dtype=np.uint64)
    tmp = buf
    for start in range(0, len(texts), chunk):
        hashes: list[int] = []
        ends: list[int] = []
        for text in texts[start : start + chunk]:
            hashes.extend(zlib.crc32(s.encode("utf-8")) for s in shingles(text))
            ends.append(len(hashes))
        if not hashes:
            continue
        if len(hashes) > len(buf):
            buf = np.empty((max(len(hashes), 2 * len(buf)), NUM_PERM), dtype=np.uint64)
            tmp = np.empty_like(buf)
        x, t = buf[: len(hashes)], tmp[: len(hashes)]
        np.multiply(np.array(hashes, dtype=np.uint64)[:, None], _PERM_A[None, :], out=x)
        x += _PERM_B[None, :]
        np.right_shift(x, _S61, out=t)
        x &= _PRIME
        x += t  # folded: (x & p) + (x >> 61)
        np.subtract(x, _PRIME, out=t)
        np.minimum(x, t, out=x)  # less p once where it is >= p (else it wraps high)
        x &= _MAX32
        lo = 0
        for row, hi in enumerate(ends, start=start):
            if hi > lo:
                out[row] = x[lo:hi].min(axis=0)
            lo = hi
    return out


PARALLEL_MIN = 2000  # texts from which signing is split over worker processes (below it, starting them costs more)


def sign_texts(texts: list[str], workers: int | None = None, parallel_min: int = PARALLEL_MIN) -> np.ndarray:
    """``minhash_many``, split over one process per core for a big batch (a first fetch of thousands of items):
    the same rows, in the same order. A pool that cannot start or dies leaves the work to this process."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers < 2 or len(texts) < parallel_min or multiprocessing.current_process().daemon:  # a daemon has no children
        return minhash_many(texts)
    step = -(-len(texts) // workers)
    parts = [texts[k : k + step] for k in range(0, len(texts), step)]
    try:
        with ProcessPoolExecutor(len(parts), mp_context=multiprocessing.get_context("spawn")) as pool:
            return np.vstack(list(pool.map(minhash_many, parts)))
    except (BrokenProcessPool, OSError) as exc:
        log.warning("the signing processes stopped (%s); signing in this process", exc)
        return minhash_many(texts)


def band_keys(sigs: np.ndarray) -> np.ndarray:
    """One 64-bit key per LSH band of each signature (rows x BANDS): equal bands give equal keys."""
    rows = NUM_PERM // BANDS
    mix = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5,
                    0x85EBCA77C2B2AE63, 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB],
                   dtype=np.uint64)[:rows]
    with np.errstate(over="ignore"):
        return (sigs.astype(np.uint64).reshape(len(sigs), BANDS, rows) * mix).sum(axis=2)


def jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """The Jaccard similarity two signatures estimate."""
    return float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)


def dedup_text(item: Item) -> str:
    """What near-duplicate detection compares: the title and the whole text."""
    return f"{item.title}\n{item.body}"


@dataclass(slots=True)
class NearDuplicate:
    item_id: str
    of: str
    similarity: float


def _original_key(item: Item) -> tuple:
    when = item.published or item.fetched
    return (when is None, when.isoformat() if when else "", authority_rank(item.tier), item.id)




def near_duplicates(new: list[Item], signatures: dict[str, np.ndarray], pool: list[Item] | None = None,
                    threshold: float = 0.5) -> list[NearDuplicate]:
    """Items of `new` whose text nearly repeats an earlier item (of `new` or of `pool`), in the same language.

    The original is the earliest report (then the more authoritative tier, then the smaller id); a copy
    points at it. A translation is not a near-duplicate here: it stays, for the other language's edition,
    and the embedding link in the cluster stage puts it in the original's story.
    """
    everyone = {i.id: i for i in [*(pool or []), *new]}
    ordered = sorted((i for i in everyone.values() if i.id in signatures), key=_original_key)
    if not ordered:
        return []
    all_keys = band_keys(np.vstack([signatures[i.id] for i in ordered]))
    shared = _shared_bands(all_keys)
    buckets: dict[tuple[int, int], list[str]] = {}
    new_ids = {i.id for i in new}
    found: dict[str, NearDuplicate] = {}
    # Only an item with a band some other item has too can match or be matched: the walk skips the rest.
    for row in np.flatnonzero(shared.any(axis=1)).tolist():
        item = ordered[row]
        sig = signatures[item.id]
        keys = [(band, int(all_keys[row, band])) for band in np.flatnonzero(shared[row]).tolist()]
        if item.id in new_ids:
            seen: set[str] = set()
            best: tuple[float, str] | None = None
            for key in keys:
                for other in buckets.get(key, ()):
                    if other in seen:
                        continue
                    seen.add(other)
                    if everyone[other].language != item.language:
                        continue
                    sim = jaccard(sig, signatures[other])
                    if sim >= threshold and (best is None or sim > best[0]):
                        best = (sim, other)
            if best is not None:
                root = found[best[1]].of if best[1] in found else best[1]
                found[item.id] = NearDuplicate(item.id, root, round(best[0], 4))
                continue  # a copy is not itself indexed: later copies match the original
        for key in keys:
            buckets.setdefault(key, []).append(item.id)
    return sorted(found.values(), key=lambda d: d.item_id)


def _shared_bands(keys: np.ndarray) -> np.ndarray:
    """rows x BANDS booleans: whether another row has the same key in that band (sorting, not a Python walk)."""
    n, bands = keys.shape
    flat = keys.ravel()
    band = np.tile(np.arange(bands), n)
    order = np.lexsort((flat, band))
    keys_sorted, bands_sorted = flat[order], band[order]
    same = (keys_sorted[1:] == keys_sorted[:-1]) & (bands_sorted[1:] == bands_sorted[:-1])
    grouped = np.zeros(len(flat), dtype=bool)
    grouped[:-1] |= same
    grouped[1:] |= same
    out = np.zeros(len(flat), dtype=bool)
    out[order] = grouped
    return out.reshape(n, bands)


def mark_near_duplicates(store: Store, new: list[Item], window_days: int = 3,
                         threshold: float = 0.5) -> list[NearDuplicate]:
    """Find near-duplicates of the new items among themselves and the stored items of the days around them,
    mark them in the store, and return them. Each item's signature is computed once and stored."""
    new = [i for i in new if i.duplicate_of is None]
    if not new:
        return []
    times = [t for t in (i.published or i.fetched for i in new) if t is not None]
    pool: list[Item] = []
    if times:
        pool = store.items_between(min(times) - timedelta(days=window_days), max(times) + timedelta(days=window_days))
    everyone = {i.id: i for i in [*pool, *new]}
    sigs = store.signatures(list(everyone))
    todo = [i for i in everyone.values() if i.id not in sigs]
    missing = dict(zip([i.id for i in todo], sign_texts([dedup_text(i) for i in todo]), strict=True))
    if missing:
        store.put_signatures(missing)
        sigs.update(missing)
    new_ids = {i.id for i in new}
    found = near_duplicates([i for i in everyone.values() if i.id in new_ids], sigs,
                            [i for i in everyone.values() if i.id not in new_ids], threshold)
    store.mark_duplicates({d.item_id: d.of for d in found})
    return found


def dedup_new(store: Store, new: list[Item]) -> dict[str, int]:
    """The dedup stage on a fetch's new items: exact copies among them, then copies of what the store already
    holds (the same content hash under an older id), then near copies. Each is marked in the store."""
    exact = exact_duplicates(new)
    marked = dict(exact)
    rest = [i for i in new if i.id not in exact]
    holders = store.ids_by_hash(i.content_hash for i in rest)  # one query per 500 hashes, not one per item
    for item in rest:
        # the earliest stored item with the same content that is no copy itself (nor became one just now)
        earlier = next((h for h in holders.get(item.content_hash, ()) if h != item.id and h not in marked), None)
        if earlier and earlier < item.id:
            marked[item.id] = earlier
    for item_id, of in marked.items():  # a copy points at the original, never at another copy
        while of in marked:
            of = marked[of]
        marked[item_id] = of
    store.mark_duplicates(marked)
    near = mark_near_duplicates(store, [i for i in new if i.id not in marked])
    return {"duplicates": len(marked), "near_duplicates": len(near)}
