"""A scriptable HTTP server on 127.0.0.1 for the ingestion tests.

Each route is a function of the request that returns a ``Reply`` (status,
body, headers, a delay) or does something rude with the socket itself (hang,
reset, stream forever). Every request is recorded, and the server counts how
many requests it is answering at once, overall and at its peak.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    at: float
    handler: BaseHTTPRequestHandler

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_type: str = "application/xml; charset=utf-8"


Route = Callable[[Request], "Reply | None"]


class Server:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.active = 0
        self.peak = 0
        self._lock = threading.Lock()
        self.base = ""

    def route(self, path: str, fn: Route | Reply | bytes | str) -> None:
        if isinstance(fn, Reply):
            reply = fn
            self.routes[path] = lambda req: reply
        elif isinstance(fn, (bytes, str)):
            body = fn.encode("utf-8") if isinstance(fn, str) else fn
            self.routes[path] = lambda req: Reply(body=body)
        else:
            self.routes[path] = fn

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


def _handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def handle(self) -> None:
            try:
                super().handle()
            except (OSError, ValueError):  # the route closed or reset the socket on purpose
                pass

        def finish(self) -> None:
            try:
                super().finish()
            except (OSError, ValueError):
                pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            req = Request(parts.path, parse_qs(parts.query), {k.lower(): v for k, v in self.headers.items()},
                          time.monotonic(), self)
            with server._lock:
                server.requests.append(req)
                server.active += 1
                server.peak = max(server.peak, server.active)
            try:
                fn = server.routes.get(parts.path)
                reply = fn(req) if fn else Reply(404, b"not here", content_type="text/plain")
                if reply is None:
                    self.close_connection = True
                    return
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                headers = {"Content-Type": reply.content_type, "Content-Length": str(len(reply.body)), **reply.headers}
                for k, v in headers.items():
                    if v is not None:
                        self.send_header(k, v)
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            finally:
                with server._lock:
                    server.active -= 1

    return Handler


@contextmanager
def listening(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve `handler` on a free port of 127.0.0.1 in a thread; yields the base URL. Every stand-in server uses it."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextmanager
def serve() -> Iterator[Server]:
    server = Server()
    with listening(_handler(server)) as base:
        server.base = base
        yield server


# -- rude behaviours, for routes ---------------------------------------------------
def hang(seconds: float = 30.0) -> Route:
    """Accept the request and say nothing."""
    def fn(req: Request) -> None:
        time.sleep(seconds)
    return fn


def reset(req: Request) -> None:
    """Close the connection with a TCP reset before answering."""
    sock = req.handler.connection
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()


def cut_mid_body(body: bytes) -> Route:
    """Promise the whole body, send half of it, then reset the connection."""
    def fn(req: Request) -> None:
        h = req.handler
        h.send_response(200)
        h.send_header("Content-Type", "application/xml")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body[: len(body) // 2])
        h.wfile.flush()
        reset(req)
    return fn


class Streamer:
    """A chunked body of `total` bytes with no Content-Length (the size is learnt only by reading).

    ``sent`` records how much was written before the client hung up.
    """

    def __init__(self, total: int = 50 * 1024 * 1024, chunk: bytes = b"x" * 65536) -> None:
        self.total, self.chunk, self.sent = total, chunk, -1

    def __call__(self, req: Request) -> None:
        total, chunk = self.total, self.chunk
        h = req.handler
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        sent = 0
        try:
            h.wfile.write(b"%x\r\n<rss>\r\n" % 5)
            while sent < total:
                h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            h.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.sent = sent
