"""The chat digest: whole sentences and headlines, fitted to a limit in the order that matters."""

from __future__ import annotations

import pytest

from briefs import make_brief
from dailybrief.errors import PublishError
from dailybrief.render.digest import Digest, digest_of, fit, fit_lines, join_sentences, measure_bytes, measure_utf16

LINK = "https://brief.example.org/2026-04-10/brief.html"


def plain(d: Digest) -> str:
    return d.plain()


def test_digest_holds_the_whole_abstract_and_every_story_headline() -> None:
    brief = make_brief("en", sentences=4, headlines=5)
    d = digest_of(brief, LINK)
    assert d.abstract == [s.text for s in brief.abstract[0].sentences]
    assert d.headlines == [s.title for s in brief.sections if s.kind == "story"]
    text = d.plain()
    assert text.startswith("AI Daily Analysis · 10 April 2026\n\n") and text.endswith(f"Read the full briefing: {LINK}")
    assert fit(d, plain, len, 100_000) == d  # everything fits: nothing is dropped


def test_fit_prefers_the_first_sentence_then_headlines_then_the_rest() -> None:
    d = digest_of(make_brief("en", sentences=4, headlines=6), LINK)
    bare = len(plain(Digest(d.language, d.edition, d.title, d.date_label, d.link)))
    one = fit(d, plain, len, bare + len(d.abstract[0]) + 2)  # "\n\n" + the first sentence, exactly
    assert one.abstract == d.abstract[:1] and one.headlines == [] and one.hidden_headlines == 6
    # Room for the first sentence and three headlines (with the "N more" line): no more, no less.
    three = fit(d, plain, len, len(plain(Digest(d.language, d.edition, d.title, d.date_label, d.link, d.abstract[:1],
                                                d.headlines[:3], 3))))
    assert three.abstract == d.abstract[:1] and three.headlines == d.headlines[:3] and three.hidden_headlines == 3
    assert "3 more in the full briefing" in three.plain()
    # With room to spare after every headline, more whole sentences come back, in order.
    roomy = fit(d, plain, len, len(plain(d)) - 1)
    assert roomy.headlines == d.headlines and roomy.abstract == d.abstract[: len(roomy.abstract)]
    assert 1 <= len(roomy.abstract) < len(d.abstract)


def test_not_even_title_and_link_is_an_error() -> None:
    d = digest_of(make_brief("zh"), LINK)
    with pytest.raises(PublishError, match="over this platform's limit of 40"):
        fit(d, plain, measure_bytes, 40)


def test_join_and_measures() -> None:
    assert join_sentences(["第一句。", "第二句。"]) == "第一句。第二句。"
    assert join_sentences(["One.", "Two."]) == "One. Two."
    assert join_sentences(["中文句子。", "An English one."]) == "中文句子。An English one."
    assert measure_utf16("a😀") == 3 and measure_bytes("中") == 3


def test_fit_lines_keeps_whole_lines_and_counts_the_rest() -> None:
    lines = [f"problem number {n} with a fairly long explanation" for n in range(50)]

    def render(head: str, shown: list[str]) -> str:
        return head + "".join("\n- " + s for s in shown)

    kept = fit_lines("Subject", lines, render, len, 400)
    assert kept[:-1] == lines[: len(kept) - 1] and kept[-1] == f"… and {50 - len(kept) + 1} more: see `dailybrief runs`"
    assert len(render("Subject", kept)) <= 400
    assert fit_lines("S", lines[:2], render, len, 10_000) == lines[:2]
