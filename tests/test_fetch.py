"""The fetch stage against real local servers, including ones that misbehave on purpose."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from conftest import COMMENTS, GOOD, closed_port
from dailybrief.fetch import FetchSettings, fetch_sources
from dailybrief.records import Source

SETTINGS = FetchSettings(timeout=1.5, connect_timeout=1.0, max_bytes=100_000)


def fetch(*sources: Source, states: dict | None = None):
    return asyncio.run(fetch_sources(list(sources), SETTINGS, states or {}))


def test_parses_items_engagement_and_comment_feeds(feed_dir: Path, feed_server: str) -> None:
    (feed_dir / "comments").mkdir()
    (feed_dir / "f.xml").write_text(GOOD, "utf-8")
    (feed_dir / "comments" / "t1.xml").write_text(COMMENTS, "utf-8")
    src = Source("Good", "rss", f"{feed_server}/f.xml", tier="community")
    [(result, _)] = fetch(src)
    assert result.error == "" and len(result.items) == 2
    first, second = result.items
    assert first.canonical_url == "https://a.example/1"  # tracking parameter stripped
    assert "alert" not in first.summary and "blueprint" in first.summary
    assert second.points == 412 and second.comment_count == 318
    assert "Points" not in second.summary  # aggregator furniture is not text
    assert second.comments_url == f"{feed_server}/comments/t1.xml"
    assert [c.text for c in second.comments] == [
        "I disagree with this take entirely, it is hype.", "This is a real step forward for defenders."]


@pytest.mark.parametrize(("path", "cause"), [
    ("/error", "HTTP 500"),
    ("/notfeed", "not a readable feed"),
    ("/html", "HTML"),
    ("/big", "max_bytes"),
    ("/loop", "redirects"),
    ("/missing", "HTTP 404"),
])
def test_each_bad_answer_is_named(bad_server: str, path: str, cause: str) -> None:
    [(result, _)] = fetch(Source("bad", "rss", bad_server + path))
    assert cause in result.error
    assert result.items == []


def test_slow_host_times_out_without_stalling_others(bad_server: str, feed_dir: Path, feed_server: str) -> None:
    (feed_dir / "f.xml").write_text(GOOD, "utf-8")
    start = time.perf_counter()
    results = fetch(Source("slow", "rss", f"{bad_server}/slow"), Source("good", "rss", f"{feed_server}/f.xml"))
    assert time.perf_counter() - start < 3.5
    (slow, _), (good, _) = results
    assert "no complete answer within 1.5 s" in slow.error
    assert len(good.items) == 2 and not good.error


def test_unreachable_and_reset(bad_server: str) -> None:
    (down, _), (reset, _) = fetch(Source("down", "rss", f"http://127.0.0.1:{closed_port()}/feed"),
                                  Source("reset", "rss", f"{bad_server}/reset"))
    assert "cannot connect" in down.error
    assert reset.error and reset.items == []


def test_conditional_get_uses_stored_etag(bad_server: str) -> None:
    src = Source("etag", "rss", f"{bad_server}/etag")
    [(first, got)] = fetch(src)
    assert got is not None and got.etag == '"v1"' and len(first.items) == 2
    [(second, _)] = fetch(src, states={src.id: {"etag": '"v1"'}})
    assert second.not_modified and second.items == [] and not second.error


def test_unknown_kind_is_an_error_not_a_crash() -> None:
    [(result, _)] = fetch(Source("x", "carrier-pigeon", "http://127.0.0.1:1/"))
    assert "unknown source kind 'carrier-pigeon'" in result.error
