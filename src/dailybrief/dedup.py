"""Dedup stage: canonical URLs, content hashes, and exact-duplicate marking.

Two reports are the same item when their canonical URLs match (tracking
parameters, fragments and host case stripped) or when their normalised
title and text hash the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .records import Item
from .text import normalise

TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "hsa_", "vero_", "oly_")
TRACKING_KEYS = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mkt_tok", "_hsenc", "_hsmi", "ref", "ref_src",
    "spm", "from", "share_token", "cmpid", "ncid", "sr_share", "wt.mc_id", "s_cid", "ito", "rss", "feed",
})


def content_hash(*parts: object) -> str:
    """A short stable id from the given parts."""
    h = hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode("utf-8"))
    return h.hexdigest()[:20]


def canonical_url(url: str) -> str:
    """The URL without tracking parameters, fragment, default port or host case."""
    url = url.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    scheme = parts.scheme.lower() or "https"
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    port = parts.port if parts.port and (scheme, parts.port) not in (("http", 80), ("https", 443)) else None
    netloc = f"{host}:{port}" if port else host
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(TRACKING_PREFIXES) and k.lower() not in TRACKING_KEYS
    ]
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    if scheme == "http":
        scheme = "https"  # the same page over http and https is one page
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def item_id(canonical: str, source_id: str, title: str, published: object) -> str:
    return content_hash("url", canonical) if canonical else content_hash("item", source_id, title, published)


def text_hash(title: str, body: str) -> str:
    return content_hash("text", normalise(title), normalise(body))


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
