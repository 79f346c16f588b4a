"""Grounding check on the labelled claims: how many misstatements it catches, how many faithful claims it passes.

    PYTHONPATH=src python benchmarks/check.py [--json]
    PYTHONPATH=src python benchmarks/check.py --judge-url http://127.0.0.1:8080/v1 --judge-model qwen --every 4

Prints precision, recall and F1 of "unsupported", and the share of faithful
claims passed, per language pair (en←en, zh←en, zh←zh) and per category, for
three checks in the same run: the checker (grounding.py), the check it
replaces (words, numbers by their significant digits, and one embedding bar),
and the trivial rule ("half the content words occur in the source, and every
number occurs exactly"). The claims are hand-written; their sources are read
from the demo and ../shared at run time (dailybrief.checkset).

With --judge-url, a model (any OpenAI-compatible server, e.g. llama.cpp with
Qwen) also judges the claims, one call per source passage: the columns become
the checker alone, the judge alone and both (a claim fails if either fails), on
the subset of every N-th source (--every) since a local model is slow.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from dailybrief.evals import checkset
from dailybrief.evals.checkset import scores
from dailybrief.stories.embed import default_embedder
from dailybrief.text import normalise, split_sentences
from dailybrief.write.grounding import Checker, Passage, chinese
from dailybrief.write.judge import ModelJudge, judge_by_source
from dailybrief.write.llm import ChatClient, LLMSettings

ROOT = Path(__file__).resolve().parent.parent

# -- the check this replaces (verify.py before checker version 2), on one source text ----------------------------

_WORD = re.compile(r"[a-z][a-z0-9'’\-]+|[\u3400-\u4dbf\u4e00-\u9fff]+")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_STOP = frozenset("""a an and are as at be been but by can could did do does for from had has have he her his how i if
in into is it its it's may might more most much must no not of on one or our out over says said she so such than that
the their them then there these they this those to under up us was we were what when which while who will with would
you your also about after all any been before being both each few just like made make many new now only other own same
some still very via where why yet""".split())


def _old_numbers(text: str) -> set[str]:
    out = set()
    for m in _NUMBER.finditer(text):
        digits = m.group().replace(",", "").replace(".", "").strip("0")
        if digits:
            out.add(digits)
    return out


def _old_tokens(text: str) -> set[str]:
    text = normalise(text)
    out: set[str] = set()
    for m in _WORD.finditer(text):
        w = m.group().strip("'’-")
        if "\u3400" <= w[0] <= "\u9fff":
            out.update(w[i: i + 2] for i in range(len(w) - 1)) if len(w) > 1 else out.add(w)
        elif len(w) > 2 and w not in _STOP:
            out.add(w[:-1] if w.endswith("s") and len(w) > 4 else w)
    out.update(f"#{n}" for n in _old_numbers(text))
    return out


class OldCheck:
    def __init__(self, embed: Callable[[Sequence[str]], np.ndarray]) -> None:
        self.embed = embed

    def __call__(self, claim: str, source: str) -> bool:
        mine = _old_tokens(claim)
        if not mine:
            return False
        lexical = len(mine & _old_tokens(source)) / len(mine)
        if _old_numbers(normalise(claim)) - _old_numbers(normalise(source)):
            return False
        sentences = split_sentences(source)
        windows = list(dict.fromkeys(sentences + [f"{a} {b}" for a, b in itertools.pairwise(sentences)]))
        sims = self.embed(windows) @ self.embed([claim])[0]
        bars = np.array([0.72 if chinese(w) == chinese(claim) else 0.64 for w in windows])
        return lexical >= 0.7 or bool((sims >= bars).any())


def trivial(claim: str, source: str) -> bool:
    """Half the content words occur in the source, and every number occurs exactly."""
    words = {w for w in _old_tokens(claim) if not w.startswith("#")}
    have = _old_tokens(source)
    numbers = set(_NUMBER.findall(claim)) - set(_NUMBER.findall(source))
    return bool(words) and len(words & have) / len(words) >= 0.5 and not numbers


def run(claims: list[checkset.LabelledClaim],
        judge: ModelJudge | None = None) -> dict[str, dict[str, dict[str, float | int]]]:
    embedder = default_embedder()
    checker = Checker(embedder)
    t0 = time.perf_counter()
    checker.prepare_pairs([c.claim for c in claims], [c.source_text for c in claims])
    cache: dict[str, np.ndarray] = {}

    def embed(texts: Sequence[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in cache]
        if todo:
            cache.update(zip(todo, embedder.encode(todo), strict=True))
        return np.vstack([cache[t] for t in texts])

    old = OldCheck(embed)
    rules = {c.id: checker.check(c.claim, [Passage(c.id, c.source_text, c.author)]).supported for c in claims}
    checks: dict[str, Callable[[checkset.LabelledClaim], bool]] = {
        "checker": lambda c: rules[c.id],
        "old": lambda c: old(c.claim, c.source_text),
        "trivial": lambda c: trivial(c.claim, c.source_text),
    }
    if judge is not None:
        t1 = time.perf_counter()
        verdicts = judge_by_source(judge, [(c.claim, "facts", [Passage(c.id, c.source_text, c.author)]) for c in claims])
        said = {c.id: (v.supported if v is not None else None) for c, v in zip(claims, verdicts, strict=True)}
        model_seconds = time.perf_counter() - t1
        checks = {"checker": checks["checker"],
                  "judge": lambda c: said[c.id] is not False,  # an unusable answer passes (the rules decide)
                  "both": lambda c: rules[c.id] and said[c.id] is not False}
    out: dict[str, dict[str, dict[str, float | int]]] = {}
    for name, fn in checks.items():
        groups: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
        for c in claims:
            verdict = (c.supported, fn(c))
            for key in ("all", f"pair {c.pair}", f"category {c.category}"):
                groups[key].append(verdict)
        out[name] = {k: scores(v) for k, v in sorted(groups.items())}
    out["_seconds"] = {"all": {"seconds": time.perf_counter() - t0}}
    if judge is not None:
        out["_judge"] = {"all": {"calls": judge.stats.calls, "failed": judge.stats.failed,
                                 "tokens": judge.client.usage.tokens, "seconds": model_seconds}}
    return out


def load() -> list[checkset.LabelledClaim]:
    return checkset.load(*checkset.default_paths(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--judge-url", help="an OpenAI-compatible endpoint (…/v1) whose model also judges")
    parser.add_argument("--judge-model", default="qwen", help="the model name to ask (default: qwen)")
    parser.add_argument("--every", type=int, default=1, help="with a judge: only every N-th source's claims")
    args = parser.parse_args()
    claims = load()
    judge = None
    if args.judge_url:
        keep = sorted({c.source_text for c in claims}, key=lambda t: [c.source_text for c in claims].index(t))
        keep_set = set(keep[:: args.every])
        claims = [c for c in claims if c.source_text in keep_set]
        judge = ModelJudge(ChatClient(LLMSettings(base_url=args.judge_url, model=args.judge_model,
                                                  response_format="json_object_schema", max_tokens=1000, timeout=1200,
                                                  cache=False, token_budget=0)))
    result = run(claims, judge)
    names = ("checker", "judge", "both") if judge is not None else ("checker", "old", "trivial")
    if args.json:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
        return
    pairs = sorted({c.pair for c in claims})
    print(f"{len(claims)} labelled claims ({sum(not c.supported for c in claims)} misstatements), "
          f"{sum(c.claim_lang == 'zh' for c in claims)} Chinese; pairs: "
          + ", ".join(f"{p} {sum(c.pair == p for c in claims)}" for p in pairs))
    head = f"{'':26}" + "".join(f"{name:>34}" for name in names)
    print(head)
    print(f"{'':26}" + "".join(f"{'P    R    F1   faithful-passed':>34}" for _ in range(3)))
    keys = ["all", *[f"pair {p}" for p in pairs], *sorted(k for k in result["checker"] if k.startswith("category"))]
    for key in keys:
        cells = []
        for name in names:
            s = result[name][key]
            if s["misstatements"]:
                cells.append(f"{s['precision']:.2f} {s['recall']:.2f} {s['f1']:.2f}   " +
                             (f"{s['faithful_passed']:.2f}" if s["faithful"] else "  - "))
            else:
                cells.append(f"{'-    -    -':>14}   {s['faithful_passed']:.2f}")
        print(f"{key + ' (' + str(result['checker'][key]['n']) + ')':26}" + "".join(f"{c:>34}" for c in cells))
    print(f"seconds: {result['_seconds']['all']['seconds']:.1f}")
    if judge is not None:
        j = result["_judge"]["all"]
        print(f"judge: {j['calls']} calls ({j['failed']} unusable answers), {j['tokens']} tokens, "
              f"{j['seconds']:.0f} s in the model; subset: every {args.every}. source, {len(claims)} claims")


if __name__ == "__main__":
    main()
