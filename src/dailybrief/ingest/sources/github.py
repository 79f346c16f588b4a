"""GitHub: the release feeds of chosen repositories (``{url}/<owner>/<repo>/releases.atom``).

One source covers several repositories. Each feed is fetched conditionally on
its own; a repository that fails is named in a warning while the others still
count. Release titles get the repository's name when they lack it
("v0.8.0" → "vllm-project/vllm v0.8.0"). Pre-releases (rc, alpha, beta, dev,
nightly) can be left out.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from ...errors import FetchError, SourceError
from ...ids import text_hash
from ...records import Item, Source
from .base import BaseKind, FeedFetch, KindOptions, fetch_items, register
from .feed import parse_items

if TYPE_CHECKING:
    from ..http import Fetcher

_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_PRE = re.compile(r"(?i)(?:\b|\d|[-_.])(rc|alpha|beta|preview|pre|dev|nightly|canary)[-_.]?\d*\b|[-.](a|b)\d+$")


class GitHubOptions(KindOptions):
    repos: list[str] = Field(min_length=1)
    limit: int = Field(5, ge=1, le=50)  # releases per repository and run
    prereleases: bool = True

    @field_validator("repos")
    @classmethod
    def _repos(cls, v: list[str]) -> list[str]:
        for r in v:
            if not _REPO.match(r):
                raise ValueError(f"'{r}' is not a repository; use 'owner/name', e.g. 'vllm-project/vllm'")
        return v


def is_prerelease(title: str, url: str) -> bool:
    tag = url.rsplit("/tag/", 1)[-1] if "/tag/" in url else ""
    return bool(_PRE.search(title) or (tag and _PRE.search(tag)))


class GitHubKind(BaseKind):
    name = "github"
    default_url = "https://github.com"
    default_tier = "code"
    Options = GitHubOptions
    identity_keys = ("repos",)

    async def fetch(self, fetcher: Fetcher, source: Source, state: dict[str, Any]) -> FeedFetch:
        opts: GitHubOptions = self.options(source)
        result = FeedFetch([], 200, cache=state.setdefault("cache", {}))
        outcomes = await asyncio.gather(*(self._repo(fetcher, source, repo, opts, state) for repo in opts.repos),
                                        return_exceptions=True)
        errors = []
        unchanged = 0
        for repo, outcome in zip(opts.repos, outcomes, strict=True):
            if isinstance(outcome, SourceError):
                errors.append(f"{repo}: {outcome}")
            elif isinstance(outcome, BaseException):
                errors.append(f"{repo}: unexpected {type(outcome).__name__}: {outcome}")
            elif outcome is None:
                unchanged += 1
            else:
                items, warnings = outcome
                result.items.extend(items)
                result.warnings.extend(f"{repo}: {w}" for w in warnings)
        if errors and len(errors) == len(opts.repos):
            raise FetchError("every repository failed: " + "; ".join(errors))
        result.warnings.extend(errors)
        if unchanged == len(opts.repos):
            result.status = 304
        return result

    async def _repo(self, fetcher: Fetcher, source: Source, repo: str, opts: GitHubOptions,
                    state: dict[str, Any]) -> tuple[list[Item], list[str]] | None:
        got = await fetch_items(fetcher, f"{source.url.rstrip('/')}/{repo}/releases.atom", state, parse_items, source)
        if got.status == 304:
            return None
        name = repo.split("/")[1].lower()
        kept = []
        for item in got.items:
            if not opts.prereleases and is_prerelease(item.title, item.url):
                continue
            if name not in item.title.lower():
                item.title = f"{repo} {item.title}"
                item.content_hash = text_hash(item.title, item.text or item.summary)
            kept.append(item)
        return kept[: opts.limit], got.warnings


register(GitHubKind)
