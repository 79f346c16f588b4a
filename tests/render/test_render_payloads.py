"""Feed text is never markup in any output: template, Markdown, HTML, typst and console syntax in titles,
themes and sentences comes out as the same characters, applied nowhere."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from briefs import make_brief
from dailybrief.records import Sentence
from dailybrief.render.formats import chat_message, render_html, render_markdown, render_pdf, render_text, render_wechat

PAYLOADS = ["{{ 7*7 }}", "{% for x in range(3) %}loop{% endfor %}", "#set page(fill: red)", "#(1+1)",
            "[bold red]Red[/bold red]", "[/oops]", "[link=https://evil.example]click[/link]",
            "<b onmouseover=alert(1)>hi</b>", "**strong** _em_ `code`", "Compiler and JINJA {{ config }}"]
TITLE = " ".join(PAYLOADS[:4])


@pytest.fixture
def hostile():
    brief = make_brief("en", headline=TITLE)
    brief.themes = [PAYLOADS[-1]]
    brief.sections[0].paragraphs[0].sentences.append(Sentence(" ".join(PAYLOADS[4:]) + ".", [1]))
    return brief


def test_template_syntax_is_never_evaluated(hostile) -> None:
    for out in (render_markdown(hostile), render_html(hostile), render_text(hostile), render_wechat(hostile),
                chat_message(hostile, 20_000, markdown=False)):
        assert "49" not in out and "looploop" not in out  # {{ 7*7 }} and the loop stayed text
        assert "7*7" in out.replace("\\*", "*").replace("&#42;", "*")


def test_html_outputs_apply_no_feed_markup(hostile) -> None:
    for html in (render_html(hostile), render_wechat(hostile)):
        assert "onmouseover" not in re.sub(r"&lt;.*?&gt;", "", html)
        assert not re.search(r"<b[ >]", html) and "https://evil.example" not in re.findall(r'href="([^"]+)"', html)


def test_typst_reads_feed_text_as_strings(hostile, tmp_path: Path) -> None:
    pdf = render_pdf(hostile, tmp_path / "brief.pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    assert "#set page(fill: red)" in flat and "#(1+1)" in flat and "{{ 7*7 }}" in flat
