"""Email against a real local SMTP server (aiosmtpd) over STARTTLS and SSL, with a throwaway CA (trustme)."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from briefs import make_brief, render_edition
from conftest import closed_port
from dailybrief import config
from dailybrief.errors import NotConfigured, PublishError
from dailybrief.publish.base import Edition
from dailybrief.publish.delivery import make_target

USER, PASSWORD = "brief@example.org", "s3cret-smtp-pässword"


@dataclass
class Inbox:
    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        self.tls.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 OK"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def _server_context(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    return ctx


def _authenticator(inbox: Inbox) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        inbox.logins.append((login, password))
        return AuthResult(success=(login, password) == (USER, PASSWORD), handled=False)

    return check


@pytest.fixture(params=["starttls", "ssl"])
def smtp(request: pytest.FixtureRequest, ca: trustme.CA) -> Iterator[tuple[str, int, Inbox]]:
    """A real SMTP server on 127.0.0.1 that demands TLS before AUTH: STARTTLS, or TLS from the first byte."""
    inbox = Inbox()
    port = closed_port()
    tls = _server_context(ca)
    if request.param == "starttls":
        controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=tls, require_starttls=True,
                                authenticator=_authenticator(inbox), auth_require_tls=True)
    else:
        controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=tls,
                                authenticator=_authenticator(inbox), auth_require_tls=False)
    controller.start()
    try:
        yield request.param, port, inbox
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def edition(tmp_path_factory: pytest.TempPathFactory) -> Edition:
    return render_edition(tmp_path_factory.mktemp("edition"), [make_brief("zh"), make_brief("en")])


def mail_target(security: str, port: int, ca_file: Path | None, **over: Any) -> Any:
    entry = {"kind": "email", "name": "subscribers", "host": "127.0.0.1", "port": port, "security": security,
             "username": USER, "password_env": "T_SMTP_PASSWORD", "sender": "AI Daily <brief@example.org>",
             "to": ["a@example.org", "b@example.org"], "ca_file": str(ca_file or ""), "timeout": 5, **over}
    cfg = config.from_dict({"edition": {"languages": ["zh", "en"]}, "publish": [entry]})
    return make_target(cfg.publish[0], cfg)


def test_edition_arrives_with_html_text_and_pdf(smtp, ca_file: Path, edition: Edition,
                                                 monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    security, port, inbox = smtp
    monkeypatch.setenv("T_SMTP_PASSWORD", PASSWORD)
    detail = mail_target(security, port, ca_file).deliver(edition)
    assert inbox.logins == [(USER, PASSWORD)] and inbox.tls == [True]
    [(sender, rcpts, msg)] = inbox.messages
    assert sender == "brief@example.org" and rcpts == ["a@example.org", "b@example.org"]
    assert msg["Subject"] == "AI 技术每日分析 · 2026 年 4 月 10 日"
    assert msg["Message-ID"] in detail and msg.get_content_type() == "multipart/mixed"
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert plain is not None and html is not None
    def wire(text: str) -> str:
        return text.replace("\r\n", "\n")

    assert wire(plain.get_content()) == (edition.file("zh", ".md") or Path()).read_text("utf-8")
    assert wire(html.get_content()) == (edition.file("zh", ".html") or Path()).read_text("utf-8")
    assert "<!DOCTYPE html>" in html.get_content() and "事实梳理" in html.get_content()
    [pdf] = list(msg.iter_attachments())
    assert pdf.get_content_type() == "application/pdf" and pdf.get_filename() == "brief-2026-04-10.pdf"
    assert pdf.get_content() == (edition.file("zh", ".pdf") or Path()).read_bytes()
    assert pdf.get_content().startswith(b"%PDF")
    assert PASSWORD not in caplog.text and PASSWORD not in detail


def test_english_target_gets_the_english_edition(smtp, ca_file: Path, edition: Edition, monkeypatch) -> None:
    security, port, inbox = smtp
    monkeypatch.setenv("T_SMTP_PASSWORD", PASSWORD)
    mail_target(security, port, ca_file, language="en", subject="{title} — {iso}", bcc=["c@example.org"]).deliver(edition)
    [(_, rcpts, msg)] = inbox.messages
    assert rcpts == ["a@example.org", "b@example.org", "c@example.org"] and msg["Bcc"] is None
    assert msg["Subject"] == "AI Daily Analysis — 2026-04-10" and msg["Content-Language"] == "en"
    assert [a.get_filename() for a in msg.iter_attachments()] == ["brief.en-2026-04-10.pdf"]


def test_wrong_password_is_a_clear_error_without_the_password(smtp, ca_file: Path, edition: Edition, monkeypatch) -> None:
    security, port, inbox = smtp
    monkeypatch.setenv("T_SMTP_PASSWORD", "wrong-password-x")
    with pytest.raises(PublishError) as err:
        mail_target(security, port, ca_file).deliver(edition)
    text = str(err.value)
    assert "refused the login of brief@example.org" in text and "$T_SMTP_PASSWORD" in text
    assert "wrong-password-x" not in text and not inbox.messages


def test_an_untrusted_certificate_is_refused(smtp, edition: Edition, monkeypatch) -> None:
    security, port, inbox = smtp
    monkeypatch.setenv("T_SMTP_PASSWORD", PASSWORD)
    with pytest.raises(PublishError, match=r"cannot be verified.*ca_file"):
        mail_target(security, port, None).deliver(edition)
    assert not inbox.logins and not inbox.messages  # the password never left over an unverified link


def test_missing_password_env_is_not_configured(monkeypatch) -> None:
    monkeypatch.delenv("T_SMTP_PASSWORD", raising=False)
    with pytest.raises(NotConfigured, match="T_SMTP_PASSWORD is not set"):
        mail_target("starttls", 587, None)


def test_no_server_is_a_clear_error(edition: Edition, monkeypatch) -> None:
    monkeypatch.setenv("T_SMTP_PASSWORD", PASSWORD)
    with pytest.raises(PublishError, match=r"127\.0\.0\.1:\d+ \(ssl\) failed: .*tried again on the next run"):
        mail_target("ssl", closed_port(), None).deliver(edition)


def test_an_edition_without_pdf_is_not_sent_half(smtp, ca_file: Path, tmp_path: Path, monkeypatch) -> None:
    security, port, inbox = smtp
    monkeypatch.setenv("T_SMTP_PASSWORD", PASSWORD)
    ed = render_edition(tmp_path, [make_brief("zh")], formats=("md", "html", "json"))
    with pytest.raises(PublishError, match="no PDF to attach"):
        mail_target(security, port, ca_file).deliver(ed)
    assert not inbox.messages


@pytest.mark.parametrize(("entry", "key", "fix"), [
    ({"username": "u", "password_env": ""}, "publish[0]", "password_env"),
    ({"password_env": "my actual password!"}, "publish[0].password_env", "NAME of an environment variable"),
    ({"security": "none"}, "publish[0]", "without TLS"),
    ({"to": ["not-an-address"]}, "publish[0].to", "not an email address"),
    ({"security": "tls"}, "publish[0].security", "starttls"),
    ({"subject": "{title} on {day}"}, "publish[0].subject", "{iso}"),
])
def test_bad_email_config_names_key_and_fix(entry: dict, key: str, fix: str) -> None:
    base = {"kind": "email", "name": "m", "host": "smtp.example.org", "username": "u", "password_env": "P",
            "sender": "a@example.org", "to": ["b@example.org"]}
    with pytest.raises(config.ConfigError) as err:
        config.from_dict({"publish": [{**base, **entry}]})
    assert err.value.key == key and fix in str(err.value)
    assert "my actual password!" not in str(err.value)


def test_an_alert_goes_out_as_plain_text(smtp, ca_file: Path, monkeypatch) -> None:
    security, port, inbox = smtp
    monkeypatch.setenv("T_SMTP_PASSWORD", PASSWORD)
    mail_target(security, port, ca_file).alert("[dailybrief] 2026-04-10 failed: failed (run abc)",
                                               ["Down: cannot connect", "render pdf: no CJK font"])
    [(_, _, msg)] = inbox.messages
    assert msg["Subject"] == "[dailybrief] 2026-04-10 failed: failed (run abc)" and msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "text/plain"
    assert "- Down: cannot connect\n- render pdf: no CJK font" in msg.get_content().replace("\r\n", "\n")
