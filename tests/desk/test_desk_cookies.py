"""Two editions' desks on one host, on two ports: a browser keeps one cookie jar per host, whatever the port, so
each desk's session cookie has its own name and its own signing key. Signing in on one desk neither signs in nor
signs out on the other, and one desk's cookie, renamed, is refused by the other."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path

import httpx
import pytest
from deskenv import serve_app

from dailybrief import config
from dailybrief.desk import app as desk_app
from dailybrief.desk.auth import hash_password, session_cookie
from dailybrief.desk.drafts import Desk
from dailybrief.records import DEFAULT_EDITION
from helpers import config as make_config
from helpers import source

PASSWORD = "correct horse battery"  # noqa: S105 - a test user's


def _served(cfg: config.Config) -> AbstractContextManager[str]:
    return serve_app(desk_app.build_app(cfg, desk_app.open_store(cfg), secure_cookie=False, auto_publish=False))


@pytest.fixture(name="desks")
def _desks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """The desks of editions ai and chips, both reviewed, served on 127.0.0.1 on two ports; one desk user."""
    monkeypatch.delenv("DAILYBRIEF_DESK_SECRET", raising=False)  # the key kept beside the database
    monkeypatch.delenv("DAILYBRIEF_DB", raising=False)
    data = make_config([source("Outlet A", "http://127.0.0.1:1/a.xml")])
    data["storage"] = {"path": str(tmp_path / "db.sqlite")}
    data["output"] = {"dir": str(tmp_path / "out")}
    data["review"] = {"required": True}
    data["editions"] = [{"name": "ai", "review": {"desk_url": "http://127.0.0.1:8751/"}},
                        {"name": "chips", "review": {"desk_url": "http://127.0.0.1:8752/"}}]
    whole = config.from_dict(data)
    store = desk_app.open_store(whole)
    Desk(store).add_user("abe", "approver", hash_password(PASSWORD))
    store.close()
    with ExitStack() as stack:
        yield (stack.enter_context(_served(whole.for_edition("ai"))),
               stack.enter_context(_served(whole.for_edition("chips"))))


def _login(c: httpx.Client, base: str) -> httpx.Response:
    token = re.search(r'name="csrf" value="([^"]+)"', c.get(f"{base}/login").text).group(1)  # type: ignore[union-attr]
    return c.post(f"{base}/login", data={"csrf": token, "name": "abe", "password": PASSWORD, "next": "/"})


def _signed_in(c: httpx.Client, base: str) -> bool:
    page = c.get(f"{base}/")
    return page.status_code == 200 and "/login" not in str(page.url)


def test_each_editions_desk_keeps_its_own_session_on_one_host(desks: tuple[str, str]) -> None:
    ai, chips = desks
    with httpx.Client(follow_redirects=True, timeout=10) as browser:  # one cookie jar for 127.0.0.1, as a browser's
        assert _login(browser, ai).status_code == 200 and _signed_in(browser, ai)
        assert not _signed_in(browser, chips)  # ai's session is not chips'
        names = {c.name for c in browser.cookies.jar}  # chips' holds the sign-in form's CSRF token, no user
        assert names == {session_cookie("ai"), session_cookie("chips")}, names
        # An editor's POST to chips' desk with only ai's session is refused as not signed in.
        assert browser.post(f"{chips}/edition/2026-04-10/change", data={"op": "drop"}).status_code == 401
        # Signing in on chips keeps ai's session; signing out of chips leaves ai signed in.
        _login(browser, chips)
        assert _signed_in(browser, chips) and _signed_in(browser, ai)
        page = browser.get(f"{chips}/").text
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        browser.post(f"{chips}/logout", data={"csrf": token})
        assert not _signed_in(browser, chips) and _signed_in(browser, ai)
        ai_value = browser.cookies.get(session_cookie("ai"))
    # ai's cookie under chips' name, as a hand-made request would send it: chips' key does not accept it.
    with httpx.Client(follow_redirects=True, timeout=10) as forger:
        forger.cookies.set(session_cookie("chips"), ai_value or "", domain="127.0.0.1")
        assert not _signed_in(forger, chips)
        forger.cookies.set(session_cookie("ai"), ai_value or "", domain="127.0.0.1")
        assert _signed_in(forger, ai)


def test_the_default_editions_cookie_keeps_its_name() -> None:
    """One edition, as before [[editions]]: a desk's open sessions survive the upgrade."""
    assert session_cookie(DEFAULT_EDITION) == "dailybrief_desk"
    assert session_cookie("ai") == "dailybrief_desk_ai" != session_cookie("chips")
