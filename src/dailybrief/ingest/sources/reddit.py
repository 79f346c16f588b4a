"""Reddit: subreddit listings and thread comments through the ``.rss`` endpoints.

The unauthenticated ``.json`` endpoints answer 403 now; the Atom feeds still
work: ``{url}/r/<sub>/<listing>/.rss`` for a listing and ``<permalink>.rss`` for a
thread, whose ``t1_`` entries are its comments. Reddit's feeds carry no score
or comment count; where a bridge adds them (``score:`` categories,
``slash:comments``) they are read. A link post's item points at the article it
links to; its ``comments_url`` is the thread.

Reddit rate-limits anonymous clients hard: the fetcher's retries honour its
``Retry-After``, and a descriptive ``[fetch].user_agent`` helps.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from ...ids import item_id
from ...records import Comment, Item, Source
from ..http import check_status
from .base import BaseKind, FeedFetch, KindOptions, fetch_items, register
from .feed import comments_from_feed, entries_to_items, feed_warnings, follow_comment_feeds, parse_feed

if TYPE_CHECKING:
    from ..http import Fetcher

_NAME = re.compile(r"^[A-Za-z0-9_]{2,21}(\+[A-Za-z0-9_]{2,21})*$")
_REDDIT_HOSTS = ("reddit.com", "redd.it", "redditmedia.com", "reddituploads.com")
_LINK = re.compile(r"""<a href="([^"]+)">\s*\[link\]\s*</a>""")


class Options(KindOptions):
    subreddit: str
    listing: Literal["hot", "new", "top", "rising"] = "hot"
    period: Literal["hour", "day", "week", "month", "year", "all"] = "day"
    limit: int = Field(25, ge=1, le=100)

    @field_validator("subreddit")
    @classmethod
    def _name(cls, v: str) -> str:
        v = v.strip().removeprefix("/").removeprefix("r/")
        if not _NAME.match(v):
            raise ValueError("use a subreddit name such as 'MachineLearning' (or 'a+b' for several), without r/")
        return v


def _is_reddit(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in _REDDIT_HOSTS)


def parse_listing(body: bytes, url: str, headers: dict[str, str], source: Source) -> tuple[list[Item], list[str]]:
    parsed = parse_feed(body, url, headers, fast=False)  # feedparser: its entries can be edited
    threads: dict[str, str] = {}
    for entry in parsed.entries:
        permalink = str(entry.get("link") or "")
        content = " ".join(c.get("value", "") for c in entry.get("content", []) or []) or entry.get("summary", "")
        m = _LINK.search(content or "")
        target = m.group(1).replace("&amp;", "&") if m else ""
        if target and not _is_reddit(target) and target.startswith(("http://", "https://")):
            entry["link"] = target  # a link post: the item is the article, the thread is its discussion
        if permalink:
            threads[str(entry.get("link"))] = permalink
    items = entries_to_items(parsed, source, datetime.now(timezone.utc))
    for item in items:
        item.comments_url = threads.get(item.url, item.url)
        item.author = item.author.removeprefix("/u/")
        if item.url != item.comments_url:  # a link post: its thread names it
            item.thread_url = item.comments_url
            item.id = item_id(item.canonical_url, source.id, item.title, item.published, item.thread_url)
    return items, feed_warnings(parsed, items)


def parse_thread(body: bytes, url: str, headers: dict[str, str]) -> list[Comment]:
    parsed = parse_feed(body, url, headers, fast=False)  # feedparser: its entries can be edited
    # The thread itself (t3_) comes first; its comments are t1_ (feedparser may have made the ids absolute).
    parsed["entries"] = [e for e in parsed.entries if not str(e.get("id", "")).rsplit("/", 1)[-1].startswith("t3_")]
    comments = comments_from_feed(parsed)
    for c in comments:
        c.author = c.author.removeprefix("/u/")
    return comments


class RedditKind(BaseKind):
    name = "reddit"
    default_url = "https://www.reddit.com"
    default_tier = "community"
    Options = Options
    identity_keys = ("subreddit", "listing", "period")

    def ranked(self, url: str, options: dict[str, Any]) -> bool:
        """Hot, top and rising are ranked listings; "new" is by time."""
        return options.get("listing", "hot") != "new"

    def listing_url(self, source: Source) -> str:
        opts: Options = self.options(source)
        query = f"?limit={opts.limit}" + (f"&t={opts.period}" if opts.listing == "top" else "")
        return f"{source.url.rstrip('/')}/r/{opts.subreddit}/{opts.listing}/.rss{query}"

    async def fetch(self, fetcher: Fetcher, source: Source, state: dict[str, Any]) -> FeedFetch:
        result = await fetch_items(fetcher, self.listing_url(source), state, parse_listing, source)
        limit = fetcher.settings.top_comments
        await follow_comment_feeds(fetcher, source, result.items, result,
                                   lambda item: self.comments(fetcher, source, item, limit))
        return result

    async def comments(self, fetcher: Fetcher, source: Source, item: Item, limit: int) -> list[Comment]:
        if not item.comments_url:
            return []
        # The thread's own feed, asked of the configured host (so a mirror or a test server works too).
        path = urlsplit(item.comments_url).path.rstrip("/")
        resp = await fetcher.get(f"{source.url.rstrip('/')}{path}/.rss?sort=top&limit={max(limit, 1) + 1}")
        check_status(resp)
        comments = await fetcher.cpu(parse_thread, resp.body, resp.url, resp.headers)
        return comments[:limit]


register(RedditKind)
