"""Cluster stage: group the day's items into stories, and join stories from earlier days.

First version: a single greedy pass over the items in a fixed order. An item
joins the story whose centroid it is most similar to, if that similarity
clears a threshold; otherwise it starts a story. The day's stories are then
matched against recent stories in the store, so a continuing event keeps its
story id and is marked as a follow-up when it was briefed before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from .dedup import content_hash
from .records import Item, Story

TIER_ORDER = {"official": 0, "press": 1, "paper": 2, "code": 3, "community": 4}


@dataclass(slots=True)
class ClusterSettings:
    join: float = 0.55        # item ↔ story centroid similarity to join
    merge: float = 0.50       # average similarity of two stories' items to merge them
    carry: float = 0.70       # day story ↔ earlier story centroid similarity to continue it
    lookback_days: int = 7
    max_size: int = 60        # a story larger than this is split by a stricter pass


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


def greedy_clusters(vectors: np.ndarray, order: list[int], threshold: float,
                    link: float = 0.62, floor: float = 0.45) -> list[list[int]]:
    """Indices grouped by one pass: each joins the best story whose centroid clears `threshold`,
    or, failing that, whose nearest member clears `link` while the centroid still clears `floor`
    (a guard against chaining through one odd member)."""
    groups: list[list[int]] = []
    sums: list[np.ndarray] = []
    cents = np.zeros((0, vectors.shape[1]), dtype=np.float32)
    owner = np.full(len(vectors), -1)
    seen: list[int] = []
    for idx in order:
        v = vectors[idx]
        target = -1
        if groups:
            sims = cents @ v
            best = int(np.argmax(sims))
            if sims[best] >= threshold:
                target = best
            elif seen:
                member_sims = vectors[seen] @ v
                near = int(np.argmax(member_sims))
                g = int(owner[seen[near]])
                if member_sims[near] >= link and sims[g] >= floor:
                    target = g
        if target >= 0:
            groups[target].append(idx)
            sums[target] = sums[target] + v
            cents[target] = _unit(sums[target])
        else:
            target = len(groups)
            groups.append([idx])
            sums.append(v.copy())
            cents = np.vstack([cents, _unit(v)[None, :]])
        owner[idx] = target
        seen.append(idx)
    return groups


def merge_pass(vectors: np.ndarray, groups: list[list[int]], threshold: float) -> list[list[int]]:
    """Merge groups whose average pairwise similarity clears `threshold` (average linkage),
    best pair first, so the single pass's dependence on order is undone."""
    groups = [list(g) for g in groups]
    if len(groups) < 2:
        return groups
    sums = np.vstack([vectors[g].sum(axis=0) for g in groups]).astype(np.float64)
    sizes = np.array([len(g) for g in groups], dtype=np.float64)
    avg = (sums @ sums.T) / np.outer(sizes, sizes)
    np.fill_diagonal(avg, -np.inf)
    alive = np.ones(len(groups), dtype=bool)
    while True:
        a, b = np.unravel_index(int(np.argmax(avg)), avg.shape)
        if avg[a, b] < threshold:
            break
        a, b = min(a, b), max(a, b)
        groups[a].extend(groups[b])
        groups[b] = []
        sums[a] += sums[b]
        sizes[a] += sizes[b]
        alive[b] = False
        avg[b, :] = avg[:, b] = -np.inf
        row = (sums @ sums[a]) / (sizes * sizes[a])
        row[~alive] = -np.inf
        row[a] = -np.inf
        avg[a, :] = avg[:, a] = row
    return [g for g in groups if g]


def cluster_day(
    items: list[Item],
    vectors: np.ndarray,
    day: date,
    earlier: list[dict] | None = None,
    settings: ClusterSettings | None = None,
) -> list[tuple[Story, np.ndarray]]:
    """Stories for a day's items, with their centroids. Deterministic for the same input."""
    settings = settings or ClusterSettings()
    if not items:
        return []
    order = sorted(range(len(items)), key=lambda i: (
        TIER_ORDER.get(items[i].tier, 9), items[i].published is None, items[i].published, items[i].id))
    groups = merge_pass(vectors, greedy_clusters(vectors, order, settings.join), settings.merge)
    final: list[list[int]] = []
    for g in groups:
        if len(g) > settings.max_size:
            sub = greedy_clusters(vectors, g, min(0.9, settings.join + 0.15))
            final.extend(sub)
        else:
            final.append(g)
    earlier = earlier or []
    past = np.vstack([e["centroid"] for e in earlier]) if earlier else None
    out: list[tuple[Story, np.ndarray]] = []
    claimed: set[str] = set()
    for g in final:
        members = [items[i] for i in g]
        centroid = _unit(vectors[g].mean(axis=0))
        first = min(members, key=lambda m: (m.published is None, m.published, m.id))
        story_id = content_hash("story", first.id)
        first_seen, follow_up = day, False
        if past is not None:
            sims = past @ centroid
            best = int(np.argmax(sims))
            if sims[best] >= settings.carry and earlier[best]["id"] not in claimed:
                prev = earlier[best]
                story_id = prev["id"]
                first_seen = date.fromisoformat(prev["first_seen"])
                follow_up = bool(prev.get("briefed_on")) and prev["briefed_on"] < day.isoformat()
                claimed.add(story_id)
        story = Story(id=story_id, items=sorted(members, key=lambda m: (
            TIER_ORDER.get(m.tier, 9), m.published is None, m.published, m.id)),
            first_seen=first_seen, last_seen=day, follow_up=follow_up, title=first.title)
        out.append((story, centroid))
    return out
