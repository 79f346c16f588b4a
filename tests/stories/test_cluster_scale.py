"""The cluster stage's mechanics at a large day's size: the same answers as pair by pair, from indexes and blocks."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import numpy as np

from dailybrief.stories.cluster import BUSY_TITLES, StoryIndex, _holders, _shared_counts

DAY = date(2026, 4, 10)
WORDS = [f"w{k}" for k in range(12)]


def _themed_pair_by_pair(index: StoryIndex, members: list[np.ndarray], words: list[frozenset[str]]) -> np.ndarray:
    """The theme rule as first written: every group against every story."""
    df = Counter(w for ws in words for w in ws)
    cores = [frozenset(w for w, c in counts.items() if 2 * c >= size)
             for counts, size in zip(index.words, index.size, strict=True)]
    df.update(w for core in cores for w in core)
    out = np.zeros((len(members), len(index.ids)), dtype=bool)
    for g, m in enumerate(members):
        mine = frozenset().union(*(words[int(i)] for i in m))
        for k, core in enumerate(cores):
            both = mine & core
            out[g, k] = len(both) == 1 and df[next(iter(both))] >= BUSY_TITLES
    return out


def _index_with_stories(rng: random.Random, stories: int) -> StoryIndex:
    index = StoryIndex(dim=8)
    for k in range(stories):
        size = rng.randint(1, 4)
        titles = [" ".join(rng.sample(WORDS, rng.randint(1, 3))) for _ in range(size)]
        index.add_story(f"s{k}", DAY, DAY, np.eye(8, dtype=np.float32)[[k % 8] * size], np.zeros(size, bool),
                        np.zeros(size), titles=titles)
    return index


def test_the_theme_rule_read_from_the_stories_words_matches_every_pair() -> None:
    rng = random.Random(3)  # noqa: S311 - test data, not secrets
    index = _index_with_stories(rng, 60)
    words = [frozenset(rng.sample(WORDS, rng.randint(0, 3))) for _ in range(40)]
    members = [np.array(sorted(rng.sample(range(40), rng.randint(1, 3)))) for _ in range(25)]
    expected = _themed_pair_by_pair(index, members, words)
    assert expected.any() and not expected.all()  # the fixture has both answers
    assert (index._themed(members, words) == expected).all()
    rows = np.array([g % 3 == 0 for g in range(len(members))])
    day_words = Counter(w for ws in words for w in ws)
    only = index._themed(members, words, rows, day_words)
    assert (only[rows] == expected[rows]).all() and not only[~rows].any()  # the groups not asked for stay False


def test_shared_counts_are_the_sizes_of_the_intersections() -> None:
    rng = random.Random(5)  # noqa: S311 - test data, not secrets
    sets = [frozenset(rng.sample(WORDS, rng.randint(0, 4))) for _ in range(50)]
    held = _holders(sets)
    for _ in range(20):
        found = frozenset(rng.sample(WORDS, rng.randint(0, 5)))
        assert _shared_counts(found, held, len(sets)).tolist() == [len(found & s) for s in sets]
