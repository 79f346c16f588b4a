"""The github kind against a local server answering in the shape of GitHub's releases.atom."""

from __future__ import annotations

import asyncio
from html import escape

from dailybrief import config
from dailybrief.ingest.fetch import fetch_sources
from dailybrief.ingest.http import FetchSettings
from httpd import Reply, serve


def releases(repo: str, tags: list[tuple[str, str, str]]) -> str:
    entries = "".join(
        f"<entry><id>tag:github.com,2008:Repository/1/{tag}</id><updated>{when}</updated>"
        f'<link rel="alternate" type="text/html" href="https://github.com/{repo}/releases/tag/{tag}"/>'
        f"<title>{title}</title><content type=\"html\">{escape(f'<h2>Highlights</h2><ul><li>Faster {tag}</li></ul>')}"
        f"</content><author><name>release-bot</name></author></entry>"
        for tag, title, when in tags)
    return ('<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-US">'
            f"<id>tag:github.com,2008:https://github.com/{repo}/releases</id>"
            f'<link type="text/html" rel="alternate" href="https://github.com/{repo}/releases"/>'
            f"<title>Release notes from {repo.split('/')[1]}</title><updated>2026-04-10T00:00:00Z</updated>{entries}</feed>")


def test_release_feeds_of_several_repositories() -> None:
    etags = {"/acme/engine/releases.atom": '"e1"', "/acme/tools/releases.atom": '"t1"'}
    bodies = {
        "/acme/engine/releases.atom": releases("acme/engine", [
            ("v2.1.0rc1", "v2.1.0rc1", "2026-04-10T02:00:00Z"), ("v2.0.0", "v2.0.0", "2026-04-09T02:00:00Z")]),
        "/acme/tools/releases.atom": releases("acme/tools", [
            ("1.4.0", "Tools 1.4.0: new CLI", "2026-04-10T01:00:00Z")]),
    }

    def route(req):
        if req.header("if-none-match") == etags[req.path]:
            return Reply(304)
        return Reply(body=bodies[req.path].encode(), headers={"ETag": etags[req.path]},
                     content_type="application/atom+xml; charset=utf-8")

    with serve() as srv:
        srv.route("/acme/engine/releases.atom", route)
        srv.route("/acme/tools/releases.atom", route)
        cfg = config.from_dict({"sources": [{"name": "Releases", "kind": "github", "url": srv.url(""),
                                             "repos": ["acme/engine", "acme/tools", "acme/gone"],
                                             "prereleases": False}]})
        [src] = cfg.enabled_sources()
        [(first, got)] = asyncio.run(fetch_sources([src], FetchSettings(), {}))
        assert not first.error and got is not None
        assert sorted(i.title for i in first.items) == ["Tools 1.4.0: new CLI", "acme/engine v2.0.0"]
        assert src.tier == "code"
        engine = next(i for i in first.items if "engine" in i.title)
        assert engine.url == "https://github.com/acme/engine/releases/tag/v2.0.0" and "Faster v2.0.0" in engine.body
        assert any("acme/gone" in w and "HTTP 404" in w for w in got.warnings)  # one repo gone, the others count
        # Second run: each feed is asked conditionally, on its own validators.
        [(second, _)] = asyncio.run(fetch_sources([src], FetchSettings(), {src.id: {"cache": got.cache}}))
        assert second.items == [] and not second.error
        assert srv.hits("/acme/engine/releases.atom")[-1].header("if-none-match") == '"e1"'


def test_every_repository_failing_fails_the_source() -> None:
    with serve() as srv:
        cfg = config.from_dict({"sources": [{"name": "R", "kind": "github", "url": srv.url(""), "repos": ["a/b", "c/d"]}]})
        [(result, _)] = asyncio.run(fetch_sources(cfg.enabled_sources(), FetchSettings(), {}))
    assert result.error.startswith("every repository failed: a/b: HTTP 404")
