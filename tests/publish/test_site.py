"""The archive site: index, editions and Atom feed, checked by parsing and in real headless Chromium."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import pytest

from briefs import make_brief, render_edition
from browser import _browser  # noqa: F401 - the browser fixture
from dailybrief import config
from dailybrief.demo import serve_directory
from dailybrief.publish.delivery import make_target
from dailybrief.publish.site import build_site, scan

EVIL = "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\"> Lab ships a model"
DAYS = (date(2026, 4, 9), date(2026, 4, 10))


def site_target(root: Path, base_url: str = "") -> Any:
    cfg = config.from_dict({"edition": {"languages": ["zh", "en"]}, "branding": {"organisation": ["测试机构"]},
                            "publish": [{"kind": "site", "name": "site", "path": str(root), "base_url": base_url}]})
    return make_target(cfg.publish[0], cfg)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site with two editions in two languages; the newer one has a hostile headline."""
    work = tmp_path_factory.mktemp("site")
    root = work / "site"
    for day in DAYS:
        headline = EVIL if day == DAYS[1] else ""
        ed = render_edition(work / day.isoformat(), [make_brief("zh", day, headline=headline),
                                                     make_brief("en", day, headline=headline)])
        site_target(root).deliver(ed)
    return root


def test_site_layout(site: Path) -> None:
    assert (site / "index.html").is_file() and (site / "feed.xml").is_file() and (site / "favicon.ico").is_file()
    for day in DAYS:
        names = sorted(p.name for p in (site / day.isoformat()).iterdir())
        assert names == sorted(f"{stem}.{ext}" for stem in ("brief", "brief.en") for ext in ("html", "pdf", "md", "json"))
        assert all(p.stat().st_mode & 0o044 == 0o044 for p in (site / day.isoformat()).iterdir())  # a web server can read
    assert [e.day for e in scan(site)] == list(reversed(DAYS))
    html = (site / "index.html").read_text("utf-8")
    assert "&lt;script&gt;window.__pwned" in html and "<script>" not in html and "<img" not in html


def test_feed_parses_back_with_every_edition(site: Path) -> None:
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "AI 技术每日分析" and feed.version == "atom10"
    titles = [e.title for e in feed.entries]
    assert titles[:2] == ["AI 技术每日分析 · 2026 年 4 月 10 日", "AI Daily Analysis · 10 April 2026"]
    assert len(feed.entries) == 4 and len({e.id for e in feed.entries}) == 4
    first = feed.entries[0]
    assert first.link == "2026-04-10/brief.html"
    assert any(link.get("type") == "application/pdf" and link["href"] == "2026-04-10/brief.pdf" for link in first.links)
    assert "今日共收录" in first.summary and "<script" not in first.content[0].value.lower()


def test_feed_links_are_absolute_with_base_url(tmp_path: Path, site: Path) -> None:
    root = tmp_path / "s"
    shutil.copytree(site, root)
    build_site(root, title="AI 技术每日分析", language="zh", base_url="https://brief.example.org", feed_entries=3)
    feed = feedparser.parse((root / "feed.xml").read_bytes())
    assert not feed.bozo and len(feed.entries) == 3
    assert feed.entries[0].link == "https://brief.example.org/2026-04-10/brief.html"
    assert any(link["rel"] == "self" and link["href"] == "https://brief.example.org/feed.xml" for link in feed.feed.links)


def test_rebuilding_is_idempotent(tmp_path: Path, site: Path) -> None:
    root = tmp_path / "s"
    shutil.copytree(site, root)
    before = {p: (root / p).read_bytes() for p in ("index.html", "feed.xml")}
    build_site(root, title="AI 技术每日分析", language="zh", organisation=["测试机构"])
    assert {p: (root / p).read_bytes() for p in before} == before


def test_site_in_chromium_pages_load_links_work_console_is_clean(site: Path, browser: Any) -> None:
    problems: list[str] = []
    with serve_directory(site) as base:
        page = browser.new_page()
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}"))
        page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
        page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))

        assert page.goto(f"{base}/").ok
        assert page.title() == "AI 技术每日分析 · 往期简报"
        assert page.locator("article h2").all_inner_texts() == [
            "2026 年 4 月 10 日", "10 April 2026", "2026 年 4 月 9 日", "9 April 2026"]
        assert page.evaluate("window.__pwned") is None
        assert EVIL.split("> ")[0].replace("\"", "") not in page.content()
        hrefs: list[str] = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        feed_href = page.get_attribute("link[type='application/atom+xml']", "href")
        assert feed_href == "feed.xml"
        by_kind: dict[str, list[str]] = {}
        for href in dict.fromkeys(hrefs):
            assert href.startswith(base), href  # the index links only within the site
            by_kind.setdefault(urlsplit(href).path.rsplit(".", 1)[-1], []).append(href)
        assert len(by_kind["html"]) == 4 and len(by_kind["pdf"]) == 4 and len(by_kind["md"]) == 4
        assert by_kind["xml"] == [f"{base}/feed.xml"]

        for href in by_kind["pdf"]:
            r = page.request.get(href)
            assert r.ok and r.body().startswith(b"%PDF"), href
        for href in by_kind["md"]:
            r = page.request.get(href)
            assert r.ok and r.text().startswith("# AI"), href
        r = page.request.get(by_kind["xml"][0])
        feed = feedparser.parse(r.body())
        assert r.ok and not feed.bozo and len(feed.entries) == 4
        for entry in feed.entries:  # the feed's relative links resolve against the feed's address
            assert page.request.get(urljoin(by_kind["xml"][0], entry.link)).ok

        for href in by_kind["html"]:
            response = page.goto(href)
            assert response is not None and response.ok, href
            assert page.locator("h1").first.inner_text() in ("AI 技术每日分析", "AI Daily Analysis")
            assert page.evaluate("window.__pwned") is None
            # In-page links (contents, citations) all land on an element of the page.
            targets = page.eval_on_selector_all("a[href^='#']", "els => els.map(e => e.getAttribute('href').slice(1))")
            assert targets, href
            missing = page.evaluate("ids => ids.filter(id => !document.getElementById(id))", targets)
            assert missing == [], (href, missing)
        page.goto(f"{base}/")  # and back: the archive still renders after visiting every edition
        assert page.locator("article").count() == 2
        page.close()
    assert problems == []
