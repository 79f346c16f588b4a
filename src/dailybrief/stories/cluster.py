"""Cluster stage: items become stories, incrementally across days.

    stories of the last days (sums of their items' vectors, older days weighing less)
                 ▲ join the closest, or start a story
    the day's items ──average linkage──▶ the day's groups

An item is its embedding (title and lead, multilingual, see embed.py). Two items' similarity is their
cosine, plus a small calibration for title-only texts, which embed less alike than texts with a lead.

Groups are compared by *average* linkage: the mean similarity over all pairs of their items. For unit
vectors that mean is exact from the groups' sums, mean(a·b) = (Σa)·(Σb) / (|A|·|B|), so a story is kept as
one sum, however many items it has, and the day's groups are scored against every active story in one
matrix product. Guards against chained merges:

- average linkage, never single linkage: one odd item cannot pull two stories together;
- a day's group joins at most one earlier story, and stories never merge with each other;
- a day's group larger than ``max_size`` is re-cut more strictly, and a story that would grow past
  ``max_size`` needs a closer match (``large_margin``) to take more items.

Names count too. The names an item mentions (Latin script: Mythos, CoreWeave, GPT-5; Chinese tech news
writes them the same way) are hashed into extra dimensions of its vector, so that ``name_weight`` of a
similarity comes from shared names; very common ones (OpenAI, Meta; COMMON_NAMES) are left out. And two of
the day's groups whose average similarity is within ``name_margin`` below the threshold are one story when a
name ties them: it is in most items of both, and most of the day's items that mention it are in them. Two
lone items are never tied this way, and ties are only made within a day: across days a lesser-known
company's name would tie its unrelated stories together.

Everything is deterministic: items are taken in a fixed order, ties break on that order, and ids are
content hashes.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from ..config import ClusteringConfig
from ..ids import content_hash
from ..records import Item, Story, authority_rank
from .dedup import article_page
from .embed import item_text, text_cost

ClusterSettings = ClusteringConfig  # the stage's settings are its [clustering] section, as config checked it
JOIN_BLOCK = 4096  # open stories a pool's groups are scored against at once: (groups x JOIN_BLOCK) arrays

# Pairwise evidence between a day's items (apart_pairs, thread_evidence): the day's matrix, or a function that
# makes a pool's block of it (pool: ascending indices into the day), so a large day is never one n x n matrix.
Evidence = np.ndarray | Callable[[np.ndarray], np.ndarray | None] | None


def _pool_block(evidence: Evidence, pool: np.ndarray) -> np.ndarray | None:
    if evidence is None:
        return None
    return evidence(pool) if callable(evidence) else evidence[np.ix_(pool, pool)]


def _holders(sets: Sequence[Iterable[str]]) -> dict[str, np.ndarray]:
    """Each element of `sets` (the open stories' names, words, ...), with the indices of the sets that hold it."""
    out: dict[str, list[int]] = {}
    for k, members in enumerate(sets):
        for x in members:
            out.setdefault(x, []).append(k)
    return {x: np.array(ks, dtype=np.int64) for x, ks in out.items()}


def _shared_counts(found: Iterable[str], held: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Per set of `held` (n of them): how many of `found` it holds (as len(found & set) would, for all at once)."""
    counts = np.zeros(n, dtype=np.int64)
    for x in set(found):
        if x in held:
            counts[held[x]] += 1
    return counts


def _day_pool_distances(vectors: np.ndarray, offsets: np.ndarray, link: float,
                         apart: np.ndarray | None = None, adjust: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Condensed distances (1 - calibrated similarity) for scipy's linkage, and how many pairs are linked
    as one report (similarity >= link: their distance is 0, so they always end in one group). Pairs marked
    `apart` (no evidence of one event beyond similarity, see apart_pairs) are as far as unrelated texts: those
    marked APART unless they are one report, those marked NEVER even then (two model pages of different
    names are alike however different the checkpoints)."""
    dist = vectors @ vectors.T               # similarities first, then turned into distances in place
    linked = dist >= link
    if apart is not None:
        linked &= apart < NEVER
    np.subtract(1.0, dist, out=dist)
    if offsets.any():
        dist -= offsets[:, None].astype(np.float32)
        dist -= offsets[None, :].astype(np.float32)
    if apart is not None:
        dist[(apart > 0) & ~linked] = 1.0
    if adjust is not None:
        dist -= adjust
    dist[linked] = 0.0
    np.maximum(dist, 0.0, out=dist)
    np.fill_diagonal(dist, 0.0)
    return squareform(dist, checks=False), int((np.count_nonzero(linked) - len(vectors)) // 2)


def average_linkage_groups(vectors: np.ndarray, offsets: np.ndarray, threshold: float, link: float,
                           max_size: int, apart: np.ndarray | None = None) -> np.ndarray:
    """Labels 0..k-1 of average-linkage groups cut at `threshold`, no group larger than `max_size`."""
    return _groups(vectors, offsets, threshold, link, max_size, apart)[0]


def _groups(vectors: np.ndarray, offsets: np.ndarray, threshold: float, link: float,
            max_size: int, apart: np.ndarray | None = None, adjust: np.ndarray | None = None
            ) -> tuple[np.ndarray, int]:
    n = len(vectors)
    if n == 1:
        return np.zeros(1, dtype=np.int64), 0
    condensed, linked = _day_pool_distances(vectors, offsets, link, apart, adjust)
    z = linkage(condensed, method="average")
    labels = fcluster(z, t=1.0 - threshold, criterion="distance").astype(np.int64) - 1
    counts = np.bincount(labels)
    if counts.max() > max_size and threshold < 0.95:
        for big in np.flatnonzero(counts > max_size):
            idx = np.flatnonzero(labels == big)
            sub = _groups(vectors[idx], offsets[idx], threshold + 0.05, link, max_size,
                          apart[np.ix_(idx, idx)] if apart is not None else None,
                          adjust[np.ix_(idx, idx)] if adjust is not None else None)[0]
            top = int(labels.max())
            labels[idx[sub > 0]] = top + sub[sub > 0]
    # Renumber by first appearance, so labels follow the input order.
    uniq, first = np.unique(labels, return_index=True)
    order = np.argsort(first, kind="stable")
    remap = np.empty(int(labels.max()) + 1, dtype=np.int64)
    remap[uniq[order]] = np.arange(len(order))
    return remap[labels], linked


_NAME = re.compile(r"(?<![A-Za-z0-9])(?:[A-Z][A-Za-z0-9]*|[a-z]+[A-Z][A-Za-z0-9]*)(?:[-.][A-Za-z0-9]+)*(?![A-Za-z0-9])")
# Words that say nothing of which story a title tells (see content_words).
_STOPWORDS = frozenset("""
a about after ai all also an and as at be but by can could d did do does for from has have he her his how i if in
into is it its just may more most new no not now of on one or our out over report says she so some than that the
their them then there these they this to up update us was we were what when where which while who why will with
would you your exclusive opinion analysis breaking show ask hn first look review today week monday tuesday wednesday
thursday friday saturday sunday
""".split())


# Names so common in technology news that sharing one says nothing about sharing a story: companies that
# are in many stories a day, outlets, and acronyms. Event, product and model names are what tie stories.
COMMON_NAMES = frozenset("""
openai google deepmind anthropic meta microsoft nvidia apple amazon aws ibm intel amd arm tsmc qualcomm samsung
tesla xai spacex oracle salesforce adobe netflix uber baidu alibaba tencent bytedance huawei xiaomi deepseek
mistral cohere perplexity hugging face github gitlab linkedin youtube reddit twitter facebook instagram whatsapp
bloomberg reuters axios cnbc wsj techcrunch verge wired arxiv hn
api apis llm llms gpu gpus cpu tpu sdk ceo cto cfo ipo us usa eu uk un china chinese american european
""".split())


def names(text: str) -> frozenset[str]:
    """Latin-script names in a text (Mythos, CoreWeave, OpenBSD, GPT-5, iPhone), lower-cased; Chinese text
    about technology writes most of them in Latin letters too."""
    return frozenset(n for n in (m.lower() for m in _NAME.findall(text))
                     if len(n) > 1 and n not in _NOT_NAMES and n not in COMMON_NAMES)


def name_features(found: Sequence[frozenset[str]], dims: int) -> np.ndarray:
    """Names hashed (signed) into `dims` dimensions, one unit row per item; a row without names is zero."""
    out = np.zeros((len(found), dims), dtype=np.float32)
    for row, ns in enumerate(found):
        for name in ns:
            h = zlib.crc32(name.encode("utf-8"))
            out[row, h % dims] += 1.0 if (h >> 16) & 1 else -1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return np.divide(out, norms, out=out, where=norms > 0)


def features(vectors: np.ndarray, found: Sequence[frozenset[str]] | None, settings: ClusterSettings) -> np.ndarray:
    """Unit vectors to cluster: the embedding and, for items that name something, their hashed names, weighted
    so that name_weight of a similarity comes from shared names."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if found is None or settings.name_weight <= 0:
        return np.hstack([vectors, np.zeros((len(vectors), settings.name_dims), dtype=np.float32)])
    named = name_features(found, settings.name_dims)
    has = np.abs(named).sum(axis=1) > 0
    scale = np.where(has, np.sqrt(1.0 - settings.name_weight), 1.0).astype(np.float32)[:, None]
    return np.hstack([vectors * scale, named * np.float32(np.sqrt(settings.name_weight))])


def tied(a: Counter[str], size_a: int, b: Counter[str], size_b: int, df: Counter[str],
         settings: ClusterSettings) -> list[str]:
    """Names that tie two of the day's groups: in name_share of the items of each, and name_focus of the
    day's items that mention them (df) are in the two."""
    s = settings
    return [n for n, ca in a.items()
            if ca >= s.name_share * size_a and b.get(n, 0) >= s.name_share * size_b
            and ca + b[n] >= s.name_focus * df[n]]


def _name_merges(members: list[np.ndarray], gsum: np.ndarray, gsize: np.ndarray, goff: np.ndarray,
                 item_names: Sequence[frozenset[str]], day_counts: Callable[[], Counter[str]],
                 settings: ClusterSettings, apart: np.ndarray | None = None, adjust: np.ndarray | None = None,
                 start: int = 0) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """Merge the day's groups that average linkage left just apart (within name_margin below the threshold)
    when a name ties them: it is in most items of both, and most of the day's items that mention it are in
    these two groups, so it names this story rather than a company in many (OpenAI, Meta). Best pair first;
    only groups that share a dominant name are compared. Their similarity counts the evidence `adjust` between
    their items (thread_evidence, for bare threads): a thread's bare title is tied by a name only when it is as
    alike as two titles must be to meet. `apart` and `adjust` are the pool's blocks, and `start` the pool's first
    item (members hold the day's indices)."""
    s = settings
    if len(members) < 2:
        return members, gsum, gsize, goff
    counts: dict[int, Counter[str]] = {}

    def count(g: int) -> Counter[str]:
        if g not in counts:
            counts[g] = Counter(x for i in members[g] for x in item_names[int(i)])
        return counts[g]

    dominant: dict[str, list[int]] = {}
    for g, m in enumerate(members):
        found = item_names[int(m[0])] if len(m) == 1 else \
            [x for x, k in count(g).items() if k >= s.name_share * len(m)]
        for name in found:
            dominant.setdefault(name, []).append(g)
    # Groups that share a dominant name; two lone items are too little to go on.
    pairs = sorted({(a, b) for gs in dominant.values() if 1 < len(gs) <= 20
                    for i, a in enumerate(gs) for b in gs[i + 1 :] if gsize[a] + gsize[b] >= 3})
    alive = np.ones(len(members), dtype=bool)
    if not pairs:
        return members, gsum, gsize, goff
    df = day_counts()

    def similarity(a: int, b: int) -> float:
        evidence = float(adjust[np.ix_(members[a] - start, members[b] - start)].mean()) if adjust is not None \
            else 0.0
        return float(gsum[a] @ gsum[b]) / (gsize[a] * gsize[b]) + goff[a] / gsize[a] + goff[b] / gsize[b] + evidence

    cut = s.threshold - s.name_margin
    scored = sorted(((similarity(a, b), a, b) for a, b in pairs), key=lambda t: (-t[0], t[1], t[2]))
    for sim, a, b in scored:
        if sim < cut:
            break
        if not (alive[a] and alive[b]) or similarity(a, b) < cut:  # a merged group moved on
            continue
        if apart is not None and apart[np.ix_(members[a] - start, members[b] - start)].any():
            continue  # a repo or paper without evidence: a shared name is not that
        if tied(count(a), int(gsize[a]), count(b), int(gsize[b]), df, s):
            members[a] = np.concatenate([members[a], members[b]])
            gsum[a] += gsum[b]
            gsize[a] += gsize[b]
            goff[a] += goff[b]
            counts[a] = count(a) + count(b)
            alive[b] = False
    keep = np.flatnonzero(alive)
    return [np.sort(members[k]) for k in keep], gsum[keep], gsize[keep], goff[keep]


_SLUG = re.compile(r"^\s*([\w.-]+)\s*/\s*([\w.-]+)\s*$")
# Repackagings of one release: quantised or converted weights (GGUF, a ComfyUI conversion), a base or instruct
# checkpoint. Fine-tunes, distillations and drafters are other models and keep their names.
_VARIANT = re.compile(r"[-_.](gguf|awq|gptq|mlx|fp8|bf16|int4|int8|\d+bit|instruct|base|it|chat|hf|comfy|comfyui)$",
                      re.I)
_PLAIN = re.compile(r"[a-z-]+")

APART = 1   # apart_pairs: kept apart unless the two are one report (a translation, a rewrite)
NEVER = 2   # kept apart even then


def artifact_name(title: str) -> str:
    """The name a repo or model page is about ("owner / Qwen3.6-27B-GGUF" -> "qwen3.6-27b"), "" if none."""
    m = _SLUG.match(title)
    if not m:
        return ""
    name = m.group(2).lower()
    while (short := _VARIANT.sub("", name)) != name:
        name = short
    return name if len(name) >= 3 else ""


def artifact_key(title: str) -> str:
    """An artifact's name in letters and digits only, so that one release's pages meet however they spell it
    ("Lightricks/LTX-2.3" and "Kijai/LTX2.3_comfy" -> "ltx23"); "" if the title names none."""
    return re.sub(r"[\W_]+", "", artifact_name(title))


def same_artifact(a: str, b: str) -> bool:
    """Two repo or model page titles name one artifact: the same name (artifact_key) and, from different owners,
    a name that is a release's, with a capital or a digit (Qwen3.6-27B, ERNIE-Image); a plain lower-case name
    (skills, claude-skills) is a common word that unrelated owners pick alike."""
    key = artifact_key(a)
    if not key or key != artifact_key(b):
        return False
    ma, mb = _SLUG.match(a), _SLUG.match(b)
    assert ma is not None and mb is not None  # both have an artifact key
    return ma.group(1).lower() == mb.group(1).lower() or not (_PLAIN.fullmatch(ma.group(2))
                                                              and _PLAIN.fullmatch(mb.group(2)))


_DIGEST_SEP = re.compile(r"[；;|｜]")


def is_digest(title: str) -> bool:
    """A title that lists several stories ("AI日报：Kimi K2.6发布；腾讯QClaw上线；…"): a daily digest's."""
    return len(_DIGEST_SEP.findall(title)) >= 2


def _artifact_keys(name: str) -> list[str]:
    """What another text must contain (letters and digits only) to name an artifact: its whole name, or for a
    versioned one ("deepseek-v4-flash") the name up to its version ("deepseekv4")."""
    if not name:
        return []
    parts = re.split(r"[-_]", name)
    keys = [re.sub(r"[\W_]+", "", name)]
    if len(parts) > 2 and re.search(r"\d", parts[1]):
        keys.append(re.sub(r"[\W_]+", "", "".join(parts[:2])))
    return [k for k in keys if len(k) >= 4]


def apart_pairs(tiers: Sequence[str], titles: Sequence[str], texts: Sequence[str]) -> np.ndarray | None:
    """Pairs of a day's items that only evidence, not similarity, may put in one story (APART, or NEVER):

    - a repo or model page (tier code) and anything that does not name it: a repo that uses a model is not
      the model's release, and two trending repos on one theme are two repos; an official model and its
      GGUF repackaging share the name, so they may meet (same_artifact). Two model pages of different names
      are NEVER one report, however alike their pages read (Qwen3.5-9B and Qwen3.5-27B);
    - a paper and anything that does not share its title's opening words: papers merge only with the same
      paper or its announcement;
    - a digest of many stories ("AI日报：A；B；C") and anything: it belongs to none of them.
    None when the day has none of these."""
    code = np.array([t == "code" for t in tiers])
    paper = np.array([t == "paper" for t in tiers])
    digest = np.array([is_digest(t) for t in titles], dtype=bool)
    if not (code.any() or paper.any() or digest.any()):
        return None
    n = len(tiers)
    low = [t.lower() for t in texts]
    apart = np.zeros((n, n), dtype=np.uint8)
    apart[digest, :] = APART
    apart[:, digest] = APART
    arts = [artifact_name(t) if c else "" for t, c in zip(titles, code, strict=True)]
    flat = [re.sub(r"[\W_]+", "", t) for t in low]
    keys = [_artifact_keys(a) for a in arts]
    heads = [" ".join(re.findall(r"\w+", t.lower())[:4]) if p else "" for t, p in zip(titles, paper, strict=True)]
    for i in map(int, np.flatnonzero(code | paper)):
        for j in range(n):
            if i == j:
                continue
            if code[i] and code[j]:
                if not same_artifact(titles[i], titles[j]):
                    apart[i, j] = apart[j, i] = NEVER
                continue
            if code[i]:
                ok = bool(arts[i]) and any(k in flat[j] for k in keys[i])
            else:
                ok = bool(heads[i]) and heads[i] in " ".join(re.findall(r"\w+", low[j]))
            if not ok:
                apart[i, j] = apart[j, i] = max(apart[i, j], APART)
    return apart


_RELEASE = re.compile(r"(?<![\w.])([A-Z][A-Za-z]+)[\s-]?([VvKkMm]?\d+(?:\.\d+)*)(?![^\W_]|\.)")  # "_comfy" ends it
_NOT_RELEASES = frozenset("part issue chapter top page section episode day week year season vol volume no number "
                          "rfc windows cve".split())


_BARE_VERSION = re.compile(r"(?<=\s)([VvKk]\d+(?:\.\d+)*)(?![\w.])")
_TITLE_WORD = re.compile(r"(?<![\w.'])([A-Z][A-Za-z]+)(?![\w'])")
_NOT_NAMES = frozenset("the a an and or of with how why what when who is are our we i my you your new introducing "
                       "show launch ask hn tell".split())


def release_keys(title: str) -> frozenset[str]:
    """Names with a version in a title ("DeepSeek v4", "DeepSeek-V4-Flash" -> deepseekv4; "Kimi K2.6" -> kimik26;
    "GPT-5.5" -> gpt55): a shared one is evidence of one release, where a shared company name is not. A version
    standing on its own ("DeepSeek is back with V4 Pro") belongs to the title's first name."""
    keys = {f"{w.lower()}{re.sub(r'[^0-9a-z]', '', v.lower())}" for w, v in _RELEASE.findall(title)
            if w.lower() not in _NOT_RELEASES}
    bare = _BARE_VERSION.findall(title)
    if bare and not keys:
        name = next((w for w in _TITLE_WORD.findall(title) if w.lower() not in _NOT_NAMES and w.lower() not in
                     _NOT_RELEASES and not _BARE_VERSION.fullmatch(" " + w)), "")
        keys |= {f"{name.lower()}{re.sub(r'[^0-9a-z]', '', v.lower())}" for v in bare} if name else set()
    return frozenset(keys)


_WORD = re.compile(r"[^\W_]+")


def content_words(title: str) -> frozenset[str]:
    """A title's words that could say which story it tells: lower-cased, without the words every title has, a
    plural's s dropped ("Prices" and "price" are one word)."""
    out = set()
    for w in _WORD.findall(title.casefold()):
        if len(w) < 2 or w.isdigit() or w in _STOPWORDS or w in _NOT_NAMES:
            continue
        out.add(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w)
    return frozenset(out)


# A community thread whose comments are almost none of its points had its discussion moved: the site's moderators
# merge a second thread on one story into the first, and only its points stay behind.
MOVED_POINTS = 50
MOVED_SHARE = 0.05
BUSY_TITLES = 3  # a word in this many of a day's titles is the day's theme (GitHub, FreeBSD), not one story's


# Organisations whose names, two together, mark an event between them (a deal, a dispute): one alone is in many
# stories a day (COMMON_NAMES), two are rarely in more than one. Other names a body goes by map to one form.
ORGANISATIONS = frozenset("""
openai google deepmind anthropic meta microsoft nvidia apple amazon ibm intel amd tsmc qualcomm samsung tesla xai
spacex oracle salesforce adobe netflix uber baidu alibaba tencent bytedance huawei xiaomi deepseek mistral cohere
perplexity pentagon nsa
""".split())
ORGANISATION_ALIASES = {"aws": "amazon", "department of war": "pentagon", "department of defense": "pentagon",
                        "dod": "pentagon"}
_ALIAS = re.compile(r"\b(" + "|".join(sorted(map(re.escape, ORGANISATION_ALIASES), key=len, reverse=True)) + r")\b")


def parties(item: Item) -> frozenset[str]:
    """The organisations an item is about (ORGANISATIONS): named in its title, and the one whose own site it is
    (anthropic.com, blog.google), since a lab's post is about the lab."""
    title = item.title.casefold()
    found = {w for w in _WORD.findall(title) if w in ORGANISATIONS}
    found |= {ORGANISATION_ALIASES[m] for m in _ALIAS.findall(title)}
    host = urlsplit(item.url).hostname or ""
    found |= {label for label in host.split(".") if label in ORGANISATIONS}
    return frozenset(found)


def site_pages(item: Item) -> frozenset[str]:
    """The article page an item links, keyed by its site (outlet): one site's two posts of one article are one event
    across days too, whatever their titles (a link on a site's best list, and on its front page a day later). Empty
    for a site's home page or a code host's own pages (article_page): those are no evidence."""
    page = article_page(item.url)
    return frozenset([f"{item.source_name}\x1f{page}"]) if page else frozenset()


def moved_thread(item: Item) -> bool:
    """A community post whose discussion went to another thread on the same story (see MOVED_SHARE)."""
    return (item.tier == "community" and item.points is not None and item.points >= MOVED_POINTS
            and item.comment_count is not None and item.comment_count <= MOVED_SHARE * item.points)


def thread_evidence(items: Sequence[Item], settings: ClusterSettings,
                    vectors: np.ndarray | None = None) -> np.ndarray | None:
    """Per pair of a day's items, what evidence adds to their similarity, beyond the embedding: for two title-only
    texts of which one is a community thread, -title_only_penalty (a day's threads are many short titles, and
    titles that share a word, Claude Code or FreeBSD, are mostly different stories), twice when the one word they
    share is the day's theme (in BUSY_TITLES of its titles: six GitHub threads are six stories; the titles of one
    big event share more than its name), unless
    their titles share a name with a version, or two organisations (parties), which adds release_bonus instead;
    posts of one article's page (article_page: not a site's home page) always meet. A thread whose discussion
    was moved (moved_thread) is a second post of another's story: with its `vectors`, no penalty is taken between
    it and the post it is most like. None when no pair needs it.

    The whole day's matrix (n x n); the cluster stage reads it one pool at a time (ThreadEvidence.block)."""
    return ThreadEvidence(items, settings, vectors).block(np.arange(len(items)))


class ThreadEvidence:
    """thread_evidence for a day, made one pool of items at a time: the cluster stage only reads the pairs within
    a pool (cluster_day), and a day of 100,000 items would be a 40 GB matrix. What depends on the whole day (its
    theme words, the post each moved thread is most like, whether any pair needs evidence) is found once, here;
    block(pool) is then the day's matrix at (pool, pool), value for value."""

    def __init__(self, items: Sequence[Item], settings: ClusterSettings, vectors: np.ndarray | None = None) -> None:
        s = self.settings = settings
        self.thread = np.array([i.tier == "community" and is_short(i, s) for i in items], dtype=bool)
        self.short = np.array([is_short(i, s) or i.tier == "code" for i in items], dtype=bool)
        self.keys = [release_keys(i.title) for i in items]
        self.has_key = np.array([bool(k) for k in self.keys], dtype=bool)
        self.urls = [i.canonical_url for i in items]
        self.pages: dict[str, list[int]] = {}
        for n, item in enumerate(items):
            page = article_page(item.url)  # a site's home page is no one article
            if page:
                self.pages.setdefault(page, []).append(n)
        self.needed = bool(self.thread.any() or self.has_key.any()
                           or any(len(rows) > 1 for rows in self.pages.values()))
        self.words = [content_words(i.title) for i in items]
        df = Counter(w for ws in self.words for w in ws)
        self.busy = frozenset(w for w, k in df.items() if k >= BUSY_TITLES)
        self.involved = [parties(i) for i in items]
        # Each moved thread's post it is most like (the first of equals), among the day's posts of other pages.
        self.partner: dict[int, int] = {}
        moved = [row for row, item in enumerate(items) if moved_thread(item)]
        if self.needed and vectors is not None and len(items) > 1 and moved:
            vecs = np.asarray(vectors, dtype=np.float32)
            urls = np.unique(np.array(self.urls, dtype=object), return_inverse=True)[1]  # one number per URL
            for at in range(0, len(moved), 256):  # rows of the similarity matrix, a few at a time
                rows = moved[at : at + 256]
                sims = vecs[rows] @ vecs.T
                for i, sim in zip(rows, sims, strict=True):
                    other = urls != urls[i]
                    other[i] = False
                    if other.any():
                        self.partner[i] = int(np.flatnonzero(other)[np.argmax(sim[other])])

    def block(self, pool: np.ndarray) -> np.ndarray | None:
        """The evidence between the items of `pool` (indices into the day, ascending), None when no pair of the day
        needs any."""
        if not self.needed:
            return None
        s = self.settings
        pool = np.asarray(pool, dtype=np.int64)
        at = {int(day_row): row for row, day_row in enumerate(pool)}
        n = len(pool)
        adjust = np.zeros((n, n), dtype=np.float32)
        short, thread, has_key = self.short[pool], self.thread[pool], self.has_key[pool]
        words = [self.words[int(i)] for i in pool]
        keys = [self.keys[int(i)] for i in pool]
        involved = [self.involved[int(i)] for i in pool]
        both_short = short[:, None] & short[None, :]
        penalised = both_short & (thread[:, None] | thread[None, :])
        adjust[penalised] = -s.title_only_penalty
        having: dict[str, list[int]] = {}
        for row, ws in enumerate(words):
            for w in ws & self.busy:
                having.setdefault(w, []).append(row)
        for i, j in sorted({(a, b) for rows in having.values() for x, a in enumerate(rows) for b in rows[x + 1:]}):
            shared = words[i] & words[j]
            if penalised[i, j] and len(shared) == 1:  # all they share is the day's theme
                adjust[i, j] = adjust[j, i] = -2 * s.title_only_penalty
        # A headline about a versioned release names it: a title-only text without one is about something else.
        unversioned = both_short & (has_key[:, None] != has_key[None, :])
        adjust[unversioned] = np.minimum(adjust[unversioned], -s.title_only_penalty)
        # Two organisations both name (the Pentagon and Anthropic): an event between them, as good as one release.
        naming: dict[str, list[int]] = {}
        for row, found in enumerate(involved):
            for party in found:
                naming.setdefault(party, []).append(row)
        for i, j in sorted({(a, b) for rows in naming.values() for x, a in enumerate(rows) for b in rows[x + 1:]}):
            if len(involved[i] & involved[j]) > 1:
                adjust[i, j] = adjust[j, i] = s.release_bonus
        for i in map(int, np.flatnonzero(has_key)):
            for j in map(int, np.flatnonzero(has_key)):
                if i < j:  # one versioned name: one release; only different ones: different releases
                    adjust[i, j] = adjust[j, i] = s.release_bonus if keys[i] & keys[j] else -s.release_conflict
        for day_row in map(int, pool):
            if day_row in self.partner and self.partner[day_row] in at:
                i, j = at[day_row], at[self.partner[day_row]]
                adjust[i, j] = adjust[j, i] = max(float(adjust[i, j]), 0.0)
        for rows in self.pages.values():  # one page, however its posts are titled ("Wiz joins Google" / "Google
            mine = [at[r] for r in rows if r in at]  # acquires Wiz")
            if len(rows) > 1 and mine:
                adjust[np.ix_(mine, mine)] = 1.0
        np.fill_diagonal(adjust, 0.0)
        return adjust


@dataclass(slots=True)
class DayResult:
    """Where each of a day's items went: the index of its story in the StoryIndex."""

    labels: np.ndarray
    new: list[int] = field(default_factory=list)       # story indices started this day
    joined: list[int] = field(default_factory=list)    # earlier stories that took items this day
    linked: int = 0                                     # item pairs linked as one report (cross-language too)


class StoryIndex:
    """The open stories as arrays: what the next day's items are clustered against."""

    def __init__(self, dim: int = 512, settings: ClusterSettings | None = None) -> None:
        self.settings = settings or ClusterSettings()
        self.dim = dim + self.settings.name_dims  # the embedding, then the hashed names
        self.ids: list[str] = []
        self.kinds: list[str] = []  # "code", "paper" (all its items are) or "news": only like joins like
        self.releases: list[frozenset[str]] = []  # versioned names in its items' titles (release_keys)
        self.artifacts: list[frozenset[str]] = []  # the repos and model pages it holds (artifacts_of)
        self.words: list[Counter[str]] = []  # its items' title words (content_words), each counted once an item
        self.parties: list[frozenset[str]] = []  # the organisations its items are about (parties)
        self.pages: list[frozenset[str]] = []  # the article pages its items link, by site (site_pages)
        self.first_seen: list[date] = []
        self.briefed_on: list[date | None] = []
        self.last_seen = np.zeros(0, dtype=np.int64)    # date ordinals
        self.sums = np.zeros((0, self.dim), dtype=np.float32)
        self.weight = np.zeros(0, dtype=np.float64)     # Σ w over the story's items
        self.bonus = np.zeros(0, dtype=np.float64)      # Σ w·offset
        self.size = np.zeros(0, dtype=np.int64)
        self.day: int | None = None                    # the ordinal the decay has been applied up to

    def __len__(self) -> int:
        return len(self.ids)

    def offsets(self, short: np.ndarray) -> np.ndarray:
        return np.where(short, self.settings.short_bonus / 2, 0.0)

    def add_story(self, story_id: str, first_seen: date, last_seen: date, vectors: np.ndarray, short: np.ndarray,
                  ages: np.ndarray, briefed_on: date | None = None, texts: Sequence[str] = (),
                  kind: str = "news", releases: frozenset[str] = frozenset(),
                  artifacts: frozenset[str] = frozenset(), titles: Sequence[str] = (),
                  parties: frozenset[str] = frozenset(), pages: frozenset[str] = frozenset()) -> int:
        """Add an earlier story from its items' vectors, ages in days (as of the index's day) and texts."""
        w = self.settings.decay ** np.asarray(ages, dtype=np.float64)
        found = [names(t) for t in texts] if texts else None
        vectors = features(vectors, found, self.settings)
        self.ids.append(story_id)
        self.kinds.append(kind)
        self.releases.append(releases)
        self.artifacts.append(artifacts)
        self.words.append(Counter(w for t in titles for w in content_words(t)))
        self.parties.append(parties)
        self.pages.append(pages)
        self.first_seen.append(first_seen)
        self.briefed_on.append(briefed_on)
        self.last_seen = np.append(self.last_seen, last_seen.toordinal())
        total = (vectors.astype(np.float64) * w[:, None]).sum(axis=0).astype(np.float32)
        self.sums = np.vstack([self.sums, total[None, :]])
        self.weight = np.append(self.weight, w.sum())
        self.bonus = np.append(self.bonus, float((w * self.offsets(short)).sum()))
        self.size = np.append(self.size, len(vectors))
        return len(self.ids) - 1

    def centroid(self, k: int) -> np.ndarray:
        """Story k's centroid in the embedding space (without the hashed names)."""
        c = self.sums[k, : self.dim - self.settings.name_dims]
        return (c / max(float(np.linalg.norm(c)), 1e-9)).astype(np.float32)

    def advance(self, day: date) -> None:
        """Age the stories to `day` and close those not seen within the lookback."""
        d = day.toordinal()
        if self.day is not None and d > self.day:
            f = self.settings.decay ** (d - self.day)
            self.sums *= np.float32(f)
            self.weight *= f
            self.bonus *= f
        self.day = d if self.day is None else max(self.day, d)
        s = self.settings
        keep = self.last_seen >= d - s.lookback_days
        if not keep.all():
            idx = np.flatnonzero(keep)
            self.ids = [self.ids[i] for i in idx]
            self.kinds = [self.kinds[i] for i in idx]
            self.releases = [self.releases[i] for i in idx]
            self.artifacts = [self.artifacts[i] for i in idx]
            self.words = [self.words[i] for i in idx]
            self.parties = [self.parties[i] for i in idx]
            self.pages = [self.pages[i] for i in idx]
            self.first_seen = [self.first_seen[i] for i in idx]
            self.briefed_on = [self.briefed_on[i] for i in idx]
            self.last_seen, self.sums = self.last_seen[idx], self.sums[idx]
            self.weight, self.bonus, self.size = self.weight[idx], self.bonus[idx], self.size[idx]

    def _cores(self) -> list[frozenset[str]]:
        """Each story's core words: in half its items or more."""
        return [frozenset(w for w, c in counts.items() if 2 * c >= size)
                for counts, size in zip(self.words, self.size, strict=True)]

    def theme_counts(self, words: Sequence[frozenset[str]], day_words: Counter[str] | None = None) -> Counter[str]:
        """In how many of the day's items (`words`, or `day_words` counted already) and open stories' cores each
        word is: what makes a word the day's theme (_themed)."""
        df = Counter(day_words) if day_words is not None else Counter(w for ws in words for w in ws)
        df.update(w for core in self._cores() for w in core)
        return df

    def _themed(self, members: list[np.ndarray], words: Sequence[frozenset[str]], rows: np.ndarray | None = None,
                df: Counter[str] | None = None) -> np.ndarray:
        """Per (group, story): the one title word they share is the day's theme (in BUSY_TITLES of the day's
        items and open stories). A story's words are those of its core: in half its items or more, so that a
        story which took one GitHub thread does not take every other. Only the groups marked in `rows` are
        scored (the others' rows stay False); `df` is theme_counts, when the caller has it (a block of the
        stories, _blocks, is given its whole index's).

        Each group is scored against the stories that hold one of its words (an index of the cores), not
        against every story: a day is many groups and the open stories are many, and a group's words are few."""
        out = np.zeros((len(members), len(self.ids)), dtype=bool)
        if rows is not None and not rows.any():
            return out
        if df is None:
            df = self.theme_counts(words)
        held = _holders(self._cores())
        for g, m in enumerate(members):
            if rows is not None and not rows[g]:
                continue
            mine = frozenset().union(*(words[int(i)] for i in m))
            both = np.zeros(len(self.ids), dtype=np.int64)
            busy = np.zeros(len(self.ids), dtype=bool)
            for w in mine:
                if w in held:
                    both[held[w]] += 1
                    busy[held[w]] = df[w] >= BUSY_TITLES  # read only where this is the one word shared
            out[g] = (both == 1) & busy
        return out

    def _blocks(self) -> Iterator[tuple[int, StoryIndex]]:
        """The open stories JOIN_BLOCK at a time, each block an index of its own (views of the arrays) with the
        position of its first story: a pool's groups are scored against one block at a time, so the arrays of
        scores are (groups x JOIN_BLOCK), not (groups x open stories)."""
        if len(self.ids) <= JOIN_BLOCK:
            if len(self.ids):
                yield 0, self
            return
        for c0 in range(0, len(self.ids), JOIN_BLOCK):
            cut = slice(c0, c0 + JOIN_BLOCK)
            part = StoryIndex.__new__(StoryIndex)
            part.settings, part.dim, part.day = self.settings, self.dim, self.day
            part.ids, part.kinds, part.releases = self.ids[cut], self.kinds[cut], self.releases[cut]
            part.artifacts, part.words, part.parties = self.artifacts[cut], self.words[cut], self.parties[cut]
            part.pages = self.pages[cut]
            part.first_seen, part.briefed_on, part.last_seen = self.first_seen[cut], self.briefed_on[cut], \
                self.last_seen[cut]
            part.sums, part.weight, part.bonus, part.size = self.sums[cut], self.weight[cut], self.bonus[cut], \
                self.size[cut]
            yield c0, part

    def _thresholds(self, incoming: np.ndarray) -> np.ndarray:
        """Per (incoming group, story): the similarity needed to join, higher for stories grown large."""
        s = self.settings
        grown = (self.size[None, :] + incoming[:, None]) > s.max_size
        return s.threshold + s.large_margin * grown

    def cluster_day(self, day: date, vectors: np.ndarray, short: np.ndarray, ids: list[str],
                    texts: Sequence[str] | None = None, apart: Evidence = None,
                    adjust: Evidence = None, tiers: Sequence[str] | None = None,
                    bare: Sequence[bool] | None = None,
                    releases: Sequence[frozenset[str]] | None = None,
                    artifacts: Sequence[frozenset[str]] | None = None,
                    digests: Sequence[bool] | None = None,
                    words: Sequence[frozenset[str]] | None = None,
                    moved: Sequence[bool] | None = None,
                    parties: Sequence[frozenset[str]] | None = None,
                    pages: Sequence[frozenset[str]] | None = None) -> DayResult:
        """Put a day's items (in a fixed order) into earlier stories or new ones. With their `texts` (title
        and lead), names can tie groups that the vectors leave just apart. A group with an article page
        (`pages`, site_pages) that an open story's items link from the same site joins that story."""
        s = self.settings
        self.advance(day)
        d = day.toordinal()
        n = len(vectors)
        labels = np.full(n, -1, dtype=np.int64)
        result = DayResult(labels)
        if n == 0:
            return result
        item_names = [names(t) for t in texts] if texts is not None else None
        feature_names = item_names
        if item_names is not None and bare is not None:  # names tie groups, but are not part of these vectors
            feature_names = [frozenset() if b else ns for ns, b in zip(item_names, bare, strict=True)]
        vectors = np.ascontiguousarray(features(vectors, feature_names, s))
        offsets = self.offsets(np.asarray(short, dtype=bool))
        day_df: list[Counter[str]] = []

        def day_counts() -> Counter[str]:
            if not day_df:
                day_df.append(Counter(x for ns in item_names or [] for x in ns))
            return day_df[0]

        joined: set[int] = set()
        day_words: list[Counter[str]] = []  # the day's title words, counted once (the theme rule's)
        lone = np.asarray(bare, dtype=bool) if bare is not None else None
        k0 = len(self.ids)
        group_kinds = (lambda rows: story_kind([tiers[r] for r in rows])) if tiers is not None else None
        # 1. The day's items: average linkage among themselves, in pools of at most max_pool items (in their
        #    fixed order; a later pool's groups can join the stories an earlier pool started); groups that a
        #    name ties are merged.
        for start in range(0, n, s.max_pool):
            pool = np.arange(start, min(n, start + s.max_pool))
            pool_apart, pool_adjust = _pool_block(apart, pool), _pool_block(adjust, pool)
            groups, linked = _groups(vectors[pool], offsets[pool], s.threshold, s.link, s.max_size,
                                     pool_apart, pool_adjust)
            result.linked += linked
            order = np.argsort(groups, kind="stable")
            starts = np.concatenate([[0], np.flatnonzero(np.diff(groups[order])) + 1])
            members = np.split(pool[order], starts[1:])
            gsum = np.add.reduceat(vectors[pool[order]], starts, axis=0)
            gsize = np.diff(np.append(starts, len(order)))
            goff = np.add.reduceat(offsets[pool[order]], starts)
            if item_names:
                # A name tie sees the evidence between a bare thread and the others (the title-only penalty above
                # all); between texts with a lead, a name is what ties them.
                tie_adjust = pool_adjust
                if pool_adjust is not None and lone is not None:
                    here = lone[pool]
                    tie_adjust = np.where(here[:, None] | here[None, :], pool_adjust, np.float32(0.0))
                members, gsum, gsize, goff = _name_merges(members, gsum, gsize, goff, item_names, day_counts, s,
                                                          pool_apart, tie_adjust, start)
            # 2. Each group joins the open story it is closest to on average, or starts a story.
            rows = np.arange(len(members))
            best = np.zeros(len(members), dtype=np.int64)
            ok = np.zeros(len(members), dtype=bool)
            top = np.full(len(members), -np.inf)  # each group's best score (sim - need) so far
            theme_df: list[Counter[str]] = []
            for c0, part in self._blocks():  # the open stories, JOIN_BLOCK at a time
                sim = (gsum @ part.sums.T) / (gsize[:, None] * part.weight[None, :]) \
                    + (goff / gsize)[:, None] + (part.bonus / part.weight)[None, :]
                need = part._thresholds(gsize)
                # A shared versioned name (DeepSeek V4) is evidence: it lowers the bar by release_bonus, and lets a
                # model page join its release's news. Without it, bare thread titles need title_only_penalty more to
                # join an earlier story, as to meet each other, and a repo's group never joins a news story.
                shared = np.zeros((len(members), len(part.ids)), dtype=bool)
                conflict = np.zeros((len(members), len(part.ids)), dtype=bool)  # only different versioned names
                if releases is not None:
                    gr = [frozenset().union(*(releases[int(i)] for i in m)) for m in members]
                    held, released_by = _holders(part.releases), np.array([bool(k) for k in part.releases])
                    for g, keys in enumerate(gr):
                        if keys:
                            shared[g] = _shared_counts(keys, held, len(part.ids)) > 0
                            conflict[g] = released_by & ~shared[g]
                if parties is not None:  # two organisations both name: as good as one release
                    gp = [frozenset().union(*(parties[int(i)] for i in m)) for m in members]
                    held = _holders(part.parties)
                    for g, found in enumerate(gp):
                        if len(found) > 1:
                            shared[g] |= _shared_counts(found, held, len(part.ids)) > 1
                if releases is not None:
                    # Headlines that name no release join a release's story only with title_only_penalty more.
                    title_only = np.asarray(short, dtype=bool) | (np.asarray(bare, dtype=bool) if bare is not None
                                                                  else False)
                    unnamed = np.array([not k and bool(title_only[m].all()) for k, m in zip(gr, members, strict=True)],
                                       dtype=bool)
                    released = np.array([bool(k) for k in part.releases], dtype=bool)
                    need = need + s.title_only_penalty * (unnamed[:, None] & released[None, :])
                if bare is not None:
                    # A moved thread is a second post of a story told elsewhere, earlier stories included.
                    only_bare = np.array([all(bare[int(i)] and not (moved and moved[int(i)]) for i in m)
                                          for m in members])
                    need = need + (s.title_only_penalty * only_bare)[:, None] * ~shared
                    if words is not None:  # ... and as much again when all they share is the day's theme
                        if not day_words:
                            day_words.append(Counter(w for ws in words for w in ws))
                        if not theme_df and only_bare.any():  # the day's words and every open story's core
                            theme_df.append(self.theme_counts(words, day_words[0]))
                        need = need + s.title_only_penalty * part._themed(members, words, only_bare,
                                                                          theme_df[0] if theme_df else None) \
                            * ~shared
                need = need - s.release_bonus * shared
                need = np.where(conflict, np.inf, need)
                if group_kinds is not None:
                    gk = [group_kinds([int(i) for i in m]) for m in members]
                    unlike = np.array(gk)[:, None] != np.array(part.kinds)[None, :]
                    need = np.where(unlike & ~shared, np.inf, need)
                if artifacts is not None:  # a repo or model page joins a repos' story only by name (its GGUF)
                    ga = [frozenset().union(*(artifacts[int(i)] for i in m)) for m in members]
                    code_story = np.array([k == "code" for k in part.kinds], dtype=bool)
                    apart_names = np.zeros((len(members), len(part.ids)), dtype=bool)  # named, and not that name
                    held = _holders(part.artifacts)
                    for g, found in enumerate(ga):
                        if found:
                            apart_names[g] = code_story & (_shared_counts(found, held, len(part.ids)) == 0)
                    need = np.where(apart_names, np.inf, need)
                if digests is not None:  # a digest of many stories joins none of them
                    listing = np.array([any(digests[int(i)] for i in m) for m in members], dtype=bool)
                    need = np.where(listing[:, None], np.inf, need)
                if pages is not None:  # one site's posts of one article: one event, whatever else they say
                    held = _holders(part.pages)
                    for g, m in enumerate(members):
                        found = frozenset().union(*(pages[int(i)] for i in m))
                        if found:
                            need[g] = np.where(_shared_counts(found, held, len(part.ids)) > 0, -np.inf, need[g])
                score = sim - need
                at = np.argmax(score, axis=1)  # the first of equals, and a later block's equal does not replace it
                better = score[rows, at] > top
                top[better] = score[rows, at][better]
                best[better] = c0 + at[better]
                ok[better] = (sim[rows, at] >= need[rows, at])[better]
            fresh: list[int] = []
            for g, m in enumerate(members):
                if ok[g]:
                    k = int(best[g])
                    self.sums[k] += gsum[g]
                    self.weight[k] += gsize[g]
                    self.bonus[k] += goff[g]
                    self.size[k] += gsize[g]
                    if words is not None:
                        self.words[k].update(w for i in m for w in words[int(i)])
                    if parties is not None:
                        self.parties[k] = self.parties[k].union(*(parties[int(i)] for i in m))
                    if pages is not None:
                        self.pages[k] = self.pages[k].union(*(pages[int(i)] for i in m))
                    self.last_seen[k] = max(int(self.last_seen[k]), d)
                    joined.add(k)
                    labels[m] = k
                else:
                    labels[m] = len(self.ids) + len(fresh)
                    fresh.append(g)
            if fresh:  # new stories, appended at once
                self.ids.extend(content_hash("story", ids[int(members[g].min())]) for g in fresh)
                self.kinds.extend(group_kinds([int(i) for i in members[g]]) if group_kinds else "news" for g in fresh)
                self.releases.extend(frozenset().union(*(releases[int(i)] for i in members[g])) if releases
                                     else frozenset() for g in fresh)
                self.words.extend(Counter(w for i in members[g] for w in words[int(i)]) if words is not None
                                  else Counter() for g in fresh)
                self.parties.extend(frozenset().union(*(parties[int(i)] for i in members[g])) if parties is not None
                                    else frozenset() for g in fresh)
                self.pages.extend(frozenset().union(*(pages[int(i)] for i in members[g])) if pages is not None
                                  else frozenset() for g in fresh)
                self.artifacts.extend(frozenset().union(*(artifacts[int(i)] for i in members[g])) if artifacts
                                      else frozenset() for g in fresh)
                self.first_seen.extend([day] * len(fresh))
                self.briefed_on.extend([None] * len(fresh))
                self.last_seen = np.concatenate([self.last_seen, np.full(len(fresh), d, dtype=np.int64)])
                self.sums = np.vstack([self.sums, gsum[fresh].astype(np.float32)])
                self.weight = np.concatenate([self.weight, gsize[fresh].astype(np.float64)])
                self.bonus = np.concatenate([self.bonus, goff[fresh]])
                self.size = np.concatenate([self.size, gsize[fresh]])
                result.new.extend(range(len(self.ids) - len(fresh), len(self.ids)))
        result.joined = sorted(k for k in joined if k < k0)
        return result


def artifacts_of(item: Item) -> frozenset[str]:
    """The repo or model page an item is, for code items (empty otherwise): its artifact_key, with its owner when
    the name is plain lower-case words (see same_artifact)."""
    name = artifact_key(item.title) if item.tier == "code" else ""
    if not name:
        return frozenset()
    m = _SLUG.match(item.title)
    assert m is not None
    return frozenset([f"{m.group(1).lower()}/{name}" if _PLAIN.fullmatch(m.group(2)) else name])


def story_kind(tiers: Sequence[str]) -> str:
    """"code" or "paper" when all of a story's items are repos/model pages or papers, else "news"."""
    for kind in ("code", "paper"):
        if tiers and all(t == kind for t in tiers):
            return kind
    return "news"


def is_short(item: Item, settings: ClusterSettings) -> bool:
    """A title-only item: its body is missing or shorter than settings.short_chars (a CJK character counts 3)."""
    return text_cost(item.body.strip()[: settings.short_chars]) < settings.short_chars


def item_order(item: Item) -> tuple:
    """The fixed order a day's items are clustered in: by tier, then time, then id."""
    when = item.published or item.fetched
    return (authority_rank(item.tier), when is None, when.isoformat() if when else "", item.id)


def reading_order(item: Item) -> tuple:
    """The order a story's items are read in (what the writer takes first): by tier, of two threads the one with
    more points (the main discussion, not a second post of it), then item_order."""
    return (authority_rank(item.tier), -(item.points or 0), item_order(item))


# Not the authority order: a title is what is ranked here, and a community post's reads better than a paper's or
# a repository's release name.
HEADING_ORDER = {"official": 0, "press": 1, "community": 2, "paper": 3, "code": 4}


AUTHORITATIVE = ("official", "press")
_CJK = re.compile(r"[\u3400-\u9fff]")


def title_language(item: Item) -> str:
    """The language an item's title is in: Chinese when it has Chinese characters, else its source's language (or
    English, for a Chinese source's Latin title)."""
    if _CJK.search(item.title):
        return "zh"
    return "en" if item.language == "zh" else item.language


def heading_item(items: list[Item], language: str | None = None, own: Callable[[Item], bool] | None = None) -> Item:
    """The item a story is headed by: the most authoritative one with a real title (the lab's own post over a repo
    slug, the press before community posts, of two threads the one with more points; a digest of many stories
    last), in `language` when an official or press item is (a Chinese edition takes the Chinese press's title over
    an English lab's), else in any. `own` says which items are the lab's own pages whatever their tier (a lab's
    post shared by a community: rank.lab_site on the beat's sites, which the write stage passes); they head as
    official posts do."""
    def key(i: Item) -> tuple:
        tier = "official" if own is not None and own(i) else i.tier
        mismatch = language is not None and title_language(i) != language
        return (bool(artifact_name(i.title)), is_digest(i.title), mismatch or tier not in AUTHORITATIVE,
                HEADING_ORDER.get(tier, 9), mismatch, -(i.points or 0))
    return min(items, key=key)


def story_title(items: list[Item], language: str | None = None, own: Callable[[Item], bool] | None = None) -> str:
    return heading_item(items, language, own).title


def cluster_items(items: list[Item], vectors: np.ndarray, day: date, index: StoryIndex,
                  texts: Sequence[str] | None = None) -> tuple[list[Story], DayResult]:
    """The day's stories: the day's items put into `index` (earlier stories, or new ones). `texts` are the
    items' embedded texts (item_text), when the caller has them already."""
    order = sorted(range(len(items)), key=lambda i: item_order(items[i]))
    ordered = [items[i] for i in order]
    # Community posts get no title-only bonus: a day's threads are many short titles about unrelated things.
    short = np.array([is_short(i, index.settings) and i.tier != "community" for i in ordered], dtype=bool)
    ordered_texts = [texts[i] for i in order] if texts is not None else [item_text(i) for i in ordered]
    # A thread's bare title: the names it shares with other texts add nothing to their similarity (thread_evidence);
    # only a name's tie between groups, which needs the name to be that story's, still counts.
    bare = [i.tier == "community" and is_short(i, index.settings) for i in ordered]
    tiers, titles = [i.tier for i in ordered], [i.title for i in ordered]
    apart_texts = [f"{t} {i.url}" for t, i in zip(ordered_texts, ordered, strict=True)]

    def apart(pool: np.ndarray) -> np.ndarray | None:  # pairwise: a pool's block is apart_pairs of its items
        return apart_pairs([tiers[i] for i in pool], [titles[i] for i in pool], [apart_texts[i] for i in pool])

    adjust = ThreadEvidence(ordered, index.settings, vectors[order] if len(order) else vectors).block
    result = index.cluster_day(day, vectors[order] if len(order) else vectors, short, [i.id for i in ordered],
                               ordered_texts, apart, adjust, tiers, bare,
                               [release_keys(i.title) for i in ordered], [artifacts_of(i) for i in ordered],
                               [is_digest(i.title) for i in ordered], [content_words(i.title) for i in ordered],
                               [moved_thread(i) for i in ordered], [parties(i) for i in ordered],
                               [site_pages(i) for i in ordered])
    by_story: dict[int, list[Item]] = {}
    for item, k in zip(ordered, result.labels, strict=True):
        by_story.setdefault(int(k), []).append(item)
    stories = []
    for k, members in by_story.items():
        briefed = index.briefed_on[k]
        stories.append(Story(
            id=index.ids[k], items=members, first_seen=index.first_seen[k], last_seen=day,
            follow_up=briefed is not None and briefed < day, title=story_title(members), briefed_on=briefed,
        ))
    stories.sort(key=lambda st: st.id)
    return stories, result


def centroid(vectors: np.ndarray) -> np.ndarray:
    c = vectors.mean(axis=0)
    return (c / max(float(np.linalg.norm(c)), 1e-9)).astype(np.float32)
