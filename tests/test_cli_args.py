"""Config and arguments that used to pass and fail later: each now fails at load or parse, exit 2, one message."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import closed_port
from dailybrief import config
from dailybrief.cli import main
from dailybrief.run.schedule import lock_path, run_lock


def _cfg(text: str) -> None:
    Path("dailybrief.toml").write_text(text, "utf-8")


@pytest.mark.parametrize(("text", "key", "fix"), [
    ('[branding]\nlogo = "nowhere.png"\n', "branding.logo", "does not exist"),
    ('[branding]\nlogo = "fake.png"\n', "branding.logo", "not a valid PNG image"),
    ('[branding]\nlogo = "logo.bmp"\n', "branding.logo", "unsupported type"),
    ('[[sources]]\nname = "X"\nurl = "http://"\n', "sources[0].url", "no host"),
    ('[output]\ndir = "afile"\n', "output.dir", "is a file"),
    ('[edition]\nlanguages = ["en", "en"]\n', "edition.languages", "listed twice"),
])
def test_bad_config_fails_at_load_with_one_message(text: str, key: str, fix: str) -> None:
    Path("fake.png").write_text("not an image", "utf-8")
    Path("logo.bmp").write_bytes(b"BM")
    Path("afile").write_text("x", "utf-8")
    _cfg(text)
    result = CliRunner().invoke(main, ["sources"])
    assert result.exit_code == 2, result.output
    assert key in result.output and fix in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) <= 3
    with pytest.raises(config.ConfigError):
        config.load("dailybrief.toml")


@pytest.mark.parametrize(("value", "says"), [("0001-01-01", "out of range"), ("9999-12-31", "out of range"),
                                             ("", "not a date"), ("2026-13-01", "not a date")])
def test_bad_dates_are_usage_errors(value: str, says: str) -> None:
    for command in (["run", "--no-fetch"], ["build"], ["stories"]):
        result = CliRunner().invoke(main, [*command, "--date", value])
        assert result.exit_code == 2, (command, result.output)
        assert says in result.output and "--date" in result.output
        assert not isinstance(result.exception, (OverflowError, ValueError))


def test_fetch_fails_when_every_source_failed() -> None:
    _cfg(f'[[sources]]\nname = "A"\nurl = "http://127.0.0.1:{closed_port()}/a.xml"\n'
         f'[[sources]]\nname = "B"\nurl = "http://127.0.0.1:{closed_port()}/b.xml"\n[fetch]\nretries = 0\n')
    result = CliRunner().invoke(main, ["fetch"])
    assert result.exit_code == 1 and "failures: 2" in result.output


def test_publish_during_a_running_run_is_busy(tmp_path: Path) -> None:
    _cfg('[[publish]]\nkind = "folder"\nname = "copy"\npath = "copies"\n')
    with run_lock(lock_path(config.load()), "run"):
        result = CliRunner().invoke(main, ["publish", "--date", "2026-04-10"])
    assert result.exit_code == 3, result.output
    assert "holds the lock" in result.output
