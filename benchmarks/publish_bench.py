"""How long publishing takes as the archive grows.

The site is rebuilt from its own folders every time an edition is placed, so
its cost grows with the number of editions; a chat message is fitted to its
platform's limit by re-rendering it part by part. This prints, from one run:

  - the median time to rebuild index.html and feed.xml for 30, 365 and 1,000 editions
    (two languages each, the demo-sized brief.json);
  - the median time to fit a long edition to each chat platform's limit.

Run: .venv/bin/python benchmarks/publish_bench.py
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from briefs import make_brief
from dailybrief import config
from dailybrief.publish.delivery import make_target
from dailybrief.publish.site import build_site
from dailybrief.render.digest import digest_of, fit
from dailybrief.render.formats import render_json


def median_seconds(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def site_bench(root: Path, editions: int) -> float:
    zh, en = make_brief("zh", sentences=6, headlines=6), make_brief("en", sentences=6, headlines=6)
    zh_json, en_json = render_json(zh), render_json(en)
    start = date(2026, 1, 1)
    for k in range(editions):
        folder = root / (start + timedelta(days=k)).isoformat()
        folder.mkdir(parents=True)
        for stem, text in (("brief", zh_json), ("brief.en", en_json)):
            (folder / f"{stem}.json").write_text(text.replace("2026-04-10", folder.name), "utf-8")
            for suffix in (".html", ".md", ".pdf"):
                (folder / f"{stem}{suffix}").write_bytes(b"x")
    return median_seconds(lambda: build_site(root, title="AI 技术每日分析", language="zh",
                                             base_url="https://brief.example.org", feed_entries=30), repeat=5)


def fit_bench() -> dict[str, float]:
    cfg = config.from_dict({"publish": [
        {"kind": kind, "name": kind, "url": "https://hooks.example/x", "link": "https://b.example/{date}/"}
        if kind != "telegram" else
        {"kind": kind, "name": kind, "token_env": "BENCH_TOKEN", "chat_id": "1", "link": "https://b.example/{date}/"}
        for kind in ("feishu", "dingtalk", "wecom", "slack", "telegram", "webhook")]})
    import os

    os.environ.setdefault("BENCH_TOKEN", "123:abc")
    brief = make_brief("zh", sentences=80, headlines=30, long=True)
    out = {}
    for conf in cfg.publish:
        target = make_target(conf, cfg)
        full = digest_of(brief, "https://b.example/2026-04-10/")
        out[conf.kind] = median_seconds(lambda t=target, f=full: fit(f, t.edition_text, type(t).measure, t.max),
                                        repeat=20)
    return out


def main() -> None:
    print("site rebuild (index.html + feed.xml), median of 5:")
    for n in (30, 365, 1000):
        root = Path(tempfile.mkdtemp(prefix="dailybrief-bench-"))
        try:
            print(f"  {n:>5} editions × 2 languages: {site_bench(root, n) * 1000:8.1f} ms")
        finally:
            shutil.rmtree(root)
    print("fitting an 80-sentence, 30-headline edition to each platform's limit, median of 20:")
    for kind, seconds in fit_bench().items():
        print(f"  {kind:<9} {seconds * 1000:8.2f} ms")


if __name__ == "__main__":
    main()
