"""Feeds: RSS 0.9x/1.0/2.0, Atom and RDF (through feedparser), and JSON Feed 1.0/1.1.

Also the place that turns any parsed feed into Items, so the other kinds that
read Atom (Reddit, arXiv, GitHub) share one careful path: text from HTML,
aggregator furniture stripped, engagement figures picked up, comment feeds
followed for community sources.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import feedparser
import feedparser_rs

from ...errors import ParseError, SourceError
from ...ids import canonical_url, item_id, text_hash
from ...records import Comment, Item, Source
from ...sanitize import html_to_text
from ...text import clip, detect_language, split_sentences, strip_boilerplate
from ..charset import encoding_warning, xml_as_utf8
from ..http import check_status
from .base import BaseKind, FeedFetch, fetch_items, register

if TYPE_CHECKING:
    from ..http import Fetcher

__all__ = ["FeedKind", "comments_from_feed", "entries_to_items", "feed_warnings", "parse_feed"]


# -- parsing -----------------------------------------------------------------
def _struct(value: Any) -> time.struct_time | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            dt = parsedate_to_datetime(value)  # RFC 822, which some JSON feeds use anyway
        except (TypeError, ValueError):
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).timetuple()


def _json_feed(data: Any) -> Any:
    """A JSON Feed (https://jsonfeed.org, 1.0 and 1.1) in feedparser's shape."""
    if not isinstance(data, dict) or not (
        "jsonfeed.org/version" in str(data.get("version", "")) or isinstance(data.get("items"), list)
    ):
        raise ParseError("the body is JSON but not a JSON Feed (no 'version' or 'items'); check the URL")
    entries = []
    for raw in data.get("items") or []:
        if not isinstance(raw, dict):
            continue
        authors = raw.get("authors") or ([raw["author"]] if isinstance(raw.get("author"), dict) else [])
        names = [str(a.get("name", "")) for a in authors if isinstance(a, dict) and a.get("name")]
        content = []
        if raw.get("content_html"):
            content.append({"type": "text/html", "value": str(raw["content_html"])})
        elif raw.get("content_text"):
            content.append({"type": "text/plain", "value": str(raw["content_text"])})
        entries.append(feedparser.FeedParserDict({
            "id": str(raw.get("id", "")),
            "title": str(raw.get("title") or ""),
            "link": str(raw.get("url") or raw.get("external_url") or ""),
            "summary": str(raw.get("summary") or ""),
            "content": content,
            "published_parsed": _struct(raw.get("date_published")),
            "updated_parsed": _struct(raw.get("date_modified")),
            "author": ", ".join(names),
            "tags": [{"term": str(t)} for t in raw.get("tags") or []],
        }))
    version = "json11" if str(data.get("version", "")).endswith("1.1") else "json1"
    return feedparser.FeedParserDict({
        "feed": {"title": str(data.get("title") or ""), "link": str(data.get("home_page_url") or "")},
        "entries": entries, "bozo": False, "version": version, "encoding": "utf-8",
    })


_ALTERNATE = re.compile(
    rb"""<link[^>]+type=["']application/(?:rss|atom|feed)\+(?:xml|json)["'][^>]*>""", re.I)
_HREF = re.compile(rb"""href=["']([^"']+)["']""", re.I)


def _html_hint(body: bytes, url: str) -> str:
    """For an HTML page where a feed was expected: the feed it advertises, if any."""
    for tag in _ALTERNATE.findall(body[:200_000]):
        if m := _HREF.search(tag):
            return f"; the page advertises a feed at {urljoin(url, m.group(1).decode('utf-8', 'replace'))}, use that as url"
    return "; use the site's RSS/Atom feed URL, or kind = \"webpage\" with a link_pattern"


# What feedparser-rs reads differently from feedparser (measured on feedparser's own corpus): base64 content,
# xml:base, cp1252 punctuation sent as C1 controls (feedparser "demoronizes" them), and entries without an
# absolute link or a date, and feeds it finds no entries in (feedparser knows more places for each). Such a
# body goes to feedparser.
_FEEDPARSER_ONLY = re.compile(rb"base64|xml:base|\xc2[\x80-\x9f]")


def _fast_parse(body: bytes) -> Any | None:
    """feedparser-rs's reading of a well-formed feed, in feedparser's shape; None when it finds fault with the
    body or the body needs what only feedparser does (above). About 30x less CPU than feedparser on a 30-entry
    RSS feed, which is what bounds a big fetch (benchmarks/ingest.py). Its entries answer ``get`` as
    feedparser's do. Always given bytes: a ``str`` that looks like a URL it would fetch itself."""
    if _FEEDPARSER_ONLY.search(body):
        return None
    try:
        fast = feedparser_rs.parse(body, sanitize_html=False, resolve_relative_uris=False)
    except Exception:  # noqa: BLE001 - whatever it rejects, feedparser reads
        return None
    if fast.bozo or not fast.version or fast.version.startswith("json") or not fast.entries:
        return None  # an empty reading too: feedparser finds entries in namespaces it misses
    for entry in fast.entries:
        if not str(entry.get("link") or "").startswith(("http://", "https://")) or not (
                entry.get("published_parsed") or entry.get("updated_parsed")):
            return None
    return feedparser.FeedParserDict({"feed": fast.feed, "entries": list(fast.entries), "bozo": False,
                                      "version": fast.version, "encoding": "utf-8", "parser": "feedparser-rs"})


def parse_feed(body: bytes, url: str, headers: dict[str, str] | None = None, *, fast: bool = True) -> Any:
    """feedparser's result for a body (RSS, Atom, RDF or JSON Feed), or ParseError when it holds no feed.

    The body is decoded first (declared, undeclared and mis-declared encodings),
    so feedparser always sees UTF-8. A note on the encoding is left in
    ``result['charset_note']`` when the declaration was missing or wrong.

    With ``fast`` (the default) a well-formed feed is read by feedparser-rs (``_fast_parse``); a kind that
    reads namespace extensions only feedparser exposes, or edits the entries, passes ``fast=False``.
    """
    lower = {k.lower(): v for k, v in (headers or {}).items()}
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] in (b"{", b"["):
        try:
            return _json_feed(json.loads(body.decode("utf-8-sig", "replace")))
        except json.JSONDecodeError as exc:
            raise ParseError(f"the body looks like JSON but is not valid JSON ({exc}); check the URL") from None
    ctype = lower.get("content-type", "")
    fixed, decoded = xml_as_utf8(body, ctype)
    media = ctype.split(";")[0].strip() or "application/xml"
    parsed = (_fast_parse(fixed) if fast else None) or feedparser.parse(
        fixed, sanitize_html=False, resolve_relative_uris=False,
        response_headers={**lower, "content-type": f"{media}; charset=utf-8", "content-location": url},
    )
    if decoded.note:
        parsed["charset_note"] = decoded.note
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        reason = parsed.get("bozo_exception") or "no feed elements found"
        looks_html = re.match(rb"\s*(<!--.*?-->\s*)*<(!doctype html|html)", body[:2000], re.I | re.S)
        if looks_html or "html" in media:
            raise ParseError(f"not a readable feed (the server sent an HTML page{_html_hint(body, url)})")
        raise ParseError(f"not a readable feed (the body: {reason}); check that the URL points at an RSS/Atom feed")
    return parsed


# -- entries to items ---------------------------------------------------------
def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime(*value[:6]).replace(tzinfo=timezone.utc)
            except (TypeError, ValueError):
                continue
    return None


_NUM = r"([0-9][0-9,]*)"
_POINTS = re.compile(r"(?:Points|points|score|Score)\s*[:：]\s*" + _NUM)
_COMMENTS = re.compile(r"#\s*Comments\s*[:：]\s*" + _NUM, re.I)


def _int(value: Any) -> int | None:
    try:
        return int(str(value).replace(",", "").strip())
    except (TypeError, ValueError):
        return None


def _engagement(entry: Any, text: str) -> tuple[int | None, int | None, int | None]:
    """Points, comment count and score, from slash:comments, hnrss-style text or score categories."""
    points = comments = score = None
    if m := _POINTS.search(text):
        points = _int(m.group(1))
    if m := _COMMENTS.search(text):
        comments = _int(m.group(1))
    if entry.get("slash_comments") is not None:
        comments = _int(entry.get("slash_comments"))
    for tag in entry.get("tags", []) or []:
        term = str(tag.get("term") or "")
        if term.startswith("score:"):
            score = _int(term[6:])
    return points, comments, score


def _comments_url(entry: Any) -> str:
    if entry.get("wfw_commentrss"):
        return str(entry["wfw_commentrss"])
    for link in entry.get("links", []) or []:
        if link.get("rel") == "replies" and "xml" in (link.get("type") or "xml"):
            return str(link.get("href") or "")
    return ""


def _thread_url(entry: Any, canon: str) -> str:
    """The page of a post's discussion (RSS <comments>, as Hacker News feeds give) when it is not the linked
    page itself; empty otherwise."""
    url = str(entry.get("comments", "") or "")
    return url if url.startswith(("http://", "https://")) and canonical_url(url) != canon else ""


def _content(entry: Any) -> str:
    contents = [c.get("value", "") for c in entry.get("content", []) or []]
    return max(contents, key=len) if contents else ""


def _author(entry: Any) -> str:
    author = str(entry.get("author", "") or "")
    if not author and entry.get("authors"):
        author = ", ".join(str(a.get("name", "")) for a in entry["authors"] if a.get("name"))
    return author


# arXiv's listing furniture, as its RSS/Atom feeds (and mirrors of them) carry it: "arXiv:2511.14846v1 Announce
# Type: cross Abstract: ..." before the abstract, and "(arXiv:2511.14846v1 [cs.AI])" after an older feed's title.
_ARXIV_LEAD = re.compile(r"^\s*arXiv:(\d{4}\.\d{4,5})(?:v\d+)?\s+Announce Type:\s*[\w-]+\s*(?:Abstract:\s*)?", re.I)
_ARXIV_TITLE = re.compile(r"\s*\(arXiv:(\d{4}\.\d{4,5})(?:v\d+)?(?:\s*\[[^\]]*\])?[^)]*\)\s*$", re.I)
_ARXIV_LINK = re.compile(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})", re.I)


def arxiv_entry(title: str, summary: str, link: str) -> tuple[str, str, str] | None:
    """A paper from an arXiv listing in any RSS/Atom form: (clean title, abstract, its abs page without a version,
    so a paper cross-listed in several categories is one item), or None when the entry is not one."""
    lead, tail, at = _ARXIV_LEAD.match(summary), _ARXIV_TITLE.search(title), _ARXIV_LINK.search(link)
    paper = (lead and lead.group(1)) or (tail and tail.group(1)) or None
    if not paper or not (lead or tail):
        return None
    paper = at.group(1) if at else paper
    return (_ARXIV_TITLE.sub("", title).strip(), _ARXIV_LEAD.sub("", summary).strip(),
            f"https://arxiv.org/abs/{paper}")


def entries_to_items(parsed: Any, source: Source, fetched: datetime) -> list[Item]:
    """A parsed feed's entries as items, in the feed's order; a ranked listing's (``source.ranked``) keep their
    place in it (``position``, 1 the first)."""
    items: list[Item] = []
    feed = parsed.get("feed") or {}
    # Links that name no entry's own page: every entry of a sloppy feed may link to the feed or its site's home.
    generic = {canonical_url(u) for u in (source.url, str(feed.get("link", "") or "")) if u}
    for entry in parsed.entries:
        title = html_to_text(entry.get("title", "") or "").strip()
        link = str(entry.get("link", "") or "").strip()
        if link and not link.lower().startswith(("http://", "https://")):
            link = ""  # javascript:, data:, mailto:: nothing a reader can open, nor the entry's identity
        description = entry.get("summary", "") or ""
        raw = html_to_text(description)
        summary = strip_boilerplate(raw)
        paper = arxiv_entry(title, summary, link)
        if paper:  # read as arXiv, whatever tier the source was given: a paper
            title, summary, link = paper
        content = _content(entry)
        text = strip_boilerplate(html_to_text(content)) if content and content != description else ""
        if text == summary:
            text = ""
        if not title and not link and not (summary or text):
            continue  # nothing to cite or read: not an item
        if not link and str(entry.get("id", "")).startswith(("http://", "https://")):
            link = str(entry["id"])
        if not title:  # RSS 2.0 allows items with a description only (microblogs, bridges)
            first = split_sentences(summary or text)
            title = clip(first[0], 100) if first else link
        points, comments, score = _engagement(entry, raw)
        canon = canonical_url(link)
        own = "" if canon in generic else canon  # not its own page: the entry is known by its title and date
        published = _when(entry)
        lang = detect_language(f"{title} {summary[:300]}", source.language)
        thread = _thread_url(entry, canon) if source.tier == "community" else ""
        items.append(Item(
            id=item_id(own, source.id, title, published, thread),
            source_id=source.id, source_name=source.name, tier="paper" if paper else source.tier,
            url=link, canonical_url=canon, title=title, summary=summary, text=text,
            language=lang, author=_author(entry), published=published, fetched=fetched,
            points=points, comment_count=comments, score=score,
            comments_url=_comments_url(entry), thread_url=thread, content_hash=text_hash(title, text or summary),
            position=len(items) + 1 if source.ranked else None,
        ))
    return items


def comments_from_feed(parsed: Any) -> list[Comment]:
    out = []
    for entry in parsed.entries:
        content = _content(entry)
        body = strip_boilerplate(html_to_text(content or entry.get("summary", "") or "")) \
            or html_to_text(entry.get("title", "") or "")
        if not body:
            continue
        _, _, score = _engagement(entry, "")
        out.append(Comment(
            author=_author(entry), text=body, url=str(entry.get("link", "") or ""),
            score=score, published=_when(entry),
        ))
    return out


def parse_items(body: bytes, url: str, headers: dict[str, str], source: Source) -> tuple[list[Item], list[str]]:
    """Parse a feed body into items, with warnings for what was recovered or guessed. CPU-bound."""
    parsed = parse_feed(body, url, headers)
    items = entries_to_items(parsed, source, datetime.now(timezone.utc))
    return items, feed_warnings(parsed, items)


def feed_warnings(parsed: Any, items: list[Item], what: str = "feed") -> list[str]:
    """What every kind that reads a feed warns of: an encoding that was guessed or mis-declared, and a feed
    that was not well-formed but still gave `items`."""
    warnings = encoding_warning(parsed.get("charset_note", ""))
    if parsed.bozo and items:
        warnings.append(f"{what} is not well-formed, read what could be read ({parsed.get('bozo_exception')})")
    return warnings


def parse_comments(body: bytes, url: str, headers: dict[str, str]) -> list[Comment]:
    return comments_from_feed(parse_feed(body, url, headers))


async def follow_comment_feeds(fetcher: Fetcher, source: Source, items: list[Item], result: FeedFetch,
                               fetch_one: Any = None) -> None:
    """Fetch the top comments of the most-discussed threads among `items` (community sources only)."""
    if source.tier != "community" or not source.comments:
        return
    limit = fetcher.settings.top_comments
    threads = sorted((i for i in items if i.comments_url),
                     key=lambda i: -(i.points or i.score or i.comment_count or 0))
    threads = threads[: fetcher.settings.comment_threads]
    kind = fetch_one or (lambda item: FeedKind.thread(fetcher, source, item, limit))

    async def one(item: Item) -> None:
        try:
            item.comments = await kind(item)
        except SourceError as exc:
            result.warnings.append(f"comments of '{item.title[:60]}': {exc}")

    await asyncio.gather(*(one(i) for i in threads))


# -- the kind ---------------------------------------------------------------
# Feeds that are a ranked listing rather than a stream by date: Hacker News's front page, in its order.
RANKED_FEEDS = re.compile(r"^https?://news\.ycombinator\.com/rss/?$")


class FeedKind(BaseKind):
    """RSS 0.9x/1.0/2.0, Atom, RDF and JSON Feed, with conditional GET and comment feeds."""

    name = "rss"

    def ranked(self, url: str, options: dict[str, Any]) -> bool:
        """A feed lists by date, but for the known ranked listings among feeds (RANKED_FEEDS)."""
        return bool(RANKED_FEEDS.match(url))

    async def fetch(self, fetcher: Fetcher, source: Source, state: dict[str, Any]) -> FeedFetch:
        result = await fetch_items(fetcher, source.url, state, parse_items, source)
        await follow_comment_feeds(fetcher, source, result.items, result)
        return result

    @staticmethod
    async def thread(fetcher: Fetcher, source: Source, item: Item, limit: int) -> list[Comment]:
        url = urljoin(source.url, item.comments_url)
        item.comments_url = url
        resp = await fetcher.get(url)
        check_status(resp)
        comments = await fetcher.cpu(parse_comments, resp.body, resp.url, resp.headers)
        return comments[:limit] if limit else comments

    async def comments(self, fetcher: Fetcher, source: Source, item: Item, limit: int) -> list[Comment]:
        if not item.comments_url:
            return []
        return await self.thread(fetcher, source, item, limit)


register(FeedKind)
