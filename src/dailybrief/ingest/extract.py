"""Full text: the main text of an article page, with its title, author, date and language.

trafilatura does the work. We run it twice: first favouring precision (menus,
related links and reader comments stay out), then with its balanced defaults (without
its fallback extractors, which change little here and cost time). When the
precise pass kept less than half of what the balanced pass found, it probably
cut into the article, and the balanced text is used instead. On the
Zyte article-extraction benchmark this scores above plain trafilatura
(``benchmarks/extraction.py`` prints both from the same run).

Article text is data: it is stored and quoted, never followed as instructions.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import trafilatura

from ..errors import ParseError
from ..text import detect_language
from .charset import decode

__all__ = ["Extracted", "extract", "extract_file", "language_of"]

# Below this share of the balanced pass's length, the precise pass is taken to have cut into the article.
FALLBACK_RATIO = 0.5

_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")


@dataclass(slots=True)
class Extracted:
    text: str
    title: str = ""
    author: str = ""
    published: datetime | None = None
    language: str = ""
    url: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "title": self.title, "author": self.author,
                "published": self.published.isoformat() if self.published else None,
                "language": self.language, "url": self.url}


def language_of(text: str, default: str = "en") -> str:
    """'zh' or 'en' by script (see text.detect_language); Japanese and Korean are told apart by kana and hangul."""
    sample = text[:2000]
    if len(_KANA.findall(sample)) > 10:
        return "ja"
    if len(_HANGUL.findall(sample)) > 10:
        return "ko"
    return detect_language(sample, default)


def _date(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


_OPTIONS: dict[str, Any] = {"include_comments": False, "include_tables": True}
_DATE = {"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S"}


def extract(html: str | bytes, url: str = "") -> Extracted:
    """The main text and metadata of one HTML page; empty text when there is none."""
    if isinstance(html, bytes):
        html = decode(html, None, "html").text
    if not html.strip():
        return Extracted("", url=url)
    # a Document (or None); a dict only with as_dict=True
    precise: Any = trafilatura.bare_extraction(html, url=url or None, favor_precision=True, with_metadata=True,
                                               date_extraction_params=_DATE, **_OPTIONS)
    balanced = trafilatura.extract(html, url=url or None, fast=True, **_OPTIONS) or ""
    text = (precise.text if precise is not None else "") or ""
    if len(text) < FALLBACK_RATIO * len(balanced):
        text = balanced
    text = text.strip()
    meta = precise
    if meta is None:
        meta = trafilatura.extract_metadata(html, default_url=url or None, date_config=_DATE)
    title = (getattr(meta, "title", None) or "") if meta is not None else ""
    author = (getattr(meta, "author", None) or "") if meta is not None else ""
    published = _date(getattr(meta, "date", None)) if meta is not None else None
    return Extracted(text=text, title=title.strip(), author=author.strip(), published=published,
                     language=language_of(f"{title} {text}") if text else "", url=url)


def extract_file(path: str | Path) -> Extracted:
    """Extract from a saved page (``.html``, or gzipped ``.html.gz``); ParseError names what is wrong."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ParseError(f"{p}: no such file; check the path") from None
    except IsADirectoryError:
        raise ParseError(f"{p}: is a folder; give the HTML files in it") from None
    except OSError as exc:
        raise ParseError(f"{p}: cannot be read ({exc.strerror}); check its permissions") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ParseError(f"{p}: a broken gzip file ({exc}); save the page again") from None
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ParseError(f"{p}: not an HTML file (binary data); give a saved web page")
    return extract(decode(raw, None, "html").text, "")
