"""Where dailybrief may connect: no link found in a feed can reach a private address.

Every connection the fetcher opens goes through ``GuardedBackend``, httpcore's network backend
with one change: it resolves the host itself, checks every address, and connects to the address
it checked. So DNS rebinding (a name that answers a public address to the check and 127.0.0.1 to
the connection) cannot switch it afterwards, and redirects, comment feeds, article pages and
robots.txt are covered because they are all connections. The URL keeps its host name, so the
``Host`` header and TLS's SNI and certificate check are unchanged.

    Guard                   the policy of one fetch run
      trust(url)            a configured source's origin (scheme-less host and port): not checked
      allow_private         [fetch].allow_private: host names and networks the user allows
      addresses(host, port) the addresses to connect to, or ``Refused``
    GuardedBackend          httpcore backend: connect_tcp to the checked addresses only
    GuardedTransport        httpx transport using it
    blocked(ip)             why an address is not public ("" when it is), in any notation

Refused addresses: loopback, private (RFC 1918), carrier-grade NAT, link-local (169.254.169.254,
the cloud metadata service, included), unique-local, multicast, unspecified, reserved and
documentation ranges; IPv6 forms that embed an IPv4 address (``::ffff:``-mapped, 6to4, Teredo,
NAT64) are judged by the address they embed. Legacy IPv4 spellings (``2130706433``, ``127.1``,
``0x7f000001``, ``0177.0.0.1``) are read the way the operating system reads them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from .errors import FetchError

__all__ = [
    "Guard",
    "GuardedBackend",
    "GuardedTransport",
    "Refusal",
    "Refused",
    "blocked",
    "current_source",
    "literal_ip",
    "parse_allow",
]

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_FIX = "if you trust it, add the host or its network to [fetch].allow_private"

# The source whose work is running (set per source task by the fetch stage), so a refusal names it.
current_source: ContextVar[str] = ContextVar("current_source", default="")


class Refused(FetchError):
    """A connection was refused before it was made: the host resolves to a non-public address."""

    def __init__(self, host: str, address: str, why: str, url: str = "") -> None:
        self.host, self.address, self.why, self.url = host, address, why, url
        shown = host if host == address else f"{host} ({address})"
        super().__init__(f"{url + ': ' if url else ''}refused to connect to {shown}: a {why} address, and links "
                         f"found in feeds may not lead into private networks; {_FIX}")


@dataclass(slots=True)
class Refusal:
    source: str
    url: str
    message: str

    def __str__(self) -> str:
        return f"{self.url}: {self.message}"


def literal_ip(host: str) -> IP | None:
    """The address a host literally spells, in any notation the OS accepts; None for a name."""
    host = host.strip().strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefABCDEFxX." for c in host) and host[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def blocked(ip: IP) -> str:
    """Why an address is not a public one ("" when it is)."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            why = blocked(embedded)
            return f"{why} (embedded in {ip})" if why else ""
    checks = (
        (ip.is_unspecified, "unspecified"), (ip.is_loopback, "loopback"), (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (isinstance(ip, ipaddress.IPv6Address) and ip in _UNIQUE_LOCAL, "unique-local"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED, "carrier-grade NAT"),
        (ip.is_private, "private"), (ip.is_reserved, "reserved"), (not ip.is_global, "non-public"),
    )
    return next((why for hit, why in checks if hit), "")


def parse_allow(entries: Iterable[str]) -> tuple[list[Network], set[str]]:
    """[fetch].allow_private as (networks, host names); ValueError naming a bad entry."""
    nets: list[Network] = []
    hosts: set[str] = set()
    for entry in entries:
        text = str(entry).strip().lower()
        if not text:
            raise ValueError("an entry is empty; list host names ('wiki.corp') or networks ('10.1.0.0/16')")
        if "://" in text:
            raise ValueError(f"{entry!r} is a URL, not a host name; write the host alone, e.g. 'wiki.corp'")
        if "/" in text or literal_ip(text) is not None:
            try:
                nets.append(ipaddress.ip_network(text if "/" in text else str(literal_ip(text)), strict=False))
            except ValueError as exc:
                raise ValueError(f"{entry!r} is not a network ({exc}); write it like '10.1.0.0/16'") from None
        elif ":" in text:
            raise ValueError(f"{entry!r} is not a host name; write the host alone, without a port, e.g. 'wiki.corp'")
        else:
            hosts.add(text.rstrip("."))
    return nets, hosts


async def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host} ({exc.strerror or exc})") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass
class Guard:
    """The connection policy of one fetch run."""

    allow_private: Iterable[str] = ()
    resolver: Resolver | None = None
    trusted: set[tuple[str, int]] = field(default_factory=set)
    refused: list[Refusal] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._nets, self._hosts = parse_allow(self.allow_private)

    @staticmethod
    def origin(url: str) -> tuple[str, int] | None:
        parts = urlsplit(url)
        if not parts.hostname:
            return None
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return None
        return parts.hostname.lower().rstrip("."), port

    def trust(self, *urls: str) -> None:
        """Configured URLs: their origins are connected to without a check (the user chose them)."""
        for url in urls:
            origin = self.origin(url)
            if origin:
                self.trusted.add(origin)

    def _allowed(self, ip: IP) -> bool:
        return any(ip.version == net.version and ip in net for net in self._nets)

    async def addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for host:port, each checked; Refused when none may be used."""
        name = host.lower().strip("[]").rstrip(".")
        literal = literal_ip(name)
        if literal is not None:
            answers = [str(literal)]
        else:
            answers = await (self.resolver or system_resolver)(name, port)
        if (name, port) in self.trusted or name in self._hosts:
            return answers
        good: list[str] = []
        refusal: Refused | None = None
        for answer in answers:
            ip = ipaddress.ip_address(answer.split("%", 1)[0])
            why = blocked(ip)
            if why and not self._allowed(ip):
                refusal = refusal or Refused(name if literal is None else host, str(ip), why)
            else:
                good.append(answer)
        if refusal is not None:  # one bad answer taints the name: a rebinding setup answers both kinds
            raise refusal
        if not good:
            raise httpcore.ConnectError(f"{host} has no address")
        return good


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses the guard checked."""

    def __init__(self, guard: Guard, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.guard = guard
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        last: Exception | None = None
        for address in await self.guard.addresses(host, port):
            try:
                return await self.inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                    socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not used by the fetcher")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with the guarded backend (no proxies from the environment: a proxy would
    connect on our behalf to addresses the guard never saw)."""

    def __init__(self, guard: Guard, verify: ssl.SSLContext, limits: httpx.Limits) -> None:
        super().__init__(verify=verify, limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=verify, max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(guard),
        )
