"""Source kinds: one small interface, registered by name, chosen in config.

    SourceKind ─ name, default_url, default_tier, Options (its own [[sources]] keys)
      ├── rss         RSS 0.9x/1.0/2.0, Atom, RDF and JSON Feed       (feed.py)
      ├── hackernews  Hacker News top stories and their top comments   (hackernews.py)
      ├── reddit      subreddit listings and threads via .rss          (reddit.py)
      ├── arxiv       new papers in chosen categories, arXiv API      (arxiv.py)
      ├── github      release feeds of chosen repositories            (github.py)
      └── webpage     a listing page + a link pattern → articles      (webpage.py)

A kind turns one configured ``Source`` into ``Item`` records. It gets the
shared HTTP client (``fetch.Fetcher``: concurrency limits, retries, conditional
GET, size cap, robots.txt for pages) and the source's stored state, and returns
a ``FeedFetch``; a kind that reads one document (a feed, a listing) does it with ``fetch_items``
(or ``fetch_parsed``): the conditional GET, a 304, the status check and the parse off the event loop,
the same way for every kind. It raises ``SourceError`` subclasses with a message that names
the cause and the fix; anything else it raises is caught by the orchestrator.

Third-party kinds register the same way the built-ins do: an entry point in the
``dailybrief.sources`` group that names a kind object (or class), or a call to
``register``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass
from ..http import check_status
from .base import (
    KINDS,
    BaseKind,
    FeedFetch,
    KindOptions,
    SourceKind,
    fetch_items,
    fetch_parsed,
    get,
    names,
    ranked_listing,
    register,
)

__all__ = [
    "KINDS", "BaseKind", "FeedFetch", "KindOptions", "SourceKind", "arxiv", "check_status", "feed", "fetch_items",
    "fetch_parsed", "get", "github", "hackernews", "names", "ranked_listing", "reddit", "register", "webpage",
]


# The built-in kinds register themselves on import, exactly as a plugin would.
from . import arxiv, feed, github, hackernews, reddit, webpage
