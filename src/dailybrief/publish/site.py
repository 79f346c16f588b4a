"""The archive site: a static folder of every edition, an index by date and an Atom feed.

    <path>/                        (default <output.dir>/site/, or <--out>/site/)
      index.html                   editions by date, newest first: abstract, headlines, HTML · PDF · Markdown
      feed.xml                     Atom feed of editions (built with lxml)
      favicon.ico
      2026-04-10/brief.html …      each edition's files, as rendered (brief.en.* for the second language)

The site is rebuilt from its own folders every time an edition is placed, so
it needs no database and a rebuild is idempotent. Every page is static: no
script, nothing fetched from elsewhere. Feed text is escaped by Jinja2's
autoescape and by lxml; links are relative unless ``base_url`` is set
(the feed's links are absolute then, as feed readers prefer).
"""

from __future__ import annotations

import functools
import io
import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from lxml import etree

from ..errors import PublishError
from ..files import brief_files, load_briefs, write_atomic
from ..records import Brief
from ..render.digest import digest_of, join_sentences
from ..render.formats import PDF_ACCENT, TEMPLATE_DIR
from ..words import words
from .base import Edition, FolderPublisher, file_stem, register_publisher

if TYPE_CHECKING:
    from ..config import Config, SiteTarget

__all__ = ["SitePublisher", "build_site", "scan"]

log = logging.getLogger(__name__)

SITE_FORMATS = ((".html", "html", "text/html"), (".pdf", "pdf", "application/pdf"),
                (".md", "md", "text/markdown"), (".json", "", "application/json"))
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HEADLINES_SHOWN = 6


@dataclass(slots=True)
class SiteEdition:
    """One dated folder of the site: its briefs and which files each has."""

    day: date
    briefs: list[Brief]
    files: dict[str, dict[str, str]] = field(default_factory=dict)  # language -> {"html": "2026-04-10/brief.html"}
    sizes: dict[str, int] = field(default_factory=dict)  # "2026-04-10/brief.pdf" -> bytes
    updated: datetime | None = None


def scan(root: Path) -> list[SiteEdition]:
    """The editions in a site folder, newest first. Unreadable folders are logged and left out."""
    out: list[SiteEdition] = []
    for folder in sorted((p for p in root.iterdir() if p.is_dir() and _DAY.match(p.name)), reverse=True):
        jsons = brief_files(folder)
        try:
            briefs = load_briefs(folder)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("site: %s is unreadable (%s); left out of the index", folder, exc)
            continue
        if not briefs:
            continue
        langs = [b.language for b in briefs]
        edition = SiteEdition(date.fromisoformat(folder.name), briefs)
        for b in briefs:
            stem = file_stem(b.language, langs)
            edition.files[b.language] = {fmt: f"{folder.name}/{stem}{suffix}" for suffix, fmt, _ in SITE_FORMATS
                                         if fmt and (folder / f"{stem}{suffix}").is_file()}
            for rel in edition.files[b.language].values():
                edition.sizes[rel] = (root / rel).stat().st_size
        mtime = max(p.stat().st_mtime for p in jsons)
        edition.updated = briefs[0].generated or datetime.fromtimestamp(mtime, timezone.utc)
        out.append(edition)
    return out


@functools.lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True, trim_blocks=True,
                              lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def _brief_view(b: Brief, links: dict[str, str]) -> dict[str, Any]:
    d = digest_of(b, links.get("html", ""))
    return {"lang": b.language, "html_lang": "zh-CN" if b.language == "zh" else b.language, "title": d.title,
            "date": d.date_label, "lead": join_sentences(d.abstract[:2]), "headlines": d.headlines[:HEADLINES_SHOWN],
            "more": max(0, len(d.headlines) - HEADLINES_SHOWN), "links": links, "abstract": d.abstract_text,
            "labels": words(b.language)}


def _index_html(editions: list[SiteEdition], title: str, language: str, organisation: list[str]) -> str:
    labels = words(language)
    view = [{"iso": e.day.isoformat(), "briefs": [_brief_view(b, e.files.get(b.language, {})) for b in e.briefs]}
            for e in editions]
    try:
        return _env().get_template("site_index.html.j2").render(
            title=title, lang="zh-CN" if language == "zh" else language, labels=labels, editions=view,
            organisation=organisation, count=labels["count"].format(n=len(editions)), accent=PDF_ACCENT)
    except jinja2.TemplateError as exc:
        raise PublishError(f"the site index template failed: {exc}") from exc


ATOM = "http://www.w3.org/2005/Atom"
_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _atom(parent: Any, tag: str, text: str | None = None, **attrs: str) -> Any:
    el = etree.SubElement(parent, f"{{{ATOM}}}{tag}", {k: v for k, v in attrs.items() if v})
    if text is not None:
        el.text = _XML_BAD.sub("", text)  # feed text may carry characters XML 1.0 forbids
    return el


def _feed_xml(editions: list[SiteEdition], title: str, language: str, base_url: str, author: str, limit: int) -> bytes:
    """The Atom feed (RFC 4287): one entry per edition and language, newest first; built with lxml."""
    def url(path: str) -> str:
        return f"{base_url}/{path}" if base_url else path

    ns = uuid.uuid5(uuid.NAMESPACE_URL, f"dailybrief:{base_url or title}")
    entries = [(e, b) for e in editions for b in e.briefs][:limit]
    newest = max((e.updated for e, _ in entries if e.updated), default=datetime(1970, 1, 1, tzinfo=timezone.utc))
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", language)
    _atom(feed, "id", f"urn:uuid:{ns}")
    _atom(feed, "title", title)
    _atom(feed, "updated", newest.isoformat())
    _atom(_atom(feed, "author"), "name", author)
    _atom(feed, "link", href=f"{base_url}/" if base_url else "index.html", rel="alternate", type="text/html")
    if base_url:
        _atom(feed, "link", href=url("feed.xml"), rel="self", type="application/atom+xml")
    _atom(feed, "generator", "dailybrief")
    env = _env()
    for e, b in entries:
        links = e.files.get(b.language, {})
        view = _brief_view(b, {k: url(v) for k, v in links.items()})
        when = (e.updated or newest).isoformat()
        entry = _atom(feed, "entry")
        _atom(entry, "id", f"urn:uuid:{uuid.uuid5(ns, f'{e.day.isoformat()}:{b.language}')}")
        _atom(entry, "title", f"{view['title']} · {view['date']}")
        _atom(entry, "updated", when)
        _atom(entry, "published", when)
        if "html" in links:
            _atom(entry, "link", href=url(links["html"]), rel="alternate", type="text/html", hreflang=b.language)
        if "pdf" in links:
            _atom(entry, "link", href=url(links["pdf"]), rel="enclosure", type="application/pdf",
                  length=str(e.sizes.get(links["pdf"], "")))
        if "md" in links:
            _atom(entry, "link", href=url(links["md"]), rel="alternate", type="text/markdown", hreflang=b.language)
        _atom(entry, "summary", view["abstract"] or view["title"])
        content = env.get_template("site_entry.html.j2").render(b=view, labels=view["labels"])
        _atom(entry, "content", content, type="html")
    return etree.tostring(feed, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _favicon() -> bytes:
    """A small square in the briefing's accent colour, so browsers find /favicon.ico."""
    from PIL import Image  # lazy: Pillow, when a logo or image is checked or embedded

    image = Image.new("RGB", (32, 32), PDF_ACCENT)
    buf = io.BytesIO()
    image.save(buf, format="ICO", sizes=[(32, 32)])
    return buf.getvalue()


def build_site(root: Path, *, title: str, language: str, base_url: str = "", organisation: list[str] | None = None,
               feed_entries: int = 30) -> list[SiteEdition]:
    """(Re)write index.html, feed.xml and favicon.ico from the editions under ``root``."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        editions = scan(root)
        org = organisation or []
        write_atomic(root / "index.html", _index_html(editions, title, language, org).encode("utf-8"))
        write_atomic(root / "feed.xml",
                     _feed_xml(editions, title, language, base_url, org[0] if org else title, feed_entries))
        if not (root / "favicon.ico").exists():
            write_atomic(root / "favicon.ico", _favicon())
    except OSError as exc:
        raise PublishError(f"cannot write the site in {root}: {exc}; check the folder is writable") from exc
    return editions


class SitePublisher:
    """Places an edition's HTML, PDF, Markdown and JSON in the site, then rebuilds its index and feed."""

    kind = "site"
    resend_on_change = True

    def __init__(self, conf: SiteTarget, cfg: Config) -> None:
        self.name = conf.name
        self.root = cfg.target_path(conf)
        self.base_url = conf.base_url
        self.language = cfg.edition.languages[0]
        self.title = conf.title or cfg.edition.title_for(self.language)
        self.organisation = [line for line in cfg.branding.organisation if line.strip()]
        self.feed_entries = conf.feed_entries

    def deliver(self, edition: Edition) -> str:
        files = [f for f in edition.files if f.suffix in {s for s, _, _ in SITE_FORMATS}]
        if not any(f.suffix == ".json" for f in files):
            raise PublishError(f"the {edition.day} edition has no brief*.json; the site needs it to list the edition")
        FolderPublisher(self.root).publish(files, edition.day)
        build_site(self.root, title=self.title, language=self.language, base_url=self.base_url,
                   organisation=self.organisation, feed_entries=self.feed_entries)
        where = str(self.root / edition.day.isoformat())
        return f"{where}, online at {self.base_url}/{edition.day.isoformat()}/" if self.base_url else where


register_publisher("site", SitePublisher)
