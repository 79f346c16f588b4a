"""HTML that reaches a reader passes through nh3 (the ammonia sanitiser).

Every text field of a Brief is plain text: the templates escape it, and no
feed text is ever marked safe. On top of that, the HTML outputs are cleaned
as a whole before they are written, so nothing that slips into them (a
template change, a writer that returns markup, a feed's HTML fragment) can
carry a script, an event handler or a ``javascript:`` link to a reader:

- :func:`clean_fragment` keeps a small allowlist of text markup; links only
  http(s) and mailto, with ``rel="noopener noreferrer"``. For rich text of
  unknown origin, such as a feed's HTML summary.
- :func:`clean_page` cleans the body of the standalone page: our layout's
  tags and attributes (ids for anchors, classes for the inline stylesheet,
  inline SVG for the figures), same-page ``#`` links and http(s) links.
- :func:`clean_wechat` enforces what the WeChat official-account (公众号)
  editor accepts: inline ``style=""`` only (no class, id, ``<style>`` or
  ``<script>``), no links (it drops them), images only as data: PNG/JPEG/GIF.
"""

from __future__ import annotations

import html
import re

import lxml.html
import nh3

__all__ = ["PAGE_TAGS", "TEXT_TAGS", "WECHAT_TAGS", "clean_fragment", "clean_page", "clean_wechat"]

# Markup that text may keep.
TEXT_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "cite", "code", "del", "em", "i", "li", "ol", "p", "pre", "q",
    "s", "small", "strong", "sub", "sup", "u", "ul",
})
_LINK_SCHEMES = frozenset({"http", "https", "mailto"})

# The standalone page's own layout, figures included.
_SVG_TAGS = frozenset({"svg", "path", "polyline", "circle", "line", "rect", "g", "title", "text"})
PAGE_TAGS = TEXT_TAGS | _SVG_TAGS | frozenset({
    "article", "aside", "div", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "header", "hr", "img",
    "main", "nav", "section", "span", "table", "tbody", "td", "th", "thead", "time", "tr",
})
_PAGE_ATTRIBUTES = {
    "*": {"id", "class", "style", "title", "lang", "role", "aria-label", "aria-labelledby", "aria-hidden"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "time": {"datetime"},
    "td": {"colspan"},
    "th": {"colspan", "scope"},
    "svg": {"viewBox", "width", "height", "xmlns", "version", "preserveAspectRatio", "focusable"},
    "path": {"d", "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width"},
    "polyline": {"points", "fill", "stroke", "stroke-width", "stroke-linejoin", "stroke-linecap"},
    "circle": {"cx", "cy", "r", "fill", "stroke"},
    "line": {"x1", "y1", "x2", "y2", "stroke", "stroke-width"},
    "rect": {"x", "y", "width", "height", "fill", "rx"},
    "text": {"x", "y", "fill", "font-size", "text-anchor"},
}

# What the 公众号 editor keeps; everything is styled inline.
WECHAT_TAGS = frozenset({
    "b", "blockquote", "br", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "hr", "img", "li", "ol", "p",
    "section", "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
})
_WECHAT_ATTRIBUTES = {"*": {"style"}, "img": {"src", "alt", "width", "height", "style"}, "td": {"colspan", "style"}}
# CSS the editor keeps and that cannot fetch anything (no url(), no position).
_WECHAT_CSS = frozenset({
    "background-color", "border", "border-bottom", "border-collapse", "border-left", "border-radius",
    "border-right", "border-top", "box-sizing", "color", "display", "font-family", "font-size", "font-style",
    "font-weight", "height", "letter-spacing", "line-height", "list-style-type", "margin", "margin-bottom",
    "margin-left", "margin-right", "margin-top", "max-width", "min-width", "overflow", "overflow-wrap", "padding",
    "padding-bottom", "padding-left", "padding-right", "padding-top", "text-align", "text-decoration",
    "vertical-align", "white-space", "width", "word-break",
})
# Inline styles the page itself sets: the figures' bar widths and colours.
_PAGE_CSS = frozenset({"width", "height", "background-color", "color"})
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=\s]+$")


def _data_images_only(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if _DATA_IMAGE.match(value) else None
    return value


def _page_urls(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if _DATA_IMAGE.match(value) or value.startswith("data:image/svg+xml;base64,") else None
    if tag == "a" and attribute == "href" and value.startswith("data:"):
        return None
    return value


def clean_fragment(html: str) -> str:
    """Rich text of unknown origin, reduced to safe text markup."""
    return nh3.clean(html or "", tags=set(TEXT_TAGS), attributes={"a": {"href", "title"}, "abbr": {"title"}},
                     url_schemes=set(_LINK_SCHEMES), clean_content_tags={"script", "style"},
                     link_rel="noopener noreferrer")


def clean_page(html: str) -> str:
    """The body of the standalone page, cleaned to its own layout's tags and attributes."""
    return nh3.clean(html, tags=set(PAGE_TAGS), attributes={k: set(v) for k, v in _PAGE_ATTRIBUTES.items()},
                     attribute_filter=_page_urls, url_schemes={"http", "https", "mailto", "data"},
                     clean_content_tags={"script", "style"}, filter_style_properties=set(_PAGE_CSS),
                     link_rel="noopener noreferrer")


def clean_wechat(html: str) -> str:
    """The body of the WeChat variant: allowlisted tags, inline styles only, data: images."""
    return nh3.clean(html, tags=set(WECHAT_TAGS), attributes={k: set(v) for k, v in _WECHAT_ATTRIBUTES.items()},
                     attribute_filter=_data_images_only, url_schemes={"data"},
                     clean_content_tags={"script", "style"}, filter_style_properties=set(_WECHAT_CSS),
                     link_rel=None)


_WS = re.compile(r"\s+")
_BLOCK_TAGS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote", "section", "article")


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment, paragraphs kept as line breaks; scripts dropped."""
    if not markup:
        return ""
    if "<" not in markup:
        return _WS.sub(" ", html.unescape(markup)).strip()
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return _WS.sub(" ", re.sub(r"<[^>]+>", " ", markup)).strip()
    for bad in root.xpath("//script|//style|//noscript|//iframe|//object"):
        bad.drop_tree()
    for el in root.iter(*_BLOCK_TAGS):
        el.tail = "\n" + (el.tail or "")
    text = root.text_content()
    lines = [_WS.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)
