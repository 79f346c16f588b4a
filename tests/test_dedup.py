from __future__ import annotations

from datetime import datetime, timezone

from dailybrief.dedup import canonical_url, content_hash, exact_duplicates, text_hash
from dailybrief.records import Item


def test_canonical_url_strips_tracking_and_noise() -> None:
    assert canonical_url("HTTP://WWW.Example.com:80/a/b/?utm_source=rss&id=3&fbclid=x#frag") == \
        "https://example.com/a/b?id=3"
    assert canonical_url("https://example.com/a?b=2&a=1") == canonical_url("https://example.com/a?a=1&b=2")
    assert canonical_url("https://example.com:8443/x") == "https://example.com:8443/x"


def test_content_hash_is_stable_and_distinct() -> None:
    assert content_hash("a", 1) == content_hash("a", 1) != content_hash("a", 2)
    assert text_hash("Title", "Body  text") == text_hash("title", "body text")


def test_exact_duplicates_point_at_the_earliest() -> None:
    def item(i: str, h: str, hour: int) -> Item:
        return Item(id=i, source_id="s", source_name="S", tier="press", url=i, canonical_url=i, title=i,
                    content_hash=h, published=datetime(2026, 4, 10, hour, tzinfo=timezone.utc))

    dupes = exact_duplicates([item("b", "h", 5), item("a", "h", 3), item("c", "other", 1)])
    assert dupes == {"b": "a"}
