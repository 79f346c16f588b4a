"""The figures attached to a brief: coverage by tier, and the 7-day momentum line from the store."""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from dailybrief import config
from dailybrief.demo import serve_directory
from dailybrief.records import Branding, Brief, Item, Section, Story
from dailybrief.run.pipeline import Pipeline
from dailybrief.store import Store
from dailybrief.write.figures import annotate, coverage, momentum
from helpers import config as make_config
from helpers import rss, source

DAY = date(2026, 4, 10)


def _item(n: int, outlet: str, tier: str) -> Item:
    return Item(id=f"i{n}", source_id=outlet, source_name=outlet, tier=tier, url=f"https://x.example/{n}",
                canonical_url=f"https://x.example/{n}", title=f"t{n}")


def test_coverage_counts_distinct_outlets_by_tier() -> None:
    items = [_item(1, "OpenAI News", "official"), _item(2, "The Verge", "press"), _item(3, "The Verge", "press"),
             _item(4, "Hacker News", "community"), _item(5, "TechCrunch", "press"), _item(6, "arXiv", "paper"),
             _item(7, "Odd", "rumour")]
    story = Story(id="s", items=items, first_seen=DAY, last_seen=DAY)
    assert coverage(story) == {"official": 1, "press": 2, "paper": 1, "community": 1, "other": 1}


def test_momentum_reads_items_per_day_from_the_store(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db.sqlite")
    vec = np.ones(4, dtype=np.float32)
    for offset, n in ((9, 4), (6, 2), (4, 3), (1, 1), (0, 5)):  # day 9 is outside the 7-day window
        day = DAY - timedelta(days=offset)
        store.save_story("a", "A", DAY - timedelta(days=9), day, vec, [f"a{offset}-{k}" for k in range(n)], day)
    store.save_story("b", "B", DAY, DAY, vec, ["b1", "b2"], DAY)
    lines = momentum(store, ["a", "b", "missing"], DAY)
    assert lines == {"a": [2, 0, 3, 0, 0, 1, 5], "b": [0, 0, 0, 0, 0, 0, 2], "missing": [0] * 7}
    assert momentum(store, ["a"], DAY, days=3) == {"a": [0, 1, 5]}

    brief = Brief(edition=DAY, language="zh", title="t", branding=Branding(),
                  sections=[Section(kind="story", title="A", story_id="a"), Section(kind="roundup", title="")])
    stories = [Story(id="a", items=[_item(1, "OpenAI News", "official"), _item(2, "Reddit", "community")],
                     first_seen=DAY - timedelta(days=9), last_seen=DAY)]
    assert annotate([brief], stories, store, DAY) == 1
    assert brief.sections[0].coverage == {"official": 1, "community": 1}
    assert brief.sections[0].momentum == [2, 0, 3, 0, 0, 1, 5]
    assert brief.sections[1].coverage == {} and brief.sections[1].momentum == []
    store.close()


# Each report adds its own detail, so no two are near-duplicates of each other (which the dedup stage would drop).
DETAILS = [
    "Analysts expect the first systems in data centres in the autumn, with memory bandwidth the headline gain.",
    "Two hyperscalers said they had placed orders, though neither gave volumes or prices.",
    "The launch event also showed a networking switch and new software for scheduling training jobs.",
    "Shares of the company rose in early trading as investors weighed supply constraints at the foundry.",
    "Researchers who tested early samples reported faster inference on long-context language models.",
    "A rival chipmaker responded with a price cut on its current accelerator line for cloud customers.",
]

OFFICIAL = ["The official announcement named the first partners and gave a shipping window for developer kits.",
            "A follow-up post from the company listed benchmark results and the regions where systems go live first."]


def test_a_story_that_continues_gets_its_line_in_every_format(tmp_path: Path, feed_dir: Path) -> None:
    """Two days of the same event through the real pipeline: day two's edition draws its momentum."""
    day1, day2 = DAY - timedelta(days=1), DAY

    def feed(day: date, n: int) -> str:
        when = datetime(day.year, day.month, day.day, 3, tzinfo=timezone.utc)
        return rss("Wire", [
            {"title": f"Nvidia unveils Rubin AI accelerator, report {day.day}-{k}",
             "link": f"https://wire.example/{day.day}/{k}", "published": when + timedelta(minutes=k),
             "description": f"Nvidia unveiled its Rubin accelerator for AI training and inference ({day.day}-{k}). "
                            "The chip ships to cloud providers later this year, the company said. "
                            + DETAILS[(day.day * 3 + k) % len(DETAILS)]}
            for k in range(n)])

    cfg_data = make_config([], output={"formats": ["md", "html", "wechat", "txt", "json"],
                                       "edition_url": "https://brief.example.org/{date}/"})
    with serve_directory(feed_dir) as base:
        cfg_data["sources"] = [source("Wire", f"{base}/wire.xml"), source("Other", f"{base}/other.xml", tier="official")]
        cfg = config.from_dict(cfg_data)
        store = Store.open(cfg.db_url())
        for day, n in ((day1, 2), (day2, 3)):
            (feed_dir / "wire.xml").write_text(feed(day, n), "utf-8")
            other = feed(day, 1).replace("Wire", "Other").replace("wire.example", "other.example")
            other = other.replace(DETAILS[(day.day * 3) % len(DETAILS)], OFFICIAL[day.day % 2])
            (feed_dir / "other.xml").write_text(other.replace("the company said", "its maker confirmed"), "utf-8")
            # Distinct Last-Modified times, or the second fetch would rightly get a 304.
            stamp = datetime.combine(day, datetime.min.time()).timestamp()
            for name in ("wire.xml", "other.xml"):
                os.utime(feed_dir / name, (stamp, stamp))
            run = Pipeline(cfg, store).run(day, tmp_path / day.isoformat())
            assert run.status == "ok", run.failures
        store.close()
    data = json.loads((tmp_path / day2.isoformat() / "brief.json").read_text("utf-8"))
    [story] = [s for s in data["sections"] if s["kind"] == "story"]
    assert story["momentum"] == [0, 0, 0, 0, 0, 3, 4]
    assert story["coverage"] == {"official": 1, "press": 1}
    assert data["url"] == "https://brief.example.org/2026-04-10/brief.html"
    html = (tmp_path / day2.isoformat() / "brief.html").read_text("utf-8")
    assert "<polyline" in html and "近 7 日热度" in html
    assert "近 7 日热度" in (tmp_path / day2.isoformat() / "brief.wechat.html").read_text("utf-8")
    assert "4/9 3 · 4/10 4" in (tmp_path / day2.isoformat() / "brief.txt").read_text("utf-8")
    # Day one's story was seen on one day only: no line.
    first = json.loads((tmp_path / day1.isoformat() / "brief.json").read_text("utf-8"))
    assert [s["momentum"] for s in first["sections"] if s["kind"] == "story"] == [[0, 0, 0, 0, 0, 0, 3]]
    assert "<polyline" not in (tmp_path / day1.isoformat() / "brief.html").read_text("utf-8")
