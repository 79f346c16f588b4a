"""Shared fixtures: a private user dir and database per test, and real local HTTP servers."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import chatserver
import pgserver
from dailybrief.demo import serve_directory
from helpers import llama_server, qwen_server, rss

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SNAPSHOT = SHARED / "eval-data" / "ai-lab-feeds-snapshot" / "feeds"


def need_tool(name: str) -> None:
    if shutil.which(name) is None:
        pytest.fail(f"{name} is missing: install poppler-utils (make test does this as root)")


@pytest.fixture(scope="session", autouse=True)
def no_real_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Module- and session-wide fixtures, which run before any test's own user dir, write under a temporary
    home too, never into the user's real data dir (where another run's staging could meet theirs)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DAILYBRIEF_HOME", str(tmp_path_factory.mktemp("session-home")))
        yield


@pytest.fixture(autouse=True)
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own user data dir and database, and runs in its own cwd."""
    home = tmp_path / "home"
    monkeypatch.setenv("DAILYBRIEF_HOME", str(home))
    monkeypatch.setenv("DAILYBRIEF_DB", str(home / "test.db"))
    monkeypatch.delenv("DAILYBRIEF_CONFIG", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return home


@pytest.fixture
def feed_dir(tmp_path: Path) -> Path:
    d = tmp_path / "served"
    d.mkdir()
    return d


@pytest.fixture
def feed_server(feed_dir: Path) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving `feed_dir`."""
    with serve_directory(feed_dir) as base:
        yield base


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

    def do_GET(self) -> None:
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
    """A port on 127.0.0.1 that nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="session")
def llama_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real OpenAI-compatible server (llama-cpp-python + SmolLM2-135M) on 127.0.0.1, for the whole session."""
    log = tmp_path_factory.mktemp("llama") / "server.log"
    try:
        with llama_server(log=log) as base:
            yield base
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def qwen_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same server with Qwen2.5-Coder-1.5B-Instruct (`make qwen`), which writes Chinese, for the whole session."""
    log = tmp_path_factory.mktemp("qwen") / "server.log"
    try:
        with qwen_server(log=log) as base:
            yield base
    except RuntimeError as exc:  # localmodel.ModelMissing too: the message says to run `make qwen`
        pytest.fail(str(exc))


class ChatStub:
    """A scripted OpenAI-compatible endpoint: answers POST /v1/chat/completions from a queue.

    Each queued answer is (status, content or body dict, headers). When the queue
    is empty, `default` answers. Content may be a function of the request body.
    Every request is recorded with its headers and body.
    """

    def __init__(self) -> None:
        self.queue: list[tuple[int, Any, dict[str, str]]] = []
        self.default: tuple[int, Any, dict[str, str]] = (200, "{}", {})
        self.requests: list[dict[str, Any]] = []
        self.delay = 0.0

    def reply(self, content: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.queue.append((status, content, headers or {}))


def _stub_handler(stub: ChatStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            stub.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            status, content, headers = stub.queue.pop(0) if stub.queue else stub.default
            if callable(content):
                content = content(body)
            if stub.delay:
                time.sleep(stub.delay)
            if isinstance(content, dict):
                payload = json.dumps(content).encode()
            elif status == 200:
                payload = json.dumps({
                    "id": "stub", "object": "chat.completion", "model": body.get("model"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
                }).encode()
            else:
                payload = str(content).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


@pytest.fixture
def chat_stub() -> Iterator[tuple[ChatStub, str]]:
    """A scripted OpenAI-compatible endpoint on 127.0.0.1; yields (stub, base URL)."""
    stub = ChatStub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _stub_handler(stub))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield stub, f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[chatserver.ChatServer]:
    """A local stand-in for every chat platform, with the env vars its targets read."""
    with chatserver.chat_server() as srv:
        for key, value in chatserver.env(srv.base).items():
            monkeypatch.setenv(key, value)
        yield srv


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pgserver.Cluster]:
    """One throwaway PostgreSQL server for the session (started on first use, stopped at the end)."""
    with pgserver.cluster() as c:
        yield c


_databases = itertools.count(1)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    """A new, empty database on the session's PostgreSQL server."""
    cluster: pgserver.Cluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database(f"t{next(_databases)}")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, user_dir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test that takes it runs twice: on a SQLite file and on a new PostgreSQL database.
    DAILYBRIEF_DB names it, so code opening the configured store opens this one."""
    if request.param == "sqlite":
        return os.environ["DAILYBRIEF_DB"]
    url: str = request.getfixturevalue("pg_url")
    monkeypatch.setenv("DAILYBRIEF_DB", url)
    return url
