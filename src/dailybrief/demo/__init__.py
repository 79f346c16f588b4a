"""The bundled demo day, and the small local HTTP server that serves it.

The demo's feed files restate, in our own words, facts publicly reported on
2026-04-10. ``make demo`` serves them on 127.0.0.1 and runs the real fetch
path against that server.
"""

from __future__ import annotations

import os
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

DEMO_DATE = "2026-04-10"


def demo_dir() -> Path:
    return Path(str(resources.files("dailybrief.demo")))


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves files with an ETag (mtime in nanoseconds and size) besides Last-Modified: a file rewritten
    within the same second has a new ETag, where Last-Modified, in whole seconds, would still answer 304."""

    _etag: str | None = None

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_head(self) -> Any:
        path = self.translate_path(self.path)
        self._etag = None
        if os.path.isfile(path):
            st = os.stat(path)
            self._etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
            if "If-None-Match" in self.headers:
                if self._etag in (t.strip() for t in self.headers["If-None-Match"].split(",")):
                    self.send_response(304)
                    self.end_headers()
                    return None
                del self.headers["If-Modified-Since"]  # If-None-Match decides when both are sent (RFC 9110)
        return super().send_head()

    def end_headers(self) -> None:
        path = self.path.split("?")[0]
        if path.endswith(".xml"):
            self.send_header("Cache-Control", "no-cache")
        if self._etag:
            self.send_header("ETag", self._etag)
        super().end_headers()

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        return "application/xml; charset=utf-8" if str(path).endswith(".xml") else super().guess_type(path)


@contextmanager
def serve_directory(directory: str | Path) -> Iterator[str]:
    """Serve a folder over HTTP on 127.0.0.1 on a free port; yields the base URL."""
    handler = partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def demo_sources(base: str) -> list[dict[str, Any]]:
    """The demo's [[sources]], pointed at a server at `base`."""
    data = tomllib.loads((demo_dir() / "sources.toml").read_text("utf-8"))
    return [{**s, "url": s["url"].replace("{base}", base)} for s in data["sources"]]


def demo_config(base: str) -> dict[str, Any]:
    """A whole config for the demo day: sources at `base`, a demo branding."""
    return {
        "edition": {"title": {"zh": "AI 技术每日分析", "en": "AI Technology Daily"}, "languages": ["zh", "en"],
                    "timezone": "Asia/Shanghai",
                    # The demo day is one calendar day of news: its edition closes at midnight.
                    "cutoff": "24:00", "top_stories": 6, "roundup_items": 8},
        "branding": {
            "organisation": ["dailybrief 示例机构", "Demo Analytics Association"],
            "website": "https://dailybrief.example",
            "contact": ["联系我们：brief@dailybrief.example", "扫描二维码订阅每日简报"],
            "qr_url": "https://dailybrief.example/subscribe",
            "qr_caption": "订阅 / Subscribe",
            "logo": str(demo_dir() / "logo.png"),
            "about": "dailybrief 示例机构是演示用的虚构机构。本简报由 dailybrief 根据演示数据自动生成："
                     "演示数据以我们自己的文字转述 2026 年 4 月 10 日公开报道的事实，所有链接均为 .example 保留域名。",
        },
        # The demo serves everything from 127.0.0.1, which links in feeds may not reach unless allowed.
        "fetch": {"allow_private": ["127.0.0.1"]},
        "sources": demo_sources(base),
    }
