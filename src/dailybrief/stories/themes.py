"""Themes: the day's top stories grouped into two or three threads, which the abstract names.

    top stories ──topics from [rank] (keywords)──▶ groups by topic
                ──centroid similarity──────────▶ stories without a topic join the closest group,
                                                  one big group is split in two
                ──names──▶ the topic's configured name, or the named entities of the glossary that most of the
                           group's stories mention (never stray keywords: "killed", "Show HN"), else no name (the
                           abstract names only the threads it can)

No model is needed. Numbers never become key terms ("3.45%", "210 亿美元").
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..glossary import Glossary
from ..records import Story
from ..store import Store
from ..words import words
from .cluster import centroid
from .embed import Embedder, embed_items
from .rank import Topic, topic_matches

MAX_THEMES = 3
JOIN = 0.25  # centroid similarity for a story without a topic to join a theme

_EN_STOP = frozenset("""
a about after against all also an and any are as at be been before being between both but by can could did do does
for from had has have he her his how if in into is it its just may more most new not now of on one or other our out
over says said she so some such than that the their them then there these they this to up us was we were what when
which while who will with would you your report reports reported exclusive update analysis first look why how
week today yesterday year years day days
""".split())
_ZH_POS = ("n", "nr", "ns", "nt", "nz", "nrt", "nrfg", "eng", "vn")
_ZH_STOP = frozenset(["公司", "消息", "报道", "新闻", "记者", "问题", "情况", "方面", "时候", "今天", "大家", "能力", "模型",
                      "机构", "公众", "系统", "用户", "行业", "领域", "技术", "产品", "平台", "计划", "发布", "AI", "ai"])
_HAS_DIGIT = re.compile(r"\d")


@dataclass(slots=True)
class Theme:
    """A thread of the day: its stories, its name in each language, and how it was named."""

    story_ids: list[str]
    names: dict[str, str] = field(default_factory=dict)
    topic: str = ""                       # the configured topic it comes from, if any
    terms: list[str] = field(default_factory=list)
    score: float = 0.0

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names.get("en") or next(iter(self.names.values()), "")


_JIEBA = None


def _posseg():
    global _JIEBA
    if _JIEBA is None:
        import jieba  # lazy: jieba loads its dictionary (about a second), for Chinese theme names only
        import jieba.posseg  # lazy: jieba loads its dictionary (about a second), for Chinese theme names only

        jieba.setLogLevel(logging.WARNING)
        _JIEBA = jieba.posseg
    return _JIEBA


def key_terms(texts: list[str]) -> list[str]:
    """Candidate key terms of each text: jieba nouns and names for Chinese, names and content words for English."""
    out: list[str] = []
    for text in texts:
        if re.search(r"[\u4e00-\u9fff]", text):
            for pair in _posseg().cut(text):
                word, flag = pair.word.strip(), pair.flag
                if flag in _ZH_POS and len(word) >= 2 and not _HAS_DIGIT.search(word) and word not in _ZH_STOP:
                    out.append(word)
        else:
            # Runs of capitalised words are names ("Muse Spark"); other long words count too.
            for name in re.findall(r"\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*", text):
                words = [w for w in name.split() if w.lower().strip("'’") not in _EN_STOP]
                if words and not any(_HAS_DIGIT.search(w) for w in words):
                    out.append(" ".join(words).removesuffix("'s").removesuffix("’s"))
            for word in re.findall(r"\b[a-z][a-z-]{3,}\b", text):
                if word not in _EN_STOP:
                    out.append(word)
    return [t for t in out if t and t.lower() not in _EN_STOP]


def theme_terms(stories: list[Story], language: str, limit: int = 2, glossary: Glossary | None = None) -> list[str]:
    """The glossary's named entities that name a group of stories best, in the edition's language: found in most
    of its stories, then most often. Only entities: a keyword that happens to recur says nothing about a theme."""
    glossary = glossary if glossary is not None else _default_glossary()
    per_story: list[set[str]] = []
    counts: Counter[str] = Counter()
    for story in stories:
        texts = [i.title for i in story.items][:6]
        terms = [t.form(language) for t in glossary.found_in(texts)]
        counts.update(terms)
        per_story.append(set(terms))
    cover = Counter(t for s in per_story for t in s)
    ranked = sorted(counts, key=lambda t: (-cover[t], -counts[t], t))
    chosen: list[str] = []
    for term in ranked:
        if 2 * cover[term] < len(stories):
            break  # named in fewer than half its stories: no name of the theme (ranked by cover, none after is)
        if any(term.lower() in c.lower() or c.lower() in term.lower() for c in chosen):
            continue
        chosen.append(term)
        if len(chosen) == limit:
            break
    return chosen


_GLOSSARY: list[Glossary] = []


def _default_glossary() -> Glossary:
    if not _GLOSSARY:
        _GLOSSARY.append(Glossary.load())
    return _GLOSSARY[0]


def _term_name(terms: list[str], language: str) -> str:
    """A theme's name from its entities; none ("") when it has none: a filler such as "other news" names nothing,
    so the abstract leaves that thread out rather than claim it."""
    return words(language)["term_sep"].join(terms)


def build_themes(stories: list[Story], centroids: dict[str, np.ndarray], topics: list[Topic],
                 languages: tuple[str, ...] = ("zh", "en"), max_themes: int = MAX_THEMES,
                 glossary: Glossary | None = None) -> list[Theme]:
    """Two or three themes over the given (top) stories, in the order of their best story; one theme when
    there is a single story."""
    if not stories:
        return []
    by_id = {s.id: s for s in stories}
    groups: dict[str, list[str]] = {}
    loose: list[str] = []
    known = {t.name for t in topics}
    for story in stories:
        names = [n for n in story.topics if n in known] or [t.name for t, _ in topic_matches(story, topics)]
        if names:
            groups.setdefault(names[0], []).append(story.id)
        else:
            loose.append(story.id)

    def score(ids: list[str]) -> float:
        return sum(by_id[i].score for i in ids)

    def centroid(ids: list[str]) -> np.ndarray | None:
        vecs = [centroids[i] for i in ids if i in centroids]
        if not vecs:
            return None
        c = np.mean(vecs, axis=0)
        return c / max(float(np.linalg.norm(c)), 1e-9)

    # Keep the strongest topics; the stories of the others become loose.
    ranked = sorted(groups, key=lambda k: (-score(groups[k]), k))
    for k in ranked[max_themes:]:
        loose.extend(groups.pop(k))
    # A loose story joins the closest theme, or they form their own.
    leftovers: list[str] = []
    for sid in sorted(loose, key=lambda i: (-by_id[i].score, i)):
        best, best_sim = None, JOIN
        for k, ids in groups.items():
            c, v = centroid(ids), centroids.get(sid)
            if c is not None and v is not None and float(c @ v) >= best_sim:
                best, best_sim = k, float(c @ v)
        if best is None:
            leftovers.append(sid)
        else:
            groups[best].append(sid)
    if leftovers:
        room = max_themes - len(groups)
        if room > 0:  # the leftovers form their own themes, by content
            for n, part in enumerate(_partition(leftovers, centroids, room, at_least=2 if not groups else 1)):
                groups[" " * (n + 1)] = part
        else:  # no room for another theme: the weakest one takes them
            weakest = min(groups, key=lambda k: (score(groups[k]), k))
            groups[weakest].extend(leftovers)
    # One theme over many stories says little: split it in two by content.
    if len(groups) == 1 and len(stories) >= 3:
        (key, ids), = groups.items()
        parts = _partition(ids, centroids, 2, at_least=2)
        if len(parts) == 2:
            groups = {key: parts[0], " ": parts[1]}
    topic_by_name = {t.name: t for t in topics}
    themes = []
    for key, ids in groups.items():
        ids = sorted(ids, key=lambda i: (-by_id[i].score, i))
        members = [by_id[i] for i in ids]
        topic = topic_by_name.get(key.strip())
        theme = Theme(story_ids=ids, topic=topic.name if topic else "", score=score(ids))
        for lang in languages:
            if topic:
                theme.names[lang] = topic.label(lang)
            else:
                terms = theme_terms(members, lang, glossary=glossary)
                theme.names[lang] = _term_name(terms, lang)
                theme.terms = theme.terms or terms
        themes.append(theme)
    position = {s.id: n for n, s in enumerate(stories)}
    themes.sort(key=lambda t: min(position[i] for i in t.story_ids))  # the theme of the top story first
    return themes


def edition_themes(top: list[Story], embedder: Embedder, store: Store, topics: list[Topic],
                   languages: tuple[str, ...], glossary: Glossary | None = None) -> list[Theme]:
    """The themes stage: the top stories' themes, from the configured topics and the stories' centroids."""
    centroids = {s.id: centroid(embed_items(s.items, embedder, store)) for s in top}
    return build_themes(top, centroids, topics, languages, glossary=glossary)


def _partition(ids: list[str], centroids: dict[str, np.ndarray], most: int, at_least: int = 1) -> list[list[str]]:
    """Groups of stories by average linkage over their centroids: cut where they differ (similarity below
    JOIN), then merged down to `most` groups or split up to `at_least`. Stories without a centroid join the first."""
    have = [i for i in ids if i in centroids]
    if len(have) < 2:
        return [ids]
    from scipy.cluster.hierarchy import fcluster, linkage  # lazy: scipy, when a day's themes are clustered

    z = linkage(np.vstack([centroids[i] for i in have]), method="average", metric="cosine")
    labels = fcluster(z, t=1 - JOIN, criterion="distance")
    wanted = min(max(len(set(labels)), at_least), most, len(have))
    if wanted != len(set(labels)):
        labels = fcluster(z, t=wanted, criterion="maxclust")
    order: dict[int, list[str]] = {}
    for i, lab in zip(have, labels, strict=True):
        order.setdefault(int(lab), []).append(i)
    parts = list(order.values())
    parts[0].extend(i for i in ids if i not in centroids)
    return parts
