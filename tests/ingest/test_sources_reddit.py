"""The reddit kind against a local server answering in the shape of Reddit's .rss (Atom) endpoints."""

from __future__ import annotations

import asyncio
from html import escape

import pytest

from dailybrief import config
from dailybrief.errors import ConfigError
from dailybrief.ids import canonical_url, item_id
from dailybrief.ingest.fetch import fetch_sources
from dailybrief.ingest.http import FetchSettings
from httpd import Reply, serve

HOST = "https://www.reddit.com"


def entry(ident: str, title: str, permalink: str, body_html: str, link: str, author: str = "/u/someone",
          when: str = "2026-04-10T02:00:00+00:00") -> str:
    content = (f'<!-- SC_OFF --><div class="md">{body_html}</div><!-- SC_ON --> &#32; submitted by &#32; '
               f'<a href="{HOST}/user/{author[3:]}"> {author} </a> <br/> <span><a href="{link}">[link]</a></span>'
               f' &#32; <span><a href="{permalink}">[comments]</a></span>')
    return (f"<entry><author><name>{author}</name><uri>{HOST}/user/{author[3:]}</uri></author>"
            f'<category term="LocalLLaMA" label="r/LocalLLaMA"/><content type="html">{escape(content)}</content>'
            f'<id>{ident}</id><link href="{permalink}"/><updated>{when}</updated><published>{when}</published>'
            f"<title>{escape(title)}</title></entry>")


P1 = f"{HOST}/r/LocalLLaMA/comments/1abc01/new_8b_model_runs_on_a_laptop/"
P2 = f"{HOST}/r/LocalLLaMA/comments/1abc02/what_quant_do_you_use/"
LISTING = ('<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
           'xmlns:media="http://search.yahoo.com/mrss/"><category term="LocalLLaMA" label="r/LocalLLaMA"/>'
           f'<updated>2026-04-10T03:00:00+00:00</updated><id>/r/LocalLLaMA/top/.rss</id>'
           f'<link rel="self" href="{HOST}/r/LocalLLaMA/top/.rss" type="application/atom+xml" />'
           "<title>top scoring links : LocalLLaMA</title>"
           + entry("t3_1abc01", "New 8B model runs on a laptop", P1,
                   "<p>Release notes linked. Runs at 40 tok/s on an M3.</p>",
                   "https://models.example/blog/8b-release", "/u/tok_counter")
           + entry("t3_1abc02", "What quant do you use?", P2, "<p>Q4_K_M or Q5? Curious what people run.</p>", P2,
                   "/u/quant_curious", "2026-04-10T01:00:00+00:00")
           + "</feed>")

THREAD = ('<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
          "<title>New 8B model runs on a laptop : LocalLLaMA</title>"
          + entry("t3_1abc01", "New 8B model runs on a laptop", P1, "<p>Release notes linked.</p>",
                  "https://models.example/blog/8b-release", "/u/tok_counter")
          + entry("t1_c001", "/u/gguf_fan on New 8B model runs on a laptop", P1 + "c001/",
                  "<p>Tried the Q4 build: quality holds up surprisingly well for code.</p>", P1 + "c001/", "/u/gguf_fan")
          + entry("t1_c002", "/u/doubter on New 8B model runs on a laptop", P1 + "c002/",
                  "<p>The context length claim needs independent testing before anyone relies on it.</p>",
                  P1 + "c002/", "/u/doubter")
          + "</feed>")


def source(base: str, **options):
    cfg = config.from_dict({"sources": [{"name": "r/LocalLLaMA", "kind": "reddit", "url": base,
                                         "subreddit": "LocalLLaMA", **options}]})
    return cfg.enabled_sources()[0]


def test_listing_thread_comments_and_retry_after() -> None:
    calls = {"n": 0}

    def listing(req):
        calls["n"] += 1
        if calls["n"] == 1:  # Reddit's usual answer to anonymous bursts
            return Reply(429, b"Too Many Requests", headers={"Retry-After": "1"}, content_type="text/plain")
        return Reply(body=LISTING.encode(), content_type="application/atom+xml; charset=UTF-8")

    with serve() as srv:
        srv.route("/r/LocalLLaMA/top/.rss", listing)
        srv.route("/r/LocalLLaMA/comments/1abc01/new_8b_model_runs_on_a_laptop/.rss",
                  Reply(body=THREAD.encode(), content_type="application/atom+xml"))
        src = source(srv.url(""), listing="top", period="day", limit=10)
        [(result, got)] = asyncio.run(fetch_sources([src], FetchSettings(backoff=0.01, top_comments=5), {}))
        assert srv.hits("/r/LocalLLaMA/top/.rss")[-1].query == {"limit": ["10"], "t": ["day"]}
        thread_req = srv.hits("/r/LocalLLaMA/comments/1abc01/new_8b_model_runs_on_a_laptop/.rss")[0]
        assert thread_req.query["sort"] == ["top"]
    assert not result.error, result.error
    link_post, self_post = result.items
    assert src.tier == "community" and link_post.tier == "community"
    # A link post is the article it links to; the thread is its discussion.
    assert link_post.url == "https://models.example/blog/8b-release"
    assert link_post.comments_url == link_post.thread_url == P1 and link_post.author == "tok_counter"
    assert link_post.id == item_id(canonical_url(P1), "", "", None)  # not the article's own item
    assert link_post.summary == "Release notes linked. Runs at 40 tok/s on an M3."  # no "submitted by" furniture
    assert [(c.author, c.text[:20]) for c in link_post.comments] == [
        ("gguf_fan", "Tried the Q4 build: "), ("doubter", "The context length c")]
    assert self_post.url == P2 and self_post.comments_url == P2 and self_post.thread_url == ""
    # Reddit's feeds carry no score or comment count: none is made up.
    assert link_post.score is None and link_post.comment_count is None
    assert self_post.comments == []  # its thread is not served: a warning, the items stay
    assert got is not None and any("What quant" in w and "HTTP 404" in w for w in got.warnings)


def test_a_mis_declared_encoding_is_read_and_reported_like_any_feed() -> None:
    title = "开源模型在笔记本电脑上运行"  # GBK bytes under a header that says UTF-8
    body = LISTING.replace('encoding="UTF-8"', 'encoding="gbk"').replace("What quant do you use?", title)
    with serve() as srv:
        srv.route("/r/LocalLLaMA/hot/.rss", Reply(body=body.encode("gbk"),
                                                  content_type="application/atom+xml; charset=UTF-8"))
        src = source(srv.url(""), limit=10)
        [(result, got)] = asyncio.run(fetch_sources([src], FetchSettings(top_comments=0, comment_threads=0), {}))
    assert not result.error, result.error
    assert title in [i.title for i in result.items]
    assert got is not None and any(w.startswith("encoding:") and "does not fit" in w for w in got.warnings), \
        got.warnings


@pytest.mark.parametrize(("options", "key", "fix"), [
    ({}, "sources[0].subreddit", "needs this key"),
    ({"subreddit": "r/has space"}, "sources[0].subreddit", "subreddit name"),
    ({"subreddit": "ok", "listing": "best"}, "sources[0].listing", "'hot', 'new', 'top' or 'rising'"),
    ({"subreddit": "ok", "sort": "top"}, "sources[0].sort", "unknown for kind 'reddit'"),
])
def test_options_are_validated(options: dict, key: str, fix: str) -> None:
    with pytest.raises(ConfigError) as err:
        config.from_dict({"sources": [{"name": "r", "kind": "reddit", **options}]})
    assert err.value.key == key and fix in str(err.value)
