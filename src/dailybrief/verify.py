"""Grounding verification: every sentence cites, every citation exists, and the cited text supports it.

    Brief ──verify──▶ Brief (uncited sentences dropped, unsupported ones marked or dropped)
                      + Faithfulness {sentences, cited, supported}

A sentence is *supported* when the text of the items it cites carries it:
lexically (most of its words, numbers and Chinese character pairs occur in the
cited text) or semantically (a multilingual sentence embedding is close to a
sentence, or a pair of sentences, of the cited text). The embedding side works
across languages, so a Chinese sentence can rest on an English source. Every
number the sentence states must occur in the cited text too. Analysis is held to
a looser bar: it must stay on the topic of what it cites.

Text addressed to a model ("ignore previous instructions and ...") is removed
from the cited text before checking, and before any prompt is built from it
(``strip_instructions``), so a sentence that obeys an injected instruction has
nothing to rest on.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .embed import Embedder
from .records import Brief, Item, Paragraph, Sentence
from .text import cjk_ratio, normalise, split_sentences

# -- text addressed to a model -------------------------------------------------

_INSTRUCTION = re.compile(
    r"(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|your\s+)*"
    r"(?:previous|prior|above|earlier|preceding|original|system)\s+(?:instructions?|prompts?|rules|directions|context)"
    r"|(?:system|developer)\s+prompt"
    r"|\b(?:you\s+are\s+now|from\s+now\s+on\s+you|act\s+as\s+(?:an?\s+)?(?:ai|assistant|language\s+model))"
    r"|\b(?:ai|llm|language\s+models?|assistants?|chatbots?|summari[sz]ers?)\b[^.!?]{0,40}"
    r"\b(?:reading|summari[sz]ing|processing|must|should)\b[^.!?]{0,80}\b(?:write|output|say|respond|reply|include)\b"
    r"|\bnew\s+instructions?\s*:"
    r"|\b(?:respond|reply|answer|output)\s+(?:only\s+)?with\s+(?:the\s+)?(?:word|phrase|text)\b"
    r"|忽略(?:之前|以上|先前|前面|上述|所有)[^。！？]{0,10}(?:指令|指示|提示|要求)"
    r"|你现在是|系统提示词?|请(?:只|仅)(?:输出|回复|回答)",
    re.IGNORECASE,
)


def instruction_like(sentence: str) -> bool:
    """Whether a sentence of an article speaks to a model rather than to readers."""
    return bool(_INSTRUCTION.search(sentence))


def strip_instructions(text: str) -> tuple[str, int]:
    """The text without its sentences addressed to a model, and how many were removed."""
    removed = 0
    lines = []
    for line in text.split("\n"):
        kept = []
        for sentence in split_sentences(line):
            if instruction_like(sentence):
                removed += 1
            else:
                kept.append(sentence)
        if kept:
            lines.append(" ".join(kept))
    return "\n".join(lines) if removed else text, removed


# -- lexical support -------------------------------------------------------------

_WORD = re.compile(r"[a-z][a-z0-9'’\-]+|[\u3400-\u4dbf\u4e00-\u9fff]+")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
STOPWORDS = frozenset("""
a an and are as at be been but by can could did do does for from had has have he her his how i if in into is it
its it's may might more most much must no not of on one or our out over says said she so such than that the their them
then there these they this those to under up us was we were what when which while who will with would you your also
about after all any been before being both each few just like made make many new now only other own same some still
very via where why yet
""".split())


def _chinese(text: str) -> bool:
    return cjk_ratio(text) > 0.3


def _tokens(text: str) -> set[str]:
    """Content words, Chinese character pairs, and numbers (by their significant digits)."""
    text = normalise(text)
    out: set[str] = set()
    for m in _WORD.finditer(text):
        w = m.group().strip("'’-")
        if "\u3400" <= w[0] <= "\u9fff":
            out.update(w[i : i + 2] for i in range(len(w) - 1)) if len(w) > 1 else out.add(w)
        elif len(w) > 2 and w not in STOPWORDS:
            out.add(w[:-1] if w.endswith("s") and len(w) > 4 else w)  # a crude plural fold
    out.update(f"#{n}" for n in _numbers(text))
    return out


def _numbers(text: str) -> set[str]:
    """Numbers by their significant digits, so '500 million', '5 亿' and '0.5' all give '5'."""
    out = set()
    for m in _NUMBER.finditer(text):
        digits = m.group().replace(",", "").replace(".", "").strip("0")
        if digits:
            out.add(digits)
    return out


# -- the check ----------------------------------------------------------------------


@dataclass(slots=True)
class VerifySettings:
    unsupported: str = "mark"  # or "drop"
    lexical: float = 0.7
    semantic: float = 0.72
    cross_semantic: float = 0.64  # a Chinese sentence on an English source, or the reverse, scores lower
    analysis_semantic: float = 0.45


@dataclass(slots=True)
class Verdict:
    supported: bool
    lexical: float
    semantic: float
    reason: str = ""


@dataclass(slots=True)
class Faithfulness:
    sentences: int = 0
    cited: int = 0
    supported: int = 0
    dropped: int = 0
    marked: int = 0
    bad_citations: int = 0
    flagged: list[str] = field(default_factory=list)

    def as_brief_dict(self) -> dict[str, int]:
        return {"sentences": self.sentences, "cited": self.cited, "supported": self.supported}

    def add(self, other: Faithfulness) -> None:
        for name in ("sentences", "cited", "supported", "dropped", "marked", "bad_citations"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.flagged.extend(other.flagged)


class SourceText:
    """The checkable text of the cited items: their sentences, pairs of them, and their tokens, embedded once."""

    def __init__(self, items: dict[str, Item], embedder: Embedder) -> None:
        self.items = items
        self.embedder = embedder
        self._passages: dict[str, list[str]] = {}
        self._vectors: dict[str, np.ndarray] = {}
        self._chinese: dict[str, np.ndarray] = {}
        self._tokens: dict[str, set[str]] = {}
        self._numbers: dict[str, set[str]] = {}

    def passages(self, item_id: str) -> list[str]:
        if item_id not in self._passages:
            item = self.items.get(item_id)
            sentences: list[str] = []
            if item is not None:
                parts = [item.title, item.summary if item.summary not in item.text else "", item.text]
                parts += [f"{c.author}: {c.text}" for c in item.comments]
                for part in parts:
                    clean, _ = strip_instructions(part or "")
                    sentences.extend(split_sentences(clean))
            pairs = [f"{a} {b}" for a, b in itertools.pairwise(sentences)]
            self._passages[item_id] = list(dict.fromkeys(sentences + pairs))
            # Figures an attribution may quote: the outlet, a thread's points and comments, commenters' scores.
            figures = [] if item is None else [item.source_name, *(str(x) for x in (item.points, item.score,
                       item.comment_count) if x is not None), *(f"{c.author} {c.score or ''}" for c in item.comments)]
            joined = " ".join(sentences + figures)
            self._tokens[item_id] = _tokens(joined)
            self._numbers[item_id] = _numbers(normalise(joined))
        return self._passages[item_id]

    def prepare(self, item_ids: Iterable[str]) -> None:
        """Embed the passages of these items in one batch."""
        todo = [i for i in dict.fromkeys(item_ids) if i not in self._vectors]
        texts: list[str] = []
        spans: list[tuple[str, int, int]] = []
        for item_id in todo:
            ps = self.passages(item_id)
            spans.append((item_id, len(texts), len(texts) + len(ps)))
            texts.extend(ps)
        vecs = self.embedder.encode(texts) if texts else np.zeros((0, 512), dtype=np.float32)
        for item_id, a, b in spans:
            self._vectors[item_id] = vecs[a:b]
            self._chinese[item_id] = np.array([_chinese(t) for t in texts[a:b]], dtype=bool)

    def _union(self, table: dict[str, set[str]], item_ids: Sequence[str]) -> set[str]:
        out: set[str] = set()
        for i in item_ids:
            self.passages(i)  # fills the tables
            out |= table[i]
        return out

    def tokens(self, item_ids: Sequence[str]) -> set[str]:
        return self._union(self._tokens, item_ids)

    def numbers(self, item_ids: Sequence[str]) -> set[str]:
        return self._union(self._numbers, item_ids)

    def vectors(self, item_ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The passages' vectors, and whether each passage is Chinese."""
        self.prepare(item_ids)
        keep = [i for i in item_ids if len(self._vectors[i])]
        if not keep:
            return np.zeros((0, 512), dtype=np.float32), np.zeros(0, dtype=bool)
        return np.vstack([self._vectors[i] for i in keep]), np.concatenate([self._chinese[i] for i in keep])


def judge(sentence: str, vector: np.ndarray, item_ids: Sequence[str], source: SourceText, part: str,
          settings: VerifySettings) -> Verdict:
    """Does the text of these items support this sentence?"""
    mine = _tokens(sentence)
    if not mine:
        return Verdict(False, 0.0, 0.0, "states nothing that can be checked")
    lexical = len(mine & source.tokens(item_ids)) / len(mine) if mine else 0.0
    vecs, chinese = source.vectors(item_ids)
    sims = vecs @ vector
    semantic = float(sims.max()) if len(sims) else 0.0
    bar = np.where(chinese == _chinese(sentence), settings.semantic, settings.cross_semantic)
    close = bool((sims >= bar).any())
    if part == "analysis":
        ok = semantic >= settings.analysis_semantic or lexical >= settings.lexical / 2
        return Verdict(ok, lexical, semantic, "" if ok else "off the topic of what it cites")
    missing = _numbers(normalise(sentence)) - source.numbers(item_ids)
    if missing:
        return Verdict(False, lexical, semantic, f"states {', '.join(sorted(missing))} which its sources don't")
    ok = lexical >= settings.lexical or close
    return Verdict(ok, lexical, semantic, "" if ok else "its sources don't say this")


def verify_brief(brief: Brief, items: dict[str, Item], embedder: Embedder,
                 settings: VerifySettings | None = None, source: SourceText | None = None) -> Faithfulness:
    """Check every sentence of a brief in place; returns the counts (also stored on ``brief.faithfulness``).

    Citations of numbers with no reference are removed; a sentence left with
    none is dropped (it cannot be checked). Unsupported sentences are marked
    (``Sentence.supported = False``) or dropped, as settings say.
    """
    settings = settings or VerifySettings()
    source = source or SourceText(items, embedder)
    ref_item = {r.n: r.item_id for r in brief.references}
    paragraphs: list[Paragraph] = list(brief.abstract) + [p for s in brief.sections for p in s.paragraphs]
    todo: list[tuple[Paragraph, Sentence, list[str]]] = []
    result = Faithfulness()
    for para in paragraphs:
        for sentence in para.sentences:
            result.sentences += 1
            good = [n for n in sentence.refs if n in ref_item and ref_item[n] in items]
            result.bad_citations += len(sentence.refs) - len(good)
            sentence.refs = list(dict.fromkeys(good))
            if sentence.refs:
                result.cited += 1
                todo.append((para, sentence, [ref_item[n] for n in sentence.refs]))
    source.prepare(i for _, _, ids in todo for i in ids)
    vectors = embedder.encode([s.text for _, s, _ in todo]) if todo else np.zeros((0, 512), dtype=np.float32)
    for (para, sentence, ids), vec in zip(todo, vectors, strict=True):
        verdict = judge(sentence.text, vec, ids, source, para.part, settings)
        sentence.supported = verdict.supported
        if verdict.supported:
            result.supported += 1
        else:
            result.flagged.append(f"{sentence.text[:80]!r}: {verdict.reason}")
    for para in paragraphs:
        kept = []
        for s in para.sentences:
            if not s.refs or (s.supported is False and settings.unsupported == "drop"):
                result.dropped += 1
                continue
            if s.supported is False:
                result.marked += 1
            kept.append(s)
        para.sentences = kept
    for section in brief.sections:
        section.paragraphs = [p for p in section.paragraphs if p.sentences]
    brief.abstract = [p for p in brief.abstract if p.sentences]
    renumber_references(brief)
    brief.faithfulness = result.as_brief_dict()
    return result


def renumber_references(brief: Brief) -> None:
    """Keep only cited references, numbered 1.. in order of first citation (sections, then the abstract)."""
    order: dict[int, int] = {}
    paragraphs = [p for s in brief.sections for p in s.paragraphs] + list(brief.abstract)
    for para in paragraphs:
        for sentence in para.sentences:
            for n in sentence.refs:
                order.setdefault(n, len(order) + 1)
    for para in paragraphs:
        for sentence in para.sentences:
            sentence.refs = [order[n] for n in sentence.refs]
    kept = sorted((r for r in brief.references if r.n in order), key=lambda r: order[r.n])
    for ref in kept:
        ref.n = order[ref.n]
    brief.references = kept
