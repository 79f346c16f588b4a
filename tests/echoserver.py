"""A careless endpoint on 127.0.0.1: it answers POSTs with a scripted status and a body that echoes
what it was sent (headers, path, query), the way real error pages do, and can answer late."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from httpd import listening


@dataclass
class Post:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Echo:
    base: str = ""
    posts: list[Post] = field(default_factory=list)
    # path prefix -> (status, body built from the request, seconds to wait before answering)
    routes: dict[str, tuple[int, Callable[[Post], str], float]] = field(default_factory=dict)

    def to(self, prefix: str) -> list[Post]:
        return [p for p in self.posts if p.path.startswith(prefix)]


def echo_headers(post: Post) -> str:
    """A 400 page that quotes the request's credentials first, as debugging proxies do."""
    ordered = sorted(post.headers.items(), key=lambda kv: kv[0].lower() != "authorization")
    return "bad request; you sent: " + "; ".join(f"{k}: {v}" for k, v in ordered)


def echo_path(post: Post) -> str:
    return f"no such hook: {post.path}"


@contextmanager
def echo_server() -> Iterator[Echo]:
    state = Echo()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            post = Post(self.path, {k: v for k, v in self.headers.items()}, body)
            with lock:
                state.posts.append(post)
            route = next((r for p, r in state.routes.items() if self.path.startswith(p)), (200, lambda _: "{}", 0.0))
            status, answer, delay = route
            if delay:
                time.sleep(delay)
            out = answer(post).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)
            except OSError:
                pass  # the client gave up waiting

    with listening(Handler) as base:
        state.base = base
        yield state
