"""The fetch stage against real local servers, including ones that misbehave on purpose."""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
from pathlib import Path

import brotli
import pytest

from conftest import COMMENTS, GOOD, closed_port
from dailybrief.errors import FetchError
from dailybrief.ingest.fetch import fetch_sources
from dailybrief.ingest.http import Fetcher, FetchSettings
from dailybrief.records import Source
from helpers import rss
from httpd import Reply, Streamer, cut_mid_body, hang, reset, serve

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


# -- the HTTP client against a scripted server ----------------------------------------------
FEED = rss("F", [{"title": f"Item {n}", "link": f"https://f.example/{n}", "description": f"Body {n}."} for n in range(3)])


def fetch_with(settings: FetchSettings, *sources: Source, states: dict | None = None):
    return asyncio.run(fetch_sources(list(sources), settings, states or {}))


def client_get(settings: FetchSettings, url: str, **kw):
    async def go():
        f = Fetcher(settings)
        f.trust(url)  # as a configured source's URL is
        try:
            return await f.get(url, **kw)
        finally:
            await f.aclose()
    return asyncio.run(go())


def flaky(failures: int, status: int = 503, headers: dict | None = None):
    """Fail `failures` times with `status`, then serve the feed."""
    count = {"n": 0}

    def fn(req):
        count["n"] += 1
        if count["n"] <= failures:
            return Reply(status, b"busy", headers=headers or {}, content_type="text/plain")
        return Reply(body=FEED.encode())
    return fn


def test_5xx_is_retried_with_backoff_then_succeeds() -> None:
    with serve() as srv:
        srv.route("/feed", flaky(2, 503))
        [(result, _)] = fetch_with(FetchSettings(backoff=0.05), Source("f", "rss", srv.url("/feed")))
        assert not result.error and len(result.items) == 3
        assert len(srv.hits("/feed")) == 3


def test_retries_give_up_and_name_the_status() -> None:
    with serve() as srv:
        srv.route("/feed", flaky(99, 500))
        [(result, _)] = fetch_with(FetchSettings(backoff=0.01, retries=2), Source("f", "rss", srv.url("/feed")))
        assert "HTTP 500" in result.error and "after retries" in result.error
        assert len(srv.hits("/feed")) == 3  # the first try and two retries


def test_429_waits_as_long_as_retry_after_says() -> None:
    with serve() as srv:
        srv.route("/feed", flaky(1, 429, {"Retry-After": "1"}))
        [(result, _)] = fetch_with(FetchSettings(backoff=0.01), Source("f", "rss", srv.url("/feed")))
        first, second = srv.hits("/feed")
        assert not result.error and len(result.items) == 3
        assert second.at - first.at >= 0.95  # honoured, not the 0.01 s backoff


def test_retry_after_beyond_the_cap_fails_at_once() -> None:
    with serve() as srv:
        srv.route("/feed", flaky(99, 429, {"Retry-After": "3600"}))
        start = time.perf_counter()
        [(result, _)] = fetch_with(FetchSettings(max_retry_after=5), Source("f", "rss", srv.url("/feed")))
        assert time.perf_counter() - start < 2
        assert "HTTP 429" in result.error and "3600" in result.error
        assert len(srv.hits("/feed")) == 1


def test_reset_connection_is_retried_then_named() -> None:
    with serve() as srv:
        srv.route("/reset", reset)
        srv.route("/cut", cut_mid_body(FEED.encode()))
        (r1, _), (r2, _) = fetch_with(FetchSettings(backoff=0.01), Source("r", "rss", srv.url("/reset")),
                                      Source("c", "rss", srv.url("/cut")))
        assert "connection broke" in r1.error and "3 times" in r1.error
        assert "connection broke" in r2.error and r2.items == []
        assert len(srv.hits("/reset")) == 3


def test_hanging_host_times_out_and_others_finish() -> None:
    with serve() as srv:
        srv.route("/hang", hang(10))
        srv.route("/ok", FEED)
        start = time.perf_counter()
        (hung, _), (ok, _) = fetch_with(FetchSettings(timeout=1.0, read_timeout=5),
                                        Source("h", "rss", srv.url("/hang")), Source("o", "rss", srv.url("/ok")))
        assert time.perf_counter() - start < 2.5
        assert "no complete answer within 1 s" in hung.error
        assert len(ok.items) == 3


def test_silent_host_hits_the_read_timeout() -> None:
    with serve() as srv:
        srv.route("/hang", hang(10))
        [(result, _)] = fetch_with(FetchSettings(timeout=5, read_timeout=0.5), Source("h", "rss", srv.url("/hang")))
        assert "silent for 0.5 s" in result.error


def test_50_mb_body_is_cut_off_at_the_cap() -> None:
    streamer = Streamer(total=50 * 1024 * 1024)
    with serve() as srv:
        srv.route("/huge", streamer)
        srv.route("/declared", Reply(body=b"x" * 2_000_000))
        (huge, _), (declared, _) = fetch_with(FetchSettings(max_bytes=1_000_000),
                                              Source("h", "rss", srv.url("/huge")),
                                              Source("d", "rss", srv.url("/declared")))
        assert "exceeds [fetch].max_bytes (1,000,000 bytes)" in huge.error
        assert "2,000,000 bytes exceeds" in declared.error
        deadline = time.monotonic() + 5
        while streamer.sent < 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert 0 <= streamer.sent < 20 * 1024 * 1024  # we hung up long before 50 MB


def test_gzip_and_brotli_bodies_are_decoded_and_bombs_capped() -> None:
    with serve() as srv:
        srv.route("/gz", Reply(body=gzip.compress(FEED.encode()), headers={"Content-Encoding": "gzip"}))
        srv.route("/br", Reply(body=brotli.compress(FEED.encode()), headers={"Content-Encoding": "br"}))
        srv.route("/bomb", Reply(body=gzip.compress(b"<rss>" + b" " * 30_000_000), headers={"Content-Encoding": "gzip"}))
        (gz, _), (br, _), (bomb, _) = fetch_with(FetchSettings(max_bytes=1_000_000),
                                                 *(Source(p, "rss", srv.url(f"/{p}")) for p in ("gz", "br", "bomb")))
        assert len(gz.items) == 3 and len(br.items) == 3
        assert "br" in srv.hits("/br")[0].header("accept-encoding")
        assert "max_bytes" in bomb.error


def test_redirects_are_followed_up_to_the_limit() -> None:
    with serve() as srv:
        srv.route("/loop", Reply(302, headers={"Location": "/loop"}))
        srv.route("/hop1", Reply(301, headers={"Location": "/hop2"}))
        srv.route("/hop2", Reply(302, headers={"Location": "/ok"}))
        srv.route("/ok", FEED)
        (loop, _), (hops, _) = fetch_with(FetchSettings(max_redirects=3), Source("l", "rss", srv.url("/loop")),
                                          Source("h", "rss", srv.url("/hop1")))
        assert "too many redirects (more than 3)" in loop.error
        assert len(srv.hits("/loop")) == 4
        assert len(hops.items) == 3


def test_conditional_get_with_last_modified_and_the_user_agent() -> None:
    stamp = "Fri, 10 Apr 2026 08:00:00 GMT"

    def fn(req):
        if req.header("if-modified-since") == stamp:
            return Reply(304)
        return Reply(body=FEED.encode(), headers={"Last-Modified": stamp})

    with serve() as srv:
        srv.route("/feed", fn)
        settings = FetchSettings(user_agent="briefbot/2 (+https://org.example/bot)")
        src = Source("f", "rss", srv.url("/feed"))
        [(first, got)] = fetch_with(settings, src)
        assert got is not None and got.last_modified == stamp and len(first.items) == 3
        assert got.cache == {src.url: {"last_modified": stamp}}
        [(second, _)] = fetch_with(settings, src, states={src.id: {"cache": got.cache}})
        assert second.not_modified and second.items == [] and not second.error
        assert {r.header("user-agent") for r in srv.requests} == {"briefbot/2 (+https://org.example/bot)"}


def test_concurrency_is_bounded_overall_and_per_host() -> None:
    with serve() as a, serve() as b:
        for srv in (a, b):
            for n in range(8):
                srv.route(f"/f{n}", Reply(body=FEED.encode(), delay=0.15))
        sources = [Source(f"{n}", "rss", srv.url(f"/f{n}")) for srv in (a, b) for n in range(8)]
        results = fetch_with(FetchSettings(per_host=2, concurrency=3), *sources)
        assert all(len(r.items) == 3 for r, _ in results)
        assert a.peak <= 2 and b.peak <= 2
        assert a.peak + b.peak >= 3  # both hosts were busy at once
        # the overall bound: never more than 3 requests open at one time across both servers
        spans = sorted([(r.at, 1) for r in a.requests + b.requests] + [(r.at + 0.15, -1) for r in a.requests + b.requests])
        live = peak = 0
        for _, step in spans:
            live += step
            peak = max(peak, live)
        assert peak <= 3 + 1  # +1 for timing jitter at the edges


def test_robots_txt_is_honoured_for_pages() -> None:
    page = "<html><head><title>A page</title></head><body><article><p>Words.</p></article></body></html>"
    with serve() as srv, serve() as down:
        srv.route("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /private/\n\nUser-agent: dailybrief\n"
                                            b"Disallow: /nobots/\n", content_type="text/plain"))
        srv.route("/private/a", Reply(body=page.encode(), content_type="text/html"))
        srv.route("/nobots/a", Reply(body=page.encode(), content_type="text/html"))
        srv.route("/public/a", Reply(body=page.encode(), content_type="text/html"))
        down.route("/robots.txt", Reply(503, b"down", content_type="text/plain"))
        down.route("/a", Reply(body=page.encode(), content_type="text/html"))

        async def go():
            f = Fetcher(FetchSettings(user_agent="dailybrief/0.1 (+https://x.example)", retries=0))
            f.trust(srv.url("/"), down.url("/"))
            try:
                ok = await f.page(srv.url("/public/a"))
                errors = []
                for url in (srv.url("/nobots/a"), down.url("/a")):
                    try:
                        await f.page(url)
                    except FetchError as exc:
                        errors.append(str(exc))
                allowed_private = await f.allowed(srv.url("/private/a"))
                return ok, errors, allowed_private
            finally:
                await f.aclose()

        (final, html), errors, allowed_private = asyncio.run(go())
        assert "Words." in html and final.endswith("/public/a")
        assert "robots.txt disallows /nobots/a" in errors[0]
        assert "robots.txt answered HTTP 503" in errors[1]
        assert allowed_private == (True, "")  # the dailybrief group replaces the * group for us
        assert not srv.hits("/nobots/a") and not down.hits("/a")
        assert len(srv.hits("/robots.txt")) == 1  # read once per host


def test_robots_can_be_switched_off() -> None:
    with serve() as srv:
        srv.route("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /\n", content_type="text/plain"))
        srv.route("/a", Reply(body=b"<html><body><p>x</p></body></html>", content_type="text/html"))
        _, html = client_page(FetchSettings(respect_robots=False), srv.url("/a"))
        assert "<p>x</p>" in html and not srv.hits("/robots.txt")


def client_page(settings: FetchSettings, url: str):
    async def go():
        f = Fetcher(settings)
        f.trust(url)  # as a configured source's URL is
        try:
            return await f.page(url)
        finally:
            await f.aclose()
    return asyncio.run(go())


def test_a_slow_parse_does_not_stall_other_requests() -> None:
    """Parsing runs in threads, so one source's CPU work doesn't starve another's socket timers."""
    big = rss("Big", [{"title": f"Entry {n}", "link": f"https://b.example/{n}", "description": "<p>text</p>" * 50}
                      for n in range(1500)])
    with serve() as srv:
        srv.route("/big", big)
        srv.route("/slowish", Reply(body=FEED.encode(), delay=0.3))
        (b, _), (s, _) = fetch_with(FetchSettings(timeout=3.0, max_bytes=50_000_000),
                                    Source("b", "rss", srv.url("/big")), Source("s", "rss", srv.url("/slowish")))
        assert len(b.items) == 1500 and len(s.items) == 3 and not s.error
        assert threading.active_count() < 50


def test_worker_processes_parse_and_extract_like_threads() -> None:
    """Big runs parse in worker processes: every kind's CPU work must cross the process boundary intact."""
    from pages import EN_PARAS, article

    with serve() as srv:
        srv.route("/feed", FEED)
        srv.route("/list", Reply(body=b'<html><body><a href="/a/one">One</a></body></html>', content_type="text/html"))
        srv.route("/a/one", Reply(body=article("One", EN_PARAS).encode(), content_type="text/html"))
        sources = [Source("f", "rss", srv.url("/feed")),
                   Source("w", "webpage", srv.url("/list"), options={"link_pattern": "/a/"})]
        import resource

        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
        results = fetch_with(FetchSettings(parse_processes=1), *sources)
        spent = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before
    assert spent > 0.1  # a worker process ran (and was reaped when the fetch ended)
    (feed, _), (page, _) = results
    assert [i.title for i in feed.items] == ["Item 0", "Item 1", "Item 2"] and not feed.error
    assert page.items[0].title == "One" and EN_PARAS[1] in page.items[0].text
