"""The fetch stage against real local servers, including ones that misbehave on purpose."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dailybrief.fetch import FetchSettings, fetch_sources
from dailybrief.records import Source
from helpers import rss

GOOD = rss("Good", [
    {"title": "OpenAI publishes a child safety blueprint", "link": "https://a.example/1?utm_source=rss",
     "description": "<p>OpenAI released a blueprint.</p><script>alert(1)</script>",
     "published": datetime(2026, 4, 10, 3, tzinfo=timezone.utc)},
    {"title": "Show HN: a thing", "link": "https://b.example/2",
     "description": "<p>Article URL: https://b.example/2</p><p>Points: 412</p><p># Comments: 318</p>",
     "extra": "<slash:comments>318</slash:comments><wfw:commentRss>comments/t1.xml</wfw:commentRss>"},
])
COMMENTS = rss("c", [
    {"title": "re", "link": "https://b.example/c1", "description": "I disagree with this take entirely, it is hype."},
    {"title": "re", "link": "https://b.example/c2", "description": "This is a real step forward for defenders."},
])


class Misbehaving(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?")[0]
        if path == "/slow":
            time.sleep(4)
            self._send(200, GOOD.encode())
        elif path == "/error":
            self._send(500, b"boom")
        elif path == "/notfeed":
            self._send(200, b"this is not a feed {{{ <<<", "text/plain")
        elif path == "/html":
            self._send(200, b"<!DOCTYPE html><html><body><p>Hello</p></body></html>", "text/html")
        elif path == "/big":
            self._send(200, b"<rss>" + b"x" * 300_000 + b"</rss>")
        elif path == "/reset":
            self.connection.shutdown(socket.SHUT_RDWR)
            self.connection.close()
        elif path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
        elif path == "/etag":
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.end_headers()
                return
            self._send(200, GOOD.encode(), etag='"v1"')
        else:
            self._send(404, b"nope")

    def _send(self, status: int, body: bytes, ctype: str = "application/rss+xml", etag: str = "") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if etag:
            self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def bad_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Misbehaving)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


SETTINGS = FetchSettings(timeout=1.5, connect_timeout=1.0, max_bytes=100_000)


def fetch(*sources: Source, states: dict | None = None):
    return asyncio.run(fetch_sources(list(sources), SETTINGS, states or {}))


def test_parses_items_engagement_and_comment_feeds(feed_dir: Path, feed_server: str) -> None:
    (feed_dir / "comments").mkdir()
    (feed_dir / "f.xml").write_text(GOOD, "utf-8")
    (feed_dir / "comments" / "t1.xml").write_text(COMMENTS, "utf-8")
    src = Source("Good", "rss", f"{feed_server}/f.xml", tier="community")
    [(result, got)] = fetch(src)
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
