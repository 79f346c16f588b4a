"""Exactly once when a request times out: a message that was sent but never answered is 'interrupted', is
reported as needing a look, and is not sent again without --force; connection failures before anything
was sent are still retried; the platform gets the same idempotency key every time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from briefs import make_brief, render_edition
from conftest import closed_port
from dailybrief import config
from dailybrief.cli import main
from dailybrief.errors import Interrupted, PublishError
from dailybrief.publish.base import load_edition
from dailybrief.publish.delivery import deliver, make_target
from dailybrief.store import Store
from echoserver import echo_server

DAY = date(2026, 4, 10)


pytestmark = pytest.mark.usefixtures("store_url")  # the delivery log on both backends

@pytest.fixture
def edition(tmp_path: Path):
    folder = tmp_path / "edition"
    render_edition(folder, [make_brief("zh")])
    return load_edition(folder, DAY)


def _config(url: str, retries: int = 2) -> config.Config:
    Path("dailybrief.toml").write_text(
        f'[[publish]]\nkind = "webhook"\nname = "slowhook"\nurl = "{url}"\nlink = "https://b.example/{{date}}"\n'
        f"timeout = 0.5\nretries = {retries}\n", "utf-8")
    return config.load()


def test_an_answer_after_the_timeout_is_one_copy_not_three(edition, tmp_path: Path) -> None:
    with echo_server() as echo:
        echo.routes = {"/late": (200, lambda post: "{}", 1.5)}  # accepts, answers after the client gave up
        cfg = _config(f"{echo.base}/late", retries=2)
        store = Store.open(cfg.db_url())
        [first] = deliver(cfg, store, edition)
        [again] = deliver(cfg, store, edition)  # the next run
        assert len(echo.posts) == 1  # not retried within the run, not resent by the next one
        assert first.status == again.status == "interrupted"
        assert "may have arrived" in first.detail and "--force" in first.detail
        assert store.delivery(DAY, "slowhook")["status"] == "interrupted"
        cli = CliRunner().invoke(main, ["publish", "--dir", str(edition.files[0].parent), "--date", "2026-04-10"])
        assert cli.exit_code == 1 and "interrupted" in cli.output and len(echo.posts) == 1
        echo.routes = {}
        [forced] = deliver(cfg, store, edition, force=True)
        assert forced.status == "delivered" and len(echo.posts) == 2
        keys = {p.headers.get("Idempotency-Key") for p in echo.posts}
        assert len(keys) == 1 and None not in keys  # the receiver can drop the copy it has seen


def test_a_connection_refused_before_sending_is_retried() -> None:
    cfg = _config(f"http://127.0.0.1:{closed_port()}/hook", retries=2)
    target = make_target(cfg.publish[0], cfg)
    with pytest.raises(PublishError) as err:
        target.post({"text": "x"})
    assert not isinstance(err.value, Interrupted) and "after 3 attempt(s)" in str(err.value)


def test_email_editions_carry_a_message_id_built_from_edition_and_target(edition) -> None:
    from dailybrief.publish.mail import EmailPublisher

    Path("dailybrief.toml").write_text(
        '[output]\nformats = ["md", "html", "pdf", "json"]\n'
        '[[publish]]\nkind = "email"\nname = "mail"\nhost = "127.0.0.1"\nport = 2525\nsender = "b@x.example"\n'
        'to = ["r@x.example"]\nsecurity = "none"\n', "utf-8")
    cfg = config.load()
    target = EmailPublisher(cfg.publish[0], cfg)
    one, two = target.message(edition), target.message(edition)
    assert one["Message-ID"] == two["Message-ID"] and one["Message-ID"].startswith("<dailybrief.")


class _Mailroom:
    """A real SMTP server's handler that takes the whole message, then answers late, hangs up, or says 250
    (and, in "bad-quit", fails the QUIT after it); or hangs up at RCPT, before the message was sent."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.received: list[bytes] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if self.mode == "drop-early":
            server.transport.close()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.received.append(envelope.original_content)
        if self.mode == "late":
            await asyncio.sleep(2)  # the client (timeout 0.5 s) has given up by now
        elif self.mode == "drop":
            server.transport.close()
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope) -> str:
        return "451 cannot say goodbye" if self.mode == "bad-quit" else "221 Bye"


@pytest.fixture
def mailroom() -> Iterator[tuple[_Mailroom, config.Config, Store]]:
    """The handler, a config with one email target (timeout 0.5 s) on that server, and its store."""
    room, port = _Mailroom(), closed_port()
    Path("dailybrief.toml").write_text(
        '[output]\nformats = ["md", "html", "pdf", "json"]\n'
        f'[[publish]]\nkind = "email"\nname = "mail"\nhost = "127.0.0.1"\nport = {port}\nsender = "b@x.example"\n'
        'to = ["r@x.example"]\nsecurity = "none"\ntimeout = 0.5\n', "utf-8")
    cfg = config.load()
    controller = Controller(room, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield room, cfg, Store.open(cfg.db_url())
    finally:
        controller.stop()


@pytest.mark.parametrize("mode", ["late", "drop"])
def test_mail_whose_answer_is_lost_after_the_data_is_interrupted_not_resent(mailroom, mode: str, edition) -> None:
    room, cfg, store = mailroom
    room.mode = mode
    [first] = deliver(cfg, store, edition)
    assert len(room.received) == 1  # the server has the whole message
    assert first.status == "interrupted", first.detail
    assert "may have arrived" in first.detail and "--force" in first.detail
    [again] = deliver(cfg, store, edition)  # the next run
    assert again.status == "interrupted" and len(room.received) == 1
    assert store.delivery(DAY, "mail")["status"] == "interrupted"
    room.mode = "ok"
    [forced] = deliver(cfg, store, edition, force=True)
    assert forced.status == "delivered" and len(room.received) == 2
    ids = {message_from_bytes(m)["Message-ID"] for m in room.received}
    assert len(ids) == 1  # the copy is recognisably the same message


def test_mail_that_breaks_before_the_data_is_sent_is_retried(mailroom, edition) -> None:
    room, cfg, store = mailroom
    room.mode = "drop-early"
    [first] = deliver(cfg, store, edition)
    assert first.status == "failed" and "tried again on the next run" in first.detail and not room.received
    room.mode = "ok"
    [again] = deliver(cfg, store, edition)  # the next run sends it, no --force needed
    assert again.status == "delivered" and len(room.received) == 1


def test_mail_accepted_with_250_is_delivered_even_if_the_quit_fails(mailroom, edition) -> None:
    room, cfg, store = mailroom
    room.mode = "bad-quit"
    [first] = deliver(cfg, store, edition)
    [again] = deliver(cfg, store, edition)
    assert first.status == "delivered" and again.status == "unchanged" and len(room.received) == 1
