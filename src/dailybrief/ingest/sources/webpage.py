"""Web pages without a feed: a listing page plus a link pattern lead to the articles.

The listing (``url``) is fetched, conditionally, like a feed. Every link on it
whose absolute URL matches ``link_pattern`` (a regular expression, searched
anywhere in the URL) is an article, in page order, up to ``limit``. Articles
already stored are not fetched again. Each new article page is fetched (its
site's robots.txt is honoured, for the listing too) and its main text, title,
author and date are extracted (``extract.py``).
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import lxml.html
from pydantic import Field, field_validator

from ...errors import FetchError, ParseError, SourceError
from ...ids import canonical_url, item_id, text_hash
from ...records import Item, Source
from ..charset import decode, encoding_warning
from ..http import HTML_ACCEPT
from .base import BaseKind, FeedFetch, KindOptions, fetch_parsed, register

if TYPE_CHECKING:
    from ..http import Fetcher


class Options(KindOptions):
    link_pattern: str = Field(min_length=1)
    limit: int = Field(20, ge=1, le=200)

    @field_validator("link_pattern")
    @classmethod
    def _regex(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression ({exc}); e.g. '/news/[a-z0-9-]+$'") from None
        return v


def listing_links(html: str, base: str, pattern: str, limit: int) -> list[tuple[str, str]]:
    """(absolute URL, anchor text) of the links on a listing page that match the pattern, in order, once each."""
    try:
        root = lxml.html.fromstring(html)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ParseError(f"the listing page is not readable HTML ({exc})") from None
    base = urljoin(base, root.xpath("string(//base/@href)") or "")
    rx = re.compile(pattern)
    seen: dict[str, str] = {}
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        url = urljoin(base, href).split("#")[0]
        if rx.search(url) and url not in seen:
            seen[url] = " ".join(a.text_content().split())
        elif url in seen and not seen[url]:
            seen[url] = " ".join(a.text_content().split())
        if len(seen) >= limit:
            break
    return list(seen.items())


def parse_listing(body: bytes, url: str, headers: dict[str, str], pattern: str,
                  limit: int) -> tuple[list[tuple[str, str]], list[str]]:
    """The listing page's matching links (`listing_links`), and the warning on its encoding if it was guessed."""
    decoded = decode(body, headers.get("content-type", ""), "html")
    return listing_links(decoded.text, url, pattern, limit), encoding_warning(decoded.note)


class WebPageKind(BaseKind):
    name = "webpage"
    Options = Options
    identity_keys = ("link_pattern",)

    async def fetch(self, fetcher: Fetcher, source: Source, state: dict[str, Any]) -> FeedFetch:
        opts: Options = self.options(source)
        ok, why = await fetcher.allowed(source.url)
        if not ok:
            raise FetchError(f"{why}; the listing page was not fetched")
        result, links = await fetch_parsed(fetcher, source.url, state, parse_listing, opts.link_pattern, opts.limit,
                                           headers=HTML_ACCEPT)
        if links is None:
            return result  # unchanged since the last run
        if not links:
            result.warnings.append(f"no link on the listing page matches link_pattern {opts.link_pattern!r}; "
                                   "check the pattern against the page's links")
            return result
        known = set(state.get("known") or ())
        fetched = datetime.now(timezone.utc)

        async def one(url: str, anchor: str) -> Item | None:
            try:
                doc = await fetcher.article(url)
            except SourceError as exc:
                result.warnings.append(f"article {url}: {exc}")
                return None
            if not doc.text:
                result.warnings.append(f"article {url}: no main text found on the page")
                return None
            title = doc.title or anchor or url
            canon = canonical_url(url)
            return Item(
                id=item_id(canon, source.id, title, doc.published), source_id=source.id, source_name=source.name,
                tier=source.tier, url=url, canonical_url=canon, title=title, text=doc.text,
                summary=doc.text.split("\n", 1)[0][:500], language=doc.language or source.language,
                author=doc.author, published=doc.published, fetched=fetched,
                content_hash=text_hash(title, doc.text),
            )

        new = [(u, a) for u, a in links if canonical_url(u) not in known]
        items = await asyncio.gather(*(one(u, a) for u, a in new))
        result.items = [i for i in items if i is not None]
        return result


register(WebPageKind)
