"""The source-kind registry: built-ins and a third-party kind go through the same door."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dailybrief import config
from dailybrief.errors import ConfigError, FetchError
from dailybrief.ids import canonical_url
from dailybrief.ingest import sources
from dailybrief.ingest.fetch import fetch_sources
from dailybrief.ingest.http import FetchSettings
from dailybrief.ingest.sources.base import BaseKind, FeedFetch, KindOptions
from dailybrief.records import Item, Source


class _Options(KindOptions):
    words: list[str]


class EchoKind(BaseKind):
    """A made-up kind: one item per configured word, or a failure on demand."""

    name = "echo"
    default_url = "https://echo.example/"
    Options = _Options
    identity_keys = ("words",)

    async def fetch(self, fetcher: Any, source: Source, state: dict[str, Any]) -> FeedFetch:
        opts = self.options(source)
        if "fail" in opts.words:
            raise FetchError("asked to fail; remove 'fail' from words")
        return FeedFetch([Item(id=w, source_id=source.id, source_name=source.name, tier=source.tier,
                               url=f"{source.url}{w}", canonical_url=canonical_url(f"{source.url}{w}"), title=w)
                          for w in opts.words], 200)


@pytest.fixture
def echo():
    sources.register(EchoKind)
    yield
    sources.KINDS.pop("echo", None)


def test_built_in_kinds_are_registered() -> None:
    assert {"rss", "hackernews", "reddit", "arxiv", "github", "webpage"} <= set(sources.names())
    assert all(isinstance(sources.get(n), sources.SourceKind) for n in sources.names())


def test_a_registered_kind_is_configured_validated_and_fetched(echo: None) -> None:
    cfg = config.from_dict({"sources": [{"name": "E", "kind": "echo", "words": ["alpha", "beta"]},
                                        {"name": "F", "kind": "echo", "words": ["fail"]}]})
    ok, bad = cfg.enabled_sources()
    assert ok.url == "https://echo.example/" and ok.id != bad.id
    (r1, _), (r2, _) = asyncio.run(fetch_sources([ok, bad], FetchSettings(), {}))
    assert [i.title for i in r1.items] == ["alpha", "beta"]
    assert r2.error == "asked to fail; remove 'fail' from words"
    with pytest.raises(ConfigError) as err:
        config.from_dict({"sources": [{"name": "E", "kind": "echo", "words": "alpha"}]})
    assert err.value.key == "sources[0].words"


def test_a_kind_without_a_name_is_refused() -> None:
    class Nameless(BaseKind):
        pass

    with pytest.raises(ValueError, match="has no name"):
        sources.register(Nameless)
