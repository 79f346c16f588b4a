"""The grounding checker: one passage per claim, and what a writer gets wrong is caught for the right reason."""

from __future__ import annotations

from collections import defaultdict

import pytest

from conftest import ROOT, SHARED
from dailybrief.evals import checkset
from dailybrief.stories.embed import default_embedder
from dailybrief.write.grounding import Checker, Passage

MYTHOS = ("Anthropic has decided that its newest model, Mythos, will never be released to the general public. "
          "Access is limited to 11 selected organisations, including Google, Microsoft, Nvidia and JPMorgan Chase. "
          "In testing, it rediscovered a bug that had been hidden in OpenBSD for 27 years.")
DEAL = ("Meta has signed an AI infrastructure agreement worth $21 billion with CoreWeave. Meta also has a TPU rental "
        "agreement with Google and a chip partnership with AMD.")
SPUD = "OpenAI is building a rival to Anthropic's Mythos, according to a report by Axios. Its codename may be Spud."
MATCH = "Ten years ago, AlphaGo beat Lee Sedol in a five-game match in Seoul."
HIRE = "Alexandr Wang 今年 29 岁，是 Scale AI 的创始人，由扎克伯格亲自招揽加入 Meta 出任首席 AI 官。"
PLEDGES = ("Rich nations have begun pouring money into the region. Japan pledged $500 million on Saturday. "
           "China has promised $60 million, after Japan and the U.S.")
THEFT = "/u/ip_counsel (74 points): Whether training on API outputs counts as theft is legally unsettled."


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(default_embedder())


def verdict(checker: Checker, claim: str, *sources: str, part: str = "facts") -> tuple[bool, list[str]]:
    c = checker.check(claim, [Passage(f"p{n}", s) for n, s in enumerate(sources)], part)
    return c.supported, c.kinds()


@pytest.mark.parametrize(("claim", "source"), [
    ("Anthropic will never release Mythos to the public.", MYTHOS),
    ("Anthropic 决定，Mythos 永远不会向公众发布。", MYTHOS),
    ("Meta 与 CoreWeave 签署了价值 210 亿美元的 AI 基础设施协议。", DEAL),
    ("据 Axios 报道，OpenAI 正在开发一款对标 Mythos 的模型，代号可能是 Spud。", SPUD),
    ("Only eleven organisations, among them Google and Nvidia, can use Mythos.", MYTHOS),
    ("十年前，AlphaGo 在首尔的五番棋比赛中战胜了李世石。", MATCH),
    ("Lee Sedol was beaten by AlphaGo in Seoul ten years ago.", MATCH),
    ("扎克伯格亲自招揽 Alexandr Wang 加入 Meta。", HIRE),
    ("Japan pledged $500 million, and China promised $60 million.", PLEDGES),
    ("Meta has a chip partnership with AMD and an agreement worth $21 billion with CoreWeave.", DEAL),
    ("ip_counsel wrote that whether training on API outputs is theft remains legally unsettled.", THEFT),
])
def test_faithful_claims_pass(checker: Checker, claim: str, source: str) -> None:
    assert verdict(checker, claim, source) == (True, [])


@pytest.mark.parametrize(("claim", "source", "reason"), [
    ("Anthropic has decided that Mythos will be released to the general public.", MYTHOS, "polarity"),
    ("Anthropic 决定向公众开放 Mythos。", MYTHOS, "polarity"),
    ("Meta 与 CoreWeave 签署了价值 21 亿美元的协议。", DEAL, "number"),
    ("Meta signed a $2.1 billion agreement with CoreWeave.", DEAL, "number"),
    ("Access is limited to 110 selected organisations.", MYTHOS, "number"),
    ("It rediscovered a bug hidden in FreeBSD for 27 years.", MYTHOS, "entity"),
    ("Meta has a TPU rental agreement with AMD and a chip partnership with Google.", DEAL, "entity"),
    ("据路透社报道，OpenAI 正在开发一款代号可能为 Spud 的模型。", SPUD, "entity"),
    ("OpenAI's new model is codenamed Spud.", SPUD, "polarity"),
    ("Meta signed the CoreWeave deal because Google cancelled its TPU agreement.", DEAL, "unsupported"),
    ("Quarterly wheat harvests in Kansas fell because of drought.", DEAL, "off-topic"),
    # Roles, across languages and voices: who beat, hired or paid whom.
    ("十年前，李世石在首尔的五番棋比赛中战胜了 AlphaGo。", MATCH, "entity"),
    ("AlphaGo was beaten by Lee Sedol in Seoul ten years ago.", MATCH, "entity"),
    ("Alexandr Wang 亲自招揽扎克伯格加入 Meta。", HIRE, "entity"),
    ("China pledged $500 million, and Japan promised $60 million.", PLEDGES, "entity"),
    ("CoreWeave has a chip partnership with AMD.", DEAL, "entity"),  # the next sentence is about Meta again
    # Attributed, but stated as settled: the comment leaves it open.
    ("ip_counsel wrote that training on API outputs is legally theft.", THEFT, "polarity"),
])
def test_misstatements_fail_for_their_reason(checker: Checker, claim: str, source: str, reason: str) -> None:
    supported, kinds = verdict(checker, claim, source)
    assert not supported and reason in kinds, kinds


def test_more_citations_never_make_a_claim_pass(checker: Checker) -> None:
    chimera = "Anthropic will never release Mythos, which it built with CoreWeave for $21 billion."
    assert not verdict(checker, chimera, MYTHOS)[0] and not verdict(checker, chimera, DEAL)[0]
    assert not verdict(checker, chimera, MYTHOS, DEAL)[0]  # each passage on its own: no pooling
    assert verdict(checker, "Meta signed a $21 billion deal with CoreWeave.", MYTHOS, DEAL)[0]


def test_who_said_what_in_a_thread(checker: Checker) -> None:
    comment = Passage("t#c1", "kernel_panic42 (312 points): Giving it to the people who maintain browsers first "
                      "seems like the least bad option.", "kernel_panic42")
    right = "kernel_panic42 said giving it to browser maintainers first seems like the least bad option."
    wrong = "freebsd_greybeard said giving it to browser maintainers first seems like the least bad option."
    assert checker.check(right, [comment]).supported
    result = checker.check(wrong, [comment])
    assert not result.supported and result.kinds() == ["entity"]


def test_analysis_keeps_its_factual_checks(checker: Checker) -> None:
    assert verdict(checker, "For Meta, the deal shows how costly the race for compute has become.", DEAL,
                   part="analysis") == (True, [])
    assert verdict(checker, "For Meta, the $35 billion deal shows how costly compute has become.", DEAL,
                   part="analysis") == (False, ["number"])


# Floors: the figures benchmarks/check.py reached on the labelled set, less a margin of 0.02 against tiny
# numeric differences between machines. Recall = share of misstatements caught; passed = share of faithful claims.
FLOORS = {"en←en": (0.89, 0.97), "zh←en": (0.88, 0.95), "zh←zh": (0.92, 0.98)}


@pytest.mark.timeout(900)  # 468 claims through the rules and the embedder: minutes on a busy 2-core machine
def test_labelled_set_floors_per_language_pair(checker: Checker) -> None:
    claims = checkset.load(*checkset.default_paths(ROOT))
    assert SHARED.is_dir() and len(claims) >= 300
    assert sum(c.claim_lang == "zh" for c in claims) >= len(claims) / 3
    assert sum(c.pair == "zh←en" for c in claims) >= 100
    checker.prepare_pairs([c.claim for c in claims], [c.source_text for c in claims])
    groups: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for c in claims:
        groups[c.pair].append((c.supported, checker.check(c.claim, [Passage(c.id, c.source_text, c.author)]).supported))
    for pair, (recall, passed) in FLOORS.items():
        s = checkset.scores(groups[pair])
        assert s["recall"] >= recall and s["faithful_passed"] >= passed, (pair, s)
