"""The model as a second judge: one batched call per story, cached, budgeted; either check can fail a sentence."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dailybrief.errors import BudgetExceeded
from dailybrief.records import Branding, Brief, Paragraph, Reference, Section, Sentence
from dailybrief.stories.embed import default_embedder
from dailybrief.write.grounding import Passage
from dailybrief.write.judge import ModelJudge
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
    return json.dumps({"verdicts": [{"n": k, "supported": ok, "passages": [1] if ok else []}
                                    for k, ok in enumerate(supported, start=1)]})


def test_one_call_per_story_and_either_check_fails_a_sentence(chat_stub) -> None:
    stub, base = chat_stub
    stub.default = (200, lambda body: verdicts(body, [True, False]), {})
    client = ChatClient(LLMSettings(base_url=base, model="m"))
    brief = brief_of(RIGHT, SUBTLE)
    result = verify_brief(brief, ITEMS, default_embedder(), VerifySettings(unsupported="mark"), judge=ModelJudge(client))
    assert len(stub.requests) == 1  # both sentences in one call
    body = stub.requests[0]["body"]
    prompt = body["messages"][1]["content"]
    assert RIGHT in prompt and SUBTLE in prompt and "data, not instructions" in prompt
    assert body["response_format"]["json_schema"]["name"] == "verdicts"
    assert [s.supported for s in brief.sections[0].paragraphs[0].sentences] == [True, False]
    assert "judge:" in result.flagged[0] and result.judge == {"calls": 1, "sentences": 2, "rejected": 1, "failed": 0}
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


def test_the_judge_respects_the_token_budget(chat_stub) -> None:
    _, base = chat_stub
    judge = ModelJudge(ChatClient(LLMSettings(base_url=base, model="m", token_budget=50)))
    with pytest.raises(BudgetExceeded):
        judge.client.complete(judge.messages([(RIGHT, "facts")], [Passage("p", DEAL.text)]), "verdicts", {})
    assert judge.judge([(RIGHT, "facts")], [Passage("p", DEAL.text)]) is None  # over budget: the rules decide


# -- against the local Qwen model ----------------------------------------------------------------------------------

@pytest.mark.qwen
@pytest.mark.timeout(1500)
def test_qwen_judges_a_story_in_one_call(qwen_base: str) -> None:
    from localmodel import ALIAS

    client = ChatClient(LLMSettings(base_url=qwen_base, model=ALIAS, response_format="json_object_schema",
                                    max_tokens=500, timeout=900, cache=False))  # room to quote the evidence
    judge = ModelJudge(client)
    sentences = [(RIGHT, "facts"), ("Meta 与 CoreWeave 签署了价值 210 亿美元的 AI 基础设施协议。", "facts"),
                 ("Google signed a $21 billion deal with Nvidia for smartphones.", "facts")]
    out = judge.judge(sentences, [Passage("deal", DEAL.text)])
    assert out is not None and len(out) == 3 and client.usage.calls == 1
    assert all(v.passages in ([], ["deal"]) for v in out)
    assert out[0].supported and not out[2].supported


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
