"""The fetch guard: links found in feeds never reach a private address, in any notation.

Everything here stays on this machine: the "internal" server is a second loopback listener on
another port, and the other ranges (cloud metadata, 10.x, unique-local) come from hand-written
resolver answers that are refused before any connection is attempted.
"""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from dailybrief import config
from dailybrief.ingest.fetch import fetch_sources
from dailybrief.ingest.http import Fetcher, FetchSettings
from dailybrief.netguard import Guard, Refused, blocked, literal_ip
from dailybrief.records import Source
from helpers import rss
from httpd import Reply, serve

SECRET_PAGE = ("<html><head><title>Internal</title></head><body><article><p>"
               + "INTERNAL-ONLY credentials page: aws_secret_access_key=abc. " * 40 + "</p></article></body></html>")


def _forms(port: int) -> list[str]:
    """Ten spellings of an address inside this machine or a private network (the issue's list)."""
    return [f"http://127.0.0.1:{port}/secret", f"http://localhost:{port}/secret", f"http://2130706433:{port}/secret",
            f"http://127.1:{port}/secret", f"http://0x7f000001:{port}/secret", f"http://[::1]:{port}/secret",
            f"http://[::ffff:127.0.0.1]:{port}/secret", f"http://0.0.0.0:{port}/secret",
            "http://metadata.test/latest/meta-data/", "http://intranet.test/wiki"]


# Hand-written DNS: the names that would lead off this machine answer private addresses, which the
# guard refuses before connecting. Anything else asked here is a bug in the test.
ANSWERS = {"metadata.test": ["169.254.169.254"], "intranet.test": ["10.0.0.5"], "ula.test": ["fd12:3456::1"],
           "mixed.test": ["127.0.0.1", "10.0.0.9"]}


async def fake_dns(host: str, port: int) -> list[str]:
    if host == "localhost":
        return ["127.0.0.1"]
    return ANSWERS[host]


def settings(**over) -> FetchSettings:
    return FetchSettings(timeout=3, connect_timeout=1, retries=0, resolver=fake_dns, **over)


@pytest.mark.parametrize(("spelled", "why"), [
    ("127.0.0.1", "loopback"), ("2130706433", "loopback"), ("127.1", "loopback"), ("0x7f000001", "loopback"),
    ("0177.0.0.1", "loopback"), ("[::1]", "loopback"), ("::ffff:127.0.0.1", "loopback"), ("0.0.0.0", "unspecified"),  # noqa: S104
    ("::", "unspecified"), ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("10.0.0.5", "private"),
    ("192.168.1.1", "private"), ("172.16.0.1", "private"), ("100.64.0.1", "carrier-grade NAT"),
    ("fd12:3456::1", "unique-local"), ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
    ("2002:7f00:1::1", "loopback"), ("64:ff9b::a9fe:a9fe", "link-local"), ("::ffff:10.0.0.1", "private"),
])
def test_every_notation_of_a_private_address_is_refused(spelled: str, why: str) -> None:
    ip = literal_ip(spelled)
    assert ip is not None
    assert blocked(ip).startswith(why)


@pytest.mark.parametrize("public", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "1.1.1.1"])
def test_public_addresses_pass(public: str) -> None:
    assert blocked(ipaddress.ip_address(public)) == ""
    assert literal_ip("example.com") is None


def _feed_with_links(links: list[str]) -> str:
    return rss("Wire", [{"title": f"Story {n}", "link": link, "description": f"Short summary {n}."}
                        for n, link in enumerate(links)])


def test_links_in_a_feed_never_reach_an_internal_server_in_ten_forms() -> None:
    with serve() as public, serve() as internal:
        internal.route("/secret", Reply(body=SECRET_PAGE.encode(), content_type="text/html"))
        internal.route("/robots.txt", Reply(body=b"", content_type="text/plain"))
        port = int(internal.base.rsplit(":", 1)[1])
        links = _forms(port)
        public.route("/feed.xml", _feed_with_links(links))
        src = Source("Wire", "rss", public.url("/feed.xml"), full_text=True)
        [(result, got)] = asyncio.run(fetch_sources([src], settings(), {}))
        assert not result.error
        assert internal.requests == []  # not one request, not even robots.txt
        assert len(got.items) == 10 and all("INTERNAL-ONLY" not in i.text for i in got.items)
        assert len(result.refused) == 10
        for link in links:
            assert any(r.startswith(link) for r in result.refused), link
        assert all("[fetch].allow_private" in r for r in result.refused)


def test_allow_private_lets_a_trusted_intranet_through() -> None:
    with serve() as public, serve() as internal:
        internal.route("/secret", Reply(body=SECRET_PAGE.encode(), content_type="text/html"))
        public.route("/feed.xml", _feed_with_links([internal.url("/secret")]))
        src = Source("Wire", "rss", public.url("/feed.xml"), full_text=True)
        [(result, got)] = asyncio.run(fetch_sources([src], settings(allow_private=("127.0.0.0/8",)), {}))
        assert result.refused == [] and "INTERNAL-ONLY" in got.items[0].text


def test_configured_sources_and_their_own_links_are_trusted() -> None:
    with serve() as public:
        public.route("/article", Reply(body=SECRET_PAGE.replace("INTERNAL-ONLY", "Same-origin").encode(),
                                       content_type="text/html"))
        public.route("/feed.xml", _feed_with_links([public.url("/article")]))
        src = Source("Wire", "rss", public.url("/feed.xml"), full_text=True)
        [(result, got)] = asyncio.run(fetch_sources([src], settings(), {}))
        assert not result.error and result.refused == []
        assert "Same-origin" in got.items[0].text


def test_redirects_into_a_private_network_are_refused() -> None:
    with serve() as public, serve() as internal:
        internal.route("/feed.xml", _feed_with_links(["https://a.example/1"]))
        public.route("/moved.xml", Reply(302, b"", headers={"Location": internal.url("/feed.xml")}))
        public.route("/meta.xml", Reply(302, b"", headers={"Location": "http://metadata.test/latest/"}))
        public.route("/v6.xml", Reply(302, b"", headers={"Location": f"http://[::1]:{internal.base.rsplit(':', 1)[1]}/"}))
        sources = [Source(n, "rss", public.url(f"/{n}.xml")) for n in ("moved", "meta", "v6")]
        results = asyncio.run(fetch_sources(sources, settings(), {}))
        for result, _ in results:
            assert "refused to connect" in result.error and "allow_private" in result.error
            assert result.refused
        assert internal.requests == []


def test_comment_feeds_and_listing_links_are_checked_too() -> None:
    with serve() as public, serve() as internal:
        internal.route("/c.xml", rss("c", [{"title": "re", "link": "https://x.example/c", "description": "leak"}]))
        internal.route("/secret", Reply(body=SECRET_PAGE.encode(), content_type="text/html"))
        comments = f"<wfw:commentRss>{internal.url('/c.xml')}</wfw:commentRss><slash:comments>5</slash:comments>"
        public.route("/feed.xml", rss("Wire", [{"title": "Thread", "link": "https://a.example/t",
                                                "description": "A thread.", "extra": comments}]))
        public.route("/list", Reply(body=f'<html><body><a href="{internal.url("/secret")}">Secret</a>'
                                         '<a href="http://metadata.test/news/1">Meta</a></body></html>'.encode(),
                                    content_type="text/html"))
        feed = Source("Forum", "rss", public.url("/feed.xml"), tier="community")
        listing = Source("Lab", "webpage", public.url("/list"), options={"link_pattern": "/(secret|news)"})
        (r1, g1), (r2, g2) = asyncio.run(fetch_sources([feed, listing], settings(), {}))
        assert internal.requests == []
        assert any(internal.url("/c.xml") in r for r in r1.refused)
        assert not any(c.text == "leak" for i in g1.items for c in i.comments)
        assert g2.items == [] and len(r2.refused) == 2


def test_the_connection_goes_to_the_address_that_was_checked() -> None:
    """DNS rebinding: the name is resolved once, checked, and that address is dialled, keeping the Host header."""
    calls: list[str] = []
    with serve() as internal:
        internal.route("/page", Reply(body=b"hello", content_type="text/plain"))
        port = int(internal.base.rsplit(":", 1)[1])

        async def rebinding(host: str, port: int) -> list[str]:
            calls.append(host)
            return ["127.0.0.1"] if len(calls) == 1 else ["10.0.0.9"]  # a second lookup would switch it

        async def go():
            f = Fetcher(FetchSettings(retries=0, resolver=rebinding, allow_private=("127.0.0.1",)))
            try:
                return await f.get(f"http://rebind.test:{port}/page")
            finally:
                await f.aclose()

        resp = asyncio.run(go())
        assert resp.status == 200 and resp.body == b"hello"
        assert calls == ["rebind.test"]  # resolved once; the system resolver, which knows no rebind.test, never asked
        assert internal.requests[0].header("host") == f"rebind.test:{port}"


def test_a_name_with_one_private_answer_is_refused_whole() -> None:
    async def go():
        guard = Guard(resolver=fake_dns)
        for host in ("mixed.test", "ula.test", "metadata.test"):
            with pytest.raises(Refused):
                await guard.addresses(host, 80)
        guard.trust("http://intranet.test/feed.xml")
        return await guard.addresses("intranet.test", 80)

    assert asyncio.run(go()) == ["10.0.0.5"]  # the configured source's own host: trusted


@pytest.mark.parametrize(("entry", "fix"), [("", "empty"), ("10.0.0.0/33", "not a network"),
                                            ("http://wiki.corp", "host name")])
def test_bad_allow_private_entries_are_config_errors(entry: str, fix: str) -> None:
    with pytest.raises(config.ConfigError) as err:
        config.from_dict({"fetch": {"allow_private": [entry]}})
    assert err.value.key == "fetch.allow_private" and fix in str(err.value)


def test_a_refused_link_is_named_in_the_run_summary_with_its_source() -> None:
    from click.testing import CliRunner

    from dailybrief.cli import main

    with serve() as public, serve() as internal:
        internal.route("/secret", Reply(body=SECRET_PAGE.encode(), content_type="text/html"))
        public.route("/feed.xml", _feed_with_links([internal.url("/secret")]))
        with open("dailybrief.toml", "w", encoding="utf-8") as f:
            f.write(f'[fetch]\nretries = 0\n[[sources]]\nname = "Wire"\nurl = "{public.url("/feed.xml")}"\n'
                    "full_text = true\n")
        result = CliRunner().invoke(main, ["fetch"])
        assert internal.requests == []
    flat = " ".join(result.output.split())
    assert f"Wire: refused {internal.url('/secret')}: refused to connect to 127.0.0.1: a loopback address" in flat


def test_tls_keeps_the_host_name_for_sni_and_the_certificate_check() -> None:
    """Dialling the checked address must not change what TLS sees: SNI and the certificate are the host's."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import trustme

    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("tls.test").configure_cert(server_ctx)
    seen: list[str | None] = []
    server_ctx.sni_callback = lambda sock, name, ctx: seen.append(name)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = f"host={self.headers.get('Host')}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = server_ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = httpd.server_address[1]

    async def tls_dns(host: str, port: int) -> list[str]:
        assert host == "tls.test"
        return ["127.0.0.1"]

    async def go():
        f = Fetcher(FetchSettings(retries=0, resolver=tls_dns, allow_private=("127.0.0.1",)))
        client_ctx = ssl.create_default_context()
        ca.configure_trust(client_ctx)
        f._ssl = client_ctx  # trust the throwaway CA instead of certifi's
        try:
            return await f.get(f"https://tls.test:{port}/")
        finally:
            await f.aclose()

    try:
        resp = asyncio.run(go())
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert resp.status == 200 and resp.body == f"host=tls.test:{port}".encode()
    assert seen == ["tls.test"]  # the certificate was checked against tls.test, and SNI named it


def test_comment_threads_fetched_after_ranking_are_checked() -> None:
    from datetime import datetime, timezone

    from dailybrief.ingest.fetch import fetch_comments
    from dailybrief.records import Item

    with serve() as public, serve() as internal:
        internal.route("/c.xml", rss("c", [{"title": "re", "link": "https://x.example/c", "description": "leak"}]))
        src = Source("Forum", "rss", public.url("/feed.xml"), tier="community")
        item = Item(id="i1", source_id=src.id, source_name=src.name, tier="community", url="https://a.example/t",
                    canonical_url="https://a.example/t", title="Thread", text="t", comments_url=internal.url("/c.xml"),
                    published=datetime(2026, 4, 10, tzinfo=timezone.utc))
        refused: list[str] = []
        found, errors = asyncio.run(fetch_comments([(src, item)], settings(), refused))
        assert any("refused to connect" in e for e in errors)
        assert internal.requests == [] and not found
    assert refused and refused[0].startswith(f"Forum: refused {internal.url('/c.xml')}")
