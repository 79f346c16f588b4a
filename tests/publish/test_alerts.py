"""Alerts: a failed, empty or degraded run notifies the alert target, once, and never crashes the run."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import chatserver
from conftest import closed_port
from dailybrief import config
from dailybrief.errors import ConfigError
from dailybrief.publish import alerts
from dailybrief.run import schedule
from dailybrief.run.pipeline import Pipeline
from dailybrief.store import Store
from helpers import config as make_config
from helpers import rss, source

DAY = date(2026, 4, 10)


@pytest.fixture
def good_feed(feed_dir: Path, feed_server: str) -> str:
    when = datetime(2026, 4, 10, 3, tzinfo=timezone.utc)
    (feed_dir / "good.xml").write_text(rss("Good", [
        {"title": f"Chip {n} announced", "link": f"https://good.example/{n}", "published": when,
         "description": f"Company {n} announced a new accelerator chip for AI training."} for n in range(3)]), "utf-8")
    (feed_dir / "old.xml").write_text(rss("Old", [
        {"title": "Old news", "link": "https://old.example/1", "published": datetime(2020, 1, 1, tzinfo=timezone.utc)}]),
        "utf-8")
    return feed_server


def alert_config(server: chatserver.ChatServer, sources: list[dict[str, Any]], **over: Any) -> config.Config:
    publish = [{"kind": "webhook", "name": "ops", "url": f"{server.base}/plain-ops/alerts", "editions": False,
                "retries": 0},  # alerts only: no link needed
               {"kind": "webhook", "name": "team", "url": f"{server.base}/plain-team/in",
                "link": "https://brief.example.org/{date}/", "retries": 0}]
    return config.from_dict(make_config(sources, publish=publish, alerts={"target": "ops"},
                                        output={"formats": ["md", "json"]}, **over))


def run(cfg: config.Config, tmp_path: Path) -> tuple[Pipeline, Any]:
    pipe = Pipeline(cfg, Store.open(cfg.db_url()))
    return pipe, pipe.run(DAY, tmp_path / "out")


def test_a_degraded_run_alerts_once_naming_every_problem(server, good_feed: str, tmp_path: Path) -> None:
    down = closed_port()
    cfg = alert_config(server, [source("Good", f"{good_feed}/good.xml"),
                                source("Down", f"http://127.0.0.1:{down}/feed.xml")])
    pipe, report = run(cfg, tmp_path)
    assert report.status == "degraded"
    [alert] = server.of("plain-ops")
    data = alert.json
    assert data["type"] == "alert"
    assert data["subject"].startswith("[dailybrief] 2026-04-10 degraded: 1 failing source") and report.id in data["subject"]
    assert any(p.startswith("Down: cannot connect") for p in data["problems"])
    assert pipe.alert_note.startswith("alert sent to ops")
    assert len(server.of("plain-team")) == 1  # the edition went to the team, not to the alerts-only target
    # Asking again for the same run sends nothing twice.
    assert alerts.notify_run(cfg, pipe.store, report) == "alert already sent to ops"
    assert len(server.of("plain-ops")) == 1


def test_an_empty_briefing_alerts(server, good_feed: str, tmp_path: Path) -> None:
    cfg = alert_config(server, [source("Old", f"{good_feed}/old.xml")])
    _, report = run(cfg, tmp_path)
    assert report.status == "empty"
    [alert] = server.of("plain-ops")
    assert "2026-04-10 empty: empty briefing" in alert.json["subject"]
    assert any("no items published" in p for p in alert.json["problems"])
    assert not server.of("plain-team")


def test_a_writer_fallback_is_degraded_and_alerts(server, good_feed: str, tmp_path: Path) -> None:
    cfg = alert_config(server, [source("Good", f"{good_feed}/good.xml")],
                       writer={"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m"})
    _, report = run(cfg, tmp_path)
    assert report.status == "degraded"
    [alert] = server.of("plain-ops")
    assert "writer fallback" in alert.json["subject"]


def test_a_clean_run_sends_no_alert_and_on_degraded_can_be_turned_off(server, good_feed: str, tmp_path: Path) -> None:
    cfg = alert_config(server, [source("Good", f"{good_feed}/good.xml")])
    _, report = run(cfg, tmp_path)
    assert report.status == "ok" and not server.of("plain-ops")
    quiet = alert_config(server, [source("Good", f"{good_feed}/good.xml"),
                                  source("Down", f"http://127.0.0.1:{closed_port()}/feed.xml")])
    quiet.alerts.on_degraded = False
    _, report = run(quiet, tmp_path)
    assert report.status == "degraded" and not server.of("plain-ops")


def test_an_alert_that_cannot_be_sent_is_reported_not_raised(server, good_feed: str, tmp_path: Path) -> None:
    server.fail_next["plain-ops"] = [500]
    cfg = alert_config(server, [source("Old", f"{good_feed}/old.xml")])
    pipe, report = run(cfg, tmp_path)
    assert report.status == "empty"
    assert any(f.startswith("alert to ops failed") and "HTTP 500" in f for f in report.failures)
    stored = pipe.store.runs()[0]
    assert any(f.startswith("alert to ops failed") for f in stored.failures)


def test_a_crashed_scheduled_run_alerts(server, good_feed: str, monkeypatch: pytest.MonkeyPatch) -> None:
    Path("dailybrief.toml").write_text(
        f'[[sources]]\nname = "Good"\nurl = "{good_feed}/good.xml"\n'
        f'[[publish]]\nkind = "webhook"\nname = "ops"\nurl = "{server.base}/plain-ops/alerts"\neditions = false\n'
        'link = "https://brief.example.org/{date}/"\nretries = 0\n[alerts]\ntarget = "ops"\n', "utf-8")

    def boom(self: Pipeline, day: date, *args: object, **kwargs: object) -> None:  # however the run is called
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Pipeline, "run", boom)
    assert schedule.daily_job(None) is None  # the scheduler lives on
    [alert] = server.of("plain-ops")
    assert "failed: the run crashed" in alert.json["subject"] and "RuntimeError: disk on fire" in alert.json["problems"]


def test_alert_target_must_be_an_email_or_chat_target() -> None:
    with pytest.raises(ConfigError) as err:
        config.from_dict({"publish": [{"kind": "folder", "name": "arch"}], "alerts": {"target": "arch"}})
    assert err.value.key == "alerts.target" and "email or chat" in str(err.value)
    with pytest.raises(ConfigError, match=r"alerts\.target"):
        config.from_dict({"alerts": {"target": "nobody"}})
