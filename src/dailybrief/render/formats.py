"""Render a :class:`~dailybrief.records.Brief` to every output format.

Every format is drawn from one *view*: a plain dict built from the Brief by
:func:`brief_view` (labels in the brief's language, numbered sections grouped
into subsections, sentences with their citation markers, references with
links restricted to http/https, the figures' numbers). Markdown and the two
HTML variants lay the view out with Jinja2 templates; the PDF is laid out by
a static typst template that reads the view as JSON, so feed text never
becomes markup in any format. Both HTML variants then pass through nh3
(:mod:`dailybrief.sanitize`).

    md      brief.md           Markdown
    html    brief.html         one self-contained page, light and dark
    wechat  brief.wechat.html  for the 公众号 editor: inline styles only
    chat    brief.chat.md      abstract, headlines and a link, within CHAT_MAX_BYTES
    txt     brief.txt          the whole brief as plain text
    pdf     brief.pdf          A4 via typst: contents, bookmarks, figures, fonts embedded
    json    brief.json         the Brief's as_dict form

Renderers sit behind a small interface and are registered by name::

    RENDERERS[name].render(brief, path) -> path
    render_all(brief, out_dir, formats) -> {"md": out_dir/"brief.md", ...}

Failures raise :class:`~dailybrief.errors.RenderError`.
"""

from __future__ import annotations

import base64
import functools
import importlib
import io
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from .. import plugins
from ..errors import PublishError, RenderError
from ..files import write_atomic
from ..images import LOGO_TYPES, logo_problem
from ..records import AUTHORITY, Brief, Paragraph, Section, Sentence
from ..sanitize import clean_page, clean_wechat
from ..text import join_sentences, sentence_sep
from ..words import WORDS, format_date, words
from .digest import Digest, fit, measure_bytes

__all__ = [
    "CHAT_MAX_BYTES",
    "FONT_PACKAGES",
    "LABELS",
    "RENDERERS",
    "TIER_COLOURS",
    "PdfRenderer",
    "Renderer",
    "TextRenderer",
    "brief_view",
    "chat_message",
    "format_date",
    "get_renderer",
    "labels_for",
    "md_escape",
    "qr_png_uri",
    "qr_svg",
    "register_renderer",
    "render_all",
    "render_chat",
    "render_html",
    "render_json",
    "render_markdown",
    "render_pdf",
    "render_text",
    "render_wechat",
    "safe_url",
]

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).parent / "templates"

# ---------------------------------------------------------------------------
# Labels

LABELS = WORDS  # the one table of words (words.py); renderers read their labels from it

STORY_PARTS = ("facts", "views", "analysis")
_MAX_OUTLETS_SHOWN = 6

# The coverage chart: kinds of source in the order their bar segments are
# stacked, and their colours (chosen to read on light and dark backgrounds).
TIER_ORDER = (*AUTHORITY, "other")
TIER_COLOURS = {
    "official": "#1f5a8c",
    "press": "#5b9bd5",
    "paper": "#4e9a6a",
    "code": "#8a6bbf",
    "community": "#e08a3c",
    "other": "#9aa4af",
}
_CHART_TITLE_WIDTH = 33.0  # half-ems: the chart's label column
_MONTHS_SHORT = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def labels_for(language: str) -> dict[str, str]:
    """The label set of a language; unknown languages get English labels."""
    return words(language)


# ---------------------------------------------------------------------------
# Text helpers

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CJK_ANY = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_LATIN_TAIL = re.compile(r"[A-Za-z0-9.+-]+$")
_LATIN_HEAD = re.compile(r"[A-Za-z0-9.+-]")


def _clean(text: Any) -> str:
    """Feed text as one line: whitespace runs collapsed, ends trimmed."""
    if text is None:
        return ""
    return " ".join(str(text).split())


def safe_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL, else ``""``.

    Anything else (``javascript:``, ``data:``, relative paths, control
    characters) is refused, so callers show it as text and never as a link.
    Spaces, quotes and angle brackets are percent-encoded.
    """
    url = (url or "").strip()
    if not url or _CONTROL.search(url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    for char, code in ((" ", "%20"), ('"', "%22"), ("<", "%3C"), (">", "%3E"), ("`", "%60")):
        url = url.replace(char, code)
    return url


_DOMAIN = re.compile(r"^[\w-]+(\.[\w-]+)+(/\S*)?$")


def _website_href(website: str) -> str:
    website = website.strip()
    if website and "://" not in website and _DOMAIN.match(website):
        website = "https://" + website
    return safe_url(website)


# ---------------------------------------------------------------------------
# QR code and logo


def qr_svg(data: str) -> str:
    """An SVG (one path, no XML declaration) of a QR code holding ``data``."""
    import qrcode  # lazy: qrcode and Pillow, when the branding has a QR URL
    import qrcode.image.svg  # lazy: qrcode and Pillow, when the branding has a QR URL

    try:
        image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, border=2)
        return image.to_string(encoding="unicode")
    except Exception as err:  # qrcode raises DataOverflowError and friends
        raise RenderError(f"cannot make a QR code from branding.qr_url {data!r}: {err}") from err


@dataclass(frozen=True, slots=True)
class _Logo:
    data: bytes
    suffix: str
    mime: str

    @property
    def data_uri(self) -> str:
        return f"data:{self.mime};base64," + base64.b64encode(self.data).decode("ascii")


def _load_logo(path: str) -> _Logo | None:
    """The branding logo, or None when it is unset, missing or unreadable (logged; config refuses those at load)."""
    if not path:
        return None
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError:
        data = None
    problem = logo_problem(file, data) if data is not None else logo_problem(file)
    if problem:
        log.warning("branding.logo %s: %s; skipped", path, problem)
        return None
    assert data is not None
    suffix = file.suffix.lower()
    return _Logo(data, suffix, LOGO_TYPES[suffix])


# ---------------------------------------------------------------------------
# The view: one plain, JSON-ready dict that every template lays out


def _sentences_view(sentences: list[Sentence], ref_anchors: set[int], flag: str = "",
                    joiner: str = "") -> list[dict[str, Any]]:
    """Each sentence's text (marked with `flag` when verification found it unsupported), its citations, and what
    joins it to the next: sentence spacing, or `joiner` between a list's entries."""
    out: list[dict[str, Any]] = []
    for sentence in sentences:
        text = _clean(sentence.text)
        if text and sentence.supported is False and flag:
            text += flag  # verification marked it: its sources don't support it
        refs = [{"n": int(n), "linked": int(n) in ref_anchors} for n in sentence.refs]
        if not text and not refs:
            continue
        out.append({"text": text, "refs": refs, "sep": " "})
    for i, item in enumerate(out):
        item["sep"] = "" if i == len(out) - 1 else joiner or sentence_sep(item["text"])
    return out


def _paragraph_view(paragraph: Paragraph, labels: dict[str, str], ref_anchors: set[int]) -> dict[str, Any]:
    lead = _clean(paragraph.lead).rstrip(":：")
    holders = [h for h in (_clean(x) for x in paragraph.holders) if h]
    return {
        "part": paragraph.part,
        "lead": lead,
        # Who holds a position, after its name: "（Hacker News · 412 分；TechWire）".
        "holders": labels["holders"].format(holders=labels["holders_sep"].join(holders)) if lead and holders else "",
        "lead_sep": labels["lead_sep"] if lead else "",
        "sentences": _sentences_view(paragraph.sentences, ref_anchors, labels.get("unsupported", ""),
                                     labels["roundup_sep"] if paragraph.listed else ""),
    }


def _outlets_line(outlets: list[str], labels: dict[str, str]) -> str:
    names = [name for name in (_clean(o) for o in outlets) if name]
    if not names:
        return ""
    count = (labels["outlets_one"] if len(names) == 1 else labels["outlets_many"]).format(n=len(names))
    shown = labels["list_sep"].join(names[:_MAX_OUTLETS_SHOWN])
    more = labels["more"] if len(names) > _MAX_OUTLETS_SHOWN else ""
    return f"{count}{labels['lead_sep']}{shown}{more}"


def _coverage_view(sections: list[tuple[Section, dict[str, Any]]], labels: dict[str, str]) -> dict[str, Any] | None:
    """The coverage chart: outlets per story, stacked by kind of source.

    Drawn from ``Section.coverage`` (tier -> outlets); a section without it
    counts its outlets as one grey bar. None when there is nothing worth a
    figure: fewer than two stories, or no story with more than one outlet.
    """
    rows: list[dict[str, Any]] = []
    for section, view in sections:
        if section.kind != "story":
            continue
        counts: dict[str, int] = {}
        for tier, n in (section.coverage or {}).items():
            key = tier if tier in TIER_ORDER else "other"
            counts[key] = counts.get(key, 0) + max(int(n), 0)
        if not any(counts.values()) and view["outlets"]:
            counts = {"other": len(view["outlets"])}
        total = sum(counts.values())
        if not total:
            continue
        rows.append({
            "number": view["number"],
            "anchor": view["anchor"],
            "title": _chart_title(view["title"]),
            "total": total,
            "parts": [{"tier": t, "n": counts[t], "colour": TIER_COLOURS[t], "label": labels[f"tier_{t}"]}
                      for t in TIER_ORDER if counts.get(t)],
        })
    if len(rows) < 2 or max(r["total"] for r in rows) < 2:
        return None
    top = max(r["total"] for r in rows)
    for row in rows:
        row["width"] = round(100 * row["total"] / top, 2)
        for part in row["parts"]:
            part["width"] = round(100 * part["n"] / top, 2)  # of the whole track
    used = {part["tier"] for row in rows for part in row["parts"]}
    return {
        "rows": rows,
        "max": top,
        "tiers": [{"tier": t, "colour": TIER_COLOURS[t], "label": labels[f"tier_{t}"]} for t in TIER_ORDER if t in used],
    }


def _width(char: str) -> float:
    """Rough advance of a character, in half-ems: CJK is full width, Latin about half."""
    return 2.0 if _CJK_ANY.match(char) or "\u3000" <= char <= "\u303f" or "\uff00" <= char <= "\uffef" else 1.1


def _chart_title(title: str) -> str:
    """A title short enough for one line of a chart's label column (about 16 CJK characters)."""
    budget = _CHART_TITLE_WIDTH
    if sum(_width(c) for c in title) <= budget:
        return title
    used, cut = 0.0, 0
    for i, char in enumerate(title):
        used += _width(char)
        if used > budget - 2:  # room for the ellipsis
            cut = i
            break
    head = title[:cut]
    word = _LATIN_TAIL.search(head)
    if word and _LATIN_HEAD.match(title[cut:]) and word.start() > cut // 2:
        head = head[: word.start()]  # not inside a Latin word
    return head.rstrip(" ，、：:,;；-—") + "…"


def _short_day(day: date, lang: str) -> str:
    return words(lang)["date_short"].format(month=day.month, day=day.day, month_abbr=_MONTHS_SHORT[day.month - 1])


def _momentum_view(counts: list[int], edition: date, labels: dict[str, str], lang: str) -> dict[str, Any] | None:
    """A story's reports per day up to the edition, for its sparkline.

    None unless the story continues: at least two days with reports.
    """
    values = [max(int(c), 0) for c in counts or []]
    if len(values) < 2 or sum(1 for v in values if v) < 2:
        return None
    n = len(values)
    top = max(values)
    days = [edition - timedelta(days=n - 1 - i) for i in range(n)]
    # An SVG viewBox of 120 x 36: the line runs between x 6..114 and y 30..6.
    dots = [{"x": round(6 + i * 108 / (n - 1), 2), "y": round(30 - 24 * v / top, 2), "n": v} for i, v in enumerate(values)]
    return {
        "counts": values,
        "days": [_short_day(d, lang) for d in days],
        "max": top,
        "heights": [round(100 * v / top) for v in values],
        "points": " ".join(f"{d['x']},{d['y']}" for d in dots),
        "dots": dots,
        "label": labels["momentum"].format(n=n),
        "note": labels["momentum_note"],
    }


def _qr_line(caption: str, labels: dict[str, str], lang: str) -> str:
    """'Scan the QR code to get in touch (caption)', the line beside the QR code."""
    if not caption:
        return labels["scan"]
    return labels["scan"] + labels["paren"].format(text=caption)


def brief_view(brief: Brief) -> dict[str, Any]:
    """The Brief as the plain dict every template renders (all text still unescaped)."""
    lang = brief.language if brief.language in LABELS else "en"
    labels = labels_for(lang)
    edition = brief.edition

    # Only the first reference of a number gets an anchor; citations of a
    # number with no reference are shown but not linked.
    ref_anchors: set[int] = set()
    references: list[dict[str, Any]] = []
    for ref in brief.references:
        n = int(ref.n)
        anchor = f"ref-{n}" if n not in ref_anchors else ""
        ref_anchors.add(n)
        url = _clean(ref.url)
        references.append({
            "n": n,
            "anchor": anchor,
            "outlet": _clean(ref.outlet),
            "title": _clean(ref.title),
            "note": _clean(ref.note),
            "url": url,
            "href": safe_url(url),
            "published": ref.published.isoformat()[:10] if ref.published else "",
            "tier": ref.tier,
        })

    sections: list[dict[str, Any]] = []
    number = 0
    for section in brief.sections:
        number += 1
        anchor = f"s-{number}"
        view: dict[str, Any] = {
            "kind": section.kind,
            "number": str(number),
            "anchor": anchor,
            "title": _clean(section.title) or (labels["roundup"] if section.kind == "roundup" else ""),
            "follow_up": bool(section.follow_up),
            "outlets": [_clean(o) for o in section.outlets if _clean(o)],
            "outlets_line": _outlets_line(section.outlets, labels),
            "notes": [n for n in (_clean(x) for x in section.notes) if n],
            "writer": section.writer,
            "groups": [],
            "entries": [],
            "momentum": _momentum_view(section.momentum, edition, labels, lang) if section.kind == "story" else None,
        }
        paragraphs = [_paragraph_view(p, labels, ref_anchors) for p in section.paragraphs]
        paragraphs = [p for p in paragraphs if p["sentences"] or p["lead"]]
        if section.kind == "roundup":
            view["entries"] = paragraphs
        else:
            groups: list[dict[str, Any]] = []
            sub = 0
            for p in paragraphs:
                if groups and groups[-1]["part"] == p["part"]:
                    groups[-1]["paragraphs"].append(p)
                    continue
                heading = labels.get(p["part"], "") if p["part"] in STORY_PARTS else ""
                group: dict[str, Any] = {"part": p["part"], "heading": heading, "number": "", "anchor": "", "paragraphs": [p]}
                if heading:
                    sub += 1
                    group["number"] = f"{number}.{sub}"
                    group["anchor"] = f"{anchor}-{sub}"
                groups.append(group)
            view["groups"] = groups
        sections.append(view)
    coverage = _coverage_view(list(zip(brief.sections, sections, strict=True)), labels)

    references_number = str(number + 1) if references else ""
    branding = brief.branding
    organisation = [line for line in (_clean(x) for x in branding.organisation) if line]
    website = _clean(branding.website)
    website_href = _website_href(website)
    qr_url = (branding.qr_url or "").strip()
    footer_bits = [bit for bit in (organisation[0] if organisation else "", website) if bit]
    contact = [line for line in (_clean(x) for x in branding.contact) if line]
    about = _clean(branding.about)
    themes = [t for t in (_clean(x) for x in brief.themes) if t]
    abstract = [p for p in (_paragraph_view(p, labels, ref_anchors) for p in brief.abstract) if p["sentences"] or p["lead"]]
    notes = [n for n in (_clean(x) for x in brief.notes) if n]

    return {
        "lang": lang,
        "labels": labels,
        "title": _clean(brief.title),
        "date": format_date(edition, lang),
        "edition": {"iso": edition.isoformat(), "year": edition.year, "month": edition.month, "day": edition.day},
        "generated": brief.generated.isoformat() if brief.generated else "",
        "organisation": organisation,
        "themes": themes,
        "abstract": abstract,
        "notes": notes,
        "has_abstract": bool(themes or abstract or notes),
        "has_contact": bool(qr_url or contact or about or website),
        "url": safe_url(brief.url),
        "coverage": coverage,
        "sections": sections,
        "references": references,
        "references_number": references_number,
        "branding": {
            "organisation": organisation,
            "website": website,
            "website_href": website_href,
            "contact": contact,
            "qr_url": qr_url,
            "qr_href": safe_url(qr_url),
            "qr_caption": _clean(branding.qr_caption),
            "qr_line": _qr_line(_clean(branding.qr_caption), labels, lang),
            "about": about,
            "footer": " · ".join(footer_bits),
        },
    }


# ---------------------------------------------------------------------------
# Jinja2 environments


class _MdRaw(str):
    """A string already fit for Markdown: the template prints it as it is."""


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<])|(&)(?=#?\w+;)")
_MD_LINE_START = re.compile(r"^(\d+)([.)])|^([-+=>#])")


def md_escape(text: Any) -> str:
    """Feed text made inert in Markdown: punctuation that means markup is backslashed."""
    if isinstance(text, _MdRaw):
        return text
    if text is None:
        return ""
    text = _MD_SPECIAL.sub(lambda m: "\\" + (m.group(1) or m.group(2)), str(text))
    return _MD_LINE_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}" if m.group(1) else f"\\{m.group(3)}", text)


def _md_url(url: str) -> _MdRaw:
    """An http(s) URL as a Markdown autolink; other URLs as escaped text."""
    href = safe_url(url)
    if href:
        return _MdRaw(f"<{href}>")
    return _MdRaw(md_escape(url))


def _md_raw(text: str) -> _MdRaw:
    return _MdRaw(text)


@functools.lru_cache(maxsize=1)
def _markdown_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=False,  # noqa: S701 - Markdown: every value is escaped by md_escape instead
        finalize=md_escape,  # every {{ }} is escaped unless marked _MdRaw
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["md_url"] = _md_url
    env.filters["md_raw"] = _md_raw
    return env


@functools.lru_cache(maxsize=1)
def _html_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    # The output of nh3 is safe by construction.
    env.filters["clean_page"] = lambda html: Markup(clean_page(str(html)))  # noqa: S704
    env.filters["clean_wechat"] = lambda html: Markup(clean_wechat(str(html)))  # noqa: S704
    return env


def _render_template(env: jinja2.Environment, name: str, **context: Any) -> str:
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateError as err:
        raise RenderError(f"template {name} failed: {err}") from err


# ---------------------------------------------------------------------------
# The four formats


def render_markdown(brief: Brief) -> str:
    """The brief as Markdown (CommonMark with a few inline HTML anchors)."""
    text = _render_template(_markdown_env(), "brief.md.j2", b=brief_view(brief))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_html(brief: Brief) -> str:
    """The brief as one self-contained HTML page: inline CSS, QR and logo embedded."""
    view = brief_view(brief)
    # The SVG is made by the qrcode library from the URL, not taken from any feed.
    qr = Markup(qr_svg(view["branding"]["qr_url"])) if view["branding"]["qr_url"] else ""  # noqa: S704
    logo = _load_logo(brief.branding.logo)
    return _render_template(
        _html_env(), "brief.html.j2", b=view, qr_svg=qr, logo_uri=logo.data_uri if logo else "",
        tier_colours=TIER_COLOURS,
    )


def qr_png_uri(data: str) -> str:
    """A QR code holding ``data`` as a PNG data: URI (for the WeChat variant, which takes no SVG)."""
    import qrcode  # lazy: qrcode and Pillow, when the branding has a QR URL

    try:
        image = qrcode.make(data, border=2, box_size=8)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
    except Exception as err:  # qrcode raises DataOverflowError and friends
        raise RenderError(f"cannot make a QR code from branding.qr_url {data!r}: {err}") from err
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


_WECHAT_IMAGES = ("image/png", "image/jpeg", "image/gif")


def render_wechat(brief: Brief) -> str:
    """The brief for the WeChat official-account editor: inline styles only, no scripts, no classes.

    Open the file in a browser, select all, copy and paste into the 公众号
    editor. The QR code and the logo travel as data: URIs; an SVG or WebP
    logo is left out, as the editor takes neither.
    """
    view = brief_view(brief)
    qr = qr_png_uri(view["branding"]["qr_url"]) if view["branding"]["qr_url"] else ""
    logo = _load_logo(brief.branding.logo)
    if logo and logo.mime not in _WECHAT_IMAGES:
        log.info("branding.logo %s is %s, which the WeChat editor does not take; left out of the WeChat variant",
                 brief.branding.logo, logo.mime)
        logo = None
    return _render_template(_html_env(), "brief.wechat.html.j2", b=view, qr_uri=qr,
                            logo_uri=logo.data_uri if logo else "")


# ---------------------------------------------------------------------------
# Chat and plain text

# The tightest common chat limit: a WeCom group robot's markdown message
# (4096 bytes of UTF-8). Publishers with roomier platforms pass their own.
CHAT_MAX_BYTES = 4096


def _plain_sentences(paragraph: dict[str, Any]) -> list[str]:
    """A paragraph's sentences as plain text, without citation markers."""
    return [s["text"] for s in paragraph["sentences"] if s["text"]]


def chat_message(brief: Brief, max_bytes: int = CHAT_MAX_BYTES, markdown: bool = True) -> str:
    """A chat message: the title and date, the abstract, the headlines and a link.

    It fits in ``max_bytes`` of UTF-8 by leaving whole parts out, never by cutting text, by the rule of every chat
    message (``digest.fit``): the title and the link always, then the abstract's first sentence, then the
    headlines in order (saying how many were left out), then the rest of the abstract; the roundup line only
    when everything else fits. Raises RenderError when even the title and the link do not fit.
    """
    view = brief_view(brief)
    labels = view["labels"]
    esc = md_escape if markdown else (lambda text: text)
    tag = f" `{labels['follow_up']}`" if markdown else f" [{labels['follow_up']}]"
    roundup = sum(len(s["entries"]) for s in view["sections"] if s["kind"] == "roundup")
    full = Digest(brief.language, brief.edition, view["title"], view["date"],
                  view["url"] or view["branding"]["website_href"],
                  abstract=[text for p in view["abstract"] for text in _plain_sentences(p)],
                  headlines=[f"{s['number']}. {esc(s['title'])}{tag if s['follow_up'] else ''}"
                             for s in view["sections"] if s["kind"] == "story"])

    def build(d: Digest, with_roundup: bool = False) -> str:
        title = f"{esc(d.title)} · {esc(d.date_label)}"
        parts = [f"**{title}**" if markdown else title]
        if d.abstract:
            parts.append(esc(join_sentences(d.abstract)))
        if d.headlines:
            lines = [f"**{labels['headlines']}**" if markdown else labels["headlines"], *d.headlines]
            if d.hidden_headlines:
                lines.append(esc(labels["more_stories"].format(n=d.hidden_headlines)))
            if with_roundup and roundup:
                lines.append(esc(labels["roundup_more"].format(n=roundup)))
            parts.append("\n".join(lines))
        if d.link:
            parts.append(f"{esc(labels['read_more'])}{labels['lead_sep']}{d.link}")
        return "\n\n".join(parts) + "\n"

    whole = build(full, with_roundup=True)
    if measure_bytes(whole) <= max_bytes:
        return whole
    try:
        return build(fit(full, build, measure_bytes, max_bytes))
    except PublishError:
        least = measure_bytes(build(replace(full, abstract=[], headlines=[])))
        raise RenderError(f"a chat message of at most {max_bytes} bytes cannot hold even the title and the link "
                          f"({least} bytes); raise the limit") from None


def render_chat(brief: Brief) -> str:
    """The chat variant (brief.chat.md): a Markdown message within CHAT_MAX_BYTES."""
    return chat_message(brief, CHAT_MAX_BYTES, markdown=True)


def render_text(brief: Brief) -> str:
    """The whole brief as plain text (brief.txt): for e-mail plain-text parts and terminals."""
    view = brief_view(brief)
    labels = view["labels"]
    out: list[str] = []

    def para(p: dict[str, Any]) -> str:
        body = "".join(s["text"] + "".join(f"[{r['n']}]" for r in s["refs"]) + s["sep"] for s in p["sentences"])
        return f"{p['lead']}{p['holders']}{p['lead_sep']}{body}" if p["lead"] else body

    def heading(text: str, mark: str) -> None:
        out.extend(["", text, mark * max(4, sum(2 if _CJK_ANY.match(c) else 1 for c in text))])

    out.append(view["title"])
    out.extend(view["organisation"])
    out.append(view["date"])
    if view["has_abstract"]:
        heading(labels["abstract"], "=")
        if view["themes"]:
            out.append(labels["themes"] + labels["lead_sep"] + " · ".join(view["themes"]))
        out.extend(para(p) for p in view["abstract"])
        out.extend(f"({n})" for n in view["notes"])
    if view["coverage"]:
        out.append("")
        out.append(labels["coverage"] + labels["lead_sep"] + labels["coverage_note"])
        for row in view["coverage"]["rows"]:
            parts = labels["list_sep"].join(f"{p['label']} {p['n']}" for p in row["parts"])
            out.append(f"  {row['number']:>2} {row['title']}  {row['total']} ({parts})")
    for s in view["sections"]:
        tag = f" [{labels['follow_up']}]" if s["follow_up"] else ""
        heading(f"{s['number']} {s['title']}{tag}", "=")
        if s["outlets_line"]:
            out.append(s["outlets_line"])
        if s["momentum"]:
            m = s["momentum"]
            days = " · ".join(f"{d} {n}" for d, n in zip(m["days"], m["counts"], strict=True))
            out.append(f"{m['label']}{labels['paren'].format(text=m['note'])}{labels['lead_sep']}{days}")
        if s["kind"] == "roundup":
            out.append("")
            out.extend(f"- {para(p)}" for p in s["entries"])
        for g in s["groups"]:
            if g["heading"]:
                heading(f"{g['number']} {g['heading']}", "-")
            for p in g["paragraphs"]:
                out.extend(["", para(p)])
        out.extend(["", *(f"({n})" for n in s["notes"])] if s["notes"] else [])
    if view["references"]:
        heading(f"{view['references_number']} {labels['references']}", "=")
        for r in view["references"]:
            head = f"[{r['n']}] " + (f"{r['outlet']}: " if r["outlet"] else "") + f"“{r['title']}”"
            out.append(head + (f" — {r['note']}" if r["note"] else ""))
            tail = " · ".join(x for x in (r["url"], r["published"]) if x)
            if tail:
                out.append(f"    {tail}")
    if view["has_contact"]:
        b = view["branding"]
        heading(labels["contact"], "=")
        if b["qr_url"]:
            out.append(f"{b['qr_caption'] or labels['scan']}: {b['qr_url']}")
        out.extend(b["contact"])
        if b["about"]:
            out.append(f"{labels['about']}{labels['lead_sep']}{b['about']}")
        if b["website"]:
            out.append(f"{labels['website']}{labels['lead_sep']}{b['website']}")
    return "\n".join(out).strip() + "\n"


def render_json(brief: Brief) -> str:
    """The brief's ``as_dict`` form: the contract of brief.json."""
    try:
        return json.dumps(brief.as_dict(), ensure_ascii=False, indent=2) + "\n"
    except (TypeError, ValueError) as err:
        raise RenderError(f"brief cannot be written as JSON: {err}") from err


# Font packages from PyPI, so the PDF needs no root: Noto Sans CJK Regular (an
# OpenType collection with an SC face) and Noto Sans CJK JP Bold. The JP font
# carries every CJK glyph; with lang "zh" and region "cn" its `locl` feature
# draws the Simplified Chinese forms, so bold Chinese text looks as it should.
FONT_PACKAGES = ("noto_cjk_sans_otc", "noto_cjk_sans_jp_bold")


def _font_paths() -> list[str]:
    """Folders typst searches for fonts: the font wheels, then system fonts."""
    paths: list[str] = []
    for package in FONT_PACKAGES:
        try:
            module = importlib.import_module(package)
        except ImportError:
            log.info("%s is not installed; the PDF uses system CJK fonts for what it would give", package)
            continue
        paths.append(str(Path(str(module.__file__)).parent))
    for folder in (os.environ.get("DAILYBRIEF_FONT_DIR", ""), "/usr/share/fonts", "/usr/local/share/fonts"):
        if folder and Path(folder).is_dir():
            paths.append(folder)
    return paths


@functools.lru_cache(maxsize=1)
def _typst_fonts() -> Any:
    """The fonts typst may use, scanned once per process."""
    import typst  # lazy: the typst compiler, for the PDF only

    paths = _font_paths()
    if not hasattr(typst, "Fonts"):  # older typst-py: folders are rescanned per compile
        return paths
    # With no font folder of our own, fall back to whatever the system offers.
    return typst.Fonts(include_system_fonts=not paths, include_embedded_fonts=True, font_paths=paths)


# Text fonts in order of preference; the CJK fonts carry the Latin glyphs too.
PDF_CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans CJK JP", "Source Han Sans")
PDF_FONTS = (*PDF_CJK_FONTS, "Noto Sans", "DejaVu Sans")
PDF_ACCENT = "#1f5a8c"
_BOLD = 600


@functools.lru_cache(maxsize=1)
def _pdf_font_list() -> tuple[str, ...]:
    """The preferred fonts that are installed (typst warns about the others).

    typst picks the weight within the first family that has the glyph, so a
    CJK family that has a bold face goes first: otherwise bold Chinese text
    would be set in the regular weight.
    """
    fonts = _typst_fonts()
    if isinstance(fonts, list):  # older typst-py cannot list families: trust the CJK font folders
        return tuple(name for name in PDF_FONTS if name in ("Noto Sans CJK JP", "Noto Sans CJK SC")) if fonts else ()
    weights: dict[str, set[int]] = {}
    for info in fonts.fonts():
        weights.setdefault(info.family.lower(), set()).add(int(info.weight))
    installed = [name for name in PDF_FONTS if name.lower() in weights]
    bold_cjk = [name for name in installed if name in PDF_CJK_FONTS and max(weights[name.lower()]) >= _BOLD]
    if bold_cjk:
        installed.remove(bold_cjk[0])
        installed.insert(0, bold_cjk[0])
    elif any(name in PDF_CJK_FONTS for name in installed):
        log.warning("no bold CJK font: bold Chinese text is set in the regular weight "
                    "(install the noto-cjk-sans-jp-bold package or the system fonts-noto-cjk)")
    return tuple(installed)


def _check_fonts(language: str) -> list[str]:
    fonts = list(_pdf_font_list())
    if not any(name in PDF_CJK_FONTS for name in fonts):
        fix = "install the noto-cjk-sans-otc package or the system fonts-noto-cjk, or set DAILYBRIEF_FONT_DIR"
        if language == "zh":
            raise RenderError(f"no CJK font found for the Chinese PDF: {fix}")
        log.warning("no CJK font found; Chinese text in the PDF will show as boxes (%s)", fix)
    return fonts


def _compile_typst(root: Path, view: dict[str, Any]) -> bytes:
    import typst  # lazy: the typst compiler, for the PDF only

    (root / "data.json").write_text(json.dumps(view, ensure_ascii=False), encoding="utf-8")
    fonts = _typst_fonts()
    try:
        pdf, warnings = typst.compile_with_warnings(
            str(root / "main.typ"), root=str(root), font_paths=fonts,
            ignore_system_fonts=bool(fonts) if isinstance(fonts, list) else True,
        )
    except typst.TypstError as err:
        detail = " ".join(x for x in (err.message, err.diagnostic, *(err.hints or [])) if x)
        raise RenderError(f"typst could not lay out the PDF: {detail}") from err
    except Exception as err:  # the binding raises RuntimeError for I/O problems
        raise RenderError(f"typst could not lay out the PDF: {err}") from err
    for warning in warnings:
        log.warning("typst: %s", getattr(warning, "message", warning))
    if not isinstance(pdf, bytes):
        raise RenderError("typst returned no PDF")
    return pdf


def render_pdf(brief: Brief, path: Path) -> Path:
    """Lay the brief out with typst (templates/brief.typ) and write an A4 PDF to ``path``.

    The view goes to the template as data.json; the template only ever treats
    it as strings, so no feed text is parsed as typst markup.
    """
    path = Path(path)
    view = brief_view(brief)
    view["fonts"] = _check_fonts(view["lang"])
    view["accent"] = PDF_ACCENT
    view["region"] = "cn" if view["lang"] == "zh" else ""
    with tempfile.TemporaryDirectory(prefix="dailybrief-typst-") as tmp:
        root = Path(tmp)
        try:
            shutil.copyfile(TEMPLATE_DIR / "brief.typ", root / "main.typ")
        except OSError as err:
            raise RenderError(f"the PDF template is missing: {err}") from err
        view["qr"] = ""
        if view["branding"]["qr_url"]:
            (root / "qr.svg").write_text(qr_svg(view["branding"]["qr_url"]), encoding="utf-8")
            view["qr"] = "qr.svg"
        view["logo"] = ""
        logo = _load_logo(brief.branding.logo)
        if logo:
            (root / f"logo{logo.suffix}").write_bytes(logo.data)
            view["logo"] = f"logo{logo.suffix}"
        try:
            pdf = _compile_typst(root, view)
        except RenderError as err:
            if not view["logo"]:
                raise
            # A logo typst cannot decode must not cost the edition its PDF.
            log.warning("PDF failed with branding.logo %s (%s); retrying without the logo", brief.branding.logo, err)
            view["logo"] = ""
            pdf = _compile_typst(root, view)
    _write_atomic(path, pdf)
    return path


# ---------------------------------------------------------------------------
# Renderers and their registry


@runtime_checkable
class Renderer(Protocol):
    """Writes one format of a brief to ``path`` and returns the path written."""

    @property
    def name(self) -> str: ...

    @property
    def suffix(self) -> str: ...

    def render(self, brief: Brief, path: Path) -> Path: ...


def _write_atomic(path: Path, data: bytes) -> None:
    """`files.write_atomic`, its failure a RenderError."""
    try:
        write_atomic(path, data)
    except OSError as err:
        raise RenderError(f"cannot write {path}: {err}") from err


@dataclass(frozen=True)
class TextRenderer:
    """A renderer whose output is a string made by ``func``."""

    name: str
    suffix: str
    func: Callable[[Brief], str]

    def render(self, brief: Brief, path: Path) -> Path:
        path = Path(path)
        _write_atomic(path, self.func(brief).encode("utf-8"))
        return path


@dataclass(frozen=True)
class PdfRenderer:
    name: str = "pdf"
    suffix: str = ".pdf"

    def render(self, brief: Brief, path: Path) -> Path:
        return render_pdf(brief, path)


RENDERERS: dict[str, Renderer] = {}


def register_renderer(renderer: Renderer) -> Renderer:
    """Add (or replace) a renderer under its name; plugins use this too."""
    RENDERERS[renderer.name] = renderer
    return renderer


def get_renderer(name: str) -> Renderer:
    if name not in RENDERERS:
        plugins.load(plugins.RENDERERS, name, lambda _name, renderer: register_renderer(renderer))
    try:
        return RENDERERS[name]
    except KeyError:
        known = ", ".join(sorted({*RENDERERS, *plugins.declared(plugins.RENDERERS)}))
        raise RenderError(f"unknown output format {name!r}; known formats: {known}") from None


register_renderer(TextRenderer("md", ".md", render_markdown))
register_renderer(TextRenderer("html", ".html", render_html))
register_renderer(TextRenderer("wechat", ".wechat.html", render_wechat))
register_renderer(TextRenderer("chat", ".chat.md", render_chat))
register_renderer(TextRenderer("txt", ".txt", render_text))
register_renderer(PdfRenderer())
register_renderer(TextRenderer("json", ".json", render_json))


def render_all(brief: Brief, out_dir: Path, formats: Iterable[str], stem: str = "brief") -> dict[str, Path]:
    """Write each format to ``out_dir/<stem><suffix>``; returns {format: path}.

    Unknown formats are refused before anything is written. A failing format
    raises RenderError naming it; formats already written stay on disk.
    """
    chosen = [get_renderer(name) for name in dict.fromkeys(formats)]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for renderer in chosen:
        target = out_dir / f"{stem}{renderer.suffix}"
        try:
            written[renderer.name] = renderer.render(brief, target)
        except RenderError:
            raise
        except Exception as err:
            raise RenderError(f"rendering {renderer.name} failed: {err}") from err
    return written
