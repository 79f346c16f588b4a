"""The HTML outputs in a real browser: headless Chromium (Debian's), driven by Playwright.

Checks a person would make: light and dark mode, a phone-sized screen, no
request for anything outside the file, working anchors, no console errors,
and a WeChat variant that styles itself with no stylesheet at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from briefs import _sample_brief
from browser import _browser  # noqa: F401 - the browser fixture
from dailybrief.render.formats import render_html, render_wechat


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("html")
    brief = _sample_brief(folder)
    out = {"html": folder / "brief.html", "wechat": folder / "brief.wechat.html"}
    out["html"].write_text(render_html(brief), "utf-8")
    out["wechat"].write_text(render_wechat(brief), "utf-8")
    return out


def _open(browser, path: Path, width: int = 1100, scheme: str = "light"):
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    # Anything not in the file itself is refused, and recorded above.
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
               else route.abort())
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, requests, errors


@pytest.mark.parametrize("kind", ["html", "wechat"])
def test_nothing_is_fetched_and_nothing_fails(browser, pages: dict[str, Path], kind: str) -> None:
    page, requests, errors = _open(browser, pages[kind])
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    assert errors == []
    assert page.evaluate("document.images.length") >= 1
    assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    page.close()


def test_the_request_check_can_fail(browser, tmp_path: Path) -> None:
    control = tmp_path / "control.html"
    control.write_text('<!doctype html><img src="https://cdn.example/x.png">', "utf-8")
    page, requests, _ = _open(browser, control)
    assert "https://cdn.example/x.png" in requests
    page.close()


def test_light_and_dark_mode(browser, pages: dict[str, Path]) -> None:
    colours = {}
    for scheme in ("light", "dark"):
        page, *_ = _open(browser, pages["html"], scheme=scheme)
        colours[scheme] = page.evaluate("""() => {
            const s = e => getComputedStyle(document.querySelector(e));
            return [s('body').backgroundColor, s('body').color, s('h2').borderBottomColor, s('.track').backgroundColor];
        }""")
        page.close()
    assert colours["light"][:2] == ["rgb(255, 255, 255)", "rgb(29, 35, 43)"]
    assert colours["dark"][:2] == ["rgb(20, 24, 29)", "rgb(227, 231, 236)"]
    assert all(light != dark for light, dark in zip(colours["light"], colours["dark"], strict=True))


@pytest.mark.parametrize("kind", ["html", "wechat"])
@pytest.mark.parametrize("width", [360, 1100])
def test_fits_the_screen_without_sideways_scrolling(browser, pages: dict[str, Path], kind: str, width: int) -> None:
    page, *_ = _open(browser, pages[kind], width=width)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    text_width = page.evaluate("document.querySelector('p').getBoundingClientRect().width")
    assert text_width <= (width if width < 700 else 740)  # a readable measure on wide screens
    page.close()


def test_anchors_take_the_reader_to_each_section(browser, pages: dict[str, Path]) -> None:
    page, *_ = _open(browser, pages["html"])
    for target in ("s-2", "s-1-2", "references", "contact"):
        page.click(f'nav.toc a[href="#{target}"]' if target != "contact" else f'a.anchor[href="#{target}"]')
        top = page.evaluate(f"document.getElementById('{target}').getBoundingClientRect().top")
        assert -2 <= top <= 40 or page.evaluate("innerHeight + scrollY >= document.body.scrollHeight - 2"), target
    page.click('a.cite[href="#ref-3"] >> nth=0')
    assert page.evaluate("location.hash") == "#ref-3"
    assert page.evaluate("getComputedStyle(document.getElementById('ref-3')).outlineStyle") == "solid"  # :target
    page.close()


def test_coverage_bars_are_drawn_to_scale(browser, pages: dict[str, Path]) -> None:
    page, *_ = _open(browser, pages["html"])
    widths = page.evaluate("""[...document.querySelectorAll('ol.bars .track')].map(t =>
        [...t.querySelectorAll('.seg')].reduce((w, s) => w + s.getBoundingClientRect().width, 0) /
        t.getBoundingClientRect().width)""")
    assert widths[1] == pytest.approx(1.0, abs=0.01) and widths[0] == pytest.approx(4 / 6, abs=0.01)
    segment = page.evaluate("getComputedStyle(document.querySelector('.seg.t-community')).backgroundColor")
    assert segment == "rgb(224, 138, 60)"
    page.close()


def test_wechat_styles_itself_without_a_stylesheet(browser, pages: dict[str, Path]) -> None:
    page, *_ = _open(browser, pages["wechat"])
    assert page.evaluate("document.styleSheets.length") == 0
    assert page.evaluate("document.querySelectorAll('[class],[id],script,style,link').length") == 0
    styles = page.evaluate("""() => {
        const p = document.querySelector('section p[style*="text-align:justify"]');
        const h2 = document.querySelector('h2');
        return [getComputedStyle(p).fontSize, getComputedStyle(h2).borderBottomColor, getComputedStyle(h2).fontSize];
    }""")
    assert styles == ["15px", "rgb(31, 90, 140)", "19px"]
    page.close()
