"""The hackernews kind against a local server answering in the HN Firebase API's and Algolia's formats."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

from dailybrief import config
from dailybrief.ids import canonical_url, item_id
from dailybrief.ingest.fetch import fetch_comments, fetch_sources
from dailybrief.ingest.http import FetchSettings
from dailybrief.records import Source
from httpd import Reply, Server, serve

T0 = int(datetime(2026, 4, 10, 3, tzinfo=timezone.utc).timestamp())

# Made-up stories and comments, shaped like https://hacker-news.firebaseio.com/v0/item/<id>.json answers.
ITEMS = {
    9101: {"by": "quietsignal", "descendants": 212, "id": 9101, "kids": [9201, 9202, 9203, 9204], "score": 412,
           "time": T0, "title": "Open-weights model matches frontier coding scores", "type": "story",
           "url": "https://lab.example/blog/open-weights?utm_source=hn"},
    9102: {"by": "askerr", "descendants": 40, "id": 9102, "kids": [9205], "score": 88, "time": T0 + 600,
           "text": "How do teams budget GPU hours for evals? <p>We keep overrunning.", "title": "Ask HN: Eval budgets?",
           "type": "story"},
    9103: {"by": "lowkey", "descendants": 0, "id": 9103, "score": 3, "time": T0, "title": "Tiny post",
           "type": "story", "url": "https://tiny.example/"},
    9104: None,  # this item's request fails
    9201: {"by": "kernelhacker", "id": 9201, "parent": 9101, "text": "The eval harness is public, so the numbers "
           "can be checked. That is the real news here.", "time": T0 + 60, "type": "comment"},
    9202: {"deleted": True, "id": 9202, "parent": 9101, "time": T0 + 70, "type": "comment"},
    9203: {"by": "spammy", "dead": True, "id": 9203, "parent": 9101, "text": "buy now", "time": T0, "type": "comment"},
    9204: {"by": "skeptic42", "id": 9204, "parent": 9101, "text": "Benchmarks saturate fast; I&#x27;d wait for "
           "independent <i>real-world</i> tests.", "time": T0 + 90, "type": "comment"},
    9205: {"by": "sre_anna", "id": 9205, "parent": 9102, "text": "We cap each eval run and track spend per team.",
           "time": T0 + 700, "type": "comment"},
}


def firebase(srv: Server) -> None:
    srv.route("/v0/topstories.json", Reply(body=json.dumps([9101, 9102, 9103, 9104]).encode(),
                                           content_type="application/json; charset=utf-8"))
    for ident, data in ITEMS.items():
        if data is None:
            srv.route(f"/v0/item/{ident}.json", Reply(500, b"oops", content_type="text/plain"))
        else:
            srv.route(f"/v0/item/{ident}.json", Reply(body=json.dumps(data).encode(), content_type="application/json"))


def algolia(srv: Server) -> None:
    hits = [{"objectID": "9101", "title": ITEMS[9101]["title"], "url": ITEMS[9101]["url"], "author": "quietsignal",
             "points": 412, "num_comments": 212, "created_at_i": T0, "story_text": None, "_tags": ["story", "front_page"]},
            {"objectID": "9102", "title": "Ask HN: Eval budgets?", "url": None, "author": "askerr", "points": 88,
             "num_comments": 40, "created_at_i": T0 + 600, "story_text": "How do teams budget GPU hours?"}]
    srv.route("/api/v1/search", Reply(body=json.dumps({"hits": hits, "nbHits": 2, "page": 0}).encode(),
                                      content_type="application/json"))
    tree = {"id": 9101, "type": "story", "children": [
        {"id": 9201, "author": "kernelhacker", "text": ITEMS[9201]["text"], "created_at_i": T0 + 60, "children": []},
        {"id": 9204, "author": "skeptic42", "text": ITEMS[9204]["text"], "created_at_i": T0 + 90, "children": []}]}
    srv.route("/api/v1/items/9101", Reply(body=json.dumps(tree).encode(), content_type="application/json"))
    srv.route("/api/v1/items/9102", Reply(body=json.dumps({"id": 9102, "children": []}).encode(),
                                          content_type="application/json"))


def source(base: str, **options) -> Source:
    cfg = config.from_dict({"sources": [{"name": "Hacker News", "kind": "hackernews", "url": base, **options}]})
    return cfg.enabled_sources()[0]


def run(src: Source):
    return asyncio.run(fetch_sources([src], FetchSettings(backoff=0.01, retries=1, top_comments=5), {}))[0]


def test_firebase_top_stories_with_points_comment_counts_and_top_comments() -> None:
    with serve() as srv:
        firebase(srv)
        result, got = run(source(srv.url("/v0"), min_points=10))
    assert not result.error and got is not None
    story, ask = result.items  # 9103 is under min_points, 9104 failed
    assert story.tier == "community" and (story.position, ask.position) == (1, 2)  # their places on the list
    assert (story.title, story.points, story.comment_count, story.author) == (
        "Open-weights model matches frontier coding scores", 412, 212, "quietsignal")
    assert story.url == "https://lab.example/blog/open-weights?utm_source=hn"
    assert story.canonical_url == "https://lab.example/blog/open-weights"
    assert story.comments_url == story.thread_url == "https://news.ycombinator.com/item?id=9101"
    # The post is its own item, named by its thread: the lab's own feed item for the article is another one.
    assert story.id == item_id(canonical_url("https://news.ycombinator.com/item?id=9101"), "", "", None)
    assert story.published == datetime(2026, 4, 10, 3, tzinfo=timezone.utc)
    # Ranked order kept; deleted and dead comments left out; HTML entities and tags gone.
    assert [(c.author, c.text[:30]) for c in story.comments] == [
        ("kernelhacker", "The eval harness is public, so"), ("skeptic42", "Benchmarks saturate fast; I'd ")]
    assert story.comments[1].url == "https://news.ycombinator.com/item?id=9204"
    assert ask.url == "https://news.ycombinator.com/item?id=9102" and "budget GPU hours" in ask.summary
    assert ask.thread_url == ""  # an Ask HN post is its thread
    assert [c.author for c in ask.comments] == ["sre_anna"]
    assert any("item 9104" in w and "HTTP 500" in w for w in got.warnings)


def test_algolia_front_page() -> None:
    with serve() as srv:
        algolia(srv)
        result, _ = run(source(srv.url("/api/v1"), api="algolia"))
        assert srv.hits("/api/v1/search")[0].query["tags"] == ["front_page"]
    story, ask = result.items
    assert (story.points, story.comment_count) == (412, 212) and ask.points == 88
    assert [c.author for c in story.comments] == ["kernelhacker", "skeptic42"]
    assert ask.comments == []


def test_comments_of_a_story_that_made_the_briefing() -> None:
    with serve() as srv:
        firebase(srv)
        src = source(srv.url("/v0"))
        result, _ = asyncio.run(fetch_sources([src], FetchSettings(comment_threads=0), {}))[0]
        story = result.items[0]
        assert story.comments == []  # not fetched with the listing
        found, errors = asyncio.run(fetch_comments([(src, story)], FetchSettings(top_comments=1)))
    assert not errors
    assert [c.author for c in found[story.id]] == ["kernelhacker"]


def test_not_json_is_a_clear_error() -> None:
    with serve() as srv:
        srv.route("/v0/topstories.json", Reply(body=b"<html>maintenance</html>", content_type="text/html"))
        result, _ = run(source(srv.url("/v0")))
    assert "not JSON" in result.error and "Hacker News API" in result.error
