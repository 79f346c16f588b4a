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
a ``FeedFetch``. It raises ``SourceError`` subclasses with a message that names
the cause and the fix; anything else it raises is caught by the orchestrator.

Third-party kinds register the same way the built-ins do: an entry point in the
``dailybrief.sources`` group that names a kind object (or class), or a call to
``register``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from .. import plugins
from ..errors import FetchError

if TYPE_CHECKING:
    from ..fetch import Fetcher, Response
    from ..records import Comment, Item, Source

log = logging.getLogger(__name__)

__all__ = [
    "KINDS", "BaseKind", "FeedFetch", "KindOptions", "SourceKind", "arxiv", "check_status", "feed", "get", "github",
    "hackernews", "names", "reddit", "register", "webpage",
]


class KindOptions(BaseModel):
    """Base of a kind's own [[sources]] keys; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


@dataclass(slots=True)
class FeedFetch:
    """What a kind returns: items, the HTTP status of the main request, and validators for next time."""

    items: list[Item]
    status: int
    etag: str | None = None
    last_modified: str | None = None
    warnings: list[str] = field(default_factory=list)
    cache: dict[str, dict[str, str]] = field(default_factory=dict)  # url -> {etag, last_modified}


@runtime_checkable
class SourceKind(Protocol):
    """One kind of source: turns a configured Source into Items."""

    name: str
    default_url: str  # used when [[sources]] gives no url; "" means url is required
    default_tier: str
    Options: type[KindOptions]

    def identity(self, url: str, options: dict[str, Any]) -> str:
        """What makes two configured sources the same one (beyond kind and url)."""
        ...

    async def fetch(self, fetcher: Fetcher, source: Source, state: dict[str, Any]) -> FeedFetch: ...

    async def comments(self, fetcher: Fetcher, source: Source, item: Item, limit: int) -> list[Comment]:
        """The top comments of one item of this source (an empty list when the kind has none)."""
        ...


class BaseKind:
    """Defaults for a kind; subclasses set the names and write ``fetch``."""

    name: ClassVar[str] = ""
    default_url: ClassVar[str] = ""
    default_tier: ClassVar[str] = "press"
    Options: ClassVar[type[KindOptions]] = KindOptions
    identity_keys: ClassVar[tuple[str, ...]] = ()  # options that change *what* is fetched

    def identity(self, url: str, options: dict[str, Any]) -> str:
        parts = [f"{k}={options[k]!r}" for k in self.identity_keys if options.get(k) not in (None, "", [])]
        return "&".join(parts)

    def options(self, source: Source) -> Any:
        """The source's options as this kind's validated model."""
        return self.Options.model_validate(source.options or {})

    async def fetch(self, fetcher: Fetcher, source: Source, state: dict[str, Any]) -> FeedFetch:
        raise NotImplementedError

    async def comments(self, fetcher: Fetcher, source: Source, item: Item, limit: int) -> list[Comment]:
        return []


_HINTS = {
    400: "the server rejected the request; check the URL and the source's options",
    401: "the host wants credentials; this source needs a feed that is public or a bridge",
    403: "the host refuses us; check the user agent, or read it through a feed bridge",
    404: "not found: the feed or page moved, or the URL is wrong",
    410: "the feed is gone; remove the source",
    429: "rate limited even after waiting as asked; fetch less often",
}


def check_status(resp: Response, what: str = "") -> None:
    """Raise a FetchError naming the status and the fix, for any status that is not a success."""
    if resp.status < 400:
        return
    hint = _HINTS.get(resp.status) or ("the server failed even after retries; try again later"
                                       if resp.status >= 500 else "the request failed")
    asked = getattr(resp, "retry_after", None)
    if asked is not None:
        hint = (f"the server asks us to wait {asked:.0f} s, longer than [fetch].max_retry_after; "
                "fetch less often or raise that key")
    raise FetchError(f"{what + ': ' if what else ''}HTTP {resp.status} ({hint})")


KINDS: dict[str, SourceKind] = {}
_plugins_loaded = False


def register(kind: Any) -> Any:
    """Register a kind (an object or a class, which is instantiated) under its name; returns it."""
    obj = kind() if isinstance(kind, type) else kind
    if not getattr(obj, "name", ""):
        raise ValueError(f"source kind {kind!r} has no name")
    KINDS[obj.name] = obj
    return kind


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    plugins.load(plugins.SOURCES, None, lambda _name, kind: register(kind))


def get(name: str) -> SourceKind | None:
    _load_plugins()
    return KINDS.get(name)


def names() -> list[str]:
    _load_plugins()
    return list(KINDS)


# The built-in kinds register themselves on import, exactly as a plugin would.
from . import arxiv, feed, github, hackernews, reddit, webpage  # noqa: E402
