"""The edition's beat: relevance from beat terms and the embedding, offline."""

from __future__ import annotations

from datetime import date

import numpy as np

from dailybrief.records import Item, Story
from dailybrief.stories.beat import Beat, BeatScorer, link_words, story_relevance
from dailybrief.stories.embed import default_embedder, embed_items


def _item(n: int, title: str, summary: str = "", tier: str = "community") -> Item:
    return Item(id=f"i{n}", source_id="s", source_name="S", tier=tier, url=f"https://x.example/{n}",
                canonical_url=f"https://x.example/{n}", title=title, summary=summary)


def test_terms_and_topics_decide_relevance() -> None:
    emb = default_embedder()
    items = [_item(1, "Claude Code to be removed from the Pro plan?"),
             _item(2, "Hydroponic racks for a small apartment"),
             _item(3, "someone / qmd", "A local search engine that uses LLMs to rank your notes", tier="code"),
             _item(4, "Jury finds newspaper liable for defamation")]
    scorer = BeatScorer(Beat(), emb)
    got = scorer.score(items, embed_items(items, emb))
    keep = [value >= scorer.beat.cut for value, _ in got]
    assert keep == [True, False, True, False]
    assert "Claude" in got[0][1]


def test_a_story_is_as_relevant_as_its_most_relevant_item() -> None:
    items = [_item(1, "a"), _item(2, "b")]
    story = Story(id="s", items=items, first_seen=date(2030, 1, 1), last_seen=date(2030, 1, 1))
    value, note = story_relevance(story, {"i1": (0.2, "x"), "i2": (0.9, "title names 'AI'")})
    assert value == 0.9 and "b" in note


def test_another_beat_uses_its_own_terms() -> None:
    emb = default_embedder()
    beat = Beat(name="gardening", description="Gardening: plants, soil, seeds.", topics=["growing vegetables"],
                terms=["tomatoes"])
    items = [_item(1, "Growing tomatoes in winter"), _item(2, "GPT-6 released")]
    got = BeatScorer(beat, emb).score(items, np.asarray(embed_items(items, emb)))
    assert got[0][0] >= beat.cut > got[1][0]


def test_a_links_words_name_the_beat_when_its_title_does_not() -> None:
    emb = default_embedder()
    items = [_item(1, "A GitHub issue title compromised 4k developer machines"),
             _item(2, "A GitHub issue title compromised 4k developer machines"),
             _item(3, "Laguna XS.2 and M.1")]
    items[0].url = "https://tools.example/blog/injection-when-your-ai-tool-installs-another"
    items[2].url = "https://poolside.ai/blog/laguna-a-deeper-dive"
    got = BeatScorer(Beat(), emb).score(items, embed_items(items, emb))
    assert got[0][0] >= Beat().cut > got[1][0]  # the same title, but one link says what it is about
    assert got[2][0] >= Beat().cut and "link names 'AI'" in got[2][1]
    assert link_words("https://github.com/BerriAI/litellm/issues/1?x=AI") == "github com Berri AI litellm issues 1"
    # Lower-case words in a link are still whole words: "email" and "paint" name no AI.
    assert BeatScorer(Beat(), emb).term_in(link_words("https://mail.example/email-paint-tips"), link=True) == ""


def test_a_name_with_its_version_glued_on_still_names_the_beat() -> None:
    scorer = BeatScorer(Beat(), default_embedder())
    assert scorer.term_in("Qwen3.6-Max-Preview: smarter, sharper") == "Qwen"
    assert scorer.term_in("RAID5 arrays for a home server") == ""  # a word that holds a term is not the term
