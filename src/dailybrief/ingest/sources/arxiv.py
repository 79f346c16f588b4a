"""arXiv: new papers in chosen categories, through the arXiv API (Atom).

``{url}?search_query=cat:cs.AI+OR+cat:cs.CL&sortBy=submittedDate&sortOrder=descending``
returns the newest submissions first. An item is one paper: its abstract page
(without the version suffix, so every version and every mention of it is one
item), its title, abstract, authors and first-submission time. With
``primary_only``, cross-lists from other fields are left out.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pydantic import Field, field_validator

from ...errors import ParseError
from ...ids import canonical_url, item_id, text_hash
from ...records import Item, Source
from ...sanitize import html_to_text
from .base import BaseKind, FeedFetch, KindOptions, fetch_items, register
from .feed import _when, feed_warnings, parse_feed

if TYPE_CHECKING:
    from ..http import Fetcher

_CATEGORY = re.compile(r"^[a-z-]+(\.[A-Za-z-]+)?$")
_ABS = re.compile(r"arxiv\.org/abs/([^\s?#]+?)(v\d+)?$")
_WS = re.compile(r"\s+")


class Options(KindOptions):
    categories: list[str] = Field(min_length=1)
    limit: int = Field(50, ge=1, le=500)
    primary_only: bool = False

    @field_validator("categories")
    @classmethod
    def _cats(cls, v: list[str]) -> list[str]:
        for c in v:
            if not _CATEGORY.match(c):
                raise ValueError(f"'{c}' is not an arXiv category; use names such as 'cs.AI', 'cs.CL', 'stat.ML'")
        return v


def parse_papers(body: bytes, url: str, headers: dict[str, str], source: Source,
                 categories: list[str], primary_only: bool) -> tuple[list[Item], list[str]]:
    parsed = parse_feed(body, url, headers, fast=False)  # feedparser: it exposes arxiv:primary_category
    fetched = datetime.now(timezone.utc)
    items: list[Item] = []
    for entry in parsed.entries:
        primary = (entry.get("arxiv_primary_category") or {}).get("term", "")
        if primary_only and primary and primary not in categories:
            continue
        link = str(entry.get("id") or entry.get("link") or "")
        if "/api/errors" in link:
            raise ParseError(f"the arXiv API answered with an error ({html_to_text(entry.get('summary', ''))}); "
                             "check the source's categories")
        if m := _ABS.search(link):
            link = f"https://arxiv.org/abs/{m.group(1)}"
        title = _WS.sub(" ", html_to_text(entry.get("title", "") or "")).strip()
        if not title or not link:
            continue
        abstract = _WS.sub(" ", html_to_text(entry.get("summary", "") or "")).strip()
        names = [str(a.get("name", "")).strip() for a in entry.get("authors", []) or [] if a.get("name")]
        author = ", ".join(names[:3]) + (" et al." if len(names) > 3 else "")
        canon = canonical_url(link)
        published = _when(entry)
        items.append(Item(
            id=item_id(canon, source.id, title, published), source_id=source.id, source_name=source.name,
            tier=source.tier, url=link, canonical_url=canon, title=title, summary=abstract, language="en",
            author=author, published=published, fetched=fetched, content_hash=text_hash(title, abstract),
        ))
    return items, feed_warnings(parsed, items, "answer")


class ArxivKind(BaseKind):
    name = "arxiv"
    default_url = "https://export.arxiv.org/api/query"
    default_tier = "paper"
    Options = Options
    identity_keys = ("categories", "primary_only")

    def query_url(self, source: Source) -> str:
        opts: Options = self.options(source)
        query = "+OR+".join(f"cat:{quote(c)}" for c in opts.categories)
        return (f"{source.url}?search_query={query}&sortBy=submittedDate&sortOrder=descending"
                f"&start=0&max_results={opts.limit}")

    async def fetch(self, fetcher: Fetcher, source: Source, state: dict[str, Any]) -> FeedFetch:
        opts: Options = self.options(source)
        return await fetch_items(fetcher, self.query_url(source), state, parse_papers, source, opts.categories,
                                 opts.primary_only)


register(ArxivKind)
