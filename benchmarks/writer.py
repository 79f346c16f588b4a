"""The LLM writer with a local model that writes Chinese: one morning, and three mornings in a row, per edition.

    .venv/bin/python benchmarks/writer.py [--stories 2] [--mornings 3] [--threads 1] [--keep DIR]

Starts llama-cpp-python's OpenAI-compatible server on 127.0.0.1 with Qwen2.5-Coder-1.5B-Instruct (Q4_K_M; `make qwen`
assembles it), with one thread unless told otherwise, and first measures its speed: prompt tokens per second (a
long prompt, one answer token) and answer tokens per second (a short prompt, a long answer), medians of --repeats.

Then it serves the feeds of consecutive mornings from a local HTTP server (a story that continues every morning,
in English and Chinese, and a new story each morning) and runs each morning's edition, zh and en, with
`writer.kind = "openai"` and the configured section shape. Per edition it prints:

- model calls; parts whose answer was valid the first time, repaired, asked again; fallbacks to the extractive writer;
- the share of written sentences in the edition's language (a zh sentence must be Chinese: CJK ratio >= 0.2);
- faithfulness: sentences, cited, supported;
- tokens (prompt + answer), and seconds of the write stage in the model and outside it;

then the totals of the first morning and of all mornings.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from dailybrief import config  # noqa: E402
from dailybrief.demo import serve_directory  # noqa: E402
from dailybrief.files import load_briefs  # noqa: E402
from dailybrief.run.pipeline import Pipeline  # noqa: E402
from dailybrief.store import Store  # noqa: E402
from dailybrief.text import cjk_ratio  # noqa: E402
from helpers import MORNING_FEEDS, MORNINGS, llama_server, write_morning  # noqa: E402
from localmodel import ALIAS, qwen_gguf  # noqa: E402

COLUMNS = ("calls", "first_try", "repaired", "asked_again", "fallbacks", "in_language", "sentences", "cited",
           "supported", "prompt_tokens", "completion_tokens", "model_seconds", "outside_seconds")


def speed(base: str, repeats: int) -> tuple[float, float]:
    """(prompt tokens/s, answer tokens/s), medians of `repeats` requests each."""
    def ask(content: str, max_tokens: int) -> tuple[dict[str, Any], float]:
        started = time.perf_counter()
        body = {"model": ALIAS, "messages": [{"role": "user", "content": content}], "max_tokens": max_tokens,
                "temperature": 0}
        reply = httpx.post(f"{base}/chat/completions", json=body, timeout=1800).json()
        return reply["usage"], time.perf_counter() - started

    ask("Say hello.", 1)  # the first request pages the model in
    filler = " ".join(f"Line {i}: the quick brown fox jumps over the lazy dog by the river." for i in range(40))
    prompt, answer = [], []
    for r in range(repeats):
        used, seconds = ask(f"Run {r}. {filler}", 1)  # a new first line: nothing of it is cached
        prompt.append(used["prompt_tokens"] / seconds)
        used, seconds = ask(f"Run {r}. Count from 1 to 300, separated by commas.", 160)
        answer.append(used["completion_tokens"] / seconds)
    return statistics.median(prompt), statistics.median(answer)


def edition_rows(pipe: Pipeline, out: Path) -> dict[str, dict[str, float]]:
    """Per language, the COLUMNS of the edition just written."""
    chain = pipe.writer
    assert chain is not None and chain.writers, "the write stage did not run with a model"
    llm = chain.writers[0]
    rows = {}
    for brief in load_briefs(out):
        lang = brief.language
        used = llm.by_language.get(lang)  # type: ignore[attr-defined]
        texts = [x.text for s in brief.sections if s.kind == "story" for p in s.paragraphs for x in p.sentences]
        texts += [x.text for p in brief.abstract for x in p.sentences if x.refs]  # the theme sentence is ours
        seconds = chain.seconds.get(lang, 0.0)
        rows[lang] = {
            **{k: float(getattr(used, k, 0)) for k in ("calls", "first_try", "repaired", "asked_again",
                                                       "prompt_tokens", "completion_tokens", "model_seconds")},
            "fallbacks": float(sum(1 for f in chain.fallbacks if f.language == lang)),
            "in_language": float(sum(1 for t in texts if (cjk_ratio(t) >= 0.2) == (lang == "zh"))),
            "written": float(len(texts)),
            **{k: float(brief.faithfulness.get(k, 0)) for k in ("sentences", "cited", "supported")},
            "outside_seconds": seconds - float(getattr(used, "model_seconds", 0.0)),
        }
    return rows


def line(label: str, row: dict[str, float]) -> str:
    share = row["in_language"] / row["written"] if row["written"] else 0.0
    return (f"{label:<14} {row['calls']:>5.0f} {row['first_try']:>5.0f} {row['repaired']:>5.0f} {row['asked_again']:>5.0f} "
            f"{row['fallbacks']:>5.0f}  {row['in_language']:>3.0f}/{row['written']:<3.0f} {share:>5.0%}  "
            f"{row['sentences']:>4.0f} {row['cited']:>4.0f} {row['supported']:>4.0f}  "
            f"{row['prompt_tokens']:>6.0f}+{row['completion_tokens']:<5.0f} {row['model_seconds']:>7.1f} "
            f"{row['outside_seconds']:>7.1f}")


def total(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: sum(r[k] for r in rows) for k in rows[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stories", type=int, default=2, help="top stories per edition")
    parser.add_argument("--mornings", type=int, default=3, choices=(1, 2, 3))
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads (1 on a busy machine)")
    parser.add_argument("--repeats", type=int, default=3, help="speed requests of each kind")
    parser.add_argument("--max-tokens", type=int, default=config.WriterConfig().max_tokens)
    parser.add_argument("--passage-budget", type=int, default=config.WriterConfig().passage_budget)
    parser.add_argument("--keep", type=Path, help="an empty folder to write into and keep (editions, store, server log)"
                        " so the written text can be read afterwards")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        run_in(args, str(args.keep))
        return
    with tempfile.TemporaryDirectory(prefix="dailybrief-bench-") as tmp:
        run_in(args, tmp)


def run_in(args: argparse.Namespace, tmp: str) -> None:
    try:
        bench(args, tmp)
    except RuntimeError:
        log = Path(tmp) / "server.log"
        print(log.read_text("utf-8", "replace")[-3000:] if log.exists() else "(no server log)", file=sys.stderr)
        raise


def bench(args: argparse.Namespace, tmp: str) -> None:
    with serve_directory(Path(tmp)) as feeds, \
            llama_server(n_ctx=8192, log=Path(tmp) / "server.log", model=qwen_gguf(), alias=ALIAS,
                         threads=args.threads, prompt_cache=True) as llm:
        prompt_speed, answer_speed = speed(llm, args.repeats)
        print(f"Qwen2.5-Coder-1.5B-Instruct Q4_K_M on llama-cpp-python's server, {args.threads} thread(s): "
              f"{prompt_speed:.1f} prompt tokens/s, {answer_speed:.1f} answer tokens/s "
              f"(medians of {args.repeats})", flush=True)
        sources = [{"name": name, "kind": "rss", "url": f"{feeds}/{file}", "tier": tier, "language": lang}
                   for file, (name, tier, lang) in MORNING_FEEDS.items()]
        cfg = config.from_dict({
            "storage": {"path": str(Path(tmp) / "db.sqlite")}, "sources": sources,
            "edition": {"languages": ["zh", "en"], "top_stories": args.stories, "roundup_items": 0,
                        "timezone": "Asia/Shanghai"},
            "output": {"formats": ["json"]},
            "writer": {"kind": "openai", "base_url": llm, "model": ALIAS, "response_format": "json_object_schema",
                       "timeout": 1800, "max_tokens": args.max_tokens, "passage_budget": args.passage_budget}})
        w = cfg.writer
        print(f"section shape: facts {list(w.facts)}, positions {list(w.positions)}, analysis {list(w.analysis)}; "
              f"max_tokens {w.max_tokens}, passage_budget {w.passage_budget} characters; {args.stories} stories")
        print(f"{'edition':<14} {'calls':>5} {'first':>5} {'repair':>5} {'again':>5} {'fallb':>5}  {'in language':>13}  "
              f"{'sent':>4} {'cite':>4} {'supp':>4}  {'tokens':>12} {'model s':>7} {'other s':>7}", flush=True)
        store = Store.open(cfg.db_path())
        rows: list[dict[str, float]] = []
        first = 0
        for n, day in enumerate(MORNINGS[: args.mornings]):
            write_morning(Path(tmp), n, extra=args.stories > 1)  # a new story a morning when there is room
            out = Path(tmp) / "out" / day.isoformat()
            pipe = Pipeline(cfg, store)
            run = pipe.run(day, out)
            follow = sum(1 for b in load_briefs(out) for s in b.sections if s.follow_up)
            for lang, row in edition_rows(pipe, out).items():
                rows.append(row)
                print(line(f"{day.isoformat()} {lang}", row), flush=True)
            print(f"{'':<14} run {run.status}; follow-up sections: {follow}", flush=True)
            first = first or len(rows)
        store.close()
    print(line("one morning", total(rows[:first])))
    print(line(f"{args.mornings} mornings", total(rows)))


if __name__ == "__main__":
    main()
