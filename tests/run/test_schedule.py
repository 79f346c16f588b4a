"""Scheduling: the cron line in its time zone, the run lock, and `dailybrief schedule` running for real."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from dailybrief import config
from dailybrief.cli import main
from dailybrief.cron import cron_trigger
from dailybrief.errors import BusyError, ConfigError
from dailybrief.records import StageReport
from dailybrief.run.schedule import daily_job, lock_path, run_lock, timezone_of
from dailybrief.store import Store
from helpers import rss

SHANGHAI = ZoneInfo("Asia/Shanghai")


def due_edition() -> tuple[date, datetime]:
    """The edition a scheduled run writes now (default cutoff, Shanghai), and a time inside its window."""
    edition = config.from_dict({"edition": {"timezone": "Asia/Shanghai"}}).edition
    day = edition.due(datetime.now(timezone.utc))
    return day, edition.window(day)[1] - timedelta(hours=1)


def next_fire(expr: str, tz: str, after: datetime) -> datetime:
    trigger = cron_trigger(expr, tz)
    fire = trigger.get_next_fire_time(None, after)
    assert fire is not None
    return fire


def test_cron_runs_at_the_configured_time_in_its_time_zone() -> None:
    after = datetime(2026, 4, 10, 8, 0, 1, tzinfo=SHANGHAI)  # a Friday, past 08:00 in Shanghai
    fire = next_fire("30 7 * * *", "Asia/Shanghai", after)
    assert fire == datetime(2026, 4, 11, 7, 30, tzinfo=SHANGHAI)
    assert fire.astimezone(timezone.utc) == datetime(2026, 4, 10, 23, 30, tzinfo=timezone.utc)
    # The same line in UTC is another instant: 08:00 in Shanghai is midnight UTC, so 07:30 UTC comes the same day.
    assert next_fire("30 7 * * *", "UTC", after) == datetime(2026, 4, 10, 7, 30, tzinfo=timezone.utc)
    # Day-of-week means what cron means: 0 and 7 are Sunday, 1-5 Monday to Friday.
    assert next_fire("0 8 * * 0", "Asia/Shanghai", after).date().isoformat() == "2026-04-12"
    assert next_fire("0 8 * * 7", "Asia/Shanghai", after).date().isoformat() == "2026-04-12"
    assert next_fire("0 8 * * 1-5", "Asia/Shanghai", after).date().isoformat() == "2026-04-13"
    assert next_fire("15 * * * * *", "UTC", datetime(2026, 4, 10, 0, 0, 1, tzinfo=timezone.utc)).second == 15


def test_schedule_config_is_checked_and_defaults_to_the_edition_zone() -> None:
    cfg = config.from_dict({"edition": {"timezone": "Europe/Berlin"}})
    assert cfg.schedule.cron == "" and timezone_of(cfg) == "Europe/Berlin"
    # The cron line defaults to the edition's cutoff: the run comes when the edition's window closes.
    assert cfg.cron() == "30 7 * * *"
    assert config.from_dict({"edition": {"cutoff": "06:45"}}).cron() == "45 6 * * *"
    assert config.from_dict({"edition": {"cutoff": "24:00"}}).cron() == "0 0 * * *"
    assert config.from_dict({"edition": {"cutoff": "06:45"}, "schedule": {"cron": "0 9 * * 1-5"}}).cron() == "0 9 * * 1-5"
    assert timezone_of(config.from_dict({"schedule": {"timezone": "UTC"}})) == "UTC"
    for bad, fix in (("61 * * * *", "higher than the maximum"), ("every day", "five fields"), ("0 8 * * 9", "0-7")):
        with pytest.raises(ConfigError) as err:
            config.from_dict({"schedule": {"cron": bad}})
        assert err.value.key == "schedule.cron" and fix in str(err.value) and "'30 7 * * *'" in str(err.value)
    with pytest.raises(ConfigError, match="IANA"):
        config.from_dict({"schedule": {"timezone": "Moon/Base"}})


def test_the_lock_lets_one_run_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite.lock"
    with run_lock(path, "test"):
        with pytest.raises(BusyError) as err:
            with run_lock(path, "second run"):
                pass
        assert f"process {os.getpid()}" in str(err.value) and "this second run did not start" in str(err.value)
    with run_lock(path, "after"):  # released: the next one gets it
        pass


@pytest.mark.usefixtures("store_url")  # a lock file, then PostgreSQL's advisory lock
def test_run_and_publish_wait_for_nobody_while_the_lock_is_held() -> None:
    Path("dailybrief.toml").write_text("[output]\nformats = [\"md\"]\n", "utf-8")
    with run_lock(lock_path(config.load()), "scheduled run"):
        result = CliRunner().invoke(main, ["run", "--date", "2026-04-10", "--no-fetch"])
        assert result.exit_code == 3
        assert "another dailybrief run holds the lock" in " ".join(result.output.split())
        assert daily_job(None) is None  # the scheduled job skips too, recording nothing
    assert Store.open(config.load().db_url()).runs() == []


def test_lock_is_released_when_its_holder_dies(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    code = (f"import sys, time; from pathlib import Path; from dailybrief.run.schedule import run_lock\n"
            f"with run_lock(Path({str(path)!r}), 'doomed run'):\n    print('held', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with pytest.raises(BusyError, match="a doomed run by process"):
            with run_lock(path):
                pass
    finally:
        proc.kill()
        proc.wait(10)
    with run_lock(path):  # the OS dropped the dead process's lock: no stale lock
        pass


def test_the_advisory_lock_of_a_postgresql_store_names_its_holder_and_dies_with_it(pg_url: str) -> None:
    code = ("import sys, time; from dailybrief.run.schedule import run_lock\n"
            "with run_lock(sys.argv[1], 'doomed run'):\n    print('held', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, pg_url], stdout=subprocess.PIPE, text=True)
    password = pg_url.split("@", 1)[0].rsplit(":", 1)[1]
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with pytest.raises(BusyError) as err:
            with run_lock(pg_url, "second run"):
                pass
        assert f"doomed run pid {proc.pid}" in str(err.value) and "this second run did not start" in str(err.value)
        assert password not in str(err.value)
    finally:
        proc.kill()  # SIGKILL: no unlock, the server sees the connection end
        proc.wait(10)
    deadline = time.monotonic() + 20
    while True:  # bounded: the server drops a dead backend's locks as soon as it notices the closed socket
        try:
            with run_lock(pg_url, "after"):
                break
        except BusyError:
            assert time.monotonic() < deadline, "the dead holder's advisory lock was never released"
            time.sleep(0.2)


def test_two_schedulers_on_one_postgresql_store_never_run_an_edition_twice(feed_dir: Path, feed_server: str,
                                                                           pg_url: str, monkeypatch) -> None:
    """Two `dailybrief schedule` processes (two machines' schedulers) on one PostgreSQL store, firing at the
    same instants: the edition is run by one of them only, never by both and never twice at once, and each
    publish target gets it once."""
    monkeypatch.setenv("DAILYBRIEF_DB", pg_url)
    day, now = due_edition()
    (feed_dir / "f.xml").write_text(rss("F", [
        {"title": f"Lab {n} ships a model", "link": f"https://f.example/{n}", "published": now,
         "description": f"Lab {n} shipped a new model today with better reasoning scores."} for n in range(3)]), "utf-8")
    Path("dailybrief.toml").write_text(
        '[edition]\nlanguages = ["en"]\ntimezone = "Asia/Shanghai"\n[output]\nformats = ["md", "json"]\n'
        '[schedule]\ncron = "*/3 * * * * *"\n'  # every three seconds, both at the same instants
        '[[publish]]\nname = "archive"\nkind = "folder"\npath = "archive"\n'
        f'[[sources]]\nname = "F"\nurl = "{feed_server}/f.xml"\n', "utf-8")
    procs = [subprocess.Popen([sys.executable, "-m", "dailybrief", "schedule"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    finished: list = []
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and len(finished) < 3 and all(p.poll() is None for p in procs):
            time.sleep(0.5)
            store = Store.open(pg_url)
            finished = [r for r in store.iter_rows("SELECT id, pid, started, finished, status FROM runs") if r["finished"]]
            store.close()
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        errs = [p.communicate(timeout=60)[1] for p in procs]
    assert len(finished) >= 3, f"the schedulers did not fire often enough in time:\n{errs}"
    store = Store.open(pg_url)
    runs = sorted(store.iter_rows("SELECT id, edition, pid, started, finished FROM runs"), key=lambda r: r["started"])
    assert {r["edition"] for r in runs} == {day.isoformat()}
    ran = {r["pid"] for r in runs}
    assert len(ran) == 1 and ran <= {p.pid for p in procs}, runs  # one scheduler ran it; the other never did
    other = next(e for p, e in zip(procs, errs, strict=True) if p.pid not in ran)
    # it was turned away: by the lock while the first ran, or, firing later, because the day was already run
    assert "already run by another process" in other or "holds the lock" in other, other
    for earlier, later in itertools.pairwise(runs):  # and never two at once
        assert earlier["finished"] is not None and later["started"] >= earlier["finished"]
    assert [(d["target"], d["status"]) for d in store.deliveries(day)] == [("archive", "delivered")]
    assert all(p.returncode == 0 for p in procs), errs


def test_dailybrief_schedule_runs_todays_edition_on_time_and_never_overlaps(feed_dir: Path, feed_server: str) -> None:
    day, now = due_edition()
    (feed_dir / "f.xml").write_text(rss("F", [
        {"title": f"Lab {n} ships a model", "link": f"https://f.example/{n}", "published": now,
         "description": f"Lab {n} shipped a new model today with better reasoning scores."} for n in range(3)]), "utf-8")
    Path("dailybrief.toml").write_text(
        '[edition]\nlanguages = ["en"]\ntimezone = "Asia/Shanghai"\n[output]\nformats = ["md", "json"]\n'
        '[schedule]\ncron = "*/2 * * * * *"\n'  # every two seconds: seconds first
        f'[[sources]]\nname = "F"\nurl = "{feed_server}/f.xml"\n', "utf-8")
    today = day.isoformat()
    proc = subprocess.Popen([sys.executable, "-m", "dailybrief", "schedule"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    db = config.load().db_path()
    finished: list = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(finished) < 2 and proc.poll() is None:
            time.sleep(0.5)
            if db.exists():
                store = Store.open(db)
                finished = [r for r in store.runs() if r.finished]
                store.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert len(finished) >= 2, f"the scheduler did not run twice in time:\n{err}"
    assert (Path("out") / today / "brief.md").exists()
    assert proc.returncode == 0, err
    assert "'*/2 * * * * *' in Asia/Shanghai; next run at" in err
    store = Store.open(db)
    runs = sorted(store.runs(50), key=lambda r: r.started)
    assert all(r.edition.isoformat() == today for r in runs)
    for earlier, later in itertools.pairwise(runs):  # one after another, never two at once
        assert earlier.finished is not None and later.started >= earlier.finished
    assert runs[0].status == "ok" and runs[0].count("fetch", "fetched") == 3


def test_schedule_retries_a_failed_target_the_same_day_and_nobody_gets_two(feed_dir: Path, feed_server: str) -> None:
    import chatserver

    day, now = due_edition()
    (feed_dir / "f.xml").write_text(rss("F", [
        {"title": "Lab ships a model", "link": "https://f.example/1", "published": now,
         "description": "A lab shipped a new model today with better reasoning scores."}]), "utf-8")
    with chatserver.chat_server() as server:
        server.fail_next["plain-b"] = [500, 503]  # down for the run and the first retry
        Path("dailybrief.toml").write_text(
            '[edition]\nlanguages = ["en"]\n[output]\nformats = ["md", "json"]\n'
            '[schedule]\ncron = "0 0 1 1 *"\nretries = 3\nretry_minutes = 0.03\n'  # retries ~2 s apart
            f'[[sources]]\nname = "F"\nurl = "{feed_server}/f.xml"\n'
            + "".join(f'[[publish]]\nkind = "webhook"\nname = "{n}"\nurl = "{server.base}/plain-{n}/in"\nretries = 0\n'
                      'link = "https://brief.example.org/{date}/"\n' for n in ("a", "b")), "utf-8")
        proc = subprocess.Popen([sys.executable, "-m", "dailybrief", "schedule", "--now"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not server.accepted("plain-b"):
                time.sleep(0.3)
                assert proc.poll() is None, proc.communicate()
            time.sleep(2.5)  # room for a wrong extra retry to show itself
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        assert [r.accepted for r in server.of("plain-b")] == [False, False, True], err
        assert [r.accepted for r in server.of("plain-a")] == [True]  # the healthy target got it once
    assert "retry 1 of 3" in err and "retry 2 of 3" in err and "retry 3" not in err
    store = Store.open(config.load().db_url())
    assert store.delivery(day, "b")["attempts"] == 3


def test_a_fetch_alone_is_recorded_under_the_first_edition_and_never_stops_its_scheduled_run(
        feed_dir: Path, feed_server: str) -> None:
    """`dailybrief fetch` with [[editions]] fetches every edition's sources once, as the first edition's run does in
    `dailybrief run`, and records that under the first edition; a fetch from cron after the cutoff made no edition,
    so the scheduled run of that day still runs it (it once counted as the edition already run)."""
    from dailybrief.run.schedule import _already_run

    for name in ("a", "b"):
        (feed_dir / f"{name}.xml").write_text(rss(name.upper(), [{"title": f"News {name}",
                                                                   "link": f"https://{name}.example/1"}]), "utf-8")
    Path("dailybrief.toml").write_text(
        '[edition]\nname = "daily"\n'
        f'[[sources]]\nname = "A"\nurl = "{feed_server}/a.xml"\n[[sources]]\nname = "B"\nurl = "{feed_server}/b.xml"\n'
        '[[editions]]\nname = "ai"\nsources = ["A"]\n[[editions]]\nname = "chips"\nsources = ["B"]\n', "utf-8")
    runner = CliRunner()
    fetched = runner.invoke(main, ["fetch"])
    assert fetched.exit_code == 0, fetched.output
    assert "dailybrief fetch" in fetched.output and "edition ai " in fetched.output
    cfg = config.load("dailybrief.toml")
    store = Store.open(cfg.db_url())
    try:
        [run] = store.runs()
        assert run.name == "ai" and run.fetch_only and run.status == "ok"
        assert run.count("fetch", "sources") == 2  # chips' source too: one fetch for every edition
        assert "ok (fetch only)" in runner.invoke(main, ["runs"]).output
        ai = cfg.for_edition("ai")
        day = ai.edition.due(datetime.now(ai.edition.tz))
        assert run.edition == day
        store._write("UPDATE runs SET pid = 1", {})  # as a cron job's process, not this one
        assert _already_run(ai, store.scoped("ai"), day) is None
        # A run that ranked and wrote but sent nothing (`stories`, `build`) does not count either; one that
        # published the edition does.
        built = store.runs()[0]
        built.id, built.stages = "built-it", [*built.stages, StageReport("rank", 0.1), StageReport("write", 0.1)]
        store.save_run(built)
        store._write("UPDATE runs SET pid = 1", {})
        assert _already_run(ai, store.scoped("ai"), day) is None
        made = store.runs()[0]
        made.id, made.stages = "made-it", [*built.stages, StageReport("publish", 0.1)]
        store.save_run(made)
        store._write("UPDATE runs SET pid = 1", {})
        assert _already_run(ai, store.scoped("ai"), day)["id"] == "made-it"
        assert _already_run(cfg.for_edition("chips"), store.scoped("chips"), day) is None
    finally:
        store.close()


def test_a_fetch_after_the_cutoff_does_not_count_as_the_one_editions_run(feed_dir: Path, feed_server: str) -> None:
    from dailybrief.run.schedule import _already_run

    (feed_dir / "a.xml").write_text(rss("A", [{"title": "News", "link": "https://a.example/1"}]), "utf-8")
    Path("dailybrief.toml").write_text(f'[[sources]]\nname = "A"\nurl = "{feed_server}/a.xml"\n', "utf-8")
    assert CliRunner().invoke(main, ["fetch"]).exit_code == 0
    cfg = config.load("dailybrief.toml")
    store = Store.open(cfg.db_url())
    try:
        store._write("UPDATE runs SET pid = 1", {})  # as a cron job's process, not this one
        assert _already_run(cfg, store, cfg.edition.due(datetime.now(cfg.edition.tz))) is None
    finally:
        store.close()
