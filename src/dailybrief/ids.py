"""Identities: canonical URLs and the content hashes that name sources and items.

Records, store, ingest and dedup all key by these, so they sit in the core, below every stage.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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


def split_story_id(item_id: str) -> str:
    """The story of an item an editor split off its story (never the id clustering gives a story of its own)."""
    return content_hash("story", "split", item_id)


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


def item_id(canonical: str, source_id: str, title: str, published: object, thread: str = "") -> str:
    """An item's id: its page's canonical URL, or for a community post about an article its `thread` (the
    discussion is the post; keyed by the article it would be the press source's item, and one of the two lost)."""
    key = canonical_url(thread) if thread else canonical
    return content_hash("url", key) if key else content_hash("item", source_id, title, published)


def text_hash(title: str, body: str) -> str:
    return content_hash("text", normalise(title), normalise(body))


def passage_id(item_id: str, comment: int = 0) -> str:
    """The id of one passage of an item, as a sentence names its evidence: the item's own id for its article,
    ``<item id>#c<N>`` for its N-th comment (1-based, in the item's order)."""
    return f"{item_id}#c{comment}" if comment else item_id


def figures_id(item_id: str) -> str:
    """The id of a thread's figures passage (its points and comment count, grounding.Passage.thread)."""
    return f"{item_id}#figures"


def passage_item(passage: str) -> str:
    """The item a passage id belongs to."""
    return passage.split("#", 1)[0]
