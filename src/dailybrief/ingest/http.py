"""The shared HTTP client of every source kind: per-host limits, retries honouring Retry-After,
conditional GET, a size cap, robots.txt for pages, parsing on worker processes.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import ssl
import urllib.robotparser
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import certifi
import httpcore
import httpx

from ..errors import FetchError
from ..netguard import Guard, GuardedTransport, Refusal, Refused, Resolver, current_source
from ..retry import RETRY_STATUSES, Retries
from .charset import decode

if TYPE_CHECKING:
    from .extract import Extracted

__all__ = [
    "HTML_ACCEPT",
    "PROCESS_POOL_SOURCES",
    "FetchSettings",
    "Fetcher",
    "Response",
    "T",
    "check_status",
]


_HINTS = {
    400: "the server rejected the request; check the URL and the source's options",
    401: "the host wants credentials; this source needs a feed that is public or a bridge",
    403: "the host refuses us; check the user agent, or read it through a feed bridge",
    404: "not found: the feed or page moved, or the URL is wrong",
    410: "the feed is gone; remove the source",
    429: "rate limited even after waiting as asked; fetch less often",
}


def check_status(resp: Response, what: str = "") -> None:
    """Raise a FetchError naming the status and the fix, for any status that is not a success."""
    if resp.status < 400:
        return
    hint = _HINTS.get(resp.status) or ("the server failed even after retries; try again later"
                                       if resp.status >= 500 else "the request failed")
    asked = getattr(resp, "retry_after", None)
    if asked is not None:
        hint = (f"the server asks us to wait {asked:.0f} s, longer than [fetch].max_retry_after; "
                "fetch less often or raise that key")
    raise FetchError(f"{what + ': ' if what else ''}HTTP {resp.status} ({hint})")

T = TypeVar("T")
HTML_ACCEPT = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"}  # what a page request asks for
PROCESS_POOL_SOURCES = 40  # from this many sources on, parsing is worth worker processes


@dataclass(slots=True)
class FetchSettings:
    connect_timeout: float = 5.0
    read_timeout: float = 10.0  # longest silence while reading an answer
    timeout: float = 20.0  # longest whole request (one attempt)
    concurrency: int = 64
    per_host: int = 4
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    user_agent: str = "dailybrief/0.1 (+https://github.com/dailybrief/dailybrief)"
    retries: int = 2
    backoff: float = 0.5
    max_retry_after: float = 30.0
    respect_robots: bool = True
    comment_threads: int = 10
    top_comments: int = 8
    full_text_items: int = 20
    parse_threads: int = 2
    parse_processes: int = -1  # -1: worker processes for big runs (PROCESS_POOL_SOURCES or more); 0: never
    allow_private: tuple[str, ...] = ()  # hosts and networks links may reach although private (netguard.py)
    deadline: float = 600.0  # seconds for the whole fetch stage; 0: none
    host_timeouts: int = 3  # a host that timed out this often in a run is not asked again; 0: never
    max_item_chars: int = 100_000  # text kept per item, after extraction
    resolver: Resolver | None = None  # host, port -> addresses (tests hand-write answers); None: the system's


@dataclass(slots=True)
class Response:
    url: str
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: float | None = None  # what the server asked for, when we gave up waiting

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class _Transient(Exception):
    """A connection that broke mid-answer; worth one more try."""


class Fetcher:
    """The shared async HTTP client of one fetch run. Close it with ``aclose``."""

    def __init__(self, settings: FetchSettings, client: httpx.AsyncClient | None = None, sources: int = 0) -> None:
        self.settings = settings
        s = settings
        cores = os.cpu_count() or 1
        self.processes = s.parse_processes if s.parse_processes >= 0 else (
            min(cores, 4) if cores > 1 and sources >= PROCESS_POOL_SOURCES else 0)
        self._procs: ProcessPoolExecutor | None = None
        self._client = client  # one for everything when given (tests); else one small pool per host
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._ssl: ssl.SSLContext | None = None
        self._all = asyncio.Semaphore(s.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._robots: dict[str, asyncio.Future[tuple[urllib.robotparser.RobotFileParser | None, str]]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self.guard = Guard(s.allow_private, s.resolver)
        self.refused: list[Refusal] = []  # URLs not fetched because they lead to a private address
        self._timeouts: dict[str, int] = {}  # host -> timeouts this run
        self.given_up: list[str] = []  # hosts not asked again after host_timeouts timeouts

    def trust(self, *urls: str) -> None:
        """Configured URLs: their origins may be private (see netguard.Guard.trust)."""
        self.guard.trust(*urls)

    def _client_for(self, host: str) -> httpx.AsyncClient:
        """The host's own connection pool. One shared pool would scan all its connections on every
        request (httpcore does), which costs more than the requests themselves with hundreds of feeds."""
        if self._client is not None:
            return self._client
        client = self._clients.get(host)
        if client is None:
            s = self.settings
            limits = httpx.Limits(max_connections=s.per_host, max_keepalive_connections=s.per_host)
            client = self._clients[host] = httpx.AsyncClient(
                timeout=httpx.Timeout(connect=s.connect_timeout, read=s.read_timeout, write=s.read_timeout,
                                      pool=s.timeout),
                follow_redirects=True,
                max_redirects=s.max_redirects,
                headers={"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate, br"},
                transport=GuardedTransport(self.guard, self._tls(), limits),
            )
        return client

    def _tls(self) -> ssl.SSLContext:
        """One TLS context for all the pools: loading the CA bundle costs ~30 ms each time."""
        if self._ssl is None:
            self._ssl = ssl.create_default_context(cafile=certifi.where())
        return self._ssl

    async def aclose(self) -> None:
        for client in [*self._clients.values(), *([self._client] if self._client else [])]:
            await client.aclose()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if self._procs is not None:
            self._procs.shutdown(wait=True, cancel_futures=True)

    async def cpu(self, fn: Callable[..., T], *args: Any) -> T:
        """Run CPU-bound work (parsing, extraction) off the event loop, so timers and sockets keep moving.

        Big runs use worker processes, so parsing gets every core; small runs use
        threads, which start at once (``parse_processes``, ``parse_threads``).
        """
        loop = asyncio.get_running_loop()
        if self.processes > 0:
            if self._procs is None:
                self._procs = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"))
            try:
                return await loop.run_in_executor(self._procs, partial(fn, *args))
            except BrokenProcessPool:
                self.processes = 0  # a worker died (out of memory?): go on in threads
        if self.settings.parse_threads <= 0:
            return fn(*args)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.settings.parse_threads, thread_name_prefix="dailybrief-parse")
        return await loop.run_in_executor(self._pool, partial(fn, *args))

    # -- plain GET with retries -------------------------------------------------
    async def get(self, url: str, headers: dict[str, str] | None = None, *,
                  cache: dict[str, dict[str, str]] | None = None) -> Response:
        """GET a URL. Retries 429/5xx and broken connections with backoff; honours Retry-After.

        With `cache` (url -> {etag, last_modified}), the request is conditional and
        the cache is updated from a 200 answer. Returns the response, whatever its
        status; raises FetchError when there is no response at all.
        """
        s = self.settings
        hdrs = dict(headers or {})
        known = cache.get(url) if cache is not None else None
        if known:
            if known.get("etag"):
                hdrs["If-None-Match"] = known["etag"]
            if known.get("last_modified"):
                hdrs["If-Modified-Since"] = known["last_modified"]
        tries = Retries(s.retries, s.backoff, longest=s.max_retry_after, jitter=s.backoff / 4)
        while True:
            try:
                resp = await self._attempt(url, hdrs)
            except _Transient as exc:
                delay = tries.again()
                if delay is None:
                    raise FetchError(f"the connection broke before the answer was complete ({exc}), "
                                     f"{tries.tries} times; the host is unstable, try again later") from None
            else:
                if resp.status not in RETRY_STATUSES:
                    break
                delay = tries.again(resp.headers)
                if delay is None:
                    resp.retry_after = tries.asked
                    break
            await asyncio.sleep(delay)
        if cache is not None and resp.status == 200:
            validators = {k: v for k, v in (("etag", resp.headers.get("etag")),
                                            ("last_modified", resp.headers.get("last-modified"))) if v}
            if validators:
                cache[url] = validators
            else:
                cache.pop(url, None)
        return resp

    async def _attempt(self, url: str, headers: dict[str, str]) -> Response:
        s = self.settings
        host = urlsplit(url).netloc
        sem = self._hosts.setdefault(host, asyncio.Semaphore(s.per_host))
        async with self._all, sem:
            self._check_host(host)
            try:
                return await asyncio.wait_for(self._get(self._client_for(host), url, headers), s.timeout)
            except Refused as exc:
                raise self._refused(url, exc) from None
            except (TimeoutError, httpx.TimeoutException) as exc:
                self._timed_out(host)
                raise self._timeout_error(exc) from None
            except httpx.TooManyRedirects:
                raise FetchError(f"too many redirects (more than {s.max_redirects}); the URL loops, check it") from None
            except httpx.ConnectError as exc:
                raise FetchError(f"cannot connect ({exc or 'refused'}); check the URL and that the host is up") from None
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError) as exc:
                raise _Transient(str(exc) or type(exc).__name__) from None
            except httpx.DecodingError as exc:
                raise FetchError(f"the body could not be decompressed ({exc}); the server sends broken data") from None
            except httpx.InvalidURL as exc:
                raise FetchError(f"invalid URL ({exc}); fix the url") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"{type(exc).__name__}: {exc or 'transport error'}") from None

    def _refused(self, url: str, exc: Refused) -> Refused:
        self.refused.append(Refusal(current_source.get(), url, str(exc)))
        return Refused(exc.host, exc.address, exc.why, url)

    async def check(self, url: str) -> None:
        """Refuse a URL before anything is asked of its host (robots.txt included) when it leads to a private
        address. The connection itself is checked again, so this is for the message, not the protection."""
        parts = urlsplit(url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise FetchError(f"invalid URL {url!r}: its port is not a number") from None
        if parts.hostname:
            try:
                await self.guard.addresses(parts.hostname, port)
            except Refused as exc:
                raise self._refused(url, exc) from None
            except httpcore.ConnectError as exc:
                raise FetchError(f"cannot connect ({exc}); check the URL and that the host is up") from None

    def _timeout_error(self, exc: Exception) -> FetchError:
        s = self.settings
        if isinstance(exc, httpx.ConnectTimeout):
            return FetchError(f"no connection within {s.connect_timeout:g} s; the host is down or unreachable "
                              "(raise [fetch].connect_timeout if it is just slow)")
        if isinstance(exc, httpx.TimeoutException):
            return FetchError(f"the host went silent for {s.read_timeout:g} s mid-answer "
                              "(raise [fetch].read_timeout if it is just slow)")
        return FetchError(f"no complete answer within {s.timeout:g} s; the host is slow or down "
                          "(raise [fetch].timeout if it is just slow)")

    def _timed_out(self, host: str) -> None:
        self._timeouts[host] = self._timeouts.get(host, 0) + 1
        limit = self.settings.host_timeouts
        if limit and self._timeouts[host] == limit:
            self.given_up.append(host)

    def _check_host(self, host: str) -> None:
        """A host that keeps timing out is not asked again in this run: its queue would stall the stage."""
        limit = self.settings.host_timeouts
        if limit and self._timeouts.get(host, 0) >= limit:
            raise FetchError(f"{host} timed out {limit} times in this run, so it was not asked again "
                             "([fetch].host_timeouts); it is tried again on the next run")

    async def _get(self, client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> Response:
        limit = self.settings.max_bytes
        async with client.stream("GET", url, headers=headers) as resp:
            declared = resp.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit and "content-encoding" not in resp.headers:
                raise FetchError(f"body of {int(declared):,} bytes exceeds [fetch].max_bytes ({limit:,}); "
                                 "raise it if this source is really that large")
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.aiter_bytes():  # decompressed: the cap holds for gzip/brotli bombs too
                size += len(chunk)
                if size > limit:
                    raise FetchError(f"body exceeds [fetch].max_bytes ({limit:,} bytes); "
                                     "raise it if this source is really that large")
                chunks.append(chunk)
            return Response(str(resp.url), resp.status_code, b"".join(chunks), dict(resp.headers))

    # -- pages: robots.txt, HTML decoding ----------------------------------------
    async def allowed(self, url: str) -> tuple[bool, str]:
        """Whether robots.txt lets us fetch a page, and why not."""
        if not self.settings.respect_robots:
            return True, ""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        fut = self._robots.get(origin)
        if fut is None:
            fut = self._robots[origin] = asyncio.ensure_future(self._load_robots(origin))
        parser, why = await asyncio.shield(fut)
        if parser is None:
            return (not why), why
        if parser.can_fetch(self.settings.user_agent, url):
            return True, ""
        return False, f"{origin}/robots.txt disallows {parts.path or '/'} for our user agent"

    async def _load_robots(self, origin: str) -> tuple[urllib.robotparser.RobotFileParser | None, str]:
        try:
            resp = await self.get(f"{origin}/robots.txt")
        except FetchError as exc:  # unreachable: assume complete disallow (RFC 9309 2.3.1.4)
            return None, f"{origin}/robots.txt could not be read ({exc}), so pages there are not fetched"
        if 400 <= resp.status < 500:
            return None, ""  # no robots.txt: everything allowed
        if resp.status >= 500:
            return None, f"{origin}/robots.txt answered HTTP {resp.status}, so pages there are not fetched for now"
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(resp.body.decode("utf-8", "replace").splitlines())
        return parser, ""

    async def page(self, url: str) -> tuple[str, str]:
        """An HTML page as (final URL, decoded text); robots.txt is honoured."""
        await self.check(url)
        ok, why = await self.allowed(url)
        if not ok:
            raise FetchError(f"{why}; the page was not fetched")
        resp = await self.get(url, HTML_ACCEPT)
        check_status(resp)
        ctype = resp.content_type.split(";")[0].strip().lower()
        if ctype and "html" not in ctype and "xml" not in ctype and not ctype.startswith("text/"):
            raise FetchError(f"not an HTML page ({ctype}); nothing to extract")
        return resp.url, decode(resp.body, resp.content_type, "html").text

    async def article(self, url: str) -> Extracted:
        """An article page (`page`) and its main text, title, author and date, extracted off the event loop."""
        from .extract import extract  # lazy: trafilatura, for sources with full text and listing pages only

        final, html = await self.page(url)
        return await self.cpu(extract, html, final)
