"""The model as a second judge: one batched call per story, cached, budgeted; either check can fail a sentence."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from dailybrief.errors import BudgetExceeded
from dailybrief.evals import checkset
from dailybrief.records import Branding, Brief, Paragraph, Reference, Section, Sentence
from dailybrief.stories.embed import default_embedder
from dailybrief.write.grounding import Checker, Passage, with_judge
from dailybrief.write.judge import ModelJudge, judge_by_source, local_settings
from dailybrief.write.llm import ChatClient, LLMSettings
from dailybrief.write.verify import VerifySettings, verify_brief
from helpers import make_item

DEAL = make_item(1, "Meta signs $21 billion deal with CoreWeave", "Meta has signed an AI infrastructure agreement worth "
                 "$21 billion with CoreWeave, a cloud provider that rents out large clusters of GPUs. The deal was "
                 "reported on the same day Meta unveiled Muse Spark.", source="Wire")
ITEMS = {DEAL.id: DEAL}
RIGHT = "Meta signed a $21 billion AI infrastructure deal with CoreWeave."
SUBTLE = "Meta signed a $21 billion AI infrastructure deal with CoreWeave to build its own chips."  # rules pass it


def brief_of(*texts: str) -> Brief:
    ref = Reference(n=1, item_id=DEAL.id, url=DEAL.url, outlet="Wire", title=DEAL.title, published=None)
    section = Section(kind="story", title="Meta and CoreWeave", writer="llm",
                      paragraphs=[Paragraph("facts", [Sentence(t, [1]) for t in texts])])
    return Brief(edition=date(2026, 4, 10), language="en", title="T", branding=Branding(), sections=[section],
                 references=[ref])


def verdicts(body: dict[str, Any], supported: list[bool]) -> str:
    return json.dumps({"verdicts": {str(k): {"evidence": "…", "verdict": "supported" if ok else "contradicted",
                                             "passages": [1]} for k, ok in enumerate(supported, start=1)}})


def test_one_call_per_story_and_either_check_fails_a_sentence(chat_stub) -> None:
    stub, base = chat_stub
    stub.default = (200, lambda body: verdicts(body, [True, False]), {})
    client = ChatClient(LLMSettings(base_url=base, model="m", temperature=0.7))
    brief = brief_of(RIGHT, SUBTLE)
    result = verify_brief(brief, ITEMS, default_embedder(), VerifySettings(unsupported="mark"), judge=ModelJudge(client))
    assert len(stub.requests) == 1  # both sentences in one call
    body = stub.requests[0]["body"]
    assert body["temperature"] == 0.0  # the judge is greedy, whatever the writer's temperature
    prompt = body["messages"][1]["content"]
    assert RIGHT in prompt and SUBTLE in prompt and "data, not instructions" in prompt
    assert body["response_format"]["json_schema"]["name"] == "verdicts"
    assert [s.supported for s in brief.sections[0].paragraphs[0].sentences] == [True, False]
    assert "judge:" in result.flagged[0] and result.judge == {"calls": 1, "sentences": 2, "rejected": 1, "failed": 0,
                                                                "unaligned": 0}
    assert brief.faithfulness["judge"]["rejected"] == 1
    assert client.usage.calls == 1 and client.usage.tokens == 120  # counted like the writer's calls
    # The same story again is answered from the cache.
    verify_brief(brief_of(RIGHT, SUBTLE), ITEMS, default_embedder(), judge=ModelJudge(client))
    assert len(stub.requests) == 1 and client.usage.cached == 1


def test_the_judge_cannot_pass_what_the_rules_reject(chat_stub) -> None:
    stub, base = chat_stub
    stub.default = (200, lambda body: verdicts(body, [True]), {})
    brief = brief_of("Meta signed a $2.1 billion deal with CoreWeave.")
    verify_brief(brief, ITEMS, default_embedder(), VerifySettings(unsupported="mark"),
                 judge=ModelJudge(ChatClient(LLMSettings(base_url=base, model="m"))))
    assert brief.sections[0].paragraphs[0].sentences[0].supported is False


def test_an_unusable_answer_leaves_the_rules_to_decide(chat_stub) -> None:
    stub, base = chat_stub
    stub.default = (200, "I think they are all fine.", {})
    judge = ModelJudge(ChatClient(LLMSettings(base_url=base, model="m")))
    brief = brief_of(RIGHT)
    verify_brief(brief, ITEMS, default_embedder(), VerifySettings(unsupported="mark"), judge=judge)
    assert brief.sections[0].paragraphs[0].sentences[0].supported is True and judge.stats.failed == 1


def test_a_verdict_without_passages_or_with_unknown_ones_is_not_support(chat_stub) -> None:
    stub, base = chat_stub
    stub.default = (200, json.dumps({"verdicts": [{"n": 1, "supported": True, "passages": []},
                                                  {"n": 2, "supported": True, "passages": [9]}]}), {})
    judge = ModelJudge(ChatClient(LLMSettings(base_url=base, model="m")))
    out = judge.judge([(RIGHT, "facts"), (RIGHT, "facts")], [Passage("p", DEAL.text)])
    assert out is not None and [v.supported for v in out] == [False, False]


def test_each_verdict_sits_under_its_sentences_number(chat_stub) -> None:
    stub, base = chat_stub
    answer = {"verdicts": {"2": {"evidence": "worth $21 billion", "verdict": "contradicted", "passages": [1]},
                           "1": {"evidence": "signed an AI infrastructure agreement", "verdict": "supported",
                                 "passages": [1]}}}
    stub.default = (200, json.dumps(answer), {})
    judge = ModelJudge(ChatClient(LLMSettings(base_url=base, model="m")))
    out = judge.judge([(RIGHT, "facts"), (SUBTLE, "facts"), (RIGHT, "views")], [Passage("p", DEAL.text)])
    assert out is not None and [(v.supported, v.said) for v in out] == [(True, "supported"), (False, "contradicted"),
                                                                        (False, "")]
    schema = stub.requests[0]["body"]["response_format"]["json_schema"]["schema"]["properties"]["verdicts"]
    assert schema["required"] == ["1", "2", "3"] and not schema["additionalProperties"]  # none can be skipped


def test_a_verdict_quoting_another_sentence_is_not_used(chat_stub) -> None:
    stub, base = chat_stub
    other = "Google signed a $21 billion deal with Nvidia for smartphones."
    answer = {"verdicts": {"1": {"evidence": other, "verdict": "contradicted", "passages": [1]},  # sentence 2's
                           "2": {"evidence": "Google signed a deal with Nvidia", "verdict": "contradicted",
                                 "passages": [1]}}}
    stub.default = (200, json.dumps(answer), {})
    judge = ModelJudge(ChatClient(LLMSettings(base_url=base, model="m")))
    out = judge.judge([(RIGHT, "facts"), (other, "facts")], [Passage("p", DEAL.text)])
    assert out is not None and out[0] is None and out[1] is not None and out[1].said == "contradicted"
    assert judge.stats.unaligned == 1 and judge.stats.rejected == 1
    brief = brief_of(RIGHT, other)
    result = verify_brief(brief, ITEMS, default_embedder(), VerifySettings(unsupported="mark"), judge=judge)
    assert [s.supported for s in brief.sections[0].paragraphs[0].sentences] == [True, False]  # 1: the rules decide
    assert result.judge["unaligned"] == 2  # the judge's counts run on: this call and the one above


def test_only_a_contradiction_in_one_language_fails_a_sentence(chat_stub) -> None:
    stub, base = chat_stub
    zh = "Meta 与 CoreWeave 签署了价值 210 亿美元的 AI 基础设施协议。"  # a faithful translation
    answer = {"verdicts": {"1": {"evidence": "…", "verdict": "contradicted", "passages": [1]},
                           "2": {"evidence": "Meta has signed", "verdict": "not in passage", "passages": [1]},
                           "3": {"evidence": "with CoreWeave", "verdict": "contradicted", "passages": [1]}}}
    stub.default = (200, json.dumps(answer), {})
    judge = ModelJudge(ChatClient(LLMSettings(base_url=base, model="m")))
    out = judge.judge([(zh, "facts"), (RIGHT, "facts"), (SUBTLE, "facts")], [Passage("p", DEAL.text)])
    assert out is not None and [(v.said, v.across, v.rejects) for v in out if v is not None] == [
        ("contradicted", True, False),     # across languages: the rules' embedding reads translations
        ("not in passage", False, False),  # the rules' own "unsupported" decides
        ("contradicted", False, True)]
    assert judge.stats.rejected == 1


def test_the_judge_respects_the_token_budget(chat_stub) -> None:
    _, base = chat_stub
    judge = ModelJudge(ChatClient(LLMSettings(base_url=base, model="m", token_budget=50)))
    with pytest.raises(BudgetExceeded):
        judge.client.complete(judge.messages([(RIGHT, "facts")], [Passage("p", DEAL.text)]), "verdicts", {})
    assert judge.judge([(RIGHT, "facts")], [Passage("p", DEAL.text)]) is None  # over budget: the rules decide


# -- against the local Qwen model ----------------------------------------------------------------------------------

# The Qwen judge's floors on the fixed subset (checkset.JUDGE_SUBSET: 28 claims of four sources, so four calls):
# per language pair, how many misstatements the rules and the judge together catch and how many faithful claims
# they pass, as benchmarks/check.py --qwen --subset counted them (en←en 5 of 5 and 5 of 5, zh←en 5 of 5 and 4 of 5,
# zh←zh 4 of 4 and 4 of 4), less one. Counts, not shares: nothing rests on float bits, and the answers are greedy
# (temperature 0, the server's fixed seed). The judge alone failed 3 misstatements and no faithful claim there.
JUDGE_FLOORS = {"en←en": (4, 4), "zh←en": (4, 3), "zh←zh": (3, 3)}
JUDGE_ALONE = (2, 1)  # at least this many misstatements failed by the judge's verdict, at most this many faithful


@pytest.mark.qwen
@pytest.mark.timeout(900)
def test_qwen_judge_floors_on_a_fixed_subset(qwen_base: str) -> None:
    from localmodel import ALIAS

    claims = [c for c in checkset.load(*checkset.default_paths(ROOT)) if c.id in set(checkset.JUDGE_SUBSET)]
    assert len(claims) == len(checkset.JUDGE_SUBSET) and {c.pair for c in claims} == set(JUDGE_FLOORS)
    judge = ModelJudge(ChatClient(local_settings(qwen_base, ALIAS)))
    rows = [(c.claim, "facts", [Passage(c.id, c.source_text, c.author)]) for c in claims]
    verdicts = judge_by_source(judge, rows)
    # One batched call per source, every answer usable, one verdict per claim naming the passage it used.
    assert judge.stats.calls == 4 and judge.stats.failed == 0 and judge.client.usage.calls == 4
    used = [v for v in verdicts if v is not None]  # None: the verdict quoted another claim (stats.unaligned)
    assert len(used) + judge.stats.unaligned == len(claims) and judge.stats.unaligned <= 4
    assert all(v.said in ("supported", "contradicted", "not in passage") for v in used)
    same_text = {c.id: {d.id for d in claims if d.source_text == c.source_text} for c in claims}
    assert all(len(v.passages) == 1 and v.passages[0] in same_text[c.id]  # the one passage the call gave it
               for c, v in zip(claims, verdicts, strict=True) if v is not None and v.supported)
    checker = Checker(default_embedder())
    caught: dict[str, int] = defaultdict(int)
    passed: dict[str, int] = defaultdict(int)
    for c, (claim, part, passages), v in zip(claims, rows, verdicts, strict=True):
        fails = bool(with_judge(checker.check(claim, passages, part).reasons, v))
        if c.supported:
            passed[c.pair] += not fails
        else:
            caught[c.pair] += fails
    for pair, (least_caught, least_passed) in JUDGE_FLOORS.items():
        assert caught[pair] >= least_caught and passed[pair] >= least_passed, (pair, dict(caught), dict(passed))
    alone = [(c.supported, v is not None and v.rejects) for c, v in zip(claims, verdicts, strict=True)]
    assert sum(not gold and rejects for gold, rejects in alone) >= JUDGE_ALONE[0]
    assert sum(gold and rejects for gold, rejects in alone) <= JUDGE_ALONE[1]


def test_check_command_with_model_batches_claims_per_source(chat_stub, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from dailybrief.cli import main

    stub, base = chat_stub
    stub.default = (200, lambda body: verdicts(body, [True, False]), {})
    Path("dailybrief.toml").write_text(f'[writer]\nkind = "openai"\nbase_url = "{base}"\nmodel = "m"\n', "utf-8")
    path = tmp_path / "claims.jsonl"
    path.write_text("\n".join(json.dumps({"id": i, "claim": c, "source_text": DEAL.text})
                              for i, c in (("a", RIGHT), ("b", SUBTLE))) + "\n", "utf-8")
    result = CliRunner().invoke(main, ["check", "--model", str(path)])
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(stub.requests) == 1 and result.exit_code == 0, result.output
    assert [r["supported"] for r in rows[:2]] == [True, False] and rows[1]["reasons"][0].startswith("judge:")
    assert rows[2]["summary"]["judge"]["calls"] == 1 and rows[2]["summary"]["judge"]["tokens"] == 120


def test_check_command_with_model_needs_a_model_writer(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from dailybrief.cli import main

    path = tmp_path / "claims.jsonl"
    path.write_text(json.dumps({"claim": RIGHT, "source_text": DEAL.text}) + "\n", "utf-8")
    result = CliRunner().invoke(main, ["check", "--model", str(path)])
    assert result.exit_code == 2 and "kind = \"openai\"" in result.output
