"""The arxiv kind against a local server answering in the arXiv API's Atom format."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from dailybrief import config
from dailybrief.errors import ConfigError
from dailybrief.ingest.fetch import fetch_sources
from dailybrief.ingest.http import FetchSettings
from httpd import Reply, serve


def paper(ident: str, title: str, authors: list[str], primary: str, cats: list[str], published: str) -> str:
    names = "".join(f"<author><name>{a}</name></author>" for a in authors)
    categories = "".join(f'<category term="{c}" scheme="http://arxiv.org/schemas/atom"/>' for c in cats)
    return (f"<entry><id>http://arxiv.org/abs/{ident}</id><updated>{published}</updated><published>{published}</published>"
            f"<title>{title}</title><summary>  We study {title.lower()}.\n  Results are promising.\n</summary>{names}"
            f'<link href="http://arxiv.org/abs/{ident}" rel="alternate" type="text/html"/>'
            f'<link title="pdf" href="http://arxiv.org/pdf/{ident}" rel="related" type="application/pdf"/>'
            f'<arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="{primary}" '
            f'scheme="http://arxiv.org/schemas/atom"/>{categories}</entry>')


FEED = ('<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        '<link href="http://arxiv.org/api/query?search_query%3Dcat%3Acs.AI" rel="self" type="application/atom+xml"/>'
        "<title type=\"html\">ArXiv Query: search_query=cat:cs.AI</title><id>http://arxiv.org/api/x</id>"
        "<updated>2026-04-10T00:00:00-04:00</updated>"
        '<opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">3</opensearch:totalResults>'
        + paper("2604.01234v2", "Sparse Routing for\n  Long Context Agents", ["A. Li", "B. Chen", "C. Diaz", "D. Evans"],
                "cs.AI", ["cs.AI", "cs.CL"], "2026-04-09T17:59:00Z")
        + paper("2604.01300v1", "Reward Models Under Shift", ["E. Fox"], "cs.LG", ["cs.LG", "cs.AI"],
                "2026-04-09T16:00:00Z")
        + "</feed>")

ERROR = ('<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>ArXiv Query</title>'
         "<entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_1234</id><title>Error</title>"
         "<summary>malformed query</summary><updated>2026-04-10T00:00:00-04:00</updated></entry></feed>")


def source(base: str, **options):
    cfg = config.from_dict({"sources": [{"name": "arXiv", "kind": "arxiv", "url": base, **options}]})
    return cfg.enabled_sources()[0]


def test_new_papers_in_chosen_categories() -> None:
    with serve() as srv:
        srv.route("/api/query", Reply(body=FEED.encode(), content_type="application/atom+xml; charset=utf-8"))
        both = source(srv.url("/api/query"), categories=["cs.AI", "cs.CL"], limit=20)
        primary = source(srv.url("/api/query"), categories=["cs.AI"], primary_only=True)
        results = asyncio.run(fetch_sources([both, primary], FetchSettings(), {}))
        # The two sources fetch concurrently, so their requests arrive in either order: find each by its query.
        queries = {h.query["search_query"][0]: h.query for h in srv.hits("/api/query")}
    assert set(queries) == {"cat:cs.AI OR cat:cs.CL", "cat:cs.AI"}
    query = queries["cat:cs.AI OR cat:cs.CL"]
    assert query["sortBy"] == ["submittedDate"] and query["max_results"] == ["20"]
    assert both.id != primary.id and both.tier == "paper"
    (r_both, _), (r_primary, _) = results
    first, second = r_both.items
    assert first.title == "Sparse Routing for Long Context Agents"
    assert first.url == "https://arxiv.org/abs/2604.01234"  # every version is one paper
    assert first.author == "A. Li, B. Chen, C. Diaz et al."
    assert first.summary == "We study sparse routing for long context agents. Results are promising."
    assert first.published == datetime(2026, 4, 9, 17, 59, tzinfo=timezone.utc)
    assert second.author == "E. Fox"
    assert [i.title for i in r_primary.items] == ["Sparse Routing for Long Context Agents"]  # the cs.LG cross-list left out


def test_an_api_error_is_named() -> None:
    with serve() as srv:
        srv.route("/api/query", Reply(body=ERROR.encode(), content_type="application/atom+xml"))
        [(result, _)] = asyncio.run(fetch_sources([source(srv.url("/api/query"), categories=["cs.AI"])],
                                                  FetchSettings(), {}))
    assert "arXiv API answered with an error (malformed query)" in result.error


def test_categories_are_validated() -> None:
    with pytest.raises(ConfigError) as err:
        config.from_dict({"sources": [{"name": "a", "kind": "arxiv", "categories": ["AI stuff"]}]})
    assert err.value.key == "sources[0].categories" and "cs.AI" in str(err.value)
    with pytest.raises(ConfigError, match="needs this key"):
        config.from_dict({"sources": [{"name": "a", "kind": "arxiv"}]})
