"""The demo's file server: conditional GET that sees a file rewritten within the same second."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from dailybrief.demo import serve_directory


def test_a_feed_rewritten_within_the_second_is_served_again(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text("<rss>one</rss>", "utf-8")
    second = 1_775_800_000
    os.utime(feed, ns=(second * 10**9 + 100, second * 10**9 + 100))
    with serve_directory(tmp_path) as base:
        first = httpx.get(f"{base}/feed.xml")
        assert first.status_code == 200 and first.headers["etag"]
        validators = {"If-None-Match": first.headers["etag"], "If-Modified-Since": first.headers["last-modified"]}
        assert httpx.get(f"{base}/feed.xml", headers=validators).status_code == 304  # unchanged
        feed.write_text("<rss>two</rss>", "utf-8")  # same size, same whole second: only the ETag can tell
        os.utime(feed, ns=(second * 10**9 + 900, second * 10**9 + 900))
        again = httpx.get(f"{base}/feed.xml", headers=validators)
        assert again.status_code == 200 and again.text == "<rss>two</rss>"
        assert again.headers["last-modified"] == first.headers["last-modified"]
        # A client that sends only If-Modified-Since keeps the whole-second rule.
        only_date = httpx.get(f"{base}/feed.xml", headers={"If-Modified-Since": first.headers["last-modified"]})
        assert only_date.status_code == 304
