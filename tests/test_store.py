from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import psycopg
import pytest

from dailybrief.desk.drafts import Desk, Draft
from dailybrief.errors import StoreError
from dailybrief.records import Comment, Item, RunReport, Source, SourceResult, StageReport
from dailybrief.store import MIGRATIONS, TABLES, Store, StoryRow


def make_item(n: int, **kw: object) -> Item:
    base = dict(id=f"id{n}", source_id="s", source_name="S", tier="press", url=f"https://x.example/{n}",
                canonical_url=f"https://x.example/{n}", title=f"T{n}", summary="s",
                published=datetime(2026, 4, 10, n % 24, tzinfo=timezone.utc), content_hash=f"h{n}")
    base.update(kw)
    return Item(**base)  # type: ignore[arg-type]


def test_migrations_apply_on_open_and_only_once(store_url: str) -> None:
    db = store_url
    s = Store.open(db)
    assert s.version == len(MIGRATIONS)
    s.close()
    s = Store.open(db)  # reopening applies nothing again
    assert s.version == len(MIGRATIONS)


def test_newer_schema_is_refused_with_a_fix(store_url: str) -> None:
    s = Store.open(store_url)
    if s.dialect == "sqlite":
        s.conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    else:
        s._write("UPDATE dailybrief_schema SET version = :v", {"v": len(MIGRATIONS) + 5})
    s.close()
    with pytest.raises(StoreError, match="upgrade dailybrief"):
        Store.open(store_url)


def test_items_insert_once_and_round_trip(store_url: str) -> None:
    s = Store.open(store_url)
    items = [make_item(1, comments=[Comment("u", "text", score=3)]), make_item(2)]
    assert len(s.add_items(items)) == 2
    assert s.add_items(items) == []
    assert s.count("items") == 2
    back = s.items_between(datetime(2026, 4, 10, tzinfo=timezone.utc), datetime(2026, 4, 11, tzinfo=timezone.utc))
    assert [i.id for i in back] == ["id1", "id2"]
    assert back[0].comments[0].text == "text" and back[0].comments[0].score == 3
    assert back[0].published == items[0].published


def test_rerun_refreshes_engagement_without_duplicating(store_url: str) -> None:
    s = Store.open(store_url)
    s.add_items([make_item(1, points=10)])
    s.add_items([make_item(1, points=99)])
    assert s.items(["id1"])[0].points == 99 and s.count("items") == 1


def test_embeddings_cache(store_url: str) -> None:
    s = Store.open(store_url)
    v = np.arange(4, dtype=np.float32)
    s.put_embeddings({"a": v}, "m")
    got = s.embeddings(["a", "b"], "m")
    assert list(got) == ["a"] and np.array_equal(got["a"], v)


def test_runs_are_recorded_with_stages(store_url: str) -> None:
    s = Store.open(store_url)
    run = RunReport(id="r1", edition=date(2026, 4, 10), started=datetime(2026, 4, 10, tzinfo=timezone.utc))
    run.stages.append(StageReport("fetch", 1.5, {"fetched": 3}, ["X: down"], ok=True))
    run.failures.append("X: down")
    run.status = "degraded"
    s.save_run(run)
    [back] = s.runs()
    assert back.status == "degraded" and back.failures == ["X: down"]
    assert back.stages[0].counts == {"fetched": 3} and back.stages[0].errors == ["X: down"]


def test_processes_opening_a_new_database_at_once_all_get_it_migrated(store_url: str) -> None:
    db = store_url
    code = ("import sys, time; t = float(sys.argv[2]); time.sleep(max(0, t - time.time()))\n"
            "from dailybrief.store import Store; print(Store.open(sys.argv[1]).version)")
    start = time.time() + 1.0
    procs = [subprocess.Popen([sys.executable, "-c", code, str(db), str(start)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in results]
    assert {out.strip() for out, _ in results} == {str(len(MIGRATIONS))}


def test_source_health_and_history_per_run(store_url: str) -> None:
    s = Store.open(store_url)
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


def test_known_urls_and_comments(store_url: str) -> None:
    s = Store.open(store_url)
    s.add_items([make_item(1, text="full text", source_id="a"), make_item(2, source_id="a"), make_item(3, text="x")])
    assert s.known_urls("a") == {"https://x.example/1"}
    s.set_comments("id2", [Comment("u", "a comment", score=5)])
    assert s.items(["id2"])[0].comments[0].text == "a comment"


def test_migration_2_upgrades_a_foundation_database(store_url: str) -> None:
    """Both engines run the same numbered history: a store left at version 1 is brought up to date."""
    if store_url.startswith("postgresql"):
        with psycopg.connect(store_url, autocommit=True) as conn:
            for statement in MIGRATIONS[0].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("CREATE TABLE dailybrief_schema (version INTEGER NOT NULL); INSERT INTO dailybrief_schema VALUES (1)")
            conn.execute("INSERT INTO sources (id, name, etag) VALUES ('x', 'Old', '\"e\"')")
    else:
        Path(store_url).parent.mkdir(parents=True)
        conn = sqlite3.connect(store_url)
        conn.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
        conn.execute("INSERT INTO sources (id, name, etag) VALUES ('x', 'Old', '\"e\"')")
        conn.commit()
        conn.close()
    s = Store.open(store_url)
    assert s.version == len(MIGRATIONS) >= 2
    assert s.source_state("x") == {"etag": '"e"', "last_modified": None, "consecutive_failures": 0, "cache": {}}


def test_copies_are_found_by_the_feeds_that_carried_them(store_url: str) -> None:
    s = Store.open(store_url)
    s.add_items([make_item(1), make_item(2, source_id="front"), make_item(3, source_id="best"), make_item(4)])
    s.mark_duplicates({"id2": "id1", "id3": "id1"})
    assert s.copies_by_source(["id1", "id4"]) == {"id1": ["best", "front"]}
    assert s.copies_by_source([]) == {}
    s.add_items([make_item(5, source_id="front2", source_name="HN", position=7),
                 make_item(6, source_id="front3", source_name="HN", position=4), make_item(7, position=2)])
    s.mark_duplicates({"id5": "id1", "id6": "id1", "id7": "id4"})
    assert s.copy_positions(["id1", "id4"]) == {"id1": {"HN": 4}, "id4": {"S": 2}}  # the best place on each site


def _at_once(n: int, work: Callable[[int], None]) -> None:
    """n threads, each with its own connection, released together."""
    gate = threading.Barrier(n, timeout=60)
    errors: list[BaseException] = []

    def run(k: int) -> None:
        try:
            gate.wait()
            work(k)
        except Exception as exc:  # noqa: BLE001 - reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads) and not errors, errors


def test_concurrent_writers_store_each_item_story_and_delivery_once(store_url: str) -> None:
    """Workers racing on the same items, story memberships and delivery log: one row each, counts exact."""
    Store.open(store_url).close()
    day = date(2026, 4, 10)
    src = Source("S", "rss", "https://s.example/feed")
    new_counts: list[int] = []

    def work(k: int) -> None:
        s = Store.open(store_url)
        try:
            s.upsert_sources([src])
            new_counts.append(len(s.add_items([make_item(n) for n in range(30)])))
            s.put_embeddings({f"id{n}": np.full(4, n, dtype=np.float32) for n in range(30)}, "m")
            s.save_story("st1", "T", day, day, np.ones(4), [f"id{n}" for n in range(k % 2, 30, 2)], day)
            s.mark_briefed(["st1"], day)
            s.start_delivery(day, "mail", "email", "d1")
            s.record_fetch(SourceResult(src, error="HTTP 500", status=500, seconds=0.1))
        finally:
            s.close()

    _at_once(4, work)
    s = Store.open(store_url)
    assert sum(new_counts) == 30  # each item was new to exactly one worker
    assert s.count("items") == 30 and s.count("embeddings") == 30 and s.count("stories") == 1
    assert s.count("story_items") == 30 and s.count("briefings") == 1
    [d] = s.deliveries(day)
    assert d["attempts"] == 4 and d["status"] == "sending"  # every attempt counted, none lost to a race
    assert s.source_state(src.id)["consecutive_failures"] == 4


def test_a_day_is_refiled_whole_even_by_workers_at_once(store_url: str) -> None:
    """replace_day swaps a day's stories in one transaction: racing workers leave one worker's filing, whole."""
    Store.open(store_url).close()
    day = date(2026, 4, 10)
    ids = [f"id{n}" for n in range(24)]

    def grouping(k: int) -> list[StoryRow]:  # worker k files the items in k + 2 stories of its own
        return [StoryRow(f"w{k}-{g}", "T", day, day, np.ones(4), ids[g :: k + 2]) for g in range(k + 2)]

    def work(k: int) -> None:
        s = Store.open(store_url)
        try:
            s.replace_day(day, grouping(k))
        finally:
            s.close()

    _at_once(4, work)
    s = Store.open(store_url)
    filed = {(r["story_id"], r["item_id"]) for r in s.day_stories(day)}
    assert any(filed == {(r.id, i) for r in grouping(k) for i in r.item_ids} for k in range(4)), sorted(filed)
    assert s.count("stories") == len({sid for sid, _ in filed})  # no other worker's story left behind, empty
    s.replace_day(day, [StoryRow("again", "T", day, day, np.ones(4), ids)])
    assert {r["story_id"] for r in s.day_stories(day)} == {"again"} and s.count("stories") == 1


def _fill(s: Store) -> None:
    day = date(2026, 4, 10)
    src = Source("S", "rss", "https://s.example/feed")
    s.upsert_sources([src])
    s.record_fetch(SourceResult(src, items=[make_item(1)], status=200, seconds=0.25), etag='"e"', run_id="r1")
    s.add_items([make_item(n, comments=[Comment("u", "评论 ü", score=n)]) for n in range(40)])
    s.put_embeddings({f"id{n}": np.linspace(0, 1, 8, dtype=np.float32) * n for n in range(40)}, "m")
    s.put_signatures({f"id{n}": np.arange(16, dtype=np.uint32) + n for n in range(40)})
    s.save_story("st1", "故事", day, day, np.ones(8), ["id1", "id2"], day)
    s.mark_briefed(["st1"], day)
    run = RunReport(id="r1", edition=day, started=datetime(2026, 4, 10, tzinfo=timezone.utc))
    run.stages.append(StageReport("fetch", 1.0 / 3, {"fetched": 3}, [], ok=True))
    s.save_run(run)
    s.record_edition(day, "zh", "r1", "out/brief.json", "abc")
    s.start_delivery(day, "mail", "email", "abc")
    s.finish_delivery(day, "mail", ok=True, detail="sent")
    s.record_alert("r1", "mail", day, "subject", ok=True)
    s.put_response("k", "m", "req", "resp", 3, 4)
    s.conn.execute("INSERT INTO desk_audit (edition, version, at, \"user\", action) VALUES ('2026-04-10', 1, 'now', 'ed', 'a')")
    s.conn.commit()


def _dump(s: Store) -> dict[str, list[tuple[object, ...]]]:
    return {t: sorted((tuple(r.values()) for r in s.iter_rows(f"SELECT * FROM {t}")), key=repr) for t in TABLES}


def test_copy_to_postgresql_loses_nothing_and_can_be_rerun(tmp_path: Path, pg_url: str) -> None:
    src = Store.open(tmp_path / "old.db")
    _fill(src)
    dest = Store.open(pg_url)
    first = {c.table: c for c in src.copy_to(dest)}
    assert first["items"].source == first["items"].copied == first["items"].dest == 40
    assert _dump(dest) == _dump(src)  # every value, bytes and floats included, as it was
    again = src.copy_to(dest)  # a rerun adds nothing and still checks
    assert all(c.copied == 0 and c.dest == c.source for c in again)
    src.add_items([make_item(99)])
    assert {c.table: c.copied for c in src.copy_to(dest)}["items"] == 1
    dest._write("INSERT INTO desk_audit (edition, version, at, \"user\", action) VALUES ('x', 1, 'now', 'ed', 'b')", {})
    assert dest.count("desk_audit") == 2  # the auto-numbered key counts on after the copied ones


def test_a_wrong_password_is_explained_without_showing_it(pg_url: str) -> None:
    good = pg_url.split("//", 1)[1].split("@", 1)[0].split(":", 1)[1]
    wrong = pg_url.replace(f":{good}@", ":Wr0ngSecretPassw0rd@")
    with pytest.raises(StoreError) as info:
        Store.open(wrong)
    msg = str(info.value)
    assert "Wr0ngSecretPassw0rd" not in msg and good not in msg
    assert "127.0.0.1" in msg and "password" in msg and "DAILYBRIEF_DB" in msg


def test_store_migrate_command_copies_checks_and_reruns(pg_url: str) -> None:
    from click.testing import CliRunner

    from dailybrief import config
    from dailybrief.cli import main

    src = Store.open(config.load().db_url())  # the configured SQLite file
    _fill(src)
    src.close()
    password = pg_url.split("@", 1)[0].rsplit(":", 1)[1]
    first = CliRunner().invoke(main, ["store", "migrate", "--to", pg_url])
    assert first.exit_code == 0, first.output
    text = " ".join(first.output.split())
    assert "checked: PostgreSQL holds every one of the" in text and password not in first.output
    assert "│ items │ 40 │ 40 │ 40 │" in text, text
    again = CliRunner().invoke(main, ["store", "migrate", "--to", pg_url])
    assert again.exit_code == 0 and "│ items │ 40 │ 0 │ 40 │" in " ".join(again.output.split())
    wrong = CliRunner().invoke(main, ["store", "migrate", "--to", pg_url.replace(password, "N0tThePassw0rd")])
    assert wrong.exit_code == 1 and "N0tThePassw0rd" not in wrong.output and "password" in wrong.output
    bad = CliRunner().invoke(main, ["store", "migrate", "--to", "mysql://x@h/db"])
    assert bad.exit_code == 2 and "postgresql://" in bad.output


def _old_store(store_url: str, version: int, rows: list[str]) -> None:
    """A store at schema `version` (the first `version` migrations) holding `rows`, on either engine."""
    old = MIGRATIONS[:version]
    if store_url.startswith("postgresql"):
        with psycopg.connect(store_url, autocommit=True) as conn:
            for statement in (st for m in old for st in m.replace("{auto_id}", "BIGINT GENERATED BY DEFAULT AS "
                                                                  "IDENTITY PRIMARY KEY").split(";")):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("CREATE TABLE dailybrief_schema (version INTEGER NOT NULL)")
            conn.execute(f"INSERT INTO dailybrief_schema VALUES ({version})")
            for row in rows:
                conn.execute(row)
    else:
        Path(store_url).parent.mkdir(parents=True)
        conn = sqlite3.connect(store_url)
        conn.executescript("; ".join(m.replace("{auto_id}", "INTEGER PRIMARY KEY AUTOINCREMENT") for m in old)
                           + f"; PRAGMA user_version = {version};")
        for row in rows:
            conn.execute(row)
        conn.commit()
        conn.close()


def test_migration_10_keeps_one_editions_records_as_the_default_editions(store_url: str) -> None:
    """A store from before [[editions]]: its runs, deliveries and stories become the default edition's, and
    another edition of the same store starts with none of them."""
    day = "2026-04-10"
    rows = [
        "INSERT INTO runs (id, edition, started, status, failures, outputs) VALUES ('r1', '2026-04-10', "
        "'2026-04-10T00:00:00+00:00', 'ok', '[]', '{}')",
        "INSERT INTO deliveries (edition, target, kind, status, digest, attempts) VALUES ('2026-04-10', 'mail', "
        "'email', 'delivered', 'd', 1)",
        "INSERT INTO editions (edition, language, run_id, path, digest) VALUES ('2026-04-10', 'zh', 'r1', 'p', 'd')",
        "INSERT INTO stories (id, title, first_seen, last_seen) VALUES ('s1', 'T', '2026-04-10', '2026-04-10')",
        "INSERT INTO story_items (item_id, story_id, day) VALUES ('i1', 's1', '2026-04-10')",
        "INSERT INTO briefings (story_id, day) VALUES ('s1', '2026-04-10')",
    ]
    _old_store(store_url, 9, rows)
    s = Store.open(store_url)
    d = date.fromisoformat(day)
    assert s.version == len(MIGRATIONS)
    assert [(r["target"], r["status"]) for r in s.deliveries(d)] == [("mail", "delivered")]
    assert s.edition_days(d, d + timedelta(days=1)) == {d} and [r.name for r in s.runs()] == ["daily"]
    assert [(r["story_id"], r["item_id"], r["briefed_on"]) for r in s.day_stories(d + timedelta(days=1))] == []
    assert s.clustered_days(d, d + timedelta(days=1)) == {d}
    other = s.scoped("semi")
    assert other.deliveries(d) == [] and other.edition_days(d, d + timedelta(days=1)) == set()
    assert other.clustered_days(d, d + timedelta(days=1)) == set() and other.day_stories(d) == []
    # The same item in two editions' stories, and the same target getting both editions: one row each.
    other.replace_day(d, [StoryRow("s9", "Chips", d, d, np.ones(4, dtype=np.float32), ["i1"])])
    assert [r["story_id"] for r in s.day_stories(d)] == ["s1"] and [r["story_id"] for r in other.day_stories(d)] == ["s9"]
    other.start_delivery(d, "mail", "email", "e")
    other.finish_delivery(d, "mail", ok=True)
    assert [r["status"] for r in s.deliveries(d) + other.deliveries(d)] == ["delivered", "delivered"]
    assert s.delivery(d, "mail")["digest"] == "d" and other.delivery(d, "mail")["digest"] == "e"
    other.close()  # a view: closing it leaves the store open
    assert s.count("items") == 0
    s.close()


def test_migration_11_keeps_the_desks_drafts_decisions_and_audit_as_the_default_editions(store_url: str) -> None:
    """A store from before the desk per edition: its drafts, decisions and audit log become the default edition's;
    another edition's desk starts with none of them, and the same day's draft of two editions is two rows."""
    brief = ('[{"edition": "2026-04-10", "language": "zh", "title": "T", "branding": {}, "abstract": [], '
             '"sections": [], "references": []}]')
    rows = [
        "INSERT INTO desk_drafts (edition, version, status, run_id, briefs, candidates, stale, touched) VALUES "
        f"('2026-04-10', 3, 'held', 'r1', '{brief}', '[]', '[]', 1)",
        'INSERT INTO desk_decisions (edition, seq, story_id, action, data, "user", at) VALUES '
        "('2026-04-10', 1, 's1', 'drop', '{\"story_id\": \"s1\"}', 'edna', 'now')",
        'INSERT INTO desk_audit (edition, version, at, "user", action, target, before, after) VALUES '
        "('2026-04-10', 3, 'now', 'edna', 'drop', 's1', '', '')",
    ]
    _old_store(store_url, 10, rows)
    s = Store.open(store_url)
    d = date(2026, 4, 10)
    assert s.version == len(MIGRATIONS)
    desk = Desk(s)
    kept = desk.draft(d)
    assert kept is not None and (kept.version, kept.status, kept.touched, kept.run_id) == (3, "held", True, "r1")
    assert [(x["action"], x["story_id"], x["user"]) for x in desk.decisions(d)] == [("drop", "s1", "edna")]
    assert [(h["action"], h["user"]) for h in desk.history(d)] == [("drop", "edna")]
    other = Desk(s.scoped("semi"))
    assert other.draft(d) is None and other.drafts() == [] and other.decisions(d) == [] and other.history(d) == []
    # The same day in two editions: two drafts, each with its own version, decisions and audit log.
    mine = other.put_draft(Draft(edition=d, version=0, status="draft", briefs=kept.briefs, candidates=[]))
    assert mine.version == 1 and desk.draft(d).version == 3  # type: ignore[union-attr]
    other.save(mine, 1, "abe", "pin", "s9", "", "", {"story_id": "s9"})
    assert other.transition(d, 2, ("draft",), "held", "abe")
    assert [x["story_id"] for x in other.decisions(d)] == ["s9"] and len(desk.decisions(d)) == 1
    assert [h["action"] for h in other.history(d)] == ["held", "pin"] and len(desk.history(d)) == 1
    assert desk.draft(d).status == "held" and [r["edition"] for r in desk.drafts()] == ["2026-04-10"]  # type: ignore[union-attr]
    assert not desk.transition(d, 2, ("draft",), "published", "abe")  # the default edition's draft is at 3, held
    s.close()


def test_migration_12_gives_items_their_place_in_a_ranked_listing(store_url: str) -> None:
    """A store from before positions: its items have none; an item listed again keeps the best place it reached."""
    row = ("INSERT INTO items (id, source_id, source_name, tier, url, canonical_url, title, summary, published, "
           "content_hash) VALUES ('old', 's', 'S', 'community', 'https://x.example/o', 'https://x.example/o', 'Old', "
           "'', '2026-04-10T05:00:00+00:00', 'ho')")
    _old_store(store_url, 10, [row])
    s = Store.open(store_url)
    assert s.version == len(MIGRATIONS)
    assert s.items(["old"])[0].position is None
    s.add_items([make_item(1, position=5)])
    assert s.items(["id1"])[0].position == 5
    for place in (9, None, 3, 4):  # fell back, off the list, rose, fell back: the best place it reached stays
        s.add_items([make_item(1, position=place)])
    assert s.items(["id1"])[0].position == 3 and s.count("items") == 2
    s.close()
