"""Work bounded by the inputs' size, not their content: capped item text, a deadline for the fetch stage,
hosts that keep timing out left alone, and no invisible controls in titles."""

from __future__ import annotations

import asyncio

from dailybrief.ingest.fetch import fetch_sources
from dailybrief.ingest.http import FetchSettings
from dailybrief.records import Source
from helpers import rss
from httpd import hang, serve

SETTINGS = dict(timeout=3, connect_timeout=1, retries=0, respect_robots=False)


def test_a_5_mb_summary_is_capped_at_max_item_chars() -> None:
    huge = "".join(f"Sentence number {n} adds a few more words. " for n in range(120_000))  # 5.4 M characters
    with serve() as srv:
        srv.route("/f.xml", rss("F", [{"title": "Huge", "link": "https://f.example/1", "description": huge}]))
        src = Source("F", "rss", srv.url("/f.xml"))
        [(result, got)] = asyncio.run(fetch_sources([src], FetchSettings(max_item_chars=100_000, **SETTINGS), {}))
    assert not result.error
    [item] = got.items
    assert 50_000 < len(item.summary) <= 100_000 and len(item.text) <= 100_000  # the feed gave a summary only


def test_a_2_mb_title_is_capped_too() -> None:
    with serve() as srv:
        srv.route("/f.xml", rss("F", [{"title": "Breaking " * 250_000, "link": "https://f.example/1",
                                       "description": "A short body."}]))
        [(result, got)] = asyncio.run(fetch_sources([Source("F", "rss", srv.url("/f.xml"))],
                                                    FetchSettings(max_item_chars=100_000, **SETTINGS), {}))
    assert not result.error
    [item] = got.items
    assert 50_000 < len(item.title) <= 100_000


def test_bidi_overrides_and_zero_width_characters_leave_titles_and_text() -> None:
    title = "Invoice\u202egpj.exe\u202c for \u200bOpen\u200dAI\ufeff \u2066isolated\u2069"
    with serve() as srv:
        srv.route("/f.xml", rss("F", [{"title": title, "link": "https://f.example/1",
                                       "description": "Text with\u200b hidden\u202e marks."}]))
        [(_, got)] = asyncio.run(fetch_sources([Source("F", "rss", srv.url("/f.xml"))],
                                                    FetchSettings(**SETTINGS), {}))
    [item] = got.items
    assert item.title == "Invoicegpj.exe for OpenAI isolated"
    assert "\u200b" not in item.text and "\u202e" not in item.text


def test_a_host_that_keeps_timing_out_is_not_asked_again() -> None:
    with serve() as srv:
        srv.route("/slow.xml", hang(10))
        sources = [Source(f"S{n}", "rss", srv.url(f"/slow.xml?n={n}")) for n in range(6)]
        settings = FetchSettings(timeout=0.5, connect_timeout=1, retries=0, per_host=1, host_timeouts=2)
        results = asyncio.run(fetch_sources(sources, settings, {}))
        asked = len(srv.hits("/slow.xml"))
    assert asked == 2  # then the host was given up on for this run
    errors = [r.error for r, _ in results]
    assert sum("not asked again" in e for e in errors) == 4
    assert any("timed out 2 times" in n and "[fetch].host_timeouts" in n for r, _ in results for n in r.notes)


def test_the_fetch_stage_has_a_deadline() -> None:
    with serve() as srv:
        srv.route("/slow.xml", hang(10))
        srv.route("/ok.xml", rss("F", [{"title": "Fine", "link": "https://f.example/1", "description": "ok"}]))
        sources = [Source("Slow", "rss", srv.url("/slow.xml")), Source("Ok", "rss", srv.url("/ok.xml"))]
        settings = FetchSettings(timeout=30, connect_timeout=1, retries=0, deadline=1.0)
        (slow, _), (ok, got) = asyncio.run(fetch_sources(sources, settings, {}))
    assert "deadline of 1 s passed" in slow.error and "[fetch].deadline" in slow.error
    assert not ok.error and len(got.items) == 1
