"""How far the ranking's own signals can go on the golden days: our weights beside weights fitted to the labels,
each fitted weighting tested on a day it never saw (leave one day out).

    python benchmarks/rank_fit.py [DIR]

DIR defaults to ../shared/eval-data/golden-days-dev. Each day runs through the pipeline up to the rank stage
(feeds served from 127.0.0.1, as `eval days` does). A story counts as a published story's when one of its items,
or a duplicate of one, has a strictly matching URL; top@N is over the stories that get a section, in order.

Printed, pooled over the days, as counts of the strict ceiling:
- ours: the configured weights ([rank] defaults);
- heat only: the engagement part alone (what the community's own front page shows), on-beat stories;
- fitted, left out: a logistic regression on the score parts, fitted on the other days, ranking the day left out;
- fitted, left out, with extra features: the same, with points, comments and the title's form added;
- fitted, seen: fitted on every day and ranking the same days (what fitting the dev days would buy: not general).

If the fitted weightings tested on unseen days do no better than ours, the signals carry no more of the
digest's choices than our weights already use, and a higher figure would come only from fitting these days.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from dailybrief.evals.days import day_folders, normalise_url, read_day, run_day
from dailybrief.records import Story
from dailybrief.run.pipeline import sections_and_roundup
from dailybrief.stories import rank
from dailybrief.stories.embed import Embedder, default_embedder

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "eval-data" / "golden-days-dev"
TOP = 10


def parts(story: Story, extra: bool) -> list[float]:
    row = [story.score_parts.get(p, 0.0) for p in rank.PARTS]
    if extra:
        points = max((i.points or 0 for i in story.items), default=0)
        comments = max((i.comment_count or 0 for i in story.items), default=0)
        title = story.items[0].title if story.items else ""
        row += [math.log1p(points), math.log1p(comments), float(bool(re.match(r"(Show|Launch) HN", title))),
                float("?" in title), float(len(story.items))]
    return row


class Day:
    def __init__(self, folder: Path, embedder: Embedder) -> None:
        day = read_day(folder)
        run = run_day(day, embedder, write=False, top_stories=TOP)
        self.name = day.day.isoformat()
        self.ranked = run.ranked
        self.gold = list(day.briefings["primary"])
        self.ceiling = sum(1 for g in self.gold if g.matched)
        urls: dict[str, set[str]] = {}
        for item in run.items:
            urls.setdefault(item.duplicate_of or item.id, set()).add(normalise_url(item.url))
        self.urls = {s.id: set().union(*(urls.get(i.id, set()) | {normalise_url(i.url)} for i in s.items))
                     for s in run.ranked}

    def label(self, story: Story) -> int:
        return int(any(g.strict & self.urls[story.id] for g in self.gold))

    def hits(self, score) -> int:
        """Published stories among the first N sections when the day's stories are ordered by `score`."""
        order = sorted(self.ranked, key=lambda s: (not s.on_beat, -score(s), s.id))
        sections, _ = sections_and_roundup(order, TOP, 0)
        covered = set().union(*(self.urls[s.id] for s in sections[: len(self.gold)]))
        return sum(1 for g in self.gold if g.strict & covered)


def fitted(train: list[Day], extra: bool):
    rows = [(parts(s, extra), d.label(s)) for d in train for s in d.ranked if s.on_beat]
    x = np.array([r for r, _ in rows])
    mean, spread = x.mean(axis=0), x.std(axis=0) + 1e-9
    model = LogisticRegression(max_iter=5000).fit((x - mean) / spread, [y for _, y in rows])
    return lambda s: float(model.decision_function((np.array([parts(s, extra)]) - mean) / spread)[0])


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not root.exists():
        sys.exit(f"{root} is missing: this script reads the golden days in place")
    embedder = default_embedder()
    days = [Day(folder, embedder) for folder in day_folders(root)]
    ceiling = sum(d.ceiling for d in days)
    rows = {
        "ours": sum(d.hits(lambda s: s.score) for d in days),
        "heat only": sum(d.hits(lambda s: s.score_parts.get("engagement", 0.0)) for d in days),
    }
    for extra in (False, True):
        name = "fitted, left out" + (", with extra features" if extra else "")
        rows[name] = sum(d.hits(fitted([o for o in days if o is not d], extra)) for d in days)
    everything = fitted(days, False)
    rows["fitted, seen"] = sum(d.hits(everything) for d in days)
    print(f"primary briefing, top@N of the strict ceiling ({ceiling}), {len(days)} days:")
    for name, hits in rows.items():
        print(f"  {name:<40} {hits:>3}/{ceiling} = {hits / ceiling:.3f}")


if __name__ == "__main__":
    main()
