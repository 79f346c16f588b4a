from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from dailybrief.errors import StoreError
from dailybrief.records import Comment, Item, RunReport, StageReport
from dailybrief.store import MIGRATIONS, Store


def make_item(n: int, **kw: object) -> Item:
    base = dict(id=f"id{n}", source_id="s", source_name="S", tier="press", url=f"https://x.example/{n}",
                canonical_url=f"https://x.example/{n}", title=f"T{n}", summary="s",
                published=datetime(2026, 4, 10, n % 24, tzinfo=timezone.utc), content_hash=f"h{n}")
    base.update(kw)
    return Item(**base)  # type: ignore[arg-type]


def test_migrations_apply_on_open_and_only_once(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    s = Store.open(db)
    assert s.version == len(MIGRATIONS)
    s.close()
    s = Store.open(db)  # reopening applies nothing again
    assert s.version == len(MIGRATIONS)


def test_newer_schema_is_refused_with_a_fix(tmp_path: Path) -> None:
    s = Store.open(tmp_path / "d.db")
    s.conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    s.close()
    with pytest.raises(StoreError, match="upgrade dailybrief"):
        Store.open(tmp_path / "d.db")


def test_items_insert_once_and_round_trip(tmp_path: Path) -> None:
    s = Store.open(tmp_path / "d.db")
    items = [make_item(1, comments=[Comment("u", "text", score=3)]), make_item(2)]
    assert len(s.add_items(items)) == 2
    assert s.add_items(items) == []
    assert s.count("items") == 2
    back = s.items_between(datetime(2026, 4, 10, tzinfo=timezone.utc), datetime(2026, 4, 11, tzinfo=timezone.utc))
    assert [i.id for i in back] == ["id1", "id2"]
    assert back[0].comments[0].text == "text" and back[0].comments[0].score == 3
    assert back[0].published == items[0].published


def test_rerun_refreshes_engagement_without_duplicating(tmp_path: Path) -> None:
    s = Store.open(tmp_path / "d.db")
    s.add_items([make_item(1, points=10)])
    s.add_items([make_item(1, points=99)])
    assert s.items(["id1"])[0].points == 99 and s.count("items") == 1


def test_embeddings_cache(tmp_path: Path) -> None:
    s = Store.open(tmp_path / "d.db")
    v = np.arange(4, dtype=np.float32)
    s.put_embeddings({"a": v}, "m")
    got = s.embeddings(["a", "b"], "m")
    assert list(got) == ["a"] and np.array_equal(got["a"], v)


def test_runs_are_recorded_with_stages(tmp_path: Path) -> None:
    s = Store.open(tmp_path / "d.db")
    run = RunReport(id="r1", edition=date(2026, 4, 10), started=datetime(2026, 4, 10, tzinfo=timezone.utc))
    run.stages.append(StageReport("fetch", 1.5, {"fetched": 3}, ["X: down"], ok=True))
    run.failures.append("X: down")
    run.status = "degraded"
    s.save_run(run)
    [back] = s.runs()
    assert back.status == "degraded" and back.failures == ["X: down"]
    assert back.stages[0].counts == {"fetched": 3} and back.stages[0].errors == ["X: down"]


def test_processes_opening_a_new_database_at_once_all_get_it_migrated(tmp_path: Path) -> None:
    import subprocess
    import sys

    db = tmp_path / "race.db"
    code = ("import sys, time; t = float(sys.argv[2]); time.sleep(max(0, t - time.time()))\n"
            "from dailybrief.store import Store; print(Store.open(sys.argv[1]).version)")
    import time

    start = time.time() + 1.0
    procs = [subprocess.Popen([sys.executable, "-c", code, str(db), str(start)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in results]
    assert {out.strip() for out, _ in results} == {str(len(MIGRATIONS))}


def test_source_health_and_history_per_run(tmp_path: Path) -> None:
    from dailybrief.records import Source, SourceResult

    s = Store.open(tmp_path / "d.db")
    src = Source("S", "rss", "https://s.example/feed")
    s.upsert_sources([src])
    ok = SourceResult(src, items=[make_item(1), make_item(2)], status=200, seconds=0.4)
    s.record_fetch(ok, etag='"a"', cache={src.url: {"etag": '"a"'}}, run_id="r1")
    s.set_new_items("r1", {src.id: 2})
    bad = SourceResult(src, error="HTTP 500 (the server failed)", status=500, seconds=1.2)
    assert s.record_fetch(bad, run_id="r2") == 1
    assert s.record_fetch(bad, run_id="r3") == 2
    state = s.source_state(src.id)
    assert state["consecutive_failures"] == 2 and state["etag"] == '"a"'
    assert state["cache"] == {src.url: {"etag": '"a"'}}  # validators survive failed runs
    row = s.sources()[0]
    assert row["last_error"].startswith("HTTP 500") and row["last_items"] == 2 and row["last_status"] == 500
    history = s.source_history(src.id)
    assert [(h["run_id"], h["ok"], h["items"], h["new_items"]) for h in history][-1] == ("r1", 1, 2, 2)
    assert {h["run_id"] for h in history} == {"r1", "r2", "r3"} and all(h["latency"] for h in history)
    s.record_fetch(SourceResult(src, status=304, not_modified=True, seconds=0.1), run_id="r4")
    assert s.source_state(src.id)["consecutive_failures"] == 0


def test_known_urls_and_comments(tmp_path: Path) -> None:
    s = Store.open(tmp_path / "d.db")
    s.add_items([make_item(1, text="full text", source_id="a"), make_item(2, source_id="a"), make_item(3, text="x")])
    assert s.known_urls("a") == {"https://x.example/1"}
    s.set_comments("id2", [Comment("u", "a comment", score=5)])
    assert s.items(["id2"])[0].comments[0].text == "a comment"


def test_migration_2_upgrades_a_foundation_database(tmp_path: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(tmp_path / "old.db")
    conn.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    conn.execute("INSERT INTO sources (id, name, etag) VALUES ('x', 'Old', '\"e\"')")
    conn.commit()
    conn.close()
    s = Store.open(tmp_path / "old.db")
    assert s.version == len(MIGRATIONS) >= 2
    assert s.source_state("x") == {"etag": '"e"', "last_modified": None, "consecutive_failures": 0, "cache": {}}


def test_copies_are_found_by_the_feeds_that_carried_them(tmp_path: Path) -> None:
    s = Store.open(tmp_path / "d.db")
    s.add_items([make_item(1), make_item(2, source_id="front"), make_item(3, source_id="best"), make_item(4)])
    s.mark_duplicate("id2", "id1")
    s.mark_duplicate("id3", "id1")
    assert s.copies_by_source(["id1", "id4"]) == {"id1": ["best", "front"]}
    assert s.copies_by_source([]) == {}
