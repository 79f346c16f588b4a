"""A ranked listing ([[sources]] ranked = true) at its worst, through `dailybrief fetch` into a real store: entries
without links, 10,000 entries, one link at several places, NUL and other control bytes, broken UTF-8. Nothing
is lost but what cannot be an item, every place is the best the item reached, and the run says what was odd."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from click.testing import CliRunner

from dailybrief import config
from dailybrief.cli import main
from dailybrief.store import Store

WHEN = datetime(2026, 4, 10, 3, tzinfo=timezone.utc)


def _config(base: str, feeds: list[str]) -> None:
    Path("dailybrief.toml").write_text("[edition]\nlanguages = [\"en\"]\n[fetch]\nallow_private = [\"127.0.0.1\"]\n" + "".join(
        f'[[sources]]\nname = "{f}"\nurl = "{base}/{f}"\nranked = true\ntier = "community"\n' for f in feeds), "utf-8")


def _items(store: Store) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in store.iter_rows("SELECT source_name, title, url, author, summary, position FROM items"):
        out.setdefault(r["source_name"], []).append(r)
    return out


def test_a_ten_thousand_entry_listing_with_missing_and_repeated_links(feed_dir: Path, feed_server: str) -> None:
    entries = []
    for i in range(10_000):
        t = (WHEN - timedelta(seconds=i)).strftime("%a, %d %b %Y %H:%M:%S +0000")
        if i % 7 == 0:  # no link: an item still, by its title
            entries.append(f"<item><title>No link post {i}</title><pubDate>{t}</pubDate></item>")
        elif i % 11 == 0:  # one link at many places
            entries.append(f"<item><title>Again {i}</title><link>https://hot.example/dup</link><pubDate>{t}</pubDate></item>")
        else:  # a Chinese word now and then, as a mixed listing has
            entries.append(f"<item><title>Post {i}{' 芯片' if i % 50 == 1 else ''}</title><link>https://hot.example/p/{i}</link><pubDate>{t}</pubDate></item>")
    entries.append("<item></item><item><title></title><link></link></item>")  # nothing to cite: not items
    body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Hot</title>'
            + "".join(entries) + "</channel></rss>").encode("utf-8")
    (feed_dir / "hot.xml").write_bytes(body.replace(b"Post 5<", "Post 5 \u70ed".encode() + b"\xff<"))
    _config(feed_server, ["hot.xml"])
    result = CliRunner().invoke(main, ["fetch"])
    assert result.exit_code == 0, result.output
    store = Store.open(config.load("dailybrief.toml").db_url())
    try:
        [run] = store.runs()
        items = _items(store)["hot.xml"]
        dups = sum(1 for i in range(10_000) if i % 7 and not i % 11)
        assert len(items) == 10_000 - dups + 1  # the repeated link is one item
        by_url = {r["url"]: r for r in items}
        assert by_url["https://hot.example/dup"]["position"] == 12  # its best place, not its last
        places = sorted(r["position"] for r in items)
        assert places[0] == 1 and places[-1] == 9_999 and len(set(places)) == len(places)  # the last is a repeat
        assert sum(1 for r in items if not r["url"] and r["title"].startswith("No link post")) == len(range(0, 10_000, 7))
        # One broken byte: the rest of the listing stays UTF-8 (the title's Chinese character too), and it is said.
        assert by_url["https://hot.example/p/5"]["title"] == "Post 5 \u70ed\ufffd"
        assert any("invalid UTF-8 byte sequence(s) replaced" in e for s in run.stages for e in s.errors)
    finally:
        store.close()


def test_control_bytes_from_a_feed_never_reach_the_store(feed_dir: Path, feed_server: str, store_url: str) -> None:
    """A NUL in a JSON Feed's title (legal JSON) or a loosely parsed XML feed: PostgreSQL refuses a NUL in text,
    which once failed the whole batch; the controls go, the items stay, on either engine."""
    (feed_dir / "j.json").write_text(json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": [
        {"id": "1", "url": "https://j.example/1", "title": "Nul\u0000 title\u0007", "content_text": "Body\u0000 text",
         "authors": [{"name": "Ann\u0000"}], "date_published": "2026-04-10T03:00:00Z"},
        {"id": "2", "url": "https://j.example/2", "title": "Plain", "content_text": "Fine."}]}), "utf-8")
    (feed_dir / "x.xml").write_bytes(b'<?xml version="1.0"?><rss version="2.0"><channel><title>X</title>'
                                     b"<item><title>\x00\x01 bad\x1f one</title><link>https://x.example/1</link></item>"
                                     b"<item><title>\x00\x00</title><link>https://x.example/2</link></item></channel></rss>")
    _config(feed_server, ["j.json", "x.xml"])
    result = CliRunner().invoke(main, ["fetch"])
    assert result.exit_code == 0, result.output
    store = Store.open(store_url)
    try:
        items = _items(store)
        assert sorted(r["title"] for r in items["j.json"]) == ["Nul title", "Plain"]
        assert {r["author"] for r in items["j.json"]} >= {"Ann"}
        assert [r["title"] for r in items["x.xml"]] == ["bad one", "https://x.example/2"]
        assert all(r["position"] for rows in items.values() for r in rows)
        assert store.runs()[0].status == "ok"
    finally:
        store.close()


def test_entries_whose_link_is_no_page_of_their_own_are_each_kept(feed_dir: Path, feed_server: str) -> None:
    """A sloppy listing links every entry to its site's home, to the feed itself, or to javascript:void(0): eight
    different posts were once three items (keyed by that one link); each is an item now, in its place."""
    links = ["javascript:void(0)", "JavaScript:void(0)", f"{feed_server}/sloppy.xml", f"{feed_server}/sloppy.xml",
             "https://sloppy.example/", "https://sloppy.example/", "https://sloppy.example/post/9",
             "https://sloppy.example/post/9"]
    (feed_dir / "sloppy.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>S</title><link>https://sloppy.example/</link>'
        + "".join(f"<item><title>Different post number {i}</title><link>{link}</link>"
                  f"<description>Body of post {i}.</description></item>" for i, link in enumerate(links))
        + "</channel></rss>", "utf-8")
    _config(feed_server, ["sloppy.xml"])
    assert CliRunner().invoke(main, ["fetch"]).exit_code == 0
    store = Store.open(config.load("dailybrief.toml").db_url())
    try:
        rows = sorted(_items(store)["sloppy.xml"], key=lambda r: r["position"])
        # The real article listed twice is one item, at its best place; the other six are six items.
        assert [r["position"] for r in rows] == [1, 2, 3, 4, 5, 6, 7]
        assert [r["url"] for r in rows[:2]] == ["", ""]  # nothing a reader could open
        assert rows[-1]["url"] == "https://sloppy.example/post/9" and rows[-1]["title"] == "Different post number 6"
    finally:
        store.close()
