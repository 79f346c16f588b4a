"""The cluster stage's mechanics at a large day's size: the same answers as pair by pair, from indexes and blocks."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest

from dailybrief.records import Item
from dailybrief.stories import cluster
from dailybrief.stories.cluster import (
    BUSY_TITLES,
    ClusterSettings,
    StoryIndex,
    ThreadEvidence,
    _holders,
    _shared_counts,
    apart_pairs,
    artifacts_of,
    cluster_items,
    content_words,
    is_digest,
    is_short,
    item_order,
    moved_thread,
    parties,
    release_keys,
    thread_evidence,
)
from dailybrief.stories.embed import item_text

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
    only = index._themed(members, words, rows, index.theme_counts(words, day_words))
    assert (only[rows] == expected[rows]).all() and not only[~rows].any()  # the groups not asked for stay False


def test_shared_counts_are_the_sizes_of_the_intersections() -> None:
    rng = random.Random(5)  # noqa: S311 - test data, not secrets
    sets = [frozenset(rng.sample(WORDS, rng.randint(0, 4))) for _ in range(50)]
    held = _holders(sets)
    for _ in range(20):
        found = frozenset(rng.sample(WORDS, rng.randint(0, 5)))
        assert _shared_counts(found, held, len(sets)).tolist() == [len(found & s) for s in sets]


def _day(rng: random.Random, n: int) -> tuple[list[Item], np.ndarray]:
    """A day of threads, repos, papers and press items: versioned names, two organisations, moved threads, one page
    posted twice, and words shared by many titles (the day's theme)."""
    topics = ["Acme outage", "Kimi K2.6 release", "Pentagon and Anthropic", "FreeBSD GitHub", "tomatoes"]
    items, vectors = [], []
    centres = np.random.default_rng(rng.randint(0, 99)).standard_normal((len(topics), 16))
    for k in range(n):
        t = rng.randrange(len(topics))
        tier = rng.choice(["community", "community", "press", "code", "paper"])
        title = f"{topics[t]} {rng.choice(WORDS)} {rng.choice(WORDS)}"
        if tier == "code":
            title = f"owner{k % 3} / Kimi-K2.6-GGUF" if k % 2 else f"owner{k} / tool{k % 4}"
        url = f"https://x{k % 17 if k % 5 == 0 else k}.example/"
        post = Item(id=f"i{k}", source_id="s", source_name="s", tier=tier, url=url, canonical_url=url, title=title,
                    text="" if tier == "community" else "A lead long enough to count as one. " * 2,
                    published=datetime(2026, 4, 10, k % 24, tzinfo=timezone.utc))
        if tier == "community":
            post.points, post.comment_count = (200, 3) if k % 4 == 0 else (20, 10)
        items.append(post)
        v = centres[t] + 0.8 * np.random.default_rng(k).standard_normal(16)
        vectors.append(v / np.linalg.norm(v))
    return items, np.asarray(vectors, dtype=np.float32)


def test_a_pools_evidence_is_the_days_matrix_at_the_pool() -> None:
    items, vectors = _day(random.Random(11), 90)  # noqa: S311 - test data
    day = thread_evidence(items, ClusterSettings(), vectors)
    assert day is not None and (day > 0).any() and (day < 0).any()
    evidence = ThreadEvidence(items, ClusterSettings(), vectors)
    assert evidence.partner  # moved threads, whose post is found among the whole day's
    for pool in (np.arange(0, 40), np.arange(40, 90), np.arange(90)):
        block = evidence.block(pool)
        assert block is not None and (block == day[np.ix_(pool, pool)]).all()
    # What only the whole day shows: a word in three titles of the day, two of them in one pool, is its theme;
    # a moved thread's post is the most alike of the day's, here in the other pool, not the most alike in its own.
    def thread(key: str, title: str, points: int = 20, comments: int = 10) -> Item:
        return Item(id=key, source_id="f", source_name="Forum", tier="community", url=f"https://{key}.example/",
                    canonical_url=f"https://{key}.example/", title=title, points=points, comment_count=comments)

    posts = [thread("g1", "GitHub down again"), thread("g2", "GitHub raises prices"),
             thread("m", "Acme meeting about outages", 200, 2), thread("b", "Acme engineers sign off changes"),
             thread("g3", "GitHub Copilot tips"), thread("a", "Acme outages and the meeting")]
    rng = np.random.default_rng(1)
    vecs = rng.standard_normal((6, 16)).astype(np.float32)
    vecs[5] = vecs[2]                                     # the moved thread's post, in the other pool
    vecs[3] = vecs[2] + 0.3 * vecs[3]                     # alike, in its own pool
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    day = thread_evidence(posts, ClusterSettings(), vecs)
    assert day is not None
    penalty = ClusterSettings().title_only_penalty
    assert day[0, 1] == np.float32(-2 * penalty) and day[2, 3] < 0 and day[2, 5] == 0
    evidence = ThreadEvidence(posts, ClusterSettings(), vecs)
    for pool in (np.arange(0, 4), np.arange(4, 6)):
        block = evidence.block(pool)
        assert block is not None and (block == day[np.ix_(pool, pool)]).all()
    press = [i for i in items if i.tier == "press" and not release_keys(i.title)][:5]
    for i in press:
        i.canonical_url = ""
    assert ThreadEvidence(press, ClusterSettings()).block(np.arange(len(press))) is None  # no pair needs any


def test_a_large_day_clusters_pool_by_pool_as_from_the_whole_days_matrices() -> None:
    items, vectors = _day(random.Random(12), 120)  # noqa: S311 - test data
    settings = ClusterSettings(max_pool=50)
    stories, result = cluster_items(items, vectors, DAY, StoryIndex(dim=16, settings=settings))
    # The same day, given the whole day's matrices (as before they were made a pool at a time).
    order = sorted(range(len(items)), key=lambda i: item_order(items[i]))
    ordered = [items[i] for i in order]
    texts = [item_text(i) for i in ordered]
    apart = apart_pairs([i.tier for i in ordered], [i.title for i in ordered],
                        [f"{t} {i.url}" for t, i in zip(texts, ordered, strict=True)])
    adjust = thread_evidence(ordered, settings, vectors[order])
    assert apart is not None and adjust is not None
    whole = StoryIndex(dim=16, settings=settings).cluster_day(
        DAY, vectors[order], np.array([is_short(i, settings) and i.tier != "community" for i in ordered]),
        [i.id for i in ordered], texts, apart, adjust, [i.tier for i in ordered],
        [i.tier == "community" and is_short(i, settings) for i in ordered], [release_keys(i.title) for i in ordered],
        [artifacts_of(i) for i in ordered], [is_digest(i.title) for i in ordered],
        [content_words(i.title) for i in ordered], [moved_thread(i) for i in ordered], [parties(i) for i in ordered])
    assert result.labels.tolist() == whole.labels.tolist()
    assert 10 < len(stories) < len(items) and result.linked == whole.linked


def test_groups_meet_the_open_stories_a_block_at_a_time_as_all_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    items, vectors = _day(random.Random(13), 150)  # noqa: S311 - test data
    settings = ClusterSettings(max_pool=30)  # five pools, each scored against the stories the earlier ones left

    def labels() -> list[int]:
        index = StoryIndex(dim=16, settings=settings)
        first, _ = cluster_items(items[:60], vectors[:60], DAY, index)
        assert len(first) > 7
        return cluster_items(items[60:], vectors[60:], DAY + timedelta(days=1), index)[1].labels.tolist()

    whole = labels()
    monkeypatch.setattr(cluster, "JOIN_BLOCK", 7)
    assert labels() == whole
