"""The desk in a real browser: headless Chromium (Debian's), driven by Playwright, against the desk served
by uvicorn on 127.0.0.1 over a real run that stopped at a draft."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from pathlib import Path

from deskenv import (
    DAY,
    PASSWORD,
    XSS,
    _make_env,  # noqa: F401 - the make_env fixture
    _shared_embedder,
    serve_app,
)

from browser import _browser  # noqa: F401 - the browser fixture
from dailybrief.demo import serve_directory
from dailybrief.desk import app as desk_app
from dailybrief.desk.drafts import Desk


def served(env, auto_publish: bool = False) -> AbstractContextManager[str]:
    return serve_app(desk_app.build_app(env.cfg, desk_app.open_store(env.cfg), embedder=_shared_embedder(),
                                        auto_publish=auto_publish))


def _page(browser, base: str):
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("pageerror", lambda e: problems.append(str(e)))
    # A console error is a problem, except a transfer the browser itself cut short: the test navigates on before a
    # page's last resource has arrived (go_back, then goto), and Chromium logs that as a length mismatch.
    page.on("console", lambda m: problems.append(f"console: {m.text}")
            if m.type == "error" and "ERR_CONTENT_LENGTH_MISMATCH" not in m.text else None)
    page.on("request", lambda r: None if r.url.startswith((base, "data:", "about:")) else problems.append(r.url))
    return page, problems


def _login(page, base: str, user: str = "abe") -> None:
    page.goto(f"{base}/edition/{DAY}")
    page.fill("input[name=name]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("#signin")
    page.wait_for_selector("#version")


def _changed(page, old: str) -> None:
    """Wait for the page to show a newer version of the draft (htmx swaps the page in place)."""
    page.wait_for_function("old => { const v = document.querySelector('#version'); return v && v.textContent !== old; }",
                           arg=old)


def _version(page) -> str:
    return page.inner_text("#version")


def _order(page) -> list[str]:
    return page.eval_on_selector_all("section.kind-story", "els => els.map(e => e.dataset.story)")


def test_log_in_reorder_drop_edit_merge_and_approve_once(make_env, browser) -> None:
    env = make_env()
    with served(env) as base:
        page, problems = _page(browser, base)
        _login(page, base)
        assert page.evaluate("typeof htmx") == "object"  # the shipped htmx runs under the desk's CSP
        page.evaluate("window.__stay = 1")  # a full page load would lose it
        first, second, third = _order(page)
        v = _version(page)
        page.click(f"section[data-story='{first}'] button.down")
        _changed(page, v)
        assert _order(page) == [second, first, third]
        v = _version(page)
        page.click(f"section[data-story='{third}'] button.drop")
        _changed(page, v)
        assert _order(page) == [second, first]
        assert page.evaluate("window.__stay") == 1  # htmx swapped the page in place: no full reload
        # Edit a sentence in the English brief: the grounding check flags what its sources don't say.
        page.goto(f"{base}/edition/{DAY}?lang=en")
        sentence = page.locator("section.kind-story .sentence").first
        sentence.locator("summary").click()
        sentence.locator("textarea").fill("The company shipped 77,777 units to Mars.")
        sentence.locator("button.save").click()
        page.wait_for_selector("#flagged")
        assert "77,777" in page.inner_text("#flagged") and page.locator(".sentence.flagged").count() >= 1
        # Merge the second section into the first.
        top, nxt = _order(page)
        page.select_option(f"section[data-story='{nxt}'] select[name=into]", top)
        v = _version(page)
        page.click(f"section[data-story='{nxt}'] button.merge")
        _changed(page, v)
        assert _order(page) == [top]
        page.click("#approve")
        page.wait_for_selector("#confirm")  # approving asks first, naming the targets
        assert "hook (webhook)" in page.inner_text("#confirm-targets") and env.deliveries("hook") == 0
        page.click("#confirm")
        page.wait_for_selector("#outcome")
        rows = page.inner_text("#outcome")
        assert "archive" in rows and "hook" in rows and rows.count("delivered") == 2
        assert env.deliveries("hook") == 1
        page.go_back()
        page.goto(f"{base}/edition/{DAY}")
        assert page.inner_text("#status") == "published" and page.locator("#approve").count() == 0
        assert env.deliveries("hook") == 1 and problems == []


def test_xss_payloads_from_feeds_and_model_answers_never_run(make_env, browser) -> None:
    from test_desk_app import _plant_model_payload

    env = make_env(payload=XSS)
    _plant_model_payload(env)
    with served(env) as base:
        page, problems = _page(browser, base)
        _login(page, base)
        for path in ("/", f"/edition/{DAY}", f"/edition/{DAY}?lang=en", f"/edition/{DAY}/candidates",
                     f"/edition/{DAY}/history", f"/edition/{DAY}/preview/zh/html", f"/edition/{DAY}/preview/en/wechat"):
            page.goto(base + path)
            page.wait_for_load_state("load")
            assert page.evaluate("window.__xss") is None, path
            assert page.locator("img[src=x]").count() == 0, path
        page.goto(f"{base}/edition/{DAY}")
        assert "<script>window.__xss" in page.inner_text("main")  # shown as the text it is
        assert problems == []


def test_a_cross_site_form_cannot_change_the_draft(make_env, browser, tmp_path: Path) -> None:
    env = make_env()
    with served(env) as base:
        page, _ = _page(browser, base)
        _login(page, base)
        before = Desk(env.store).draft(DAY).version
        sid = _order(page)[0]
        evil = tmp_path / "evil"
        evil.mkdir()
        (evil / "index.html").write_text(
            f'<form id=f method=post action="{base}/edition/{DAY}/change"><input name=op value=drop>'
            f'<input name=story_id value="{sid}"><input name=version value="{before}"></form>'
            '<script>document.getElementById("f").submit()</script>', "utf-8")
        with serve_directory(evil) as other:
            page.goto(f"{other}/index.html")
            page.wait_for_load_state("load")
            time.sleep(0.5)
        page.goto(f"{base}/edition/{DAY}")
        assert sid in _order(page) and Desk(env.store).draft(DAY).version == before


def test_two_editors_at_once_see_the_conflict(make_env, browser) -> None:
    env = make_env()
    with served(env) as base:
        one, _ = _page(browser, base)
        two, _ = _page(browser, base)
        _login(one, base, "edna")
        _login(two, base, "abe")
        sid = _order(one)[0]
        for page, title in ((one, "第一位编辑"), (two, "第二位编辑")):
            sec = page.locator(f"section[data-story='{sid}']")
            sec.locator("details.inline-details summary", has_text="title").click()
            sec.locator("input[name=text]").fill(title)
        v = _version(one)
        one.locator(f"section[data-story='{sid}'] button.save-title").click()
        _changed(one, v)
        two.locator(f"section[data-story='{sid}'] button.save-title").click()
        two.wait_for_selector("#reload")
        text = two.inner_text("main")
        assert "Someone else changed this edition" in text and "第一位编辑" in text and "第二位编辑" in text
        two.click("#reload")
        two.wait_for_selector(f"section[data-story='{sid}']")
        assert two.inner_text(f"section[data-story='{sid}'] .title") == "第一位编辑"


def test_a_scheduled_run_stops_at_a_draft_and_auto_publish_at_sends_it(make_env, browser, monkeypatch) -> None:
    monkeypatch.setattr(desk_app, "AUTO_PUBLISH_POLL", 0.2)
    env = make_env(auto_publish_at="09:00")  # long past for the 2026-04-10 edition
    assert env.deliveries("hook") == 0 and "09:00" in env.echo.to("/alerts")[0].body.decode()
    with served(env, auto_publish=True) as base:
        page, _ = _page(browser, base)
        _login(page, base)
        deadline = time.monotonic() + 60
        while Desk(env.store).draft(DAY).status != "published" and time.monotonic() < deadline:
            time.sleep(0.2)
        page.reload()
        assert page.inner_text("#status") == "published" and "auto_publish_at" in page.inner_text("main")
    assert env.deliveries("hook") == 1
    assert any("published unreviewed" in p.body.decode() for p in env.echo.to("/alerts"))
