"""Exactly once: each edition reaches each target once, failed targets are retried, --force resends."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import chatserver
from briefs import make_brief, render_edition
from dailybrief import config
from dailybrief.cli import main
from dailybrief.publish.base import Edition, load_edition
from dailybrief.publish.delivery import deliver
from dailybrief.store import Store
from helpers import rss

DAY = date(2026, 4, 10)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rendered")
    render_edition(folder, [make_brief("zh"), make_brief("en")])
    return folder


@pytest.fixture
def edition_dir(rendered: Path) -> Path:
    """The built edition where `dailybrief run` leaves it: out/<date>/ under the working directory."""
    folder = Path("out") / DAY.isoformat()
    shutil.copytree(rendered, folder)
    return folder


def write_config(base: str, extra: str = "") -> None:
    Path("dailybrief.toml").write_text(f"""
[edition]
languages = ["zh", "en"]
cutoff = "24:00"

[[publish]]
kind = "site"
name = "site"
path = "out/site"
base_url = "https://brief.example.org"

[[publish]]
kind = "webhook"
name = "a"
url = "{base}/plain-a/in"
retries = 0

[[publish]]
kind = "webhook"
name = "b"
url = "{base}/plain-b/in"
retries = 0
{extra}
""", "utf-8")


def publish(*args: str) -> Result:
    return CliRunner().invoke(main, ["publish", "--date", DAY.isoformat(), *args])


@pytest.mark.usefixtures("store_url")
def test_each_edition_goes_once_to_each_target_and_force_resends(server, edition_dir: Path) -> None:
    write_config(server.base)
    first = publish()
    assert first.exit_code == 0, first.output
    assert len(server.of("plain-a")) == 1 and len(server.of("plain-b")) == 1
    assert (Path("out/site") / DAY.isoformat() / "brief.pdf").exists()
    assert "delivered" in first.output
    # The message links to the site's copy of the edition.
    assert server.of("plain-a")[0].json["link"] == "https://brief.example.org/2026-04-10/brief.html"

    again = publish()
    assert again.exit_code == 0, again.output
    assert len(server.of("plain-a")) == 1 and len(server.of("plain-b")) == 1  # nothing sent twice
    assert again.output.count("unchanged") == 3

    forced = publish("--target", "a", "--force")
    assert forced.exit_code == 0, forced.output
    assert len(server.of("plain-a")) == 2 and len(server.of("plain-b")) == 1

    log = CliRunner().invoke(main, ["deliveries", "--date", DAY.isoformat()])
    assert log.exit_code == 0
    store = Store.open(config.load().db_url())
    rows = {r["target"]: r for r in store.deliveries(DAY)}
    assert {t: (r["status"], r["attempts"]) for t, r in rows.items()} == {
        "a": ("delivered", 2), "b": ("delivered", 1), "site": ("delivered", 1)}
    forced_run, again_run, _ = store.runs()
    assert [s.name for s in again_run.stages] == ["publish"] and again_run.stages[0].counts["unchanged"] == 3
    assert forced_run.stages[0].counts == {"targets": 1, "delivered": 1, "unchanged": 0, "skipped": 0, "failed": 0,
                                           "interrupted": 0}


@pytest.mark.usefixtures("store_url")
def test_a_failed_target_is_retried_next_run_without_resending_the_others(server, edition_dir: Path) -> None:
    write_config(server.base)
    server.fail_next["plain-b"] = [500]
    first = publish()
    assert first.exit_code == 1
    text = " ".join(first.output.split())
    assert "b: failed" in text and "HTTP 500" in text and "tried again on the next run" in text
    assert [r.accepted for r in server.of("plain-b")] == [False]
    second = publish()
    assert second.exit_code == 0, second.output
    assert [r.accepted for r in server.of("plain-b")] == [False, True]
    assert len(server.of("plain-a")) == 1  # a got it once, on the first run
    store = Store.open(config.load().db_url())
    b = store.delivery(DAY, "b")
    assert b is not None and (b["status"], b["attempts"], b["error"]) == ("delivered", 2, None)


def test_a_target_without_credentials_is_skipped_and_the_rest_go_on(server, edition_dir: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(server.base, '[[publish]]\nkind = "telegram"\nname = "tg"\ntoken_env = "T_TELEGRAM_TOKEN"\n'
                              f'chat_id = "@brief"\napi_url = "{server.base}/telegram"\nretries = 0\n')
    monkeypatch.delenv("T_TELEGRAM_TOKEN")
    first = publish()
    assert first.exit_code == 1
    assert "tg: skipped" in first.output and "T_TELEGRAM_TOKEN is not set" in " ".join(first.output.split())
    assert len(server.of("plain-a")) == 1 and not server.of("telegram")
    monkeypatch.setenv("T_TELEGRAM_TOKEN", chatserver.TELEGRAM_TOKEN)
    second = publish()
    assert second.exit_code == 0, second.output
    assert len(server.accepted("telegram")) == 1 and len(server.of("plain-a")) == 1


@pytest.mark.usefixtures("store_url")
def test_an_interrupted_delivery_is_not_resent_blindly(server, edition_dir: Path) -> None:
    write_config(server.base)
    cfg = config.load()
    store = Store.open(cfg.db_url())
    edition = load_edition(edition_dir, DAY)
    store.start_delivery(DAY, "a", "webhook", edition.digest)  # as if a run died while sending
    results = {d.target: d for d in deliver(cfg, store, edition)}
    assert results["a"].status == "interrupted" and "interrupted" in results["a"].detail
    assert "--force" in results["a"].detail
    assert not server.of("plain-a") and results["b"].status == "delivered"
    results = {d.target: d for d in deliver(cfg, store, edition, names=["a"], force=True)}
    assert results["a"].status == "delivered" and len(server.of("plain-a")) == 1


def test_file_targets_follow_a_rebuilt_edition_messages_do_not(server, tmp_path: Path) -> None:
    write_config(server.base)
    cfg = config.load()
    store = Store.open(cfg.db_url())
    first = render_edition(tmp_path / "v1", [make_brief("zh")])
    assert {d.status for d in deliver(cfg, store, first)} == {"delivered"}
    assert {d.status for d in deliver(cfg, store, first)} == {"unchanged"}
    rebuilt = render_edition(tmp_path / "v2", [make_brief("zh", headline="A late story changed the lead")])
    results = {d.target: d.status for d in deliver(cfg, store, rebuilt)}
    assert results == {"site": "delivered", "a": "unchanged", "b": "unchanged"}
    assert "A late story changed the lead" in (Path("out/site") / "index.html").read_text("utf-8")
    assert len(server.of("plain-a")) == 1


def test_publish_usage_errors() -> None:
    Path("dailybrief.toml").write_text('[[publish]]\nkind = "folder"\nname = "arch"\npath = "x"\n', "utf-8")
    unknown = publish("--target", "nope")
    assert unknown.exit_code == 2 and "no [[publish]] target is named 'nope'" in unknown.output and "arch" in unknown.output
    missing = publish()
    assert missing.exit_code == 1 and "no brief*.json" in missing.output and "dailybrief run" in missing.output


@pytest.mark.usefixtures("store_url")
def test_run_publishes_and_a_rerun_sends_nothing_twice(server, feed_dir: Path, feed_server: str) -> None:
    when = datetime(2026, 4, 10, 3, tzinfo=timezone.utc)
    (feed_dir / "f.xml").write_text(rss("F", [
        {"title": f"Lab {n} ships a model", "link": f"https://f.example/{n}", "published": when,
         "description": f"Lab {n} shipped a new model today with better reasoning scores."} for n in range(3)]), "utf-8")
    write_config(server.base, f'[[sources]]\nname = "F"\nurl = "{feed_server}/f.xml"\n')
    for _ in range(2):
        result = CliRunner().invoke(main, ["run", "--date", DAY.isoformat()])
        assert result.exit_code == 0, result.output
    assert len(server.of("plain-a")) == 1 and len(server.of("plain-b")) == 1
    payload = server.of("plain-a")[0].json
    assert payload["edition"] == "2026-04-10" and payload["headlines"]
    site = Path("out/site")
    assert (site / DAY.isoformat() / "brief.html").exists() and DAY.isoformat() in (site / "index.html").read_text("utf-8")
    data = json.loads((Path("out") / DAY.isoformat() / "brief.json").read_text("utf-8"))
    assert payload["title"] == data["title"]


def test_edition_knows_its_files(rendered: Path) -> None:
    ed = load_edition(rendered)
    assert isinstance(ed, Edition) and ed.day == DAY and ed.languages == ["zh", "en"]
    assert ed.file("en", ".pdf") == rendered / "brief.en.pdf" and ed.file("zh", ".md") == rendered / "brief.md"
    with pytest.raises(Exception, match="no 'fr' brief"):
        ed.brief("fr")


def test_the_commented_examples_in_the_default_config_are_valid_once_uncommented() -> None:
    import re
    import tomllib

    text = config.default_text()
    head, rest = text.split('base_url = ""            # e.g. "https://brief.example.org"\n')
    examples, tail = rest.split("[schedule]")
    examples = re.sub(r"(?m)^# (\[\[publish\]\]|[a-z_]+ = .*)$", r"\1", examples)
    text = head + 'base_url = "https://brief.example.org"\n' + examples + "[schedule]" + tail
    cfg = config.from_dict(tomllib.loads(text))
    kinds = [t.kind for t in cfg.publish]
    assert kinds == ["folder", "site", "email", "feishu", "dingtalk", "wecom", "slack", "telegram", "webhook"]
    assert not next(t for t in cfg.publish if t.name == "ops").editions
