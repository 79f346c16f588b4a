"""The render stage: Markdown, HTML, PDF and JSON from one Brief.

PDF checks use poppler-utils (pdftotext, pdffonts, pdfinfo, pdftoppm); they
are skipped when those tools are not installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date, datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dailybrief.errors import RenderError
from dailybrief.records import Branding, Brief, Paragraph, Reference, Section, Sentence
from dailybrief.render import (
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

SPECIAL_TITLE = "Prices #1 $5 *bold* _under_ <tag> @user [x] back\\slash"
XSS_TITLE = "<script>alert(1)</script> 模型发布"
XSS_SENTENCE = "有人在评论里贴了 <img src=x onerror=alert(1)> 这样的代码。"

REF_TITLES = [
    "Anthropic withholds Mythos from public release",
    "OpenAI is prepping a Claude Mythos rival",
    "Meta unveils Muse Spark as it tries to catch up",
    "Meta signs $21 billion AI deal with CoreWeave",
    "Ask HN: Is restricted release the new normal?",
    "Measuring progress toward AGI: A cognitive framework",
]


def _png(path: Path) -> Path:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (160, 160), (31, 90, 140))
    draw = ImageDraw.Draw(image)
    draw.ellipse((30, 30, 130, 130), fill=(255, 255, 255))
    image.save(path)
    return path


def _sample_brief(tmp_path: Path, language: str = "zh") -> Brief:
    published = datetime(2026, 4, 9, 21, 30, tzinfo=timezone.utc)
    outlets = ["Times of India", "India Today", "Hacker News", "Reddit", "The Verge", "Axios"]
    references = [
        Reference(i + 1, f"item{i + 1}", f"https://news.example.com/story/{i + 1}?utm=x&y=1", outlets[i], title, published,
                  note=f"第 {i + 1} 条来源的说明", tier="press")
        for i, title in enumerate(REF_TITLES)
    ]
    references[4].url = "javascript:alert(1)"
    references[5].title = SPECIAL_TITLE
    s = Sentence
    story1 = Section(
        kind="story",
        title="网络安全 AI 的“潘多拉魔盒”：Mythos 与 Spud 的非公开博弈",
        paragraphs=[
            Paragraph("facts", [
                s("Anthropic 宣布 Mythos 将永远不对公众开放。", [1]),
                s("该模型仅向 11 家精选核心组织提供访问权限。", [1, 3]),
            ]),
            Paragraph("facts", [s("据 Axios 披露，OpenAI 也在研发代号为“Spud”的对标模型。", [2])]),
            Paragraph("views", [
                s("开源社区对这种“因极度危险而封闭”的做法表达了强烈的不满。", [5]),
                s(XSS_SENTENCE, [5]),
            ], lead="Hacker News · 412 points"),
            Paragraph("views", [s("部分安全专家认为零日漏洞自动化挖掘时代已经到来。", [1])], lead="Reddit"),
        ],
        story_id="st1",
        follow_up=True,
        outlets=outlets[:4],
        notes=["产业分析需要语言模型；本节由抽取式写作器生成。"],
    )
    story2 = Section(
        kind="story",
        title=XSS_TITLE,
        paragraphs=[
            Paragraph("facts", [
                s("Meta 正式揭晓了其最新的人工智能基础模型 Muse Spark。", [3]),
                s("Meta 已与 CoreWeave 签署了价值 210 亿美元的协议。", [4]),
            ]),
            Paragraph("views", [s("The Verge called it “Meta's most credible model yet.”", [3])], lead="The Verge"),
            Paragraph("analysis", [s("算力投入正在成为基础模型竞赛的门槛。", [3, 4])]),
        ],
        story_id="st2",
        outlets=outlets,
    )
    roundup = Section(
        kind="roundup",
        title="其他动态",
        paragraphs=[
            Paragraph("roundup", [s("Google DeepMind 推出迈向 AGI 的认知框架。", [6])]),
            Paragraph("roundup", [s("OpenAI 发布《儿童安全蓝图》。", [])], lead="OpenAI"),
        ],
    )
    return Brief(
        edition=date(2026, 4, 10),
        language=language,
        title="AI 技术每日分析",
        branding=Branding(
            organisation=["中国高技术产业发展促进会新质生产力工作委员会", "博雅云创 & 中科创新驱动"],
            website="gyznswn.cn",
            contact=["电话：010-1234 5678", "邮箱：contact@example.com"],
            qr_url="https://gyznswn.cn/wechat",
            qr_caption="新质生产力工作委员会官方公众号",
            logo=str(_png(tmp_path / "logo.png")),
            about="中国高技术产业发展促进会新质生产力工作委员会，专注于推动工业人工智能、智能制造、数字化转型等前沿技术发展。",
        ),
        themes=["安全收紧", "底层竞速"],
        abstract=[Paragraph("abstract", [
            s("国际人工智能领域出现“安全收紧”与“底层竞速”双轨并行的趋势。", [1, 2]),
            s("Meta 推出新一代基础大模型 Muse Spark，并签下 210 亿美元的算力大单。", [3, 4]),
        ])],
        sections=[story1, story2, roundup],
        references=references,
        generated=datetime(2026, 4, 10, 7, 0, tzinfo=timezone.utc),
        notes=["本期由抽取式写作器生成。"],
    )


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
    assert not any(t == "svg" for t, _ in doc.tags)


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
    import dailybrief.render as render

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
    from dailybrief.render import TextRenderer, register_renderer

    monkeypatch.setitem(RENDERERS, "txt", RENDERERS["md"])  # restored after the test
    register_renderer(TextRenderer("txt", ".txt", lambda b: b.title))
    paths = render_all(brief, tmp_path, ["txt"])
    assert paths["txt"].read_text(encoding="utf-8") == "AI 技术每日分析"


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
