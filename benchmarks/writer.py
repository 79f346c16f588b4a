"""The LLM writer on a 10-story day: tokens per briefing and seconds spent outside the model.

    .venv/bin/python benchmarks/writer.py [--stories 10] [--reruns 3]

Starts a real OpenAI-compatible server on 127.0.0.1 (llama-cpp-python with SmolLM2-135M-Instruct,
as `make llm-server` installs them), serves the bundled demo day from a local HTTP server, fetches
it once, then writes its top stories in English with `writer.kind = "openai"`:

- a cold run (empty response cache): model calls, tokens per briefing, seconds in the write stage,
  seconds waiting for the model, and the rest (prompts, parsing, citations, verification);
- reruns served from the cache (the median of --reruns): tokens and seconds, all outside the model;
- the extractive writer on the same stories, for scale.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from dailybrief import config  # noqa: E402
from dailybrief.demo import DEMO_DATE, demo_config, demo_dir, serve_directory  # noqa: E402
from dailybrief.pipeline import Pipeline  # noqa: E402
from dailybrief.store import Store  # noqa: E402
from helpers import llama_server  # noqa: E402

DAY = date.fromisoformat(DEMO_DATE)


def write_once(cfg: config.Config, store: Store) -> dict[str, float]:
    pipe = Pipeline(cfg, store)
    run = pipe.new_run(DAY)
    briefs = pipe.write(run, DAY, pipe.stories(run, DAY))
    stage = next(s for s in run.stages if s.name == "write")
    counts = dict(stage.counts)
    counts["seconds"] = stage.seconds
    counts["outside"] = stage.seconds - float(counts.get("model_seconds", 0.0))
    counts["stories"] = sum(1 for s in briefs[0].sections if s.kind == "story")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stories", type=int, default=10)
    parser.add_argument("--reruns", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dailybrief-bench-") as tmp, serve_directory(demo_dir()) as feeds, \
            llama_server(log=Path(tmp) / "server.log") as llm:
        base = {**demo_config(feeds), "storage": {"path": str(Path(tmp) / "db.sqlite")},
                "edition": {"languages": ["en"], "top_stories": args.stories, "roundup_items": 0,
                            "timezone": "Asia/Shanghai", "cutoff": "24:00"}}  # the demo day is a calendar day
        model = config.from_dict({**base, "writer": {
            "kind": "openai", "base_url": llm, "model": "smollm2", "response_format": "json_object_schema",
            "max_tokens": 400, "passage_chars": 600, "max_passages": 6, "timeout": 300}})
        extractive = config.from_dict(base)
        store = Store.open(model.db_path())
        Pipeline(model, store).fetch(Pipeline(model, store).new_run(DAY))
        write_once(extractive, store)  # warm the embedder and the item embeddings
        cold = write_once(model, store)
        warm = [write_once(model, store) for _ in range(args.reruns)]
        plain = [write_once(extractive, store) for _ in range(args.reruns)]
        store.close()

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(float(r.get(key, 0)) for r in rows)

    print(f"LLM writer (SmolLM2-135M-Instruct on llama-cpp-python, 127.0.0.1), demo day, {cold['stories']} stories, en")
    print(f"cold run:  {cold['calls']:.0f} model calls ({cold['retries']:.0f} retries, {cold['repaired']:.0f} repaired), "
          f"{cold['tokens']:.0f} tokens per briefing ({cold['prompt_tokens']:.0f} prompt + "
          f"{cold['completion_tokens']:.0f} answer), {cold.get('by_llm', 0):.0f} sections by the model, "
          f"{cold['fallbacks']:.0f} fallbacks")
    print(f"           write stage {cold['seconds']:.2f} s = {cold['model_seconds']:.2f} s in the model + "
          f"{cold['outside']:.2f} s outside it ({cold['outside'] / max(cold['stories'], 1):.3f} s per story)")
    print(f"           faithfulness: {cold['sentences']:.0f} sentences, {cold['cited']:.0f} cited, "
          f"{cold['supported']:.0f} supported")
    print(f"cached rerun (median of {len(warm)}): {med(warm, 'tokens'):.0f} tokens, {med(warm, 'calls'):.0f} calls, "
          f"{med(warm, 'cached'):.0f} answers from the cache, {med(warm, 'outside'):.2f} s outside the model")
    print(f"extractive writer, same stories (median of {len(plain)}): {med(plain, 'seconds'):.2f} s")


if __name__ == "__main__":
    main()
