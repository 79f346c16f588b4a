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
Qwen) also judges the claims, one call per source passage (at most 8 claims a
call): the columns become the checker alone, the judge alone and both (a claim
fails if either fails), on the subset of every N-th source (--every) or on the
tests' fixed subset (--subset) since a local model is slow. --qwen starts the
local Qwen server (tests/localmodel.py, one thread, greedy) instead. Then a
table counts the judge's own verdicts (supported / contradicted / not in
passage) on faithful claims and on misstatements, per language pair.
--cache-db keeps the model's answers in a store, so a second run (or a larger
subset) asks only for what is new.

    PYTHONPATH=src python benchmarks/check.py --qwen --every 2 --cache-db /tmp/judge.db
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from dailybrief.evals import checkset
from dailybrief.evals.checkset import scores
from dailybrief.store import Store
from dailybrief.stories.embed import default_embedder
from dailybrief.text import normalise, split_sentences
from dailybrief.write.grounding import Checker, Passage, chinese, with_judge
from dailybrief.write.judge import ModelJudge, judge_by_source, local_settings
from dailybrief.write.llm import ChatClient

ROOT = Path(__file__).resolve().parent.parent
VERDICTS = ("supported", "contradicted", "not in passage", "")  # the judge's own words; "": none usable

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
    reasons = {c.id: checker.check(c.claim, [Passage(c.id, c.source_text, c.author)]).reasons for c in claims}
    rules = {k: not v for k, v in reasons.items()}
    checks: dict[str, Callable[[checkset.LabelledClaim], bool]] = {
        "checker": lambda c: rules[c.id],
        "old": lambda c: old(c.claim, c.source_text),
        "trivial": lambda c: trivial(c.claim, c.source_text),
    }
    if judge is not None:
        t1 = time.perf_counter()
        verdicts = judge_by_source(judge, [(c.claim, "facts", [Passage(c.id, c.source_text, c.author)]) for c in claims])
        second = dict(zip((c.id for c in claims), verdicts, strict=True))
        words = {k: (v.said if v is not None else "") for k, v in second.items()}
        model_seconds = time.perf_counter() - t1
        checks = {"checker": checks["checker"],
                  "judge": lambda c: not with_judge([], second[c.id]),  # an unusable answer passes (the rules decide)
                  "both": lambda c: not with_judge(reasons[c.id], second[c.id])}
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
        usage = judge.client.usage
        out["_judge"] = {"all": {"calls": judge.stats.calls, "failed": judge.stats.failed,
                                 "unaligned": judge.stats.unaligned, "answered": usage.calls,
                                 "cached": usage.cached, "tokens": usage.tokens, "seconds": model_seconds}}
        said_by: dict[str, Counter[str]] = defaultdict(Counter)
        for c in claims:
            said_by[f"{c.pair} {'faithful' if c.supported else 'misstatement'}"][words[c.id] if words[c.id] in VERDICTS
                                                                                  else "other"] += 1
        out["_said"] = {k: dict(v) for k, v in sorted(said_by.items())}
        out["_claims"] = {c.id: {"judge": words[c.id], "rules": rules[c.id], "gold": c.supported} for c in claims}
    return out


def load() -> list[checkset.LabelledClaim]:
    return checkset.load(*checkset.default_paths(ROOT))


def subset(claims: list[checkset.LabelledClaim], every: int = 1,
           ids: Sequence[str] = ()) -> list[checkset.LabelledClaim]:
    """The claims of every N-th source (in the set's order), or the claims with these ids."""
    if ids:
        wanted = set(ids)
        return [c for c in claims if c.id in wanted]
    order = list(dict.fromkeys(c.source_text for c in claims))
    keep = set(order[::every])
    return [c for c in claims if c.source_text in keep]


@contextlib.contextmanager
def endpoint(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    """The judge's base URL and model name: --judge-url, or the local Qwen server started here (--qwen)."""
    if not args.qwen:
        yield args.judge_url, args.judge_model
        return
    sys.path.insert(0, str(ROOT / "tests"))
    from helpers import qwen_server  # the tests' own server, so the figures are the Qwen test's
    from localmodel import ALIAS

    with qwen_server() as base:
        yield base, ALIAS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--judge-url", help="an OpenAI-compatible endpoint (…/v1) whose model also judges")
    parser.add_argument("--judge-model", default="qwen", help="the model name to ask (default: qwen)")
    parser.add_argument("--qwen", action="store_true", help="start the local Qwen server (make qwen) and judge with it")
    parser.add_argument("--every", type=int, default=1, help="with a judge: only every N-th source's claims")
    parser.add_argument("--subset", action="store_true", help="with a judge: only the Qwen test's fixed claims "
                                                              "(checkset.JUDGE_SUBSET)")
    parser.add_argument("--cache-db", type=Path, help="with a judge: keep its answers in this store (SQLite file)")
    parser.add_argument("--claims", type=Path, help="with --json: also write each claim's verdicts to this file")
    args = parser.parse_args()
    claims = load()
    with contextlib.ExitStack() as stack:
        judge = None
        if args.judge_url or args.qwen:
            claims = subset(claims, args.every, checkset.JUDGE_SUBSET if args.subset else ())
            base, model = stack.enter_context(endpoint(args))
            store = Store.open(args.cache_db) if args.cache_db else None
            judge = ModelJudge(ChatClient(local_settings(base, model, cache=store is not None), store))
        result = run(claims, judge)
    if args.claims and "_claims" in result:
        args.claims.write_text(json.dumps(result["_claims"], ensure_ascii=False, indent=1), "utf-8")
    result.pop("_claims", None)
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
        which = "the Qwen test's fixed claims" if args.subset else f"every {args.every}. source"
        print(f"judge: {j['calls']} calls ({j['failed']} unusable answers, {j['unaligned']} verdicts quoting another "
              f"claim left to the rules; {j['answered']} answered by the model, "
              f"{j['cached']} from the cache), {j['tokens']} tokens, {j['seconds']:.0f} s in the model; subset: "
              f"{which}, {len(claims)} claims")
        print("the judge's own verdicts:")
        for key, counts in result["_said"].items():
            print(f"  {key:24}" + "".join(f"{(word or 'none') + ' ' + str(counts.get(word, 0)):>20}"
                                          for word in VERDICTS))


if __name__ == "__main__":
    main()
