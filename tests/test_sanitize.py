"""nh3 over HTML of unknown origin: scripts, handlers and javascript: links never reach a reader."""

from __future__ import annotations

import re

import pytest

from dailybrief.sanitize import clean_fragment, clean_page, clean_wechat

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)><circle r=1 /></svg>",
    '<a href="javascript:alert(1)">a</a>',
    '<a href="JaVaScRiPt:alert(1)">b</a>',
    '<a href="&#106;avascript:alert(1)">c</a>',
    '<a href=" javascript:alert(1)">d</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">e</a>',
    '<iframe src="https://evil.example/"></iframe>',
    '<p style="background:url(javascript:alert(1));position:fixed">f</p>',
    "<style>body{display:none}</style>",
    '<body onload="alert(1)">g</body>',
    '<math><mi xlink:href="javascript:alert(1)">h</mi></math>',
    '<form action="https://evil.example"><input name=x></form>',
]

CLEANERS = {"fragment": clean_fragment, "page": clean_page, "wechat": clean_wechat}


def _dangerous(html: str) -> list[str]:
    found = []
    if re.search(r"<\s*(script|iframe|style|form|input|object|embed|math)\b", html, re.I):
        found.append("tag")
    if re.search(r"\son\w+\s*=", html, re.I):
        found.append("handler")
    if re.search(r"(href|src|action)\s*=\s*\"\s*(javascript|data:text)", html, re.I):
        found.append("url")
    if re.search(r"url\(|position\s*:", html, re.I):
        found.append("css")
    if "evil.example" in html:
        found.append("external")
    if "alert(" in html:
        found.append("script text")
    return found


@pytest.mark.parametrize("name", list(CLEANERS))
@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_are_defused(name: str, payload: str) -> None:
    cleaned = CLEANERS[name](f"<p>before</p>{payload}<p>after</p>")
    assert not _dangerous(cleaned), cleaned
    assert "before" in cleaned and "after" in cleaned


def test_fragment_keeps_text_markup_and_safe_links() -> None:
    html = clean_fragment('<p>Read <a href="https://example.com/a?b=1">this</a>, <b>now</b>.<br>'
                          '<a href="mailto:x@example.com">mail</a> <a href="#x">local</a></p>')
    assert '<a href="https://example.com/a?b=1" rel="noopener noreferrer">this</a>' in html
    assert "<b>now</b>" in html and "<br>" in html and 'href="mailto:x@example.com"' in html


def test_page_keeps_its_own_layout() -> None:
    html = clean_page('<section id="s-1" class="story"><h2>T<a class="anchor" href="#s-1">#</a></h2>'
                      '<span class="seg t-press" style="width:50%"></span>'
                      '<svg viewBox="0 0 120 40" role="img" aria-label="7-day"><polyline points="1,2 3,4" '
                      'fill="none" stroke="currentColor"></polyline></svg>'
                      '<img src="data:image/png;base64,iVBORw0KGgo=" alt=""><img src="https://cdn.example/x.png">'
                      '<time datetime="2026-04-10">x</time></section>')
    for kept in ('id="s-1"', 'class="story"', 'href="#s-1"', 'style="width:50%"', 'viewBox="0 0 120 40"',
                 'points="1,2 3,4"', 'src="data:image/png;base64,iVBORw0KGgo="', 'datetime="2026-04-10"'):
        assert kept in html, kept
    assert "cdn.example" not in html  # nothing fetched from outside


def test_wechat_keeps_inline_styles_only() -> None:
    html = clean_wechat('<section style="color:#111;font-size:15px" class="x" id="y">'
                        '<p style="margin:0 0 14px;background-color:#fff;background-image:url(https://e.example/a.png)">t</p>'
                        '<a href="https://example.com">link</a>'
                        '<img src="data:image/png;base64,iVBORw0KGgo=" style="width:140px">'
                        '<img src="https://e.example/b.png"><img src="data:image/svg+xml;base64,PHN2Zz4=">'
                        "</section>")
    assert html.startswith('<section style="color:#111;font-size:15px">')
    assert 'style="margin:0 0 14px;background-color:#fff"' in html
    assert "<a" not in html and "link" in html  # links become text
    assert html.count("<img") == 3 and html.count('src="data:image/png') == 1  # only the PNG keeps its source
    assert "e.example" not in html and "svg+xml" not in html
