"""The source-kind plugin API: a kind's options, what it returns, its base class and the registry.

The package re-exports it (and ``dailybrief.sources`` under the documented name) and imports the
built-in kinds, which register themselves here exactly as a plugin would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict

from ... import plugins
from ..http import check_status

if TYPE_CHECKING:
    from ...records import Comment, Item, Source
    from ..http import Fetcher
__all__ = ["KINDS", "BaseKind", "FeedFetch", "KindOptions", "SourceKind", "fetch_items", "fetch_parsed", "get",
           "names", "ranked_listing", "register"]

P = TypeVar("P")


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


async def fetch_parsed(fetcher: Fetcher, url: str, state: dict[str, Any], parse: Callable[..., tuple[P, list[str]]],
                       *args: Any, headers: dict[str, str] | None = None) -> tuple[FeedFetch, P | None]:
    """The conditional GET then parse of a kind's document, the one way every kind reads one.

    The GET sends the validators kept in ``state["cache"]`` (ETag, Last-Modified) and keeps the new ones; an
    unchanged document (304) is not parsed, and gives None; an error status raises FetchError naming it and the
    fix. A fresh body is parsed off the event loop by ``parse(body, final url, headers, *args)``, which decodes it
    (its charset warning among the warnings it returns) and returns what it made of it with those warnings.
    Returns the FeedFetch (status, warnings, the validators in its cache; no items yet) and the parse's result.
    """
    cache = state.setdefault("cache", {})
    resp = await fetcher.get(url, headers, cache=cache)
    if resp.status == 304:
        return FeedFetch([], 304, cache=cache), None
    check_status(resp)
    parsed, warnings = await fetcher.cpu(parse, resp.body, resp.url, resp.headers, *args)
    return FeedFetch([], resp.status, warnings=warnings, cache=cache), parsed


async def fetch_items(fetcher: Fetcher, url: str, state: dict[str, Any],
                      parse: Callable[..., tuple[list[Item], list[str]]], *args: Any) -> FeedFetch:
    """`fetch_parsed` for a document that parses into items (a feed, a listing): the FeedFetch with them."""
    result, items = await fetch_parsed(fetcher, url, state, parse, *args)
    result.items = items or []
    return result


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

    def ranked(self, url: str, options: dict[str, Any]) -> bool:
        """Whether a source of this kind lists its items in ranked order by default (a front page, a hot list),
        so that an item's place in the listing says how it stands; a kind that lists by date says no."""
        return False

    async def fetch(self, fetcher: Fetcher, source: Source, state: dict[str, Any]) -> FeedFetch:
        raise NotImplementedError

    async def comments(self, fetcher: Fetcher, source: Source, item: Item, limit: int) -> list[Comment]:
        return []


def ranked_listing(kind: SourceKind, url: str, options: dict[str, Any]) -> bool:
    """A [[sources]] entry's default for ``ranked``: what its kind says (``BaseKind.ranked``); a plugin's kind that
    does not say lists by date."""
    says = getattr(kind, "ranked", None)
    return bool(says(url, options)) if callable(says) else False


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
