"""The render stage: Markdown, HTML, PDF and JSON from one Brief.

PDF checks use poppler-utils (pdftotext, pdffonts, pdfinfo, pdftoppm); they
are skipped when those tools are not installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest

from briefs import EDITION_URL, MOMENTUM, REF_TITLES, SPECIAL_TITLE, XSS_TITLE, _sample_brief
from dailybrief.errors import RenderError
from dailybrief.records import Branding, Brief, Paragraph, Reference, Sentence
from dailybrief.render.formats import (
    LABELS,
    RENDERERS,
    Renderer,
    brief_view,
    format_date,
    render_all,
    render_html,
    render_json,
    render_markdown,
    render_pdf,
    safe_url,
)

POPPLER = all(shutil.which(tool) for tool in ("pdftotext", "pdffonts", "pdfinfo", "pdftoppm"))
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftotext, pdffonts, pdfinfo, pdftoppm) not on PATH")


@pytest.fixture
def brief(tmp_path: Path) -> Brief:
    return _sample_brief(tmp_path)


# ---------------------------------------------------------------------------
# helpers


def test_format_date() -> None:
    assert format_date(date(2026, 4, 10), "zh") == "2026 年 4 月 10 日"
    assert format_date(date(2026, 4, 10), "en") == "10 April 2026"


@pytest.mark.parametrize("url,ok", [
    ("https://example.com/a?b=1", True),
    ("http://example.com", True),
    ("  HTTPS://Example.com/x  ", True),
    ("javascript:alert(1)", False),
    ("JaVaScRiPt:alert(1)", False),
    ("data:text/html,<script>", False),
    ("/relative/path", False),
    ("https://exa\nmple.com", False),
    ("", False),
])
def test_safe_url(url: str, ok: bool) -> None:
    assert bool(safe_url(url)) is ok


def test_view_groups_consecutive_parts_and_numbers_them(brief: Brief) -> None:
    view = brief_view(brief)
    story = view["sections"][0]
    assert [(g["number"], g["heading"], len(g["paragraphs"])) for g in story["groups"]] == [
        ("1.1", "事实梳理", 2), ("1.2", "社区与媒体观点", 2),
    ]
    assert [g["heading"] for g in view["sections"][1]["groups"]] == ["事实梳理", "社区与媒体观点", "产业分析"]
    assert view["sections"][2]["kind"] == "roundup" and len(view["sections"][2]["entries"]) == 2
    assert view["references_number"] == "4"
    # Chinese sentences are joined without a space, English ones with a space.
    assert story["groups"][0]["paragraphs"][0]["sentences"][0]["sep"] == ""
    english = Sentence("It shipped.", [1])
    other = Paragraph("facts", [english, Sentence("Then more.", [])])
    brief.sections[0].paragraphs = [other]
    sentences = brief_view(brief)["sections"][0]["groups"][0]["paragraphs"][0]["sentences"]
    assert sentences[0]["sep"] == " " and sentences[1]["sep"] == ""


@pytest.mark.parametrize("language, line", [
    ("en", "- **Tools and repos**: someone / fast-agent[[6]](#ref-6); other / tiny-llm[[5]](#ref-5)"),
    ("zh", "- **工具与代码库**：someone / fast-agent[[6]](#ref-6)；other / tiny-llm[[5]](#ref-5)"),
])
def test_a_listed_roundup_line_joins_its_entries_as_a_list_each_with_its_citation(brief: Brief, language: str,
                                                                                  line: str) -> None:
    brief.language = language
    lead = "Tools and repos" if language == "en" else "工具与代码库"
    entries = [Sentence("someone / fast-agent", [6]), Sentence("other / tiny-llm", [5])]
    brief.sections[2].paragraphs = [Paragraph("roundup", entries, lead=lead, listed=True)]
    assert line in render_markdown(brief).splitlines()
    # Not listed, the same sentences are joined as prose.
    brief.sections[2].paragraphs[0].listed = False
    assert not any(";" in x or "；" in x for x in render_markdown(brief).splitlines() if "fast-agent" in x)


# ---------------------------------------------------------------------------
# Markdown


def test_markdown(brief: Brief) -> None:
    md = render_markdown(brief)
    assert md.startswith("# AI 技术每日分析\n")
    assert "2026 年 4 月 10 日" in md
    for heading in ("## 摘要", "## 目录", "### 1.1 事实梳理", "### 1.2 社区与媒体观点", "### 2.3 产业分析",
                    "## 3 其他动态", "## 4 参考文献与拓展阅读", "## 联系我们"):
        assert heading in md, heading
    assert "安全收紧 · 底层竞速" in md
    for n in range(1, 7):
        assert f"[[{n}]](#ref-{n})" in md
        assert f'<a id="ref-{n}"></a>**{n}.**' in md
    for title in REF_TITLES[:5]:
        assert title in md.replace("\\", "")
    assert "<https://news.example.com/story/1?utm=x&y=1>" in md
    assert "`跟进`" in md
    assert "4 家媒体报道：Times of India、India Today、Hacker News、Reddit" in md
    assert "- **OpenAI**：OpenAI 发布《儿童安全蓝图》。" in md
    assert "*产业分析需要语言模型；本节由抽取式写作器生成。*" in md
    assert "[新质生产力工作委员会官方公众号](https://gyznswn.cn/wechat)" in md
    assert "<https://gyznswn.cn>" in md


def test_markdown_escapes_feed_text(brief: Brief) -> None:
    md = render_markdown(brief)
    # Raw HTML from feeds is inert: the opening bracket is backslash-escaped.
    assert not re.search(r"(?<!\\)<(script|/script|img)", md)
    assert "\\<script>alert(1)\\</script>" in md and "\\<img src=x onerror=alert(1)>" in md
    # A javascript: URL is shown as text, never as an autolink.
    assert "<javascript:" not in md and "](javascript:" not in md
    assert "javascript:alert(1)" in md
    assert "\\*bold\\*" in md and "\\[x\\]" in md


# ---------------------------------------------------------------------------
# HTML


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Collector:
    parser = _Collector()
    parser.feed(html)
    parser.close()
    return parser


def test_html_structure(brief: Brief) -> None:
    html = render_html(brief)
    doc = _parse(html)
    tags = doc.tags
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert ('html', {"lang": "zh-CN"}) in tags
    ids = {a.get("id") for _, a in tags if a.get("id")}
    assert {"abstract", "contents", "s-1", "s-1-1", "s-1-2", "s-2", "s-3", "references", "contact"} <= ids
    assert {f"ref-{n}" for n in range(1, 7)} <= ids
    assert 'id="ref-1"' in html and 'href="#ref-1"' in html
    hrefs = [a.get("href") for t, a in tags if t == "a"]
    for n in range(1, 7):
        assert f"#ref-{n}" in hrefs
    text = "".join(doc.text)
    for heading in ("摘要", "目录", "事实梳理", "社区与媒体观点", "产业分析", "参考文献与拓展阅读", "跟进", "联系我们"):
        assert heading in text, heading
    for title in REF_TITLES[:5]:
        assert title in text
    assert SPECIAL_TITLE in text
    # External reference links open safely.
    external = [a for t, a in tags if t == "a" and (a.get("href") or "").startswith("http")]
    assert external and all(a.get("rel") == "noopener noreferrer" for a in external)
    assert "prefers-color-scheme: dark" in html
    # The QR code is inline SVG; the logo is a data: URI.
    assert any(t == "svg" for t, _ in tags)
    assert any(t == "img" and (a.get("src") or "").startswith("data:image/png;base64,") for t, a in tags)


def test_html_escapes_untrusted_text(brief: Brief) -> None:
    html = render_html(brief)
    doc = _parse(html)
    assert not any(t == "script" for t, _ in doc.tags)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert not any("onerror" in attrs for _, attrs in doc.tags)
    assert not any(t == "img" and a.get("src") == "x" for t, a in doc.tags)
    # The javascript: reference is text, not a link.
    assert not any((a.get("href") or "").lower().startswith("javascript") for _, a in doc.tags)
    assert "javascript:alert(1)" in "".join(doc.text)


def test_html_is_self_contained(brief: Brief) -> None:
    html = render_html(brief)
    doc = _parse(html)
    assert not re.search(r"<link[^>]+stylesheet", html, re.I)
    assert not re.search(r"<script[^>]*\bsrc=", html, re.I)
    assert "@import" not in html and "url(http" not in html
    for tag, attrs in doc.tags:
        if tag in ("img", "script", "iframe", "link", "source", "video", "audio"):
            src = attrs.get("src") or attrs.get("href") or ""
            assert not src.startswith(("http:", "https:", "//")), (tag, src)


def test_html_without_logo_or_qr(brief: Brief, tmp_path: Path) -> None:
    brief.branding.logo = str(tmp_path / "missing.png")
    brief.branding.qr_url = ""
    html = render_html(brief)
    doc = _parse(html)
    assert not any(t == "img" for t, _ in doc.tags)
    assert not any(a.get("class") == "qr" for _, a in doc.tags)
    assert sum(1 for t, _ in doc.tags if t == "svg") == 1  # the momentum line only


# ---------------------------------------------------------------------------
# JSON and the registry


def test_json_is_as_dict(brief: Brief) -> None:
    data = json.loads(render_json(brief))
    assert data == json.loads(json.dumps(brief.as_dict()))
    assert data["edition"] == "2026-04-10" and data["sections"][0]["title"].startswith("网络安全")
    assert "网络安全" in render_json(brief)  # ensure_ascii=False


def test_registry_and_render_all(brief: Brief, tmp_path: Path) -> None:
    assert set(RENDERERS) >= {"md", "html", "pdf", "json"}
    for name, renderer in RENDERERS.items():
        assert isinstance(renderer, Renderer) and renderer.name == name
    out = tmp_path / "out"
    paths = render_all(brief, out, ["md", "html", "json"], stem="2026-04-10")
    assert paths == {f: out / f"2026-04-10.{f}" for f in ("md", "html", "json")}
    assert all(p.stat().st_size > 0 for p in paths.values())
    assert not list(out.glob(".*.tmp"))
    with pytest.raises(RenderError, match="unknown output format 'docx'"):
        render_all(brief, tmp_path / "other", ["md", "docx"])
    assert not (tmp_path / "other" / "brief.md").exists()


def test_english_labels(tmp_path: Path) -> None:
    brief = _sample_brief(tmp_path, language="en")
    md = render_markdown(brief)
    html = render_html(brief)
    en = LABELS["en"]
    for key in ("abstract", "contents", "facts", "views", "analysis", "references", "follow_up", "contact"):
        assert en[key] in md.replace("\\", ""), key
        assert en[key].replace("&", "&amp;") in html, key
    assert "10 April 2026" in md and "10 April 2026" in html
    assert "4 outlets: Times of India, India Today, Hacker News, Reddit" in md
    assert "事实梳理" not in md and "摘要" not in html
    assert '<html lang="en">' in html


def test_empty_brief_renders(tmp_path: Path) -> None:
    brief = Brief(edition=date(2026, 4, 10), language="zh", title="空", branding=Branding())
    assert "# 空" in render_markdown(brief)
    assert "<h1" in render_html(brief)


# ---------------------------------------------------------------------------
# PDF


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def pdf(brief: Brief, tmp_path: Path) -> Path:
    if not POPPLER:
        pytest.skip("poppler-utils (pdftotext, pdffonts, pdfinfo, pdftoppm) not on PATH")
    return render_pdf(brief, tmp_path / "brief.pdf")


@needs_poppler
def test_pdf_text(pdf: Path) -> None:
    text = _run("pdftotext", "-layout", str(pdf), "-")
    for heading in ("AI 技术每日分析", "2026 年 4 月 10 日", "摘要", "目录", "事实梳理", "社区与媒体观点", "产业分析",
                    "参考文献与拓展阅读", "联系我们", "跟进", "中国高技术产业发展促进会新质生产力工作委员会"):
        assert heading in text, heading
    flat = re.sub(r"\s+", "", text)
    for title in REF_TITLES[:5]:
        assert re.sub(r"\s+", "", title) in flat, title
    # Special characters arrive literally, not as typst markup.
    assert re.sub(r"\s+", "", SPECIAL_TITLE) in flat
    assert "<script>alert(1)</script>" in text
    assert "<imgsrc=xonerror=alert(1)>" in flat
    assert "[1][3]" in flat


@needs_poppler
def test_pdf_contents_has_page_numbers(pdf: Path) -> None:
    text = _run("pdftotext", "-layout", str(pdf), "-")
    contents = text.split("目录", 1)[1]
    for heading in (r"1\s+网络安全", r"1\.1\s+事实梳理", r"1\.2\s+社区与媒体观点", r"2\.3\s+产业分析",
                    r"3\s+其他动态", r"4\s+参考文献与拓展阅读"):
        assert re.search(rf"^\s*{heading}.*?(\d+)\s*$", contents, re.M), heading


@needs_poppler
def test_pdf_fonts_embedded(pdf: Path) -> None:
    lines = _run("pdffonts", str(pdf)).splitlines()[2:]
    assert lines
    for line in lines:
        cols = line.split()
        # name type... encoding emb sub uni object-id gen: emb is 5th from the end.
        assert cols[-5] == "yes", line
    assert any("CJK" in line for line in lines)


@needs_poppler
def test_pdf_outline_and_links(pdf: Path) -> None:
    raw = pdf.read_bytes()
    assert b"/Outlines" in raw and re.search(rb"/Count\s+-?[1-9]", raw)
    assert b"/Annots" in raw
    assert b"/URI" in raw and b"https://news.example.com/story/1" in raw
    assert b"/Dest" in raw or b"/GoTo" in raw
    assert b"javascript:" not in raw.lower()


@needs_poppler
def test_pdf_pages_rasterise(pdf: Path, tmp_path: Path) -> None:
    pages = int(re.search(r"^Pages:\s+(\d+)", _run("pdfinfo", str(pdf)), re.M).group(1))
    assert pages >= 2
    assert "A4" in _run("pdfinfo", str(pdf))
    _run("pdftoppm", "-png", "-r", "50", str(pdf), str(tmp_path / "page"))
    assert len(list(tmp_path.glob("page*.png"))) == pages


@needs_poppler
def test_pdf_footer_numbers_every_page_and_the_header_carries_the_logo(pdf: Path) -> None:
    pages = _pdf_pages(pdf)
    for k in range(1, pages + 1):
        text = _run("pdftotext", "-layout", "-f", str(k), "-l", str(k), str(pdf), "-")
        footer = text.strip().splitlines()[-1]
        assert re.search(rf"\b{k}\s*/\s*{pages}$", footer), footer
        assert "中国高技术产业发展促进会新质生产力工作委员会 · gyznswn.cn" in footer
    images = _run("pdfimages", "-list", str(pdf)).splitlines()[2:]
    assert [row.split()[0] for row in images] == ["1"]  # the logo, on the first page (the QR code is vector)


@needs_poppler
def test_pdf_english(tmp_path: Path) -> None:
    brief = _sample_brief(tmp_path, language="en")
    text = _run("pdftotext", "-layout", str(render_pdf(brief, tmp_path / "en.pdf")), "-")
    for label in ("Abstract", "Contents", "What happened", "Community & media views", "Analysis",
                  "References", "Follow-up", "Contact", "10 April 2026"):
        assert label in text, label


@needs_poppler
def test_pdf_degrades_gracefully(tmp_path: Path) -> None:
    brief = _sample_brief(tmp_path)
    brief.branding = Branding(logo=str(tmp_path / "nope.png"))
    brief.themes = []
    brief.abstract = []
    brief.references = []  # citations now point nowhere: shown, not linked
    brief.notes = []
    path = render_pdf(brief, tmp_path / "bare.pdf")
    text = _run("pdftotext", "-layout", str(path), "-")
    assert "事实梳理" in text and "[1]" in text
    empty = Brief(edition=date(2026, 4, 10), language="zh", title=SPECIAL_TITLE, branding=Branding())
    text = _run("pdftotext", "-layout", str(render_pdf(empty, tmp_path / "empty.pdf")), "-")
    assert re.sub(r"\s+", "", SPECIAL_TITLE) in re.sub(r"\s+", "", text)


def test_pdf_bad_logo_is_skipped(tmp_path: Path) -> None:
    brief = _sample_brief(tmp_path)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    brief.branding.logo = str(bad)
    assert render_pdf(brief, tmp_path / "b.pdf").read_bytes().startswith(b"%PDF")


def test_pdf_bad_svg_logo_falls_back(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    brief = _sample_brief(tmp_path)
    bad = tmp_path / "bad.svg"
    bad.write_text("<svg xmlns='http://www.w3.org/2000/svg'><path d='M0,0 L", encoding="utf-8")
    brief.branding.logo = str(bad)
    assert render_pdf(brief, tmp_path / "b.pdf").read_bytes().startswith(b"%PDF")
    assert "retrying without the logo" in caplog.text


def test_pdf_duplicate_and_dangling_reference_numbers(tmp_path: Path) -> None:
    brief = _sample_brief(tmp_path)
    brief.references.append(Reference(1, "dup", "https://dup.example.com/", "Dup", "Duplicate one", None))
    brief.sections[0].paragraphs[0].sentences[0].refs = [1, 99]
    view = brief_view(brief)
    assert [r["anchor"] for r in view["references"]].count("ref-1") == 1
    cites = view["sections"][0]["groups"][0]["paragraphs"][0]["sentences"][0]["refs"]
    assert cites == [{"n": 1, "linked": True}, {"n": 99, "linked": False}]
    html = render_html(brief)
    assert html.count('id="ref-1"') == 1 and 'href="#ref-99"' not in html and "[99]" in html
    assert render_pdf(brief, tmp_path / "dup.pdf").stat().st_size > 0


def test_pdf_without_cjk_font_refuses_chinese(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dailybrief.render.formats as render

    monkeypatch.setattr(render, "_pdf_font_list", lambda: ("DejaVu Sans",))
    with pytest.raises(RenderError, match="no CJK font"):
        render_pdf(_sample_brief(tmp_path), tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


def test_unsafe_qr_and_website_are_not_links(brief: Brief) -> None:
    brief.branding.qr_url = "javascript:alert(2)"
    brief.branding.website = "javascript:alert(3)"
    html = render_html(brief)
    doc = _parse(html)
    assert not any((a.get("href") or "").lower().startswith("javascript") for _, a in doc.tags)
    assert any(t == "svg" for t, _ in doc.tags)  # the QR code still holds the text
    md = render_markdown(brief)
    assert "](javascript:" not in md and "<javascript:" not in md


def test_register_custom_renderer(brief: Brief, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dailybrief.render.formats import TextRenderer, register_renderer

    monkeypatch.setitem(RENDERERS, "txt", RENDERERS["md"])  # restored after the test
    register_renderer(TextRenderer("txt", ".txt", lambda b: b.title))
    paths = render_all(brief, tmp_path, ["txt"])
    assert paths["txt"].read_text(encoding="utf-8") == "AI 技术每日分析"


# ---------------------------------------------------------------------------
# PDF: the checks a person would make


def _pdf_pages(path: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", _run("pdfinfo", str(path)), re.M).group(1))


def _in_order(text: str, marks: list[str], start: int = 0) -> int:
    """Each mark found after the one before it; returns where the last one ends."""
    where = start
    for mark in marks:
        found = text.find(mark, where)
        assert found >= 0, f"{mark!r} missing after {text[max(where - 40, 0):where]!r}"
        where = found + len(mark)
    return where


@needs_poppler
def test_pdf_text_comes_in_reading_order(pdf: Path) -> None:
    flat = re.sub(r"\s+", "", _run("pdftotext", str(pdf), "-"))
    front = _in_order(flat, ["AI技术每日分析", "中国高技术产业发展促进会新质生产力工作委员会", "2026年4月10日", "摘要",
                             "今日主题", "国际人工智能领域", "本期由抽取式写作器生成", "报道覆盖", "目录", "1网络安全AI",
                             "2<script>", "3其他动态", "4参考文献与拓展阅读"])
    _in_order(flat, ["1网络安全AI", "4家媒体报道", "1.1事实梳理", "Anthropic宣布Mythos", "1.2社区与媒体观点",
                     "HackerNews·412points", "Reddit：部分安全专家", "产业分析需要语言模型", "2<script>alert(1)</script>模型发布",
                     "2.1事实梳理", "2.2社区与媒体观点", "2.3产业分析", "3其他动态", "GoogleDeepMind推出", "4参考文献与拓展阅读",
                     "1.TimesofIndia", "2.IndiaToday", "6.Axios", "联系我们", "电话：010-12345678",
                     "专注于推动工业人工智能、智能制造、数字化转型等前沿技术发展。", "网站地址：gyznswn.cn"], front)


@needs_poppler
def test_pdf_bookmarks_hold_every_section(pdf: Path) -> None:
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    top: list[str] = []
    nested: list[str] = []
    for entry in reader.outline:
        if isinstance(entry, list):
            nested.extend(e.title for e in entry if not isinstance(e, list))
        else:
            top.append(entry.title)
    assert top == ["摘要", "1 网络安全 AI 的“潘多拉魔盒”：Mythos 与 Spud 的非公开博弈 跟进", f"2 {XSS_TITLE}",
                   "3 其他动态", "4 参考文献与拓展阅读", "联系我们"]
    assert nested == ["1.1 事实梳理", "1.2 社区与媒体观点", "2.1 事实梳理", "2.2 社区与媒体观点", "2.3 产业分析"]
    # Each bookmark opens the page its section is on.
    pages = [_run("pdftotext", "-f", str(i + 1), "-l", str(i + 1), str(pdf), "-") for i in range(len(reader.pages))]
    for entry in reader.outline:
        if not isinstance(entry, list):
            head = entry.title.split(" ")[-1] if entry.title[0].isdigit() else entry.title
            assert head in pages[reader.get_destination_page_number(entry)], entry.title


@needs_poppler
def test_pdf_citations_jump_to_their_references(pdf: Path) -> None:
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    citations: list[tuple[int, float]] = []
    uris: set[str] = set()
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            dest = annot.get("/Dest")
            dest = dest.get_object() if dest is not None else None
            x0, _, x1, _ = (float(v) for v in annot["/Rect"])
            if isinstance(dest, list) and x1 - x0 < 25:  # a citation marker, not a contents line
                target = reader.get_page_number(dest[0].get_object())
                height = float(reader.pages[target].mediabox.height)
                citations.append((target, round(height - float(dest[3]), 1)))  # top of the target, from the page top
            action = annot.get("/A")
            if action and action.get("/URI"):
                uris.add(str(action["/URI"]))
    # Every citation marker is a link; the six references each get their own target.
    markers = sum(len(s.refs) for sec in _sample_brief(pdf.parent).sections for p in sec.paragraphs for s in p.sentences)
    markers += sum(len(s.refs) for p in _sample_brief(pdf.parent).abstract for s in p.sentences)
    assert len(citations) == markers
    assert len(set(citations)) == 6
    for page, top in set(citations):
        bbox = _run("pdftotext", "-bbox", "-f", str(page + 1), "-l", str(page + 1), str(pdf), "-")
        numbers = [float(m.group(1)) for m in re.finditer(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" '
                                                           r'yMax="[\d.]+">[1-6]\.</word>', bbox)]
        assert numbers and min(abs(top - y) for y in numbers) < 14, (top, numbers)
    # References link out (http only; the javascript: one stays text), and so do the QR caption and website.
    assert {f"https://news.example.com/story/{n}?utm=x&y=1" for n in (1, 2, 3, 4, 6)} <= uris
    assert not any(u.lower().startswith("javascript") for u in uris)
    assert "https://gyznswn.cn" in uris


def _qr_matrix(data: str) -> list[list[bool]]:
    import qrcode

    code = qrcode.QRCode(border=0)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def _read_qr(image, matrix_size: int) -> list[list[bool]]:
    """Sample a QR symbol drawn in pure black: the centre of each module."""
    import numpy as np

    pixels = np.asarray(image.convert("RGB")).astype(int)
    black = pixels.max(axis=2) < 16
    rows, cols = np.nonzero(black)
    assert rows.size, "no QR code on the page"
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    cell_y, cell_x = (bottom - top) / matrix_size, (right - left) / matrix_size
    return [[bool(black[int(top + (r + 0.5) * cell_y), int(left + (c + 0.5) * cell_x)]) for c in range(matrix_size)]
            for r in range(matrix_size)]


@needs_poppler
def test_pdf_qr_code_holds_the_configured_url(pdf: Path, tmp_path: Path) -> None:
    from PIL import Image

    last = _pdf_pages(pdf)
    _run("pdftoppm", "-png", "-r", "200", "-f", str(last), "-l", str(last), str(pdf), str(tmp_path / "qr"))
    [png] = tmp_path.glob("qr*.png")
    expected = _qr_matrix("https://gyznswn.cn/wechat")
    assert _read_qr(Image.open(png), len(expected)) == expected
    assert _read_qr(Image.open(png), len(expected)) != _qr_matrix("https://gyznswn.cn/other")


def _colour_pixels(png: Path, colour: str, tolerance: int = 18) -> int:
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(png).convert("RGB")).astype(int)
    target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(pixels - target).max(axis=2) <= tolerance).sum())


@needs_poppler
def test_pdf_draws_the_coverage_chart_and_the_momentum_line(pdf: Path, tmp_path: Path) -> None:
    from dailybrief.render.formats import TIER_COLOURS

    text = _run("pdftotext", "-layout", str(pdf), "-")
    assert "报道覆盖" in text and "每个事件的报道媒体数，按来源类型" in text
    for legend in ("官方", "媒体", "社区"):
        assert re.search(rf"{legend}\s", text.split("报道覆盖", 1)[1]), legend
    assert "论文" not in text.split("报道覆盖", 1)[1].split("目录", 1)[0]  # no paper outlet: no legend entry
    assert "近 7 日热度" in text and "每日相关报道数" in text and "4/4" in text and "4/10" in text
    assert text.count("近 7 日热度") == 1  # story 2 is new today: no line
    _run("pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p1"))
    [page1] = tmp_path.glob("p1*.png")
    for tier in ("press", "community"):
        assert _colour_pixels(page1, TIER_COLOURS[tier]) > 40, tier
    # A single story draws no chart.
    brief = _sample_brief(tmp_path)
    brief.sections = brief.sections[:1]
    single = render_pdf(brief, tmp_path / "single.pdf")
    assert "报道覆盖" not in _run("pdftotext", str(single), "-")
    _run("pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(single), str(tmp_path / "s1"))
    [lone] = tmp_path.glob("s1*.png")
    assert _colour_pixels(lone, TIER_COLOURS["community"]) == 0


@needs_poppler
def test_pdf_bold_chinese_with_fonts_from_pypi_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without system fonts (no root), the wheels still give a regular and a bold CJK face, both embedded."""
    import importlib

    import dailybrief.render.formats as render

    wheels = [str(Path(importlib.import_module(p).__file__).parent) for p in render.FONT_PACKAGES]
    monkeypatch.setattr(render, "_font_paths", lambda: wheels)
    render._typst_fonts.cache_clear()
    render._pdf_font_list.cache_clear()
    try:
        assert render._pdf_font_list()[0] == "Noto Sans CJK JP"  # the family that has a bold face
        path = render_pdf(_sample_brief(tmp_path), tmp_path / "wheels.pdf")
    finally:
        render._typst_fonts.cache_clear()
        render._pdf_font_list.cache_clear()
    rows = _run("pdffonts", str(path)).splitlines()[2:]
    names = [row.split()[0].split("+")[-1] for row in rows]
    assert any(n.startswith("NotoSansCJKjp-Bold") for n in names), names
    assert any(n.startswith("NotoSansCJKjp-Regular") for n in names), names
    assert all(row.split()[-5] == "yes" for row in rows)
    assert "事实梳理" in _run("pdftotext", str(path), "-")


def test_jp_font_draws_simplified_chinese_forms_when_the_text_is_zh_cn(tmp_path: Path) -> None:
    """The bold wheel is Noto Sans CJK JP: its locl feature must switch to SC glyphs for zh-CN text."""
    import importlib

    import typst

    from dailybrief.render.formats import FONT_PACKAGES

    fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=False,
                        font_paths=[str(Path(importlib.import_module(p).__file__).parent) for p in FONT_PACKAGES])
    images = {}
    for lang in ("zh", "ja"):
        region = ', region: "cn"' if lang == "zh" else ""
        (tmp_path / "t.typ").write_text(
            '#set page(width: 5cm, height: 2cm, margin: 0.3cm)\n'
            f'#set text(font: "Noto Sans CJK JP", lang: "{lang}"{region}, size: 24pt, weight: "bold")\n直骨',
            encoding="utf-8")
        images[lang] = typst.compile(str(tmp_path / "t.typ"), font_paths=fonts, format="png", ppi=72.0)
    assert images["zh"] != images["ja"]


# ---------------------------------------------------------------------------
# Figures in the view and the HTML page


def test_view_figures(brief: Brief) -> None:
    view = brief_view(brief)
    coverage = view["coverage"]
    assert [(r["number"], r["total"]) for r in coverage["rows"]] == [("1", 4), ("2", 6)]
    assert [p["tier"] for p in coverage["rows"][1]["parts"]] == ["official", "press", "community"]
    assert coverage["rows"][1]["width"] == 100.0 and coverage["rows"][0]["width"] == round(100 * 4 / 6, 2)
    assert sum(p["width"] for p in coverage["rows"][1]["parts"]) == pytest.approx(100, abs=0.05)
    assert [t["label"] for t in coverage["tiers"]] == ["官方", "媒体", "社区"]
    line = view["sections"][0]["momentum"]
    assert line["counts"] == MOMENTUM and line["days"][0] == "4/4" and line["days"][-1] == "4/10"
    assert line["label"] == "近 7 日热度" and line["max"] == 5
    assert view["sections"][1]["momentum"] is None  # one day only: nothing to draw
    assert view["sections"][2]["momentum"] is None  # the roundup
    # Without coverage by tier, a story's outlets make one grey bar; one story makes no chart.
    for section in brief.sections:
        section.coverage = {}
    assert [p["tier"] for r in brief_view(brief)["coverage"]["rows"] for p in r["parts"]] == ["other", "other"]
    brief.sections = brief.sections[:1]
    assert brief_view(brief)["coverage"] is None


def test_html_draws_the_figures_and_anchors_every_section(brief: Brief) -> None:
    html = render_html(brief)
    doc = _parse(html)
    segments = [a for t, a in doc.tags if t == "span" and "seg" in (a.get("class") or "")]
    assert len(segments) == 5 and all(re.fullmatch(r"width:[\d.]+%", a.get("style") or "") for a in segments)
    assert {a["class"].split()[-1] for a in segments} == {"t-official", "t-press", "t-community"}
    assert [a.get("href") for t, a in doc.tags if t == "a" and a.get("title")] == ["#s-1", "#s-2"]  # chart rows link
    [line] = [a for t, a in doc.tags if t == "polyline"]
    assert len(line["points"].split()) == 7
    assert sum(1 for t, _ in doc.tags if t == "circle") == 7
    # Every section and subsection has an id and a link to itself.
    hrefs = {a.get("href") for t, a in doc.tags if t == "a" and a.get("class") == "anchor"}
    assert {"#abstract", "#contents", "#s-1", "#s-1-1", "#s-1-2", "#s-2", "#s-2-3", "#s-3", "#references",
            "#contact"} <= hrefs
    ids = {a.get("id") for _, a in doc.tags if a.get("id")}
    assert {h[1:] for h in hrefs} <= ids


# ---------------------------------------------------------------------------
# WeChat


def test_wechat_is_inline_styled_only(brief: Brief) -> None:
    from dailybrief.render.formats import render_wechat

    html = render_wechat(brief)
    doc = _parse(html)
    assert html.lstrip().lower().startswith("<!doctype html>")
    for banned in ("<style", "<script", "<link", "<iframe", "<svg", " class=", " id="):
        assert banned not in html.lower(), banned
    body = html.split("<body", 1)[1]
    body_doc = _parse("<body" + body)
    assert not any(t == "a" for t, _ in body_doc.tags)  # the editor drops links: URLs are text
    styled = [t for t, a in body_doc.tags if t not in ("br", "body") and not a.get("style")]
    assert not styled, styled
    for tag, attrs in body_doc.tags:
        assert set(attrs) <= {"style", "src", "alt", "width", "height"}, (tag, attrs)
        if tag == "img":
            assert attrs["src"].startswith(("data:image/png;base64,", "data:image/jpeg;base64,"))
    text = "".join(doc.text)
    for heading in ("摘要", "报道覆盖", "目录", "事实梳理", "社区与媒体观点", "产业分析", "参考文献与拓展阅读", "联系我们",
                    "跟进", "近 7 日热度"):
        assert heading in text, heading
    assert "https://news.example.com/story/1?utm=x&y=1" in text  # the URL as text
    assert "javascript:alert(1)" in text  # inert text, as in every format
    # The coverage bars: one segment per tier, widths as in the view.
    segments = [a["style"] for t, a in body_doc.tags if t == "span" and "height:8px" in (a.get("style") or "")]
    assert len(segments) == 5 and any("background-color:#e08a3c" in s for s in segments)


def test_wechat_qr_code_and_logo(brief: Brief) -> None:
    import base64
    import io

    from PIL import Image

    from dailybrief.render.formats import render_wechat

    doc = _parse(render_wechat(brief))
    images = [a["src"] for t, a in doc.tags if t == "img"]
    assert len(images) == 2  # the logo (PNG) and the QR code
    qr = Image.open(io.BytesIO(base64.b64decode(images[-1].split(",", 1)[1])))
    expected = _qr_matrix("https://gyznswn.cn/wechat")
    assert _read_qr(qr, len(expected)) == expected
    brief.branding.logo = str(Path(brief.branding.logo).with_suffix(".svg"))
    Path(brief.branding.logo).write_text("<svg xmlns='http://www.w3.org/2000/svg'/>", encoding="utf-8")
    assert len([1 for t, _ in _parse(render_wechat(brief)).tags if t == "img"]) == 1  # no SVG logo in WeChat


# ---------------------------------------------------------------------------
# Chat and plain text


def test_chat_message(brief: Brief) -> None:
    from dailybrief.render.formats import CHAT_MAX_BYTES, render_chat

    text = render_chat(brief)
    assert len(text.encode("utf-8")) <= CHAT_MAX_BYTES
    lines = text.splitlines()
    assert lines[0] == "**AI 技术每日分析 · 2026 年 4 月 10 日**"
    assert "国际人工智能领域出现“安全收紧”与“底层竞速”双轨并行的趋势。Meta 推出新一代基础大模型" in text  # no [n]
    assert "[1]" not in text
    assert "1. 网络安全 AI 的“潘多拉魔盒”：Mythos 与 Spud 的非公开博弈 `跟进`" in lines
    assert "2. \\<script>alert(1)\\</script> 模型发布" in lines
    assert "另有 2 条速览" in lines
    assert lines[-1] == f"阅读全文：{EDITION_URL}"
    brief.url = ""
    assert render_chat(brief).splitlines()[-1] == "阅读全文：https://gyznswn.cn"  # the website when no edition URL


def test_chat_message_fits_by_leaving_out_whole_sentences(brief: Brief) -> None:
    from dailybrief.render.formats import chat_message

    full = chat_message(brief, 100_000)
    sentences = ["国际人工智能领域出现“安全收紧”与“底层竞速”双轨并行的趋势。",
                 "Meta 推出新一代基础大模型 Muse Spark，并签下 210 亿美元的算力大单。"]
    assert all(s in full for s in sentences)
    sizes = []
    for limit in range(len(full.encode()), 40, -7):
        try:
            text = chat_message(brief, limit)
        except RenderError as err:
            assert "cannot hold even the title and the link" in str(err)
            break
        size = len(text.encode())
        assert size <= limit
        sizes.append(size)
        # Nothing is cut: every paragraph is the full one or a run of whole sentences or lines of it.
        assert text.startswith("**AI 技术每日分析 · 2026 年 4 月 10 日**") and text.rstrip().endswith(EDITION_URL)
        for sentence in sentences:
            head = sentence[:12]
            assert head not in text or sentence in text, (limit, text)
        for line in text.splitlines():
            whole = line in full.splitlines() or line.startswith("……另有")
            first_sentences = line.endswith("。") and any(f.startswith(line) for f in full.splitlines())
            assert whole or first_sentences, (limit, line)
    else:
        pytest.fail("the limit never became too small")
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) >= 4


def test_chat_message_fits_by_the_rule_of_every_chat_target(brief: Brief) -> None:
    from dailybrief.render.formats import chat_message

    # The abstract's first sentence comes before any headline (digest.fit, which the chat targets use too).
    first = "国际人工智能领域出现“安全收紧”与“底层竞速”双轨并行的趋势。"
    least = f"**AI 技术每日分析 · 2026 年 4 月 10 日**\n\n{first}\n\n阅读全文：{EDITION_URL}\n"
    assert chat_message(brief, len(least.encode())) == least
    assert "另有 2 条速览" not in chat_message(brief, len(chat_message(brief, 100_000).encode()) - 1)  # dropped first


def test_chat_plain_and_english(tmp_path: Path) -> None:
    from dailybrief.render.formats import chat_message

    brief = _sample_brief(tmp_path, language="en")
    text = chat_message(brief, markdown=False)
    assert text.startswith("AI 技术每日分析 · 10 April 2026\n")
    assert "Headlines\n1. " in text and "[Follow-up]" in text and "**" not in text
    assert "2. <script>alert(1)</script> 模型发布" in text  # plain text: shown as it is, never interpreted
    assert text.rstrip().endswith(f"Read the full briefing: {EDITION_URL}")


def test_plain_text(brief: Brief) -> None:
    from dailybrief.render.formats import render_text

    text = render_text(brief)
    lines = text.splitlines()
    assert lines[:4] == ["AI 技术每日分析", "中国高技术产业发展促进会新质生产力工作委员会", "博雅云创 & 中科创新驱动",
                         "2026 年 4 月 10 日"]
    for heading in ("摘要", "1 网络安全 AI 的“潘多拉魔盒”：Mythos 与 Spud 的非公开博弈 [跟进]", "1.1 事实梳理", "3 其他动态",
                    "4 参考文献与拓展阅读", "联系我们"):
        assert heading in lines, heading
    assert "Anthropic 宣布 Mythos 将永远不对公众开放。[1]该模型仅向 11 家精选核心组织提供访问权限。[1][3]" in lines
    assert "近 7 日热度（每日相关报道数）：4/4 0 · 4/5 1 · 4/6 0 · 4/7 3 · 4/8 0 · 4/9 2 · 4/10 5" in lines
    assert "[1] Times of India: “Anthropic withholds Mythos from public release” — 第 1 条来源的说明" in lines
    assert "    https://news.example.com/story/1?utm=x&y=1 · 2026-04-09" in lines
    assert lines[-1] == "网站地址：gyznswn.cn"


def test_every_format_is_registered_and_named_for_both_languages(brief: Brief, tmp_path: Path) -> None:
    from dailybrief.config import FORMATS

    assert set(RENDERERS) == set(FORMATS)
    formats = ["md", "html", "wechat", "chat", "txt", "json"]
    paths = render_all(brief, tmp_path, formats, stem="brief.en")
    assert sorted(p.name for p in paths.values()) == sorted(
        ["brief.en.md", "brief.en.html", "brief.en.wechat.html", "brief.en.chat.md", "brief.en.txt", "brief.en.json"])


def _positions_brief(tmp_path: Path, language: str = "zh") -> Brief:
    """The sample brief with its first story's views as the model writes them: named positions and who holds them."""
    brief = _sample_brief(tmp_path, language)
    story = brief.sections[0]
    story.paragraphs[2:] = [
        Paragraph("views", [Sentence("Hacker News 上的开发者质疑将漏洞挖掘能力垄断在少数公司手中。", [5])],
                  lead="闭源审查的争议", holders=["Hacker News · 412 分 · 88 条评论", "Reddit"]),
        Paragraph("views", [Sentence("安全博客认为防御方必须依赖同样强大的 AI。", [1])], lead="网络安全防御的质变",
                  holders=["Times of India"]),
    ]
    return brief


POSITION = "闭源审查的争议（Hacker News · 412 分 · 88 条评论；Reddit）："


def test_positions_name_who_holds_them_in_every_format(tmp_path: Path) -> None:
    from dailybrief.records import brief_from_dict
    from dailybrief.render.formats import render_text, render_wechat

    brief = _positions_brief(tmp_path)
    md = render_markdown(brief)
    assert "**闭源审查的争议***（Hacker News · 412 分 · 88 条评论；Reddit）*：Hacker News 上的开发者" in md
    assert "**网络安全防御的质变***（Times of India）*：" in md
    html = render_html(brief)
    assert ('<strong class="lead">闭源审查的争议</strong><span class="holders">（Hacker News · 412 分 · 88 条评论；'
            'Reddit）</span>：Hacker News 上的开发者') in html
    wechat = render_wechat(brief)
    assert re.search(r"<strong[^>]*>闭源审查的争议</strong><span[^>]*>（Hacker News · 412 分 · 88 条评论；Reddit）</span>：",
                     wechat)
    assert POSITION + "Hacker News 上的开发者质疑将漏洞挖掘能力垄断在少数公司手中。[5]" in render_text(brief).splitlines()
    again = brief_from_dict(json.loads(render_json(brief)))
    assert again.sections[0].paragraphs[2].holders == ["Hacker News · 412 分 · 88 条评论", "Reddit"]
    english = _positions_brief(tmp_path, "en")
    assert "闭源审查的争议 (Hacker News · 412 分 · 88 条评论; Reddit): " in render_text(english)
    # A paragraph without a name (the extractive writer's, led by its platform) shows no holders.
    brief.sections[0].paragraphs[2].lead = ""
    assert "88 条评论；Reddit" not in render_text(brief)


@needs_poppler
def test_pdf_positions_name_who_holds_them(tmp_path: Path) -> None:
    path = render_pdf(_positions_brief(tmp_path), tmp_path / "positions.pdf")
    flat = re.sub(r"\s+", "", _run("pdftotext", str(path), "-"))
    assert re.sub(r"\s+", "", POSITION) in flat


# ---------------------------------------------------------------------------
# Untrusted text in every field, every format

SCRIPT = "<script>alert('x')</script>"
IMG = '<img src=x onerror="alert(1)">'
JS = "javascript:alert(document.cookie)"


def _hostile_brief(tmp_path: Path) -> Brief:
    brief = _sample_brief(tmp_path)
    brief.title = f"Daily {SCRIPT}"
    brief.themes = [IMG, f'<a href="{JS}">theme</a>']
    brief.notes = [f"note {SCRIPT}"]
    brief.url = JS
    brief.branding = Branding(organisation=[f"Org {IMG}"], website=JS, contact=[f"mail {SCRIPT}"], qr_url=JS,
                              qr_caption=IMG, about=f'<a href="{JS}">about</a> {SCRIPT}')
    for section in brief.sections:
        section.title = f"{section.title} {IMG}"
        section.outlets = [f"Outlet {SCRIPT}", IMG]
        section.notes = [f"<b onmouseover=alert(1)>note</b> {JS}"]
        for paragraph in section.paragraphs:
            paragraph.lead = f"{IMG} lead" if paragraph.lead else ""
            paragraph.holders = [f"{SCRIPT} holder", IMG] if paragraph.lead else []
            for sentence in paragraph.sentences:
                sentence.text = f"{sentence.text} {SCRIPT} {IMG} <a href='{JS}'>x</a>"
    for ref in brief.references:
        ref.outlet, ref.title, ref.note, ref.url = f"Outlet {IMG}", f"Title {SCRIPT}", f"note {IMG}", JS
    return brief


def _assert_inert_html(html: str) -> None:
    doc = _parse(html)
    assert not any(t == "script" for t, _ in doc.tags)
    for tag, attrs in doc.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert not (value or "").strip().lower().startswith("javascript"), (tag, name, value)
        assert not (tag == "img" and attrs.get("src") == "x")
        assert tag not in ("b", "iframe", "object", "embed")
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html  # shown as text


def test_untrusted_text_stays_inert_in_every_format(tmp_path: Path) -> None:
    from dailybrief.render.formats import chat_message, render_text, render_wechat

    brief = _hostile_brief(tmp_path)
    _assert_inert_html(render_html(brief))
    _assert_inert_html(render_wechat(brief))
    for md in (render_markdown(brief), chat_message(brief, 100_000)):
        assert not re.search(r"(?<!\\)<(script|/script|img|a\s+href)", md), md
        assert "](javascript" not in md.lower() and "<javascript" not in md.lower()
    text = render_text(brief)
    assert SCRIPT in text and JS in text  # plain text: printed as it is, nothing interprets it
    json.loads(render_json(brief))


@needs_poppler
def test_untrusted_text_in_the_pdf_is_text(tmp_path: Path) -> None:
    brief = _hostile_brief(tmp_path)
    path = render_pdf(brief, tmp_path / "hostile.pdf")
    flat = re.sub(r"\s+", "", _run("pdftotext", str(path), "-"))
    assert re.sub(r"\s+", "", SCRIPT) in flat and "onerror" in flat
    raw = path.read_bytes()
    assert b"/JavaScript" not in raw and b"/JS" not in raw
    from pypdf import PdfReader

    for page in PdfReader(path).pages:
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A")
            assert not (action and str(action.get("/URI", "")).lower().startswith("javascript"))


def test_nh3_removes_markup_that_gets_past_the_templates(brief: Brief, monkeypatch: pytest.MonkeyPatch) -> None:
    """If a field ever carried HTML marked safe, nh3 still strips the dangerous parts."""
    from markupsafe import Markup

    import dailybrief.render.formats as render
    from dailybrief.render.formats import render_wechat

    real = render.brief_view
    payload = Markup(f'<b>bold</b> {IMG}{SCRIPT}<a href="{JS}" onclick="x()">link</a><style>body{{}}</style>')  # noqa: S704

    def view(b: Brief) -> dict:
        v = real(b)
        v["sections"][0]["title"] = payload
        return v

    monkeypatch.setattr(render, "brief_view", view)
    for html in (render_html(brief), render_wechat(brief)):
        doc = _parse(html)
        assert "alert('x')" not in html and "x()" not in html
        assert not any(t in ("script", "style") for t, _ in _parse(html.split("<body", 1)[1]).tags)
        assert not any(k.startswith("on") or (v or "").startswith("javascript") for _, a in doc.tags for k, v in a.items())
        assert not any(t == "img" and a.get("src") == "x" for t, a in doc.tags)
        assert "bold" in "".join(doc.text) and "link" in "".join(doc.text)
def test_unsupported_sentences_are_marked_and_faithfulness_round_trips(brief: Brief) -> None:
    from dailybrief.records import brief_from_dict

    flagged = brief.sections[0].paragraphs[0].sentences[0]
    flagged.supported = False
    brief.faithfulness = {"sentences": 9, "cited": 9, "supported": 8}
    assert "〔来源未证实〕" in render_markdown(brief) and "〔来源未证实〕" in render_html(brief)
    again = brief_from_dict(json.loads(render_json(brief)))
    assert again.sections[0].paragraphs[0].sentences[0].supported is False
    assert again.faithfulness == {"sentences": 9, "cited": 9, "supported": 8}
    flagged.supported = True
    assert "〔来源未证实〕" not in render_markdown(brief)
