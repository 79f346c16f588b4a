"""The webpage kind (a listing page + a link pattern) and opt-in full text for feeds, against a local site."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from dailybrief import config
from dailybrief.errors import ConfigError
from dailybrief.ids import canonical_url
from dailybrief.ingest.fetch import fetch_sources
from dailybrief.ingest.http import FetchSettings
from dailybrief.run.pipeline import Pipeline
from dailybrief.store import Store
from helpers import config as make_config
from helpers import rss
from httpd import Reply, Server, serve
from pages import EN_PARAS, ZH_PARAS, article

LISTING = """<!DOCTYPE html><html><head><title>News</title></head><body>
<nav><a href="/">Home</a><a href="/news/">News</a><a href="/about">About</a></nav>
<h1>Latest news</h1>
<ul>
  <li><a href="/news/open-weights-model">Open weights, frontier scores</a> <a href="/news/open-weights-model#comments">3</a></li>
  <li><a href="https://lab.example.invalid/elsewhere">Elsewhere</a></li>
  <li><a href="chinese-edition">中文版</a></li>
  <li><a href="/news/members-only">Members only</a></li>
  <li><a href="/news/tag/ai">Tag page</a></li>
</ul><footer><a href="/privacy">Privacy</a></footer></body></html>"""


def site(srv: Server) -> None:
    html = lambda body, ctype="text/html; charset=utf-8": Reply(body=body, content_type=ctype)  # noqa: E731
    srv.route("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /news/members-only\n", content_type="text/plain"))
    srv.route("/news/", html(LISTING.encode()))
    srv.route("/news/open-weights-model", html(article("Open weights, frontier scores", EN_PARAS).encode()))
    srv.route("/news/chinese-edition", html(
        article("开放权重模型比肩前沿水平", ZH_PARAS, author="王小明", lang="zh", charset="gbk").encode("gbk"),
        "text/html"))
    srv.route("/news/members-only", html(article("Secret", EN_PARAS).encode()))


def webpage_source(base: str, **options):
    cfg = config.from_dict({"sources": [{"name": "Lab News", "kind": "webpage", "url": f"{base}/news/",
                                         "link_pattern": r"/news/(?!tag/)[a-z-]+$", "tier": "official", **options}]})
    return cfg.enabled_sources()[0]


def test_listing_page_and_link_pattern_lead_to_articles() -> None:
    with serve() as srv:
        site(srv)
        src = webpage_source(srv.base)
        [(result, got)] = asyncio.run(fetch_sources([src], FetchSettings(), {}))
        assert not srv.hits("/news/members-only")  # robots.txt said no
    assert not result.error and got is not None
    en, zh = result.items
    assert (en.title, en.author, en.tier) == ("Open weights, frontier scores", "Jane Doe", "official")
    assert en.url == f"{srv.base}/news/open-weights-model"
    assert en.published == datetime(2026, 4, 10, 8, 30, tzinfo=timezone.utc)
    assert EN_PARAS[2] in en.text and "Careers" not in en.text and en.language == "en"
    assert zh.title == "开放权重模型比肩前沿水平" and ZH_PARAS[1] in zh.text and zh.language == "zh"
    assert any("members-only" in w and "robots.txt disallows" in w for w in got.warnings)


def test_known_articles_are_not_fetched_again_and_a_pattern_matching_nothing_says_so() -> None:
    with serve() as srv:
        site(srv)
        src = webpage_source(srv.base, limit=1)
        known = {canonical_url(srv.url("/news/open-weights-model"))}
        [(result, _)] = asyncio.run(fetch_sources([src], FetchSettings(), {src.id: {"known": known}}))
        assert result.items == [] and not srv.hits("/news/open-weights-model")
        none = webpage_source(srv.base, link_pattern=r"/blog/\d+")
        [(empty, got)] = asyncio.run(fetch_sources([none], FetchSettings(), {}))
        assert empty.items == [] and not empty.error
        assert got is not None and "no link on the listing page matches" in got.warnings[0]


def test_listing_disallowed_by_robots_is_an_error() -> None:
    with serve() as srv:
        srv.route("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /\n", content_type="text/plain"))
        [(result, _)] = asyncio.run(fetch_sources([webpage_source(srv.base)], FetchSettings(), {}))
        assert "robots.txt disallows /news/" in result.error and not srv.hits("/news/")


def test_bad_pattern_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as err:
        config.from_dict({"sources": [{"name": "x", "kind": "webpage", "url": "https://a.example/", "link_pattern": "(["}]})
    assert err.value.key == "sources[0].link_pattern" and "regular expression" in str(err.value)
    with pytest.raises(ConfigError) as err:
        config.from_dict({"sources": [{"name": "x", "kind": "webpage", "link_pattern": "/a/"}]})
    assert err.value.key == "sources[0].url" and "needs a url" in str(err.value)


def test_full_text_is_opt_in_per_source_and_fetched_once(tmp_path) -> None:
    when = datetime(2026, 4, 10, 3, tzinfo=timezone.utc)
    with serve() as srv:
        site(srv)
        feed = rss("Lab", [
            {"title": "Open weights, frontier scores", "link": f"{srv.base}/news/open-weights-model",
             "description": "A short teaser.", "published": when},
            {"title": "Secret", "link": f"{srv.base}/news/members-only", "description": "Members teaser.",
             "published": when},
        ])
        srv.route("/feed.xml", feed)
        srv.route("/plain.xml", feed.replace("/news/", "/plain/"))
        cfg = config.from_dict(make_config([
            {"name": "Lab", "kind": "rss", "url": srv.url("/feed.xml"), "tier": "official", "full_text": True},
            {"name": "Plain", "kind": "rss", "url": srv.url("/plain.xml"), "tier": "press"}]))
        store = Store.open(cfg.db_url())
        pipe = Pipeline(cfg, store)
        run = pipe.new_run(when.date())
        new = pipe.fetch(run)
        full = next(i for i in new if i.source_name == "Lab" and i.title.startswith("Open"))
        assert EN_PARAS[3] in full.text and full.author == "Jane Doe" and full.summary == "A short teaser."
        secret = next(i for i in new if i.title == "Secret" and i.source_name == "Lab")
        assert secret.text == "" and secret.summary == "Members teaser."  # robots said no: the item stays
        assert any("Secret" in e and "robots.txt" in e for e in run.stages[0].errors)
        assert not any("/plain/" in r.path for r in srv.requests)  # no full text unless asked
        assert len(srv.hits("/news/open-weights-model")) == 1
        pipe.fetch(pipe.new_run(when.date()))  # again: the stored article is not fetched twice
        assert len(srv.hits("/news/open-weights-model")) == 1
        assert store.items([full.id])[0].text == full.text
