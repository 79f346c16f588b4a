"""Secrets never leave: what endpoints echo back is blanked before it is printed, stored, logged or alerted."""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from dailybrief import config, redact
from dailybrief.cli import main
from echoserver import echo_headers, echo_path, echo_server
from helpers import rss

MODEL_KEY = "sk-live-0123456789abcdefSECRET"
HOOK_TOKEN = "tok3nSECRET987654"  # noqa: S105 - a test fixture's secret
QUERY_TOKEN = "qs7777777secret"  # noqa: S105 - a test fixture's secret


def test_a_registered_secret_is_blanked_in_every_form_it_is_echoed_in() -> None:
    redact.register_url(f"https://hooks.example/services/T01/{HOOK_TOKEN}?format=markdown&sig={QUERY_TOKEN}")
    redact.register("p@ss/word+1234")
    text = (f"404: /services/T01/{HOOK_TOKEN} ?sig={QUERY_TOKEN} url-encoded p%40ss%2Fword%2B1234 "
            "json p@ss\\/word+1234 plain p@ss/word+1234 format=markdown")
    clean = redact.scrub(text)
    for secret in (HOOK_TOKEN, QUERY_TOKEN, "p%40ss%2Fword%2B1234", "p@ss/word+1234", "p@ss\\/word+1234"):
        assert secret not in clean
    assert "format=markdown" in clean and "/services/T01/" in clean  # words and short ids are not secrets
    assert redact.scrub_data({"a": [text], text: 1}) == {"a": [clean], clean: 1}


def test_log_records_are_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    redact.register(MODEL_KEY)
    log = logging.getLogger("dailybrief.test")
    with caplog.at_level(logging.INFO):
        log.info("calling with %s", MODEL_KEY)
        try:
            raise ValueError(f"echo {MODEL_KEY}")
        except ValueError:
            log.exception("failed")
    assert MODEL_KEY not in caplog.text and redact.MASK in caplog.text


def test_config_registers_the_secrets_its_env_vars_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_SMTP_PASS", "smtp-password-42")
    monkeypatch.setenv("T_WECHAT", "wechat-app-secret-42")
    monkeypatch.setenv("T_HOOK", "https://chat.example/hook/abcdef0123456789")
    config.from_dict({"publish": [
        {"kind": "email", "name": "mail", "host": "smtp.example", "sender": "a@b.example", "to": ["c@d.example"],
         "username": "u", "password_env": "T_SMTP_PASS", "security": "starttls"},
        {"kind": "webhook", "name": "hook", "url_env": "T_HOOK", "secret_env": "T_WECHAT",
         "link": "https://x.example/{date}"}]})
    clean = redact.scrub("smtp-password-42 wechat-app-secret-42 abcdef0123456789")
    assert clean == " ".join([redact.MASK] * 3)


@pytest.fixture
def leaky_world(feed_dir: Path, feed_server: str, monkeypatch: pytest.MonkeyPatch):
    """A model endpoint whose 400 quotes the Authorization header, a webhook whose 404 quotes its token-bearing
    path, and an ops webhook that receives the alert."""
    (feed_dir / "f.xml").write_text(rss("F", [
        {"title": "Lab ships model", "link": "https://f.example/1", "published": datetime(2026, 4, 10, 3, tzinfo=timezone.utc),
         "description": "A lab shipped a new model today with better reasoning scores on hard tests."}]), "utf-8")
    with echo_server() as echo:
        echo.routes = {"/v1": (400, echo_headers, 0.0), "/hooks": (404, echo_path, 0.0)}
        monkeypatch.setenv("T_MODEL_KEY", MODEL_KEY)
        monkeypatch.setenv("T_TEAM_URL", f"{echo.base}/hooks/T01/{HOOK_TOKEN}?sig={QUERY_TOKEN}")
        Path("dailybrief.toml").write_text(f"""
[edition]
languages = ["en"]
cutoff = "24:00"
[writer]
kind = "openai"
base_url = "{echo.base}/v1"
model = "m"
api_key_env = "T_MODEL_KEY"
retries = 0
cache = false
[output]
formats = ["md", "json"]
[fetch]
allow_private = ["127.0.0.1"]
[alerts]
target = "ops"
[[publish]]
kind = "webhook"
name = "team"
url_env = "T_TEAM_URL"
link = "https://brief.example/{{date}}"
retries = 0
[[publish]]
kind = "webhook"
name = "ops"
url = "{echo.base}/ops"
editions = false
retries = 0
[[sources]]
name = "F"
url = "{feed_server}/f.xml"
""", "utf-8")
        yield echo


def test_echoed_secrets_reach_no_channel(leaky_world, tmp_path: Path) -> None:
    echo = leaky_world
    result = CliRunner().invoke(main, ["run", "--date", "2026-04-10", "--out", str(tmp_path / "o")])
    assert echo.to("/v1") and echo.to("/hooks")  # both endpoints were asked, and both echoed
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    output = result.output
    runs = CliRunner().invoke(main, ["runs", "--json"]).output
    deliveries = CliRunner().invoke(main, ["deliveries"]).output
    db = "\n".join(sqlite3.connect(config.load().db_path()).iterdump())
    [alert] = echo.to("/ops")
    files = {str(p): p.read_text("utf-8") for p in (tmp_path / "o").iterdir() if p.suffix in (".json", ".md")}
    assert files
    channels = {"run output": output, "runs --json": runs, "deliveries": deliveries, "database": db,
                "alert": alert.body.decode(), **files}
    assert "rejected the request (HTTP 400)" in output and "HTTP 404" in output  # the echoes were reported…
    for name, text in channels.items():
        for secret in (MODEL_KEY, HOOK_TOKEN, QUERY_TOKEN):
            assert secret not in text, f"{secret} leaked into {name}"
    assert redact.MASK in json.loads(alert.body)["text"]  # …with the secret blanked
