"""Crash records and leftovers: a run killed with kill -9 is marked interrupted by the next run (or the next
command that takes the run lock), and the folders it was rendering in are cleared."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefs import make_brief, render_edition
from dailybrief import config
from dailybrief.cli import main
from dailybrief.run.pipeline import Pipeline
from dailybrief.store import Store
from helpers import rss

DAY = date(2026, 4, 10)

# A process that starts a run, records it and is then killed with SIGKILL, as `kill -9` does mid-stage.
KILLED = textwrap.dedent("""
    import os, signal, sys, time
    from datetime import date
    from dailybrief import config
    from dailybrief.run.pipeline import Pipeline
    from dailybrief.store import Store
    cfg = config.from_dict({})
    pipe = Pipeline(cfg, Store.open(cfg.db_url()))
    run = pipe.new_run(date(2026, 4, 10))
    print(run.id, flush=True)
    if sys.argv[1] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(60)
""")


def _start(mode: str) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", KILLED, mode], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def test_a_run_killed_with_sigkill_is_marked_interrupted_by_the_next_run(tmp_path: Path) -> None:
    proc, killed_id = _start("kill")
    assert proc.wait(60) == -signal.SIGKILL
    cfg = config.from_dict({})
    store = Store.open(cfg.db_url())
    assert store.runs()[0].status == "running"  # what `dailybrief runs` showed forever
    report = Pipeline(cfg, store).run(DAY, tmp_path / "out", fetch=False)  # an empty day: nothing to brief
    runs = {r.id: r for r in store.runs()}
    assert runs[killed_id].status == "interrupted"
    assert any(f"pid {proc.pid}" in f and "killed or crashed" in f for f in runs[killed_id].failures)
    assert any(killed_id in f for f in report.failures)  # the new run says so in its summary


def test_a_live_run_is_not_marked() -> None:
    proc, live_id = _start("live")
    try:
        cfg = config.from_dict({})
        store = Store.open(cfg.db_url())
        assert store.mark_orphans() == []
        assert {r.id: r.status for r in store.runs()}[live_id] == "running"
    finally:
        proc.kill()
        proc.wait(10)
    assert [line for line in store.mark_orphans() if live_id in line]


def test_render_stages_under_the_data_dir_and_clears_what_a_killed_run_left(tmp_path: Path, monkeypatch) -> None:
    cfg = config.from_dict({})
    pipe = Pipeline(cfg, Store.open(cfg.db_url()))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(10)
    stale = pipe.staging() / f"dailybrief-{dead.pid}-abc123"  # a killed run's folder: its process is gone
    older = pipe.staging() / "dailybrief-abc123"  # an older version's, with no process id
    # another run on this machine rendering right now (another edition, another database): left alone
    busy = pipe.staging() / f"dailybrief-{os.getppid()}-def456"
    for folder in (stale, older, busy):
        folder.mkdir(parents=True)
        (folder / "brief.pdf").write_bytes(b"%PDF" + b"0" * 1_000_000)
    assert pipe.staging().is_relative_to(cfg.db_path().parent)
    pipe.run(DAY, tmp_path / "out", fetch=False)
    assert not stale.exists() and not older.exists()
    assert (busy / "brief.pdf").exists()


def test_a_run_renders_into_the_data_dir_not_tmpdir(feed_dir: Path, feed_server: str, tmp_path: Path,
                                                      monkeypatch) -> None:
    from datetime import datetime, timezone

    from helpers import config as make_config
    from helpers import rss, source

    (feed_dir / "f.xml").write_text(rss("F", [
        {"title": "Lab ships model", "link": "https://f.example/1", "published": datetime(2026, 4, 10, 3, tzinfo=timezone.utc),
         "description": "A lab shipped a new model today with better reasoning scores."}]), "utf-8")
    cfg = config.from_dict(make_config([source("F", f"{feed_server}/f.xml")], output={"formats": ["md", "json"]}))
    pipe = Pipeline(cfg, Store.open(cfg.db_url()))
    seen: list[Path] = []
    real = Pipeline.render

    def spy(self, run, briefs, staging):
        seen.append(staging)
        return real(self, run, briefs, staging)

    monkeypatch.setattr(Pipeline, "render", spy)
    report = pipe.run(DAY, tmp_path / "out")
    assert report.outputs and seen[0].is_relative_to(cfg.db_path().parent / "staging")
    assert not seen[0].exists()  # removed when the run is done


def test_stale_temp_folders_of_killed_runs_are_cleaned_at_start(tmp_path: Path, monkeypatch) -> None:
    import tempfile

    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    old, fresh, other = tmp / "dailybrief-typst-old", tmp / "dailybrief-typst-now", tmp / "someone-else"
    for d in (old, fresh, other):
        d.mkdir()
        (d / "page.typ").write_text("x", "utf-8")
    os.utime(old, (0, 0))
    os.utime(other, (0, 0))
    cfg = config.from_dict({})
    Pipeline(cfg, Store.open(cfg.db_url())).run(DAY, tmp_path / "out", fetch=False)
    assert not old.exists() and fresh.exists() and other.exists()


@pytest.mark.parametrize("command", ["fetch", "stories", "build", "publish"])
def test_every_command_that_takes_the_run_lock_marks_a_killed_run(command: str, feed_dir: Path, feed_server: str,
                                                                   tmp_path: Path) -> None:
    (feed_dir / "f.xml").write_text(rss("F", [
        {"title": "Lab ships model", "link": "https://f.example/1", "published": datetime(2026, 4, 10, 3, tzinfo=timezone.utc),
         "description": "A lab shipped a new model today with better reasoning scores."}]), "utf-8")
    Path("dailybrief.toml").write_text(
        '[edition]\nlanguages = ["zh"]\ncutoff = "24:00"\n[output]\nformats = ["md", "json"]\n'
        f'[[sources]]\nname = "F"\nurl = "{feed_server}/f.xml"\n[fetch]\nallow_private = ["127.0.0.1"]\n'
        '[[publish]]\nkind = "folder"\nname = "copy"\npath = "copies"\n', "utf-8")
    if command in ("stories", "build"):
        assert CliRunner().invoke(main, ["fetch"]).exit_code == 0  # a day to cluster and write
    render_edition(tmp_path / "edition", [make_brief("zh")])
    args = {"fetch": ["fetch"], "stories": ["stories", "--date", "2026-04-10"],
            "build": ["build", "--date", "2026-04-10"],
            "publish": ["publish", "--dir", str(tmp_path / "edition"), "--date", "2026-04-10"]}[command]
    proc, killed_id = _start("kill")
    assert proc.wait(60) == -signal.SIGKILL
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    store = Store.open(config.load().db_url())
    runs = {r.id: r for r in store.runs()}
    assert runs[killed_id].status == "interrupted"
    [mine] = [r for r in runs.values() if r.id != killed_id and any(killed_id in f for f in r.failures)]
    assert mine.status != "running"  # the command's own run record names the run it recovered
