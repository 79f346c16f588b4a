"""The rss kind: every feed format, every encoding, and feeds that are broken on purpose."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import pytest

from dailybrief.ingest.fetch import fetch_sources
from dailybrief.ingest.http import FetchSettings
from dailybrief.ingest.sources import feed
from dailybrief.records import Source
from httpd import Reply, serve

SETTINGS = FetchSettings(timeout=3, backoff=0.01)

RSS091 = """<?xml version="1.0"?>
<rss version="0.91"><channel><title>Old school</title><link>https://old.example/</link>
<description>d</description><language>en-us</language>
<item><title>Ninety-one</title><link>https://old.example/91</link><description>An RSS 0.91 item.</description></item>
</channel></rss>"""

RDF = """<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://rdf.example/"><title>RDF site</title><link>https://rdf.example/</link><description>d</description>
<items><rdf:Seq><rdf:li rdf:resource="https://rdf.example/1"/></rdf:Seq></items></channel>
<item rdf:about="https://rdf.example/1"><title>An RDF item</title><link>https://rdf.example/1</link>
<description>Described in RSS 1.0.</description><dc:creator>Ada</dc:creator><dc:date>2026-04-10T03:00:00Z</dc:date></item>
</rdf:RDF>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom site</title><id>urn:x</id><updated>2026-04-10T05:00:00Z</updated>
<entry><title type="html">&lt;b&gt;Bold&lt;/b&gt; launch</title><id>urn:1</id>
<link rel="alternate" href="https://atom.example/launch"/><published>2026-04-10T04:00:00+02:00</published>
<updated>2026-04-10T05:00:00Z</updated><author><name>Grace</name></author>
<summary>Short.</summary>
<content type="html">&lt;p&gt;The full &lt;i&gt;story&lt;/i&gt;.&lt;/p&gt;&lt;script&gt;x()&lt;/script&gt;</content>
</entry></feed>"""

JSON10 = {"version": "https://jsonfeed.org/version/1", "title": "JSON site", "home_page_url": "https://json.example/",
          "author": {"name": "Feed Author"},
          "items": [{"id": "1", "url": "https://json.example/1", "title": "First JSON item",
                     "content_html": "<p>Hello <b>world</b>.</p><script>alert(1)</script>",
                     "date_published": "2026-04-10T06:30:00+08:00", "author": {"name": "Lin"}, "tags": ["ai"]},
                    {"id": "2", "url": "https://json.example/2", "content_text": "No title, only text.",
                     "date_published": "2026-04-09T22:00:00Z"}]}
JSON11 = {"version": "https://jsonfeed.org/version/1.1", "title": "JSON 1.1",
          "items": [{"id": "a", "url": "https://json.example/a", "title": "Eleven", "summary": "A summary.",
                     "authors": [{"name": "Wu"}, {"name": "Zhao"}], "date_modified": "2026-04-10T01:00:00Z"}]}


def fetch(*sources: Source):
    return asyncio.run(fetch_sources(list(sources), SETTINGS, {}))


def test_every_feed_format() -> None:
    with serve() as srv:
        srv.route("/091", RSS091)
        srv.route("/rdf", RDF)
        srv.route("/atom", ATOM)
        srv.route("/json10", Reply(body=json.dumps(JSON10).encode(), content_type="application/feed+json"))
        srv.route("/json11", Reply(body=json.dumps(JSON11).encode(), content_type="application/json"))
        results = fetch(*(Source(p, "rss", srv.url(f"/{p}")) for p in ("091", "rdf", "atom", "json10", "json11")))
    (r091, _), (rdf, _), (atom, _), (j10, _), (j11, _) = results
    assert all(not r.error for r, _ in results), [r.error for r, _ in results]
    assert [i.title for i in r091.items] == ["Ninety-one"] and r091.items[0].summary == "An RSS 0.91 item."
    [item] = rdf.items
    assert (item.title, item.url, item.author) == ("An RDF item", "https://rdf.example/1", "Ada")
    assert item.published == datetime(2026, 4, 10, 3, tzinfo=timezone.utc)
    [item] = atom.items
    assert item.title == "Bold launch" and item.url == "https://atom.example/launch" and item.author == "Grace"
    assert item.published == datetime(2026, 4, 10, 2, tzinfo=timezone.utc)  # published wins over updated
    assert item.text == "The full story." and item.summary == "Short."
    first, second = j10.items
    assert (first.title, first.url, first.author) == ("First JSON item", "https://json.example/1", "Lin")
    assert first.summary == "" and first.text == "Hello world." and "alert" not in first.text
    assert first.published == datetime(2026, 4, 9, 22, 30, tzinfo=timezone.utc)
    assert second.title == "No title, only text." and second.url == "https://json.example/2"  # titled by its text
    [eleven] = j11.items
    assert eleven.author == "Wu, Zhao" and eleven.summary == "A summary."
    assert eleven.published == datetime(2026, 4, 10, 1, tzinfo=timezone.utc)


PRESS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><link>https://wire.example/</link>
<item><title>Lab ships a model</title><link>https://wire.example/2026/lab-model?utm_source=rss</link>
<description>The lab shipped a model today.</description></item></channel></rss>"""
COMMUNITY = """<?xml version="1.0"?><rss version="2.0"><channel><title>Forum</title><link>https://forum.example/</link>
<item><title>Lab ships a model</title><link>https://wire.example/2026/lab-model</link>
<guid isPermaLink="false">https://forum.example/item?id=7</guid><comments>https://forum.example/item?id=7</comments>
<description>Points: 300</description></item>
<item><title>Ask: what do you run locally?</title><link>https://forum.example/item?id=8</link>
<comments>https://forum.example/item?id=8</comments><description>Curious.</description></item></channel></rss>"""


def test_a_community_post_about_an_article_is_its_own_item_cited_by_its_thread(tmp_path) -> None:
    from dailybrief.store import Store
    from dailybrief.write.writer import ReferenceBook

    with serve() as srv:
        srv.route("/press", PRESS)
        srv.route("/community", COMMUNITY)
        (press, _), (community, _) = fetch(Source("wire", "rss", srv.url("/press"), tier="press"),
                                           Source("forum", "rss", srv.url("/community"), tier="community"))
    [article] = press.items
    post, ask = community.items
    assert post.canonical_url == article.canonical_url == "https://wire.example/2026/lab-model"
    assert post.id != article.id and post.thread_url == "https://forum.example/item?id=7"
    assert ask.thread_url == ""  # a post that links to itself is its thread
    # Both are kept, whichever comes first: neither the outlet nor the discussion is lost.
    for first, second in ((article, post), (post, article)):
        store = Store.open(tmp_path / f"{first.source_id}.db")
        assert len(store.add_items([first])) == 1 and len(store.add_items([second])) == 1
    # The post's reference links to its discussion, the page its comments are quoted from.
    refs = ReferenceBook()
    assert refs.refs[refs.cite(post) - 1].url == "https://forum.example/item?id=7"
    assert refs.refs[refs.cite(article) - 1].url == article.url


ZH_TITLE = "谷歌发布新一代推理模型"
ZH_BODY = "据报道，该模型在多项基准测试中取得领先成绩，开发者可以通过接口使用。"
TW_TITLE = "蘋果發表新一代晶片"
JA_TITLE = "新しいモデルが発表されました"


def xml_feed(title: str, body: str, decl: str = "") -> str:
    head = f'<?xml version="1.0" encoding="{decl}"?>' if decl else '<?xml version="1.0"?>'
    return (f"{head}<rss version=\"2.0\"><channel><title>{title}</title><link>https://zh.example/</link>"
            f"<description>{body}</description><item><title>{title}</title><link>https://zh.example/1</link>"
            f"<description>{body}</description></item><item><title>{title}（二）</title>"
            f"<link>https://zh.example/2</link><description>{body}{body}</description></item></channel></rss>")


@pytest.mark.parametrize(("name", "title", "codec", "decl", "ctype", "note"), [
    ("utf8-undeclared", ZH_TITLE, "utf-8", "", "application/xml", ""),
    ("gbk-in-xml", ZH_TITLE, "gbk", "gbk", "application/xml", ""),
    ("gb2312-label-gbk-bytes", ZH_TITLE, "gbk", "gb2312", "application/xml", ""),
    ("gb18030-in-header", ZH_TITLE, "gb18030", "", "application/rss+xml; charset=gb18030", ""),
    ("gbk-undeclared", ZH_TITLE, "gbk", "", "application/xml", "no encoding declared"),
    ("gbk-declared-utf8", ZH_TITLE, "gbk", "utf-8", "application/xml", "does not fit"),
    ("gbk-header-says-utf8", ZH_TITLE, "gbk", "", "text/xml; charset=utf-8", "does not fit"),
    ("big5-in-xml", TW_TITLE, "big5", "big5", "application/xml", ""),
    ("big5-undeclared", TW_TITLE, "big5", "", "application/xml", "no encoding declared"),
    ("sjis-in-header", JA_TITLE, "shift_jis", "", "text/xml; charset=Shift_JIS", ""),
    ("sjis-undeclared", JA_TITLE, "shift_jis", "", "application/xml", "no encoding declared"),
])
def test_encodings_declared_undeclared_and_wrong(name: str, title: str, codec: str, decl: str, ctype: str,
                                                 note: str) -> None:
    body = ZH_BODY if codec.startswith("gb") or codec == "utf-8" else title * 3
    with serve() as srv:
        srv.route("/f", Reply(body=xml_feed(title, body, decl).encode(codec), content_type=ctype))
        [(result, got)] = fetch(Source(name, "rss", srv.url("/f"), language="zh"))
    assert not result.error, result.error
    assert [i.title for i in result.items] == [title, f"{title}（二）"]
    assert result.items[0].summary == body
    warnings = " ".join(got.warnings) if got else ""
    if note:
        assert note in warnings
    else:
        assert "encoding" not in warnings


TRUNCATED = ("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>"
             + "".join(f"<item><title>Kept {n}</title><link>https://t.example/{n}</link>"
                       f"<description>Entry {n}.</description></item>" for n in range(4))
             + "<item><title>Lost half way</title><link>https://t.exa")


def test_truncated_xml_keeps_what_was_complete() -> None:
    with serve() as srv:
        srv.route("/t", TRUNCATED)
        [(result, got)] = fetch(Source("t", "rss", srv.url("/t")))
    assert not result.error
    assert [i.title for i in result.items][:4] == [f"Kept {n}" for n in range(4)]
    assert got is not None and any("not well-formed" in w for w in got.warnings)


def test_html_instead_of_xml_names_the_advertised_feed() -> None:
    html = ('<!DOCTYPE html><html><head><title>Blog</title>'
            '<link rel="alternate" type="application/rss+xml" href="/feed.xml"></head><body>Hi</body></html>')
    with serve() as srv:
        srv.route("/blog", Reply(body=html.encode(), content_type="text/html"))
        srv.route("/plain", Reply(body=b"<html><body>no feed here</body></html>", content_type="text/html"))
        srv.route("/json", Reply(body=b'{"hello": "world"}', content_type="application/json"))
        srv.route("/brokenjson", Reply(body=b'{"items": [', content_type="application/json"))
        (blog, _), (plain, _), (js, _), (broken, _) = fetch(*(Source(p, "rss", srv.url(f"/{p}"))
                                                            for p in ("blog", "plain", "json", "brokenjson")))
        assert f"the page advertises a feed at {srv.url('/feed.xml')}" in blog.error
        assert "HTML page" in plain.error and "webpage" in plain.error
        assert "not a JSON Feed" in js.error
        assert "not valid JSON" in broken.error


def _arxiv_listing(category: str, kind: str) -> str:
    return f"""<?xml version="1.0"?><rss version="2.0"><channel><title>{category} updates</title>
<link>https://lists.example/{category}</link><description>papers</description>
<item><title>Sparse Routers for Small Models</title><link>https://arxiv.org/abs/2611.01234</link>
<description>arXiv:2611.01234v1 Announce Type: {kind} Abstract: We route tokens to few experts. It is fast.</description>
<guid isPermaLink="false">oai:arXiv.org:2611.01234v1</guid><pubDate>Tue, 01 Dec 2026 05:00:00 GMT</pubDate></item>
<item><title>A Study of Tokenisers (arXiv:2611.05678v2 [{category}])</title><link>https://arxiv.org/abs/2611.05678v2</link>
<description>Tokenisers matter. We measure how much.</description></item>
</channel></rss>"""


def test_an_arxiv_listing_in_any_rss_source_is_read_as_papers(tmp_path) -> None:
    with serve() as srv:
        srv.route("/ai", _arxiv_listing("cs.AI", "new"))
        srv.route("/lg", _arxiv_listing("cs.LG", "cross"))
        (ai, _), (lg, _) = fetch(Source("cs.AI mirror", "rss", srv.url("/ai"), tier="press"),
                                 Source("cs.LG mirror", "rss", srv.url("/lg"), tier="press"))
    first, second = ai.items
    assert first.summary == "We route tokens to few experts. It is fast." and first.tier == "paper"
    assert second.title == "A Study of Tokenisers" and second.url == "https://arxiv.org/abs/2611.05678"
    # Cross-listed in two categories, one paper: both listings are the same item (one id, by its abs page).
    assert [i.id for i in ai.items] == [i.id for i in lg.items]
    assert "Announce" not in lg.items[0].summary


# -- the fast parser and its fallback -----------------------------------------------------------------------
PLAIN_RSS = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
             'xmlns:slash="http://purl.org/rss/1.0/modules/slash/"><channel><title>Plain</title>'
             '<link>https://plain.example/</link>'
             + "".join(f"<item><title>Post {n} &amp; more</title><link>https://plain.example/{n}?utm_source=rss</link>"
                       f"<guid>p{n}</guid><pubDate>Fri, 10 Apr 2026 0{n}:00:00 GMT</pubDate><dc:creator>Ann {n}</dc:creator>"
                       f"<category>score:{n}</category><slash:comments>{n + 3}</slash:comments>"
                       f"<comments>https://talk.example/{n}</comments>"
                       f"<description>&lt;p&gt;Body {n}, Points: {10 * n}.&lt;/p&gt;&lt;p&gt;Second.&lt;/p&gt;</description>"
                       "</item>" for n in range(5))
             + "</channel></rss>")
FIELDS = ("id", "title", "url", "canonical_url", "summary", "text", "author", "published", "points", "comment_count",
          "score", "comments_url", "thread_url", "language", "content_hash")


@pytest.mark.parametrize("tier", ["press", "community"])
def test_the_fast_parser_reads_a_plain_feed_as_feedparser_does(tier: str, monkeypatch: pytest.MonkeyPatch) -> None:
    src = Source("plain", "rss", "https://plain.example/feed", tier=tier)
    body, headers = PLAIN_RSS.encode(), {"content-type": "application/rss+xml"}
    assert feed.parse_feed(body, src.url, headers).get("parser") == "feedparser-rs"
    fast, _ = feed.parse_items(body, src.url, headers, src)
    monkeypatch.setattr(feed, "_fast_parse", lambda body: None)
    assert feed.parse_feed(body, src.url, headers).get("parser") is None  # feedparser's own reading
    slow, _ = feed.parse_items(body, src.url, headers, src)
    assert len(fast) == 5
    for a, b in zip(fast, slow, strict=True):
        assert {f: getattr(a, f) for f in FIELDS} == {f: getattr(b, f) for f in FIELDS}
    assert fast[2].points == 20 and fast[2].score == 2 and fast[2].comment_count == 5


@pytest.mark.parametrize("change", [
    ("<link>https://plain.example/0?utm_source=rss</link>", "<link>/0</link>"),  # a relative link
    ("<pubDate>Fri, 10 Apr 2026 00:00:00 GMT</pubDate>", ""),  # an entry without a date
    ('<channel>', '<channel xml:base="https://plain.example/">'),
    ("Body 0", "Body \u0092s 0"),  # cp1252 punctuation sent as a C1 control: feedparser demoronizes it
    ("<description>", '<description mode="base64">'),
    ("<title>Plain</title>", "<title>Plain</oops>"),  # not well-formed: feedparser recovers what it can
])
def test_what_the_fast_parser_reads_otherwise_goes_to_feedparser(change: tuple[str, str]) -> None:
    body = PLAIN_RSS.replace(*change, 1).encode()
    assert body != PLAIN_RSS.encode()
    parsed = feed.parse_feed(body, "https://plain.example/feed", {"content-type": "application/rss+xml"})
    assert parsed.get("parser") is None and parsed.entries


LISTING = """<?xml version="1.0"?><rss version="2.0"><channel><title>Front page</title><link>https://site.example/</link>
<description>d</description>
<item><title>First</title><link>https://a.example/1</link><pubDate>Fri, 10 Apr 2026 03:00:00 GMT</pubDate></item>
<item><title>Second</title><link>https://a.example/2</link><pubDate>Fri, 10 Apr 2026 05:00:00 GMT</pubDate></item>
<item><title>Third</title><link>https://a.example/3</link><pubDate>Fri, 10 Apr 2026 01:00:00 GMT</pubDate></item>
</channel></rss>"""


def test_a_ranked_listing_keeps_each_items_place_and_a_feed_by_date_none() -> None:
    from dailybrief import config

    with serve() as srv:
        srv.route("/front", Reply(body=LISTING.encode(), content_type="application/rss+xml"))
        cfg = config.from_dict({"sources": [
            {"name": "Front", "kind": "rss", "url": srv.url("/front"), "ranked": True},
            {"name": "Stream", "kind": "rss", "url": srv.url("/front") + "?by=date"}]})
        (front, _), (stream, _) = fetch(*cfg.enabled_sources())
    assert [(i.title, i.position) for i in front.items] == [("First", 1), ("Second", 2), ("Third", 3)]
    assert [i.position for i in stream.items] == [None, None, None]


def test_which_listings_are_ranked_unless_a_source_says() -> None:
    from dailybrief import config

    cfg = config.from_dict({"sources": [
        {"name": "HN front page", "kind": "rss", "url": "https://news.ycombinator.com/rss"},
        {"name": "A blog", "kind": "rss", "url": "https://blog.example/feed.xml"},
        {"name": "HN", "kind": "hackernews"},
        {"name": "HN new", "kind": "hackernews", "list": "new"},
        {"name": "r/ML", "kind": "reddit", "subreddit": "MachineLearning"},
        {"name": "r/ML new", "kind": "reddit", "subreddit": "MachineLearning", "listing": "new"},
        {"name": "Not ranked after all", "kind": "hackernews", "list": "best", "ranked": False}]})
    assert {s.name: s.ranked for s in cfg.enabled_sources()} == {
        "HN front page": True, "A blog": False, "HN": True, "HN new": False, "r/ML": True, "r/ML new": False,
        "Not ranked after all": False}
