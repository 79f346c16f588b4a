"""Builders for feeds and configs used across tests."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape


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
