"""Fetch stage: get each source over HTTP and parse it into Items.

Source kinds sit behind one small interface and are registered by name in
``SOURCE_KINDS``. A failing source yields a ``SourceResult`` with its error;
it never stops the other sources.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import feedparser
import httpx

from .dedup import canonical_url, item_id, text_hash
from .errors import FetchError, ParseError, SourceError
from .records import Comment, Item, Source, SourceResult
from .text import detect_language, html_to_text, strip_boilerplate


@dataclass(slots=True)
class FetchSettings:
    connect_timeout: float = 5.0
    timeout: float = 20.0
    concurrency: int = 16
    per_host: int = 4
    max_bytes: int = 10_000_000
    user_agent: str = "dailybrief/0.1"
    comment_threads: int = 10


@dataclass(slots=True)
class Response:
    url: str
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class Fetcher:
    """An HTTP client with bounded concurrency overall and per host, timeouts and a size cap."""

    def __init__(self, settings: FetchSettings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
            follow_redirects=True,
            max_redirects=5,
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            limits=httpx.Limits(max_connections=settings.concurrency),
        )
        self._all = asyncio.Semaphore(settings.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(self, url: str, headers: dict[str, str] | None = None) -> Response:
        host = urlsplit(url).netloc
        sem = self._hosts.setdefault(host, asyncio.Semaphore(self.settings.per_host))
        async with self._all, sem:
            try:
                return await asyncio.wait_for(self._get(url, headers or {}), self.settings.timeout)
            except (TimeoutError, httpx.TimeoutException):
                raise FetchError(
                    f"no complete answer within {self.settings.timeout:g} s; the host is slow or down "
                    "(raise [fetch].timeout if it is just slow)"
                ) from None
            except httpx.TooManyRedirects:
                raise FetchError("too many redirects; check the URL") from None
            except httpx.ConnectError as exc:
                raise FetchError(f"cannot connect ({exc or 'refused'}); check the URL and that the host is up") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"{type(exc).__name__}: {exc or 'transport error'}") from None

    async def _get(self, url: str, headers: dict[str, str]) -> Response:
        limit = self.settings.max_bytes
        async with self._client.stream("GET", url, headers=headers) as resp:
            declared = resp.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise FetchError(f"body of {int(declared):,} bytes exceeds [fetch].max_bytes ({limit:,})")
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise FetchError(f"body exceeds [fetch].max_bytes ({limit:,} bytes)")
                chunks.append(chunk)
            return Response(str(resp.url), resp.status_code, b"".join(chunks), dict(resp.headers))


class SourceKind(Protocol):
    """One kind of source: turns a configured Source into Items."""

    name: str

    async def fetch(self, fetcher: Fetcher, source: Source, state: dict[str, Any]) -> FeedFetch: ...


@dataclass(slots=True)
class FeedFetch:
    items: list[Item]
    status: int
    etag: str | None = None
    last_modified: str | None = None
    warnings: list[str] = field(default_factory=list)


def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime(*value[:6], tzinfo=timezone.utc)
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


def _engagement(entry: Any, description: str) -> tuple[int | None, int | None, int | None]:
    """Points, comment count and score, from slash:comments, hnrss-style text or score categories."""
    points = comments = score = None
    text = html_to_text(description)
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


def _body(entry: Any) -> tuple[str, str]:
    """(summary text, full text) of an entry."""
    summary = strip_boilerplate(html_to_text(entry.get("summary", "") or ""))
    contents = [c.get("value", "") for c in entry.get("content", []) or []]
    text = strip_boilerplate(html_to_text(max(contents, key=len))) if contents else ""
    if text and text == summary:
        text = ""
    return summary, text


def parse_feed(body: bytes, url: str, headers: dict[str, str] | None = None) -> Any:
    """feedparser's result for a body, or ParseError when it holds no feed."""
    parsed = feedparser.parse(
        body, response_headers={"content-location": url, **{k.lower(): v for k, v in (headers or {}).items()}}
    )
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        reason = parsed.get("bozo_exception") or "no feed elements found"
        kind = "HTML" if body.lstrip()[:200].lower().startswith((b"<!doctype html", b"<html")) else "the body"
        raise ParseError(
            f"not a readable feed ({kind}: {reason}); check that the URL points at an RSS/Atom feed"
        )
    return parsed


def entries_to_items(parsed: Any, source: Source, fetched: datetime) -> list[Item]:
    items: list[Item] = []
    for entry in parsed.entries:
        title = html_to_text(entry.get("title", "") or "").strip()
        link = str(entry.get("link", "") or "")
        if not title and not link:
            continue
        summary, text = _body(entry)
        description = entry.get("summary", "") or ""
        points, comments, score = _engagement(entry, description)
        canon = canonical_url(link)
        published = _when(entry)
        author = str(entry.get("author", "") or "")
        lang = detect_language(f"{title} {summary[:300]}", source.language)
        items.append(Item(
            id=item_id(canon, source.id, title, published),
            source_id=source.id, source_name=source.name, tier=source.tier,
            url=link, canonical_url=canon, title=title or link, summary=summary, text=text,
            language=lang, author=author, published=published, fetched=fetched,
            points=points, comment_count=comments, score=score,
            comments_url=_comments_url(entry), content_hash=text_hash(title, text or summary),
        ))
    return items


def comments_from_feed(parsed: Any) -> list[Comment]:
    out = []
    for entry in parsed.entries:
        summary, text = _body(entry)
        body = text or summary or html_to_text(entry.get("title", "") or "")
        if not body:
            continue
        _, _, score = _engagement(entry, "")
        out.append(Comment(
            author=str(entry.get("author", "") or ""), text=body, url=str(entry.get("link", "") or ""),
            score=score, published=_when(entry),
        ))
    return out


class FeedKind:
    """RSS 0.9x/1.0/2.0, Atom and RDF feeds, with conditional GET and comment feeds."""

    name = "rss"

    async def fetch(self, fetcher: Fetcher, source: Source, state: dict[str, Any]) -> FeedFetch:
        headers = {}
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("last_modified"):
            headers["If-Modified-Since"] = state["last_modified"]
        resp = await fetcher.get(source.url, headers)
        if resp.status == 304:
            return FeedFetch([], 304)
        if resp.status >= 400:
            hint = {404: "the feed moved or the URL is wrong", 403: "the host refuses us; check the user agent",
                    429: "rate limited; fetch less often"}.get(resp.status, "the server failed; try again later")
            raise FetchError(f"HTTP {resp.status} ({hint})")
        parsed = parse_feed(resp.body, resp.url, resp.headers)
        items = entries_to_items(parsed, source, datetime.now(timezone.utc))
        result = FeedFetch(items, resp.status, resp.headers.get("etag"), resp.headers.get("last-modified"))
        if parsed.bozo and items:
            result.warnings.append(f"feed is not well-formed, read what could be read ({parsed.bozo_exception})")
        if source.tier == "community" and source.comments:
            await self._comments(fetcher, source, items, result)
        return result

    async def _comments(self, fetcher: Fetcher, source: Source, items: list[Item], result: FeedFetch) -> None:
        threads = sorted((i for i in items if i.comments_url),
                         key=lambda i: -(i.points or i.score or i.comment_count or 0))
        threads = threads[: fetcher.settings.comment_threads]

        async def one(item: Item) -> None:
            url = urljoin(source.url, item.comments_url)
            item.comments_url = url
            try:
                resp = await fetcher.get(url)
                if resp.status >= 400:
                    raise FetchError(f"HTTP {resp.status}")
                item.comments = comments_from_feed(parse_feed(resp.body, resp.url, resp.headers))
            except SourceError as exc:
                result.warnings.append(f"comments of '{item.title[:60]}': {exc}")

        await asyncio.gather(*(one(i) for i in threads))


SOURCE_KINDS: dict[str, SourceKind] = {"rss": FeedKind()}


def register_kind(kind: SourceKind) -> None:
    SOURCE_KINDS[kind.name] = kind


ProgressHook = Callable[[SourceResult], None]


async def fetch_sources(
    sources: Iterable[Source],
    settings: FetchSettings,
    states: dict[str, dict[str, Any]] | None = None,
    progress: ProgressHook | None = None,
) -> list[tuple[SourceResult, FeedFetch | None]]:
    """Fetch every source concurrently; each result carries its items or its error."""
    states = states or {}
    fetcher = Fetcher(settings)

    async def one(source: Source) -> tuple[SourceResult, FeedFetch | None]:
        start = time.perf_counter()
        result = SourceResult(source)
        got: FeedFetch | None = None
        kind = SOURCE_KINDS.get(source.kind)
        try:
            if kind is None:
                raise SourceError(f"unknown source kind '{source.kind}'; use one of {', '.join(SOURCE_KINDS)}")
            got = await kind.fetch(fetcher, source, states.get(source.id, {}))
            result.items, result.status, result.not_modified = got.items, got.status, got.status == 304
        except SourceError as exc:
            result.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - one broken source must not end the run
            result.error = f"unexpected {type(exc).__name__}: {exc}"
        result.seconds = time.perf_counter() - start
        if progress:
            progress(result)
        return result, got

    try:
        return list(await asyncio.gather(*(one(s) for s in sources)))
    finally:
        await fetcher.aclose()
