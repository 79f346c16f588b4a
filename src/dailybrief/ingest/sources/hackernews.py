"""Hacker News: top stories with points and comment counts, and their top comments.

Two APIs, chosen with ``api``:

- ``firebase`` (default), the official API: ``{url}/topstories.json`` lists ids,
  ``{url}/item/<id>.json`` gives each story (``score``, ``descendants``, ``kids``);
  a story's ``kids`` are its top-level comments in ranked order.
- ``algolia``: ``{url}/search?tags=front_page`` gives the front page with
  ``points`` and ``num_comments`` in one request; ``{url}/items/<id>`` the thread.

An item's URL is the article it links to (so it meets the same article from
other sources); its ``comments_url`` is the discussion on ``site_url``.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from ...errors import ParseError, SourceError
from ...ids import canonical_url, item_id, text_hash
from ...records import Comment, Item, Source
from ...sanitize import html_to_text
from ...text import detect_language
from ..http import check_status
from .base import BaseKind, FeedFetch, KindOptions, register

if TYPE_CHECKING:
    from ..http import Fetcher

FIREBASE = "https://hacker-news.firebaseio.com/v0"
ALGOLIA = "https://hn.algolia.com/api/v1"
LISTS = {"top": "topstories", "best": "beststories", "new": "newstories", "ask": "askstories", "show": "showstories"}


class HackerNewsOptions(KindOptions):
    api: Literal["firebase", "algolia"] = "firebase"
    list: Literal["top", "best", "new", "ask", "show"] = "top"
    limit: int = Field(30, ge=1, le=500)
    min_points: int = Field(0, ge=0)
    site_url: str = "https://news.ycombinator.com"


def _json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParseError(f"{what} is not JSON ({exc}); check that url points at the Hacker News API") from None


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


class HackerNewsKind(BaseKind):
    name = "hackernews"
    default_url = FIREBASE
    default_tier = "community"
    Options = HackerNewsOptions
    identity_keys = ("api", "list")

    def ranked(self, url: str, options: dict[str, Any]) -> bool:
        """Every list but "new" (which is by time) is ranked: the front page, the best, Ask and Show HN."""
        return options.get("list", "top") != "new"

    async def fetch(self, fetcher: Fetcher, source: Source, state: dict[str, Any]) -> FeedFetch:
        opts: HackerNewsOptions = self.options(source)
        base = source.url.rstrip("/")
        if opts.api == "algolia":
            stories, warnings = await self._algolia(fetcher, base, opts)
        else:
            stories, warnings = await self._firebase(fetcher, base, opts)
        fetched = datetime.now(timezone.utc)
        items: list[Item] = []
        kids: dict[str, list[Any]] = {}
        for place, story in enumerate(stories, 1):
            item = self._item(story, source, opts, fetched)
            if item is not None and source.ranked:
                item.position = place
            if item is not None and (item.points or 0) >= opts.min_points:
                items.append(item)
                kids[item.id] = story.get("kids") or story.get("children") or []
        result = FeedFetch(items, 200, warnings=warnings)
        if source.comments:
            threads = sorted(items, key=lambda i: -(i.points or 0))[: fetcher.settings.comment_threads]

            async def one(item: Item) -> None:
                try:
                    if opts.api == "firebase":
                        item.comments = await self._comments(fetcher, base, opts, kids[item.id],
                                                             fetcher.settings.top_comments)
                    else:
                        item.comments = await self.comments(fetcher, source, item, fetcher.settings.top_comments)
                except SourceError as exc:
                    result.warnings.append(f"comments of '{item.title[:60]}': {exc}")

            await asyncio.gather(*(one(i) for i in threads))
        return result

    # -- the two APIs --------------------------------------------------------------
    async def _firebase(self, fetcher: Fetcher, base: str, opts: HackerNewsOptions) -> tuple[list[dict[str, Any]], list[str]]:
        resp = await fetcher.get(f"{base}/{LISTS[opts.list]}.json")
        check_status(resp)
        ids = _json(resp.body, "the story list")
        if not isinstance(ids, list):
            raise ParseError("the story list is not a JSON array of ids; check that url is the HN API base")
        warnings: list[str] = []
        stories = await asyncio.gather(*(self._firebase_item(fetcher, base, i, warnings) for i in ids[: opts.limit]))
        return [s for s in stories if s], warnings

    async def _firebase_item(self, fetcher: Fetcher, base: str, ident: Any, warnings: list[str]) -> dict[str, Any] | None:
        try:
            resp = await fetcher.get(f"{base}/item/{int(ident)}.json")
            check_status(resp, f"item {ident}")
            data = _json(resp.body, f"item {ident}")
        except (SourceError, TypeError, ValueError) as exc:
            warnings.append(f"item {ident}: {exc}")
            return None
        return data if isinstance(data, dict) else None

    async def _algolia(self, fetcher: Fetcher, base: str, opts: HackerNewsOptions) -> tuple[list[dict[str, Any]], list[str]]:
        tags = {"top": "front_page", "best": "front_page", "new": "story", "ask": "ask_hn", "show": "show_hn"}[opts.list]
        path = "search_by_date" if opts.list == "new" else "search"
        resp = await fetcher.get(f"{base}/{path}?tags={tags}&hitsPerPage={opts.limit}")
        check_status(resp)
        data = _json(resp.body, "the search answer")
        hits = data.get("hits") if isinstance(data, dict) else None
        if not isinstance(hits, list):
            raise ParseError("the search answer has no 'hits'; check that url is the Algolia HN API base")
        stories = []
        for h in hits:
            if not isinstance(h, dict):
                continue
            stories.append({"id": h.get("objectID") or h.get("story_id"), "title": h.get("title"), "url": h.get("url"),
                            "by": h.get("author"), "score": h.get("points"), "descendants": h.get("num_comments"),
                            "time": h.get("created_at_i"), "text": h.get("story_text") or ""})
        return stories, []

    # -- items and comments -----------------------------------------------------------
    def _item(self, story: dict[str, Any], source: Source, opts: HackerNewsOptions, fetched: datetime) -> Item | None:
        if story.get("deleted") or story.get("dead") or not story.get("title") or story.get("id") is None:
            return None
        thread = f"{opts.site_url.rstrip('/')}/item?id={story['id']}"
        url = str(story.get("url") or thread)
        title = html_to_text(str(story["title"]))
        text = html_to_text(str(story.get("text") or ""))
        canon = canonical_url(url)
        published = _time(story.get("time"))
        post = thread if url != thread else ""  # a link post's discussion; an Ask HN post is its own thread
        return Item(
            id=item_id(canon, source.id, title, published, post), source_id=source.id,
            source_name=source.name, tier=source.tier, url=url, canonical_url=canon, title=title, summary=text,
            language=detect_language(f"{title} {text[:300]}", source.language), author=str(story.get("by") or ""),
            published=published, fetched=fetched, points=_int(story.get("score")),
            comment_count=_int(story.get("descendants")), comments_url=thread, thread_url=post,
            content_hash=text_hash(title, text),
        )

    async def _comments(self, fetcher: Fetcher, base: str, opts: HackerNewsOptions, kids: list[Any], limit: int) -> list[Comment]:
        if opts.api == "algolia":
            return [c for c in (self._comment(k, opts) for k in kids) if c][:limit]
        out: list[Comment] = []
        # Ranked order; some are deleted or dead, so ask for a few more than needed.
        wanted = kids[: limit + 5]
        raw = await asyncio.gather(*(self._firebase_item(fetcher, base, k, []) for k in wanted))
        for data in raw:
            c = self._comment(data, opts) if data else None
            if c:
                out.append(c)
        return out[:limit]

    @staticmethod
    def _comment(data: Any, opts: HackerNewsOptions) -> Comment | None:
        if not isinstance(data, dict) or data.get("deleted") or data.get("dead"):
            return None
        text = html_to_text(str(data.get("text") or ""))
        if not text:
            return None
        ident = data.get("id")
        return Comment(author=str(data.get("by") or data.get("author") or ""), text=text,
                       url=f"{opts.site_url.rstrip('/')}/item?id={ident}" if ident is not None else "",
                       published=_time(data.get("time") or data.get("created_at_i")))

    async def comments(self, fetcher: Fetcher, source: Source, item: Item, limit: int) -> list[Comment]:
        opts: HackerNewsOptions = self.options(source)
        ident = item.comments_url.rsplit("id=", 1)[-1]
        if not ident.isdigit():
            return []
        base = source.url.rstrip("/")
        if opts.api == "algolia":
            resp = await fetcher.get(f"{base}/items/{ident}")
            check_status(resp)
            data = _json(resp.body, f"thread {ident}")
            return await self._comments(fetcher, base, opts, (data or {}).get("children") or [], limit)
        data = await self._firebase_item(fetcher, base, ident, [])
        return await self._comments(fetcher, base, opts, (data or {}).get("kids") or [], limit)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


register(HackerNewsKind)
