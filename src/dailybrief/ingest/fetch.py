"""Fetch stage: get each source over HTTP and turn it into Items.

    fetch_sources ─┬─ Fetcher        async HTTP: bounded concurrency overall and per host,
                   │                 connect/read/total timeouts, retries with backoff on 429/5xx
                   │                 (honouring Retry-After), conditional GET, size cap, redirect
                   │                 limit, gzip/brotli, robots.txt for page fetches
                   ├─ sources.*      one kind per source type, registered by name (sources/)
                   └─ full text      opt-in per source: each new item's page, through extract.py

A failing source yields a ``SourceResult`` with its error; it never stops the
other sources, and the items a source did produce are kept even when a later
step of it (comments, full text) fails.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from ..errors import SourceError
from ..ids import text_hash
from ..netguard import current_source
from ..records import Comment, Item, Source, SourceResult
from ..text import detect_language, strip_controls
from . import sources as source_kinds
from .http import Fetcher, FetchSettings
from .sources.base import FeedFetch

__all__ = ["fetch_comments", "fetch_sources"]


# -- full text ---------------------------------------------------------------------
async def add_full_text(fetcher: Fetcher, source: Source, items: list[Item], known: set[str],
                        result: FeedFetch) -> None:
    """Fetch and extract the page of each new item of a source (opt-in); failures become warnings."""
    todo = [i for i in items if i.canonical_url not in known and i.url.startswith(("http://", "https://"))
            and len(i.text) < 1000][: fetcher.settings.full_text_items]

    async def one(item: Item) -> None:
        try:
            doc = await fetcher.article(item.url)
        except SourceError as exc:
            result.warnings.append(f"full text of '{item.title[:60]}': {exc}")
            return
        if len(doc.text) <= len(item.summary):
            result.warnings.append(f"full text of '{item.title[:60]}': the page holds no more text than the feed "
                                   "(a paywall, a script-built page or a very short post); kept the feed's text")
            return
        item.text = doc.text
        item.author = item.author or doc.author
        item.published = item.published or doc.published
        item.language = detect_language(f"{item.title} {doc.text[:500]}", item.language)
        item.content_hash = text_hash(item.title, item.text)

    await asyncio.gather(*(one(i) for i in todo))


ProgressHook = Callable[[SourceResult], None]


async def fetch_sources(
    sources: Iterable[Source],
    settings: FetchSettings,
    states: dict[str, dict[str, Any]] | None = None,
    progress: ProgressHook | None = None,
) -> list[tuple[SourceResult, FeedFetch | None]]:
    """Fetch every source concurrently; each result carries its items or its error.

    `states` holds, per source id, what the store remembers: ``cache`` (validators
    per URL for conditional GET; ``etag``/``last_modified`` for the main URL are
    read too) and ``known`` (canonical URLs already stored with their text).
    """
    states = states or {}
    sources = list(sources)
    fetcher = Fetcher(settings, sources=len(sources))
    fetcher.trust(*(s.url for s in sources))
    results: dict[str, tuple[SourceResult, FeedFetch | None]] = {}

    async def one(source: Source) -> tuple[SourceResult, FeedFetch | None]:
        current_source.set(source.id)
        start = time.perf_counter()
        result = SourceResult(source)
        got: FeedFetch | None = None
        kind = source_kinds.get(source.kind)
        try:
            if kind is None:
                raise SourceError(f"unknown source kind '{source.kind}'; use one of {', '.join(source_kinds.names())}")
            state = dict(states.get(source.id, {}))
            cache = dict(state.get("cache") or {})
            if state.get("etag") or state.get("last_modified"):
                cache.setdefault(source.url, {k: state[k] for k in ("etag", "last_modified") if state.get(k)})
            state["cache"] = cache
            got = await kind.fetch(fetcher, source, state)
            result.items, result.status, result.not_modified = got.items, got.status, got.status == 304
            if source.full_text and got.items:
                await add_full_text(fetcher, source, got.items, set(state.get("known") or ()), got)
            main = got.cache.get(source.url, {})
            got.etag = got.etag or main.get("etag")
            got.last_modified = got.last_modified or main.get("last_modified")
            for item in got.items:
                bound_item(item, settings.max_item_chars)
        except SourceError as exc:
            result.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - one broken source must not end the run
            result.error = f"unexpected {type(exc).__name__}: {exc}"
        result.seconds = time.perf_counter() - start
        result.refused = [str(r) for r in fetcher.refused if r.source == source.id]
        results[source.id] = result, got
        if progress:
            progress(result)
        return result, got

    tasks = [asyncio.ensure_future(one(s)) for s in sources]
    try:
        if tasks:
            await asyncio.wait(tasks, timeout=settings.deadline or None)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await fetcher.aclose()
    out = []
    for source in sources:
        if source.id not in results:
            late = SourceResult(source, error=(
                f"not finished when the fetch stage's deadline of {settings.deadline:g} s passed "
                "([fetch].deadline); what it had fetched is dropped, and it is tried again on the next run"))
            late.refused = [str(r) for r in fetcher.refused if r.source == source.id]
            if progress:
                progress(late)
            results[source.id] = late, None
        out.append(results[source.id])
    for host in fetcher.given_up:
        first = next((r for r, _ in out if urlsplit(r.source.url).netloc == host), out[0][0] if out else None)
        if first is not None:
            first.notes.append(f"{host} timed out {settings.host_timeouts} times, so it was not asked again "
                               "in this run ([fetch].host_timeouts)")
    return out


def bound_item(item: Item, max_chars: int) -> Item:
    """An item as it may be stored: invisible and control characters out of its title, text and author (and NULs out
    of its links), and the title, text, summary and each comment capped at ``max_chars`` (a 5 MB summary otherwise
    stalls every later stage)."""
    item.title = strip_controls(item.title).strip() or item.url  # a title of controls alone: its link
    item.text = strip_controls(item.text)
    item.summary = strip_controls(item.summary)
    item.author = strip_controls(item.author)
    for key in ("url", "canonical_url", "comments_url", "thread_url"):  # a NUL in a link: the store refuses it
        setattr(item, key, getattr(item, key).replace("\x00", ""))
    if len(item.title) > max_chars or len(item.text) > max_chars:
        item.title, item.text = item.title[:max_chars], item.text[:max_chars]
        item.content_hash = text_hash(item.title, item.text or item.summary)
    if len(item.summary) > max_chars:
        item.summary = item.summary[:max_chars]
    for comment in item.comments:
        bound_comment(comment, max_chars)
    return item


async def fetch_page_texts(items: Iterable[Item], settings: FetchSettings) -> tuple[dict[str, str], list[str]]:
    """The main text of each item's page, by the full-text path (robots.txt honoured, extract.py): for a story's
    lead item that came with no summary. Pages that hold no text, or fail, are reported and skipped."""
    fetcher = Fetcher(settings)
    found: dict[str, str] = {}
    errors: list[str] = []

    async def one(item: Item) -> None:
        try:
            doc = await fetcher.article(item.url)
        except SourceError as exc:
            errors.append(f"page text of '{item.title[:60]}': {exc}")
            return
        if doc.text.strip():
            found[item.id] = doc.text
        else:
            errors.append(f"page text of '{item.title[:60]}': the page holds no text (a script-built page?)")

    try:
        await asyncio.gather(*(one(i) for i in items if i.url.startswith(("http://", "https://"))))
    finally:
        await fetcher.aclose()
    return found, errors


async def fetch_comments(
    wanted: Iterable[tuple[Source, Item]], settings: FetchSettings, refused: list[str] | None = None,
) -> tuple[dict[str, list[Comment]], list[str]]:
    """The top comments of chosen items (those that made the briefing), by their source's kind.

    URLs refused by the guard (netguard.py) are added to ``refused``, each with its source's name."""
    wanted = list(wanted)
    fetcher = Fetcher(settings)
    fetcher.trust(*(s.url for s, _ in wanted))
    found: dict[str, list[Comment]] = {}
    errors: list[str] = []

    async def one(source: Source, item: Item) -> None:
        current_source.set(source.id)
        kind = source_kinds.get(source.kind)
        if kind is None:
            return
        try:
            comments = await kind.comments(fetcher, source, item, settings.top_comments)
        except SourceError as exc:
            errors.append(f"{source.name}: comments of '{item.title[:60]}': {exc}")
        except Exception as exc:  # noqa: BLE001 - comments are extra; never worth a crash
            errors.append(f"{source.name}: comments of '{item.title[:60]}': unexpected {type(exc).__name__}: {exc}")
        else:
            if comments:
                found[item.id] = [bound_comment(c, settings.max_item_chars) for c in comments]

    try:
        await asyncio.gather(*(one(s, i) for s, i in wanted))
    finally:
        await fetcher.aclose()
    if refused is not None:
        names = {s.id: s.name for s, _ in wanted}
        refused.extend(f"{names.get(r.source, r.source)}: refused {r}" for r in fetcher.refused)
    return found, errors


def bound_comment(comment: Comment, max_chars: int) -> Comment:
    comment.text = strip_controls(comment.text)[:max_chars]
    comment.author = strip_controls(comment.author)
    return comment
