"""Add a story from a URL: fetched through the normal fetch path (the fetch guard, robots.txt, size and time
limits) and extracted like any full-text item; it enters the draft as a section whose sentences cite it."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from ..errors import FetchError
from ..ids import canonical_url, content_hash
from ..ingest.extract import extract
from ..ingest.fetch import bound_item
from ..ingest.http import Fetcher
from ..records import Item, Paragraph, Reference, Section, Sentence
from ..store import Store, utcnow
from ..text import split_sentences
from .drafts import DeskError, Draft
from .edits import Change, Checker, add_reference

SOURCE_ID = "desk"  # the items an editor added
LEAD_SENTENCES = 3  # sentences of the article that make the new section's facts


def fetch_item(cfg: object, store: Store, url: str) -> Item:
    """The page at `url` as a stored Item; FetchError (guard refusals included) becomes a DeskError."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise DeskError("give an http:// or https:// URL")

    async def get() -> tuple[str, str]:
        fetcher = Fetcher(cfg.fetch.settings())  # type: ignore[attr-defined]
        try:
            return await fetcher.page(url)
        finally:
            await fetcher.aclose()

    try:
        final, html = asyncio.run(get())
    except FetchError as exc:
        raise DeskError(f"could not add {url}: {exc}") from None
    page = extract(html, final)
    if not page.text.strip():
        raise DeskError(f"no article text found at {final}; nothing to add")
    host = urlsplit(final).hostname or final
    item = Item(id=content_hash(SOURCE_ID, canonical_url(final)), source_id=SOURCE_ID, source_name=host, tier="press",
                url=final, canonical_url=canonical_url(final), title=" ".join((page.title or final).split())[:300],
                text=page.text, language=page.language or "en", author=page.author, published=page.published,
                fetched=utcnow())
    item = bound_item(item, cfg.fetch.max_item_chars)  # type: ignore[attr-defined]
    store.add_items([item])
    return item


def add_story(draft: Draft, item: Item, check: Checker) -> Change:
    """A new section in every language, citing the item; each sentence checked like any other."""
    story_id = f"url-{item.id[:12]}"
    if any(c["story_id"] == story_id for c in draft.candidates):
        raise DeskError(f"{item.url} is already in this edition")
    lead = [s for s in split_sentences(item.text) if s.strip()][:LEAD_SENTENCES]
    for brief in draft.briefs:
        n = add_reference(brief, Reference(0, item.id, item.url, item.source_name, item.title, item.published))
        sentences = [Sentence(text, [n]) for text in lead]
        section = Section(kind="story", title=item.title, story_id=story_id, writer="editor",
                          outlets=[item.source_name], paragraphs=[Paragraph("facts", sentences)])
        for s in sentences:
            s.supported = check(brief, s, "facts")[0]
        at = next((i for i, s in enumerate(brief.sections) if s.kind != "story"), len(brief.sections))
        brief.sections.insert(at, section)
    draft.candidates.append({
        "story_id": story_id, "rank": len(draft.candidates) + 1, "title": item.title, "score": 0.0, "parts": {},
        "notes": {"added": "added by an editor from a URL"}, "topics": [], "outlets": [item.source_name],
        "follow_up": False, "selected": "section", "pinned": True, "dropped": False, "item_count": 1,
        "items": [{"id": item.id, "title": item.title, "url": item.url, "source": item.source_name, "tier": item.tier,
                   "published": item.published.isoformat() if item.published else ""}]})
    return Change("add story", story_id, "", item.url, {"op": "add_item", "story_id": story_id, "item_id": item.id})
