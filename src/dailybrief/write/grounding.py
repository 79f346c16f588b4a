"""Does one passage support one claim? The checker behind `verify` and `dailybrief check`.

    claim ──┬── numbers, units, scales (quantities.py) ── each equals one in the passage
            ├── dates and periods (quantities.py) ──────── each named by the passage
            ├── names: glossary terms (zh↔en), Latin names, handles, Chinese proper nouns ── in the passage
            ├── roles: two names in the passage's order when the passage ties them the same way
            ├── polarity: negation, reversal words, quantifiers, hedges, causes ── as the aligned sentence has them
            └── content: a multilingual embedding close to a sentence or a pair of the passage

A claim rests on ONE passage: the text of one cited item (title, summary and
text), or one comment of a thread with its author and score. Passages are never
pooled, so citing more never lets a wrong figure or a chimera through: the
claim passes when some single passage passes every check. Analysis keeps the
factual checks (names, numbers, dates) and must stay on the topic of what it
cites; its interpretation may go beyond the passage.

The reasons name what failed: ``number``, ``date``, ``entity``, ``polarity``,
``unsupported`` or ``off-topic``, each with what was found.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Protocol

import numpy as np

from ..config import CheckSettings
from ..glossary import Glossary
from ..stories.embed import Embedder
from ..text import cjk_ratio, split_sentences
from .quantities import IDENTIFIER, Quantity, dates, quantities, same_quantity, thread_figures

CHECKER_VERSION = "3"  # bump when the checks change; recorded in brief.json

REASONS = ("number", "date", "entity", "polarity", "unsupported", "off-topic")


@dataclass(slots=True)
class Passage:
    id: str
    text: str
    author: str = ""  # a comment's author: a claim that quotes someone else is misattributed
    parts: tuple[Passage, ...] = ()  # an explicit pair: the two passages it joins (see Passage.pair)
    figures: tuple[tuple[str, int], ...] = ()  # a thread's figures passage: ("points", 412), ("comments", 318)

    @classmethod
    def pair(cls, a: Passage, b: Passage) -> Passage:
        """Two passages read together, for a sentence that names exactly these two as its evidence.

        Its names must still be tied within one of them (a chimera of two stories stays a chimera); its content
        may join a sentence of each.
        """
        return cls(f"{a.id}+{b.id}", f"{a.text}\n{b.text}", parts=(a, b))

    @classmethod
    def thread(cls, id: str, platform: str, title: str, points: int | None, comments: int | None) -> Passage:
        """A thread's figures, a passage of their own: "Hacker News thread: <title> (412 points, 318 comments)".

        It holds nothing but the figures of one thread (and what names it), so a figure a sentence gives as the
        thread's points or comments is checked against the thread's, by kind, and never against a pool of metadata:
        "318 organisations" does not rest on 318 comments. The rest of the sentence rests on a passage of its own.
        """
        figures = tuple((k, n) for k, n in (("points", points), ("comments", comments)) if n is not None)
        shown = ", ".join(f"{n} {k}" for k, n in figures)
        return cls(id, f"{platform} thread: {title}" + (f" ({shown})" if shown else ""), figures=figures)


def strip_figures(text: str, held: Iterable[tuple[str, int]]) -> str:
    """The text without the thread figures it gives that are in ``held`` (kind, value), and the brackets or
    separators they leave empty: "On Hacker News (412 points), commenters argued" -> "On Hacker News, commenters
    argued"."""
    held = set(held)
    spans = [(a, b) for kind, n, a, b in thread_figures(text) if (kind, n) in held]
    if not spans:
        return text
    out, at = [], 0
    for a, b in spans:
        out.append(text[at:a])
        at = b
    out.append(text[at:])
    left = "".join(out)
    left = re.sub(r"\s*[（(][\s,，、·;；]*(?:and|和|与)?[\s,，、·;；]*[)）]", "", left)
    left = re.sub(r"\s+(?:and|和|与)\s*(?=[.。,，;；]|$)|[,，、]\s*(?=[.。,，;；]|$)", "", left)
    return re.sub(r"\s{2,}", " ", left).strip()


def evidence(passages: Sequence[Passage]) -> list[Passage]:
    """What a claim citing these passages may rest on: each one alone, and the two together when it cites exactly
    two. Three or more are each read alone: more citations never pool into support. A thread's figures passage
    goes along and counts for neither: it only ever vouches for the thread's figures (Checker.check)."""
    out = list(passages)
    plain = [p for p in out if not p.figures]
    if len(plain) == 2 and plain[0].id != plain[1].id:
        out.append(Passage.pair(*plain))
    return out


@dataclass(slots=True)
class Check:
    supported: bool
    reasons: list[str] = field(default_factory=list)
    passage: str = ""  # the passage that supports it (or came closest)
    similarity: float = 0.0

    def kinds(self) -> list[str]:
        return sorted({r.split(":", 1)[0] for r in self.reasons})


def chinese(text: str) -> bool:
    """Chinese text, even when it carries many Latin names (the threshold of text.detect_language)."""
    return cjk_ratio(text) > 0.15


def comment_passage(author: str, score: int | None, text: str, thread: str = "") -> str:
    """A comment as a passage: its author and score as a view quotes them, its text, and the thread it is on."""
    who = author + (f" ({score} points)" if score is not None else "")
    return f"{who}: {text.strip()}" + (f"\n{thread}" if thread else "")


# -- words and cues -----------------------------------------------------------------

_EN_WORD = re.compile(r"[a-z][a-z0-9'’\-]+")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
STOPWORDS = frozenset("""
a an and are as at be been but by can could did do does for from had has have he her his how i if in into is it
its it's may might more most much must of on one or our out over says said she so such than that the their them
then there these they this those to under up us was we were what when which while who will with would you your also
about after any been before being both each few just like made make many new now only other own same still
very via where why yet
""".split())

# Negation: the cue's count parity is compared with the aligned sentence's.
_NEG_EN = re.compile(r"(?<![a-z])(?:not|never|no|none|nobody|nothing|neither|nor|without|cannot|n't|no\s+longer|"
                     r"failed\s+to|fails\s+to|no\s+one|rather\s+than|instead\s+of)(?![a-z])|n't(?![a-z])", re.I)
_NEG_ZH = re.compile(r"(?:没有|没能|未能|尚未|并未|从未|不再|不会|不能|不是|不对|不向|不打算|不公开|无人|无法|并非|非)"
                     r"|未(?![来知])|不(?![过同断少仅久错足论满料但止妨如然外得变])|没(?!收)|无(?![论须需线人机])")
# Pairs of words that turn a statement around; either side of the claim against the other in the evidence.
_REVERSALS: list[tuple[str, str]] = [
    (r"ris(?:e|es|en|ing)\b|rose|increas(?:e|ed|es|ing)|grew|grow(?:s|n|th)?\b|gain(?:s|ed)?|climb(?:s|ed)?"
     r"|jump(?:s|ed)?|soar(?:s|ed)?|上涨|上升|增长|升至|升高|提高|增加|上调|涨",
     r"f[ae]ll(?:s|en|ing)?\b|decreas(?:e|ed|es|ing)|declin(?:e|ed|es|ing)|drop(?:s|ped)?|shr[ai]nk(?:s)?"
     r"|plung(?:e|ed)|slump(?:s|ed)?|下跌|下降|降至|降低|减少|下调|跌|回落"),
    (r"rais(?:e|ed|es)\b|hik(?:e|ed)|boost(?:s|ed)?", r"\bcut(?:s)?\b|lower(?:s|ed)\b|reduc(?:e|ed|es)\b|trim(?:s|med)?"
     r"|unchanged|kept|维持|不变"),
    (r"\bbeat(?:s)?\b|exceed(?:s|ed)?|ahead of forecasts|超出预期|好于预期",
     r"\bmiss(?:es|ed)?\b|fell short|不及预期|低于预期"),
    (r"\blead(?:s|ing)?\b|\bahead\b|outperform(?:s|ed)?|surpass(?:es|ed)?|超过|领先|强于|优于|胜过",
     r"trail(?:s|ed|ing)?|\blag(?:s|ged|ging)?|\bbehind\b|落后|不及|逊于|差距|弱于"),
    (r"accept(?:s|ed)?|approv(?:e|ed|es)|support(?:s|ed)?\b|welcom(?:e|ed|es)|支持|赞成|接受|同意|认可",
     r"reject(?:s|ed)?|\bden(?:y|ied|ies)|oppos(?:e|ed|es)|refus(?:e|ed|es)|反对|拒绝|否决"),
    (r"\bopen(?:s|ed|ing)?\b(?! source| weights)|releas(?:e|ed|es|ing) (?:it )?to the (?:general )?public"
     r"|available to the public|开放|公开发布|面向公众",
     r"\bclos(?:e|ed|es)\b|restrict(?:s|ed)?|withh[eo]ld|keeps? .{0,30}out of|away from the public|关闭|不公开|限制"
     r"|封闭"),
    (r"\bprais(?:e|es|ed)\b|\bwelcom(?:e|es|ed)\b|称赞|好评|赞扬", r"\bcritici[sz](?:e|es|ed)\b|\bpann(?:ed|s)\b|批评|差评"),
    (r"\bconcentrat(?:e|es|ed|ion)\b|集中|垄断|掌握在少数|攥在少数",
     r"\bspread(?:s)? .{0,40}across (?:many|all)|widely (?:shared|available)|分散到|普及"),
    (r"\bstrong(?:er|est)? point|\bsharp\b|\bclean\b|亮点|清晰", r"weak(?:er|est)? point|\bsoft\b|\bnoisy\b|短板|模糊|噪点"),
    (r"\bwiden(?:s|ed)?|拉大|扩大", r"\bnarrow(?:s|ed)?|缩小"),
    (r"(?:increas|rais)(?:es|ed|e)\s+(?:\S+\s+){0,2}dependence|增加.{0,16}依赖",
     r"(?:reduc|lower|cut)(?:es|ed|e|s)?\s+(?:\S+\s+){0,2}dependence|降低.{0,16}依赖"),
    (r"\brare\b|\bunusual\b|罕见|少见", r"\bstandard\b|\bcommon\b|\broutine\b|widespread|普遍做法|惯例"),
    (r"succeed(?:s|ed)?|突破了|成功", r"\bfail(?:s|ed)? to|没能|未能|失败"),
    (r"\bsafer\b|更安全", r"more dangerous|riskier|更危险"),
    (r"\bdefensive\b|修补|防守|修复|patch", r"\boffensive\b|攻击"),
    (r"\bbest\b|最好", r"\bworst\b|最坏|最差"),
    (r"加快|激进|faster|aggressive", r"放缓|减缓|保守|slower"),
    (r"\bhigh\b|很高|门槛高|困难|难以", r"\blow\b|不高|容易"),
    (r"战胜|击败|\bbeat\b|\bwon\b", r"输给|败给|不敌|\blost to\b"),
    (r"已经证实|证实|confirmed", r"等.{0,6}再下结论|尚无定论|未经证实|wait for independent|unsettled"),
]
_REV = [(re.compile(a, re.I), re.compile(b, re.I)) for a, b in _REVERSALS]
_UNIVERSAL = re.compile(r"(?<![a-z])(?:all|every|everyone|always|entire(?:ly)?|whole|each|any)(?![a-z])"
                        r"|所有|全部|一律|每一|全都|任何|一切", re.I)
_PARTIAL = re.compile(r"(?<![a-z])(?:some|several|many|most|few|part|partly|certain)(?![a-z])"
                      r"|部分|一些|多项|多家|不少|有的|一部分|少数", re.I)
# Certainty: a hedged or attributed passage sentence needs a hedge or an attribution in the claim.
_HEDGE_STRONG = re.compile(r"(?<![a-z])(?:may|might|could|possibly|perhaps|reportedly|rumou?red|allegedly|"
                           r"said\s+to|believed\s+to|expected\s+to|likely|regard(?:s|ed)?|argue(?:s|d)?|"
                           r"believe(?:s|d)?|consider(?:s|ed)?|suggest(?:s|ed)?|if)(?![a-z])"
                           r"|可能|或许|也许|或为|或将|据称|据报道|有报道称|传闻|据悉|认为|视为|被认为|看来|预计|如果|若", re.I)
# Uncertainty (not attribution): "X wrote that it is theft" still misstates "whether it is theft is unsettled".
_UNCERTAIN = re.compile(r"(?<![a-z])(?:may|might|possibly|perhaps|whether|unsettled|unclear|uncertain|unknown|"
                        r"undecided|unconfirmed|rumou?r(?:s|ed)?|likely|unlikely|expected\s+to|could\s+be|"
                        r"doubt(?:s|ed|ful)?|question(?:s|ed)?|wonder(?:s|ed)?|worr(?:y|ies|ied)|fear(?:s|ed)?)(?![a-z])"
                        r"|可能|或许|也许|或将|是否|尚无定论|尚不清楚|不确定|尚未确定|未经证实|传闻|有望|预计|怀疑|质疑|担心|担忧"
                        r"|恐怕",
                        re.I)
_HEDGE_ANY = re.compile(_HEDGE_STRONG.pattern + r"|(?<![a-z])(?:according|report(?:s|ed)?|says?|said|wrote|writes|"
                        r"told|claim(?:s|ed)?|expects?|argued|noted|warned|estimat(?:e|es|ed|ing)|poll|"
                        r"asked|called|doubt(?:s|ed)?|think(?:s)?|worr(?:y|ied|ies)|hope(?:s|d)?|would)(?![a-z])"
                        r"|据|报道|称|表示|指出|写道|提到|说|分析|观察人士|业内|希望|担心|质疑|解读|外界|意味着|认为",
                        re.I)
_CAUSE_CLAIM = re.compile(r"(?<![a-z])(?:because|due\s+to|owing\s+to|as\s+a\s+result|led\s+to|caused|in\s+order\s+to)"
                          r"(?![a-z])|因为|由于|导致|是为了|因(?=[^此为]{1,12}(?:才|而))", re.I)
_CAUSE = re.compile(r"(?<![a-z])(?:because|since|due\s+to|owing\s+to|as\s+a\s+result|thanks\s+to|so\s+that|"
                    r"in\s+order\s+to|led\s+to|leads?\s+to|caused?|why|given)(?![a-z])"
                    r"|因为|由于|因此|所以|是为了|为了|导致|使得|因而|考虑到|借此|意在|旨在|因(?=[^此为]{1,12}(?:才|而))",
                    re.I)
_SPEAKER = re.compile(r"(?:^|[，,。:：\s])(?P<who>[\w\u4e00-\u9fff]{2,12}?)\s*"
                      r"(?:认为|表示|指出|写道|提到|说(?![法明服])|称|觉得|担心|更担心|希望|回忆)")
# Who speaks, named by no name: "有评论者认为", "网友表示", "不少开发者担心" (a view's holder, not a misattribution).
_GENERIC_SPEAKER = re.compile(r"(?:评论者|评论区|评论|网友|用户|读者|开发者|楼主|帖主|人士|有人|多人|不少人|许多人|他们|大家)$")
# A quoted view's lead names its speaker: "白帽阿杰（56 分）：…", "tptacek (312 points): …".
_LEAD = re.compile(r"^\s*(?P<who>[^\s:：（()，,。]{1,30})\s*(?:[（(][^）)]{0,24}[）)])?\s*[:：]")
_LATIN_NAME = re.compile(r"(?<![\w.])[A-Z][A-Za-z0-9&’'\-.]*[A-Za-z0-9](?:\s+[A-Z][A-Za-z0-9&’'\-.]*[A-Za-z0-9])*")
_LATIN_WORD = re.compile(r"(?<![\w])[A-Za-z][A-Za-z0-9\-.&]*[A-Za-z0-9]|(?<![\w])[A-Z](?![\w])")
_HANDLE = re.compile(r"(?<![\w/])(?:/?u/)?[A-Za-z][\w\-]*_[\w\-]*")
_SENTENCE_START = frozenset("the a an in on at for to and but or of as if when while after before with by from "
                            "only ten besides prompted spreading access distillation analysts coverage critics "
                            "one another many most some several this that these those its it their there".split())
# English closed-class words (prepositions, adverbs, conjunctions) that open sentences capitalised: never names.
_FUNCTION_WORDS = frozenset("""about above across against along amid among around although because behind below
beneath beside between beyond despite down during except following further furthermore however inside instead
meanwhile moreover near nearly nevertheless off onto outside over past per since than though through throughout
thus till toward towards under underneath unlike until upon within without yet yesterday today tomorrow earlier
later last next also still even almost already often once soon then therefore here now""".split())
# Verbs whose doer and done-to cannot trade places, each class in both languages.
_DIRECTED = [(verb, re.compile(pattern, re.I)) for verb, pattern in [
    ("beat", r"\b(?:beat(?:s|en)?|defeat(?:s|ed)?|outperform(?:s|ed)?|surpass(?:es|ed)?|overcame|won against)\b"
             r"|战胜|击败|打败|胜过|赢了|赢下|超过|超越|优于|强于"),
    ("acquired", r"\b(?:acquir(?:e|es|ed|ing)|bought|buys?|tak(?:es|en)? over|took over)\b|收购|并购|买下"),
    ("recruited", r"\b(?:recruit(?:s|ed)?|hir(?:e|es|ed)|poach(?:es|ed)?)\b|招揽|聘请|招募|挖来|延揽"),
    ("sued", r"\b(?:su(?:e|es|ed|ing))\b|起诉|状告"),
    ("invested in", r"\binvest(?:s|ed)? in\b|\bfund(?:s|ed)?\b|投资了?|注资|资助"),
    ("replaced", r"\breplac(?:e|es|ed)\b|取代|替代|接替"),
    ("criticised", r"\bcritici[sz](?:e|es|ed)\b|批评|指责|抨击"),
]]
_BY = re.compile(r"\bby\b", re.I)
_PASSIVE_ZH = re.compile(r"[被由]")
_LEAD_CHARS = 25  # a sentence's subject is named within its first characters (or its first 30 %)
_CHAIN = 2  # how many following sentences may go on about a sentence's subject without naming it
_PRONOUNS = frozenset("it its they their he she his her this these that those we our".split())
_COMMON_CAPS = frozenset("i ai api apis gpu gpus tpu tpus ceo cto rce pc us u.s. uk eu un x".split())


def content_words(text: str) -> set[str]:
    """Content words (a crude plural fold) and Chinese character pairs."""
    out: set[str] = set()
    low = text.casefold()
    for m in _EN_WORD.finditer(low):
        w = m.group().strip("'’-")
        if len(w) > 2 and w not in STOPWORDS:
            out.add(w[:-1] if w.endswith("s") and len(w) > 4 else w)
    for m in _CJK_RUN.finditer(low):
        run = m.group()
        out.update(run[i : i + 2] for i in range(len(run) - 1)) if len(run) > 1 else out.add(run)
    return out


def _flat(text: str) -> str:
    return re.sub(r"[\s\-_’'.]", "", text.casefold())


def _negations(text: str) -> int:
    return len(_NEG_EN.findall(text)) + len(_NEG_ZH.findall(text))


# -- names --------------------------------------------------------------------------------

_jieba_ready = False


def _zh_names(text: str) -> list[str]:
    """Chinese proper nouns (people, places, organisations) by jieba's part-of-speech tags."""
    global _jieba_ready
    import jieba  # lazy: jieba loads its dictionary (about a second), for Chinese theme names only
    import jieba.posseg as pseg  # lazy: jieba loads its dictionary (about a second), for Chinese theme names only
    if not _jieba_ready:
        jieba.setLogLevel(logging.WARNING)
        _jieba_ready = True
    return [w.word for w in pseg.cut(text) if w.flag in ("nr", "ns", "nt", "nz", "nrt", "nrfg") and len(w.word) >= 2
            and _CJK_RUN.fullmatch(w.word)]


class Names:
    """Who and what a text names: glossary terms (one key per term across zh and en), Latin names, handles."""

    def __init__(self, glossary: Glossary) -> None:
        self.glossary = glossary

    def terms(self, text: str) -> dict[str, list[int]]:
        """Glossary terms and where they occur: term key -> start offsets."""
        out: dict[str, list[int]] = {}
        regex = self.glossary._regex
        if regex is None:
            return out
        for m in regex.finditer(text):
            term = self.glossary._by_spelling[m.group()]
            out.setdefault(term.en.casefold(), []).append(m.start())
        return out

    @property
    def keys(self) -> set[str]:
        return {t.en.casefold() for t in self.glossary.terms}

    def spellings(self, key: str) -> list[str]:
        for t in self.glossary.terms:
            if t.en.casefold() == key:
                return list(t.spellings)
        return [key]


# -- the checker -------------------------------------------------------------------------


class Checker:
    """Checks claims against passages; embeddings are computed in batches and kept by text."""

    def __init__(self, embedder: Embedder, glossary: Glossary | None = None,
                 settings: CheckSettings | None = None) -> None:
        self.embedder = embedder
        self.names = Names(glossary if glossary is not None else Glossary.load())
        self.settings = settings or CheckSettings()
        self._vectors: dict[str, np.ndarray] = {}
        self._windows: dict[str, list[str]] = {}
        self._leads: dict[str, str] = {}

    # -- embeddings
    def windows(self, text: str) -> list[str]:
        """A passage's sentences and pairs of neighbouring sentences."""
        if text not in self._windows:
            sentences = split_sentences(text)
            self._windows[text] = list(dict.fromkeys(sentences + [f"{a} {b}" for a, b in pairwise(sentences)]))
        return self._windows[text]

    def prepare(self, texts: Iterable[str]) -> None:
        """Embed these texts (claims, and the windows of passages) in one batch."""
        todo = [t for t in dict.fromkeys(texts) if t and t not in self._vectors]
        if todo:
            for t, v in zip(todo, self.embedder.encode(todo), strict=True):
                self._vectors[t] = np.asarray(v, dtype=np.float32)

    def prepare_pairs(self, claims: Iterable[str], passages: Iterable[str]) -> None:
        texts = list(claims)
        for p in passages:
            texts.extend(self.windows(p))
        self.prepare(texts)

    def _vec(self, text: str) -> np.ndarray:
        self.prepare([text])
        return self._vectors[text]

    # -- one claim
    def check(self, claim: str, passages: Sequence[Passage], part: str = "facts") -> Check:
        """Supported when one passage passes every check; otherwise the reasons of the closest passage.

        A thread's figures passage (Passage.thread) vouches only for the figures it holds, by kind: those the claim
        gives ("412 points") are taken out, and the rest of the claim must rest on one passage as always (or on
        what names the thread, for a sentence about its figures alone). A figure it does not hold is left to the
        number check, as is any number of another kind.
        """
        claim = claim.strip()
        figures = [p for p in passages if p.figures]
        if figures:
            held = {f for p in figures for f in p.figures}
            passages = [p for p in passages if not p.figures]
            rest = strip_figures(claim, held)
            if rest != claim:
                claim = rest
                passages = [*passages, *(Passage(p.id, strip_figures(p.text, p.figures)) for p in figures)]
        if not passages:
            return Check(False, ["unsupported: it cites nothing that can be checked"])
        self.prepare_pairs([claim], [q.text for p in passages for q in (p.parts or (p,))])
        best: Check | None = None
        for p in passages:
            result = self._against(claim, p, part)
            if result.supported:
                return result
            if best is None or (len(result.reasons), -result.similarity) < (len(best.reasons), -best.similarity):
                best = result
        assert best is not None
        return best

    def _pair_windows(self, claim: str, passage: Passage) -> list[str]:
        """A passage's windows for the content check: its sentences and neighbouring pairs; for a pair, each
        part's own, plus the claim's closest sentences of one part joined to those of the other."""
        if not passage.parts:
            return self.windows(passage.text)
        own = [w for p in passage.parts for w in self.windows(p.text)]
        cv = self._vec(claim)
        best = []
        for p in passage.parts:
            sentences = split_sentences(p.text)
            self.prepare(sentences)
            best.append(sorted(sentences, key=lambda t: -float(self._vectors[t] @ cv))[:2])
        joined = [f"{x} {y}" for x in best[0] for y in best[1]]
        self.prepare(joined)
        return list(dict.fromkeys(own + joined))

    def _against(self, claim: str, passage: Passage, part: str) -> Check:
        text = passage.text
        windows = self._pair_windows(claim, passage)
        if not windows:
            return Check(False, ["unsupported: the passage is empty"], passage.id)
        cv = self._vec(claim)
        sims = np.array([float(self._vectors[w] @ cv) for w in windows])
        top = int(sims.argmax())
        sim = float(sims[top])
        reasons: list[str] = []
        reasons += self._numbers(claim, text)
        reasons += self._dates(claim, text)
        reasons += self._entities(claim, text)
        reasons += self._speaker(claim, passage)
        cross = chinese(claim) != chinese(text)
        s = self.settings
        if part == "analysis":
            mine = content_words(claim)
            shared = len(mine & content_words(text)) / len(mine) if mine and not cross else 0.0
            if sim < s.analysis_semantic and shared < s.lexical / 2:
                reasons.append(f"off-topic: closest passage sentence {sim:.2f}")
            return Check(not reasons, reasons, passage.id, sim)
        parts = [p.text for p in passage.parts] or [text]
        reasons += (self._roles(claim, text) or self._directed(claim, text)
                    or self._together(claim, text, parts, joins=bool(passage.parts)))
        reasons += self._polarity(claim, text, joins=bool(passage.parts))
        lexical = 0.0
        if not cross:
            mine = content_words(claim)
            lexical = len(mine & content_words(text)) / len(mine) if mine else 0.0
        bar = s.cross_semantic if cross else s.semantic
        if sim < s.off_topic and lexical < s.lexical / 2:
            reasons.append(f"off-topic: closest passage sentence {sim:.2f}")
        elif sim < bar and lexical < s.lexical:
            reasons.append(f"unsupported: closest passage sentence {sim:.2f}, words found {lexical:.0%}")
        return Check(not reasons, reasons, passage.id, sim)

    # -- the checks
    @staticmethod
    def _numbers(claim: str, text: str) -> list[str]:
        evidence = quantities(text)
        out = []
        for q in quantities(claim):
            if q.dim == "" and q.value in (0.0, 1.0):
                continue  # "one of", "一家": too common to check
            if not same_quantity(q, evidence):
                out.append(f"number: {q} is not in the source")
        return out

    @staticmethod
    def _dates(claim: str, text: str) -> list[str]:
        missing = sorted(dates(claim) - dates(text))
        return [f"date: {', '.join(missing)} not in the source"] if missing else []

    def _entities(self, claim: str, text: str) -> list[str]:
        out: list[str] = []
        flat = _flat(text)
        low = text.casefold()
        terms_text = self.names.terms(text)
        terms_claim = self.names.terms(claim)
        for key in terms_claim:
            if key not in terms_text and not any(_flat(s) in flat for s in self.names.spellings(key)):
                out.append(f"entity: {key} is not in the source")
        covered = {_flat(s) for key in terms_claim for s in self.names.spellings(key)}
        # Names that carry digits or underscores, and handles, must occur as written.
        for m in [*IDENTIFIER.finditer(claim), *_HANDLE.finditer(claim)]:
            token = m.group().strip(".-")
            if _flat(token) and _flat(token) not in flat and not re.fullmatch(r"[\d.,]+[a-z%]*", token, re.I):
                out.append(f"entity: {token} is not in the source")
        # Latin names: capitalised words in English, any Latin word in Chinese.
        zh = chinese(claim)
        candidates = _latin_names(claim, zh)
        for name in candidates:
            if _flat(name) in covered or _flat(name) in flat:
                continue
            if re.search(rf"(?<![a-z]){re.escape(name.casefold())}", low):
                continue
            out.append(f"entity: {name} is not in the source")
        if zh and chinese(text):
            for name in _zh_names(claim):
                if name not in text and _flat(name) not in covered:
                    out.append(f"entity: {name} is not in the source")
        return list(dict.fromkeys(out))

    @staticmethod
    def _speaker(claim: str, passage: Passage) -> list[str]:
        """Who said it: against a comment, the speaker a claim names must be the comment's author.

        The speaker is a quoted view's lead ("name (n points): …") or a name before a verb of saying; words the
        comment itself says ("做甲方安全的说一句") are the comment's text, not an attribution.
        """
        authors = [p.author for p in (passage.parts or (passage,)) if p.author]
        if not authors:
            return []
        flat_text = _flat(passage.text)
        lead = _LEAD.match(claim)
        spans = [(lead.group("who"), lead.group())] if lead else []
        spans += [(s.group("who"), s.group()) for s in _SPEAKER.finditer(claim)]
        found = [w for w, span in spans if not re.fullmatch(r"[\d\W]+", w) and not _GENERIC_SPEAKER.search(w)
                 and _flat(span.strip(" ，,。:：")) not in flat_text]
        mine = [_flat(a.removeprefix("/u/")) for a in authors]
        if found and not any(me in _flat(w) or _flat(w) in me for w in found for me in mine):
            return [f"entity: the passage is {authors[0]}'s comment, the claim quotes {found[0]}"]
        return []

    def _roles(self, claim: str, text: str) -> list[str]:
        """Two names in one sentence, tied by the same words as in the passage but in the other order."""
        if chinese(claim) != chinese(text):
            return []
        for sent in split_sentences(claim):
            mentions = self._mentions(sent)
            for i, (a, _ia, ea) in enumerate(mentions):
                for b, ib, _eb in mentions[i + 1:]:
                    if a == b:
                        continue
                    between = content_words(sent[ea:ib])
                    if not between:
                        continue
                    same, swapped = self._ties(text, a, b, between)
                    if swapped >= 0.6 and swapped > same:
                        return [f"entity: {a} and {b} swap roles against the source"]
        return []

    def _directed(self, claim: str, text: str) -> list[str]:
        """Who did it to whom, in either language: a claim's "A beat / acquired / recruited B" against a passage
        sentence that has B do it to A (and never A to B). Passives ("was beaten by", 被, 由) are turned around."""
        said = {t for sent in split_sentences(claim) for clause in _CLAUSE.split(sent) if clause
                for t in self._triples(clause)}
        if not said:
            return []
        found = {t for sent in split_sentences(text) for t in self._triples(sent)}
        for a, verb, b in sorted(said):
            if (b, verb, a) in found and (a, verb, b) not in found:
                return [f"entity: the source has {b} {verb} {a}, not {a} {verb} {b}"]
        return []

    def _triples(self, sentence: str) -> set[tuple[str, str, str]]:
        """(doer, verb class, done-to) for each two names with a directed verb between or after them."""
        out: set[tuple[str, str, str]] = set()
        mentions = self._mentions(sentence, chinese(sentence))
        for i, (x, _sx, ex) in enumerate(mentions):
            for y, sy, ey in mentions[i + 1:]:
                if x == y or sy - ex > 80:
                    continue
                between, after = sentence[ex:sy], sentence[ey:ey + 12]
                for verb, pattern in _DIRECTED:
                    if m := pattern.search(between):
                        passive = _BY.search(between[m.end():]) or _PASSIVE_ZH.search(between[:m.start()])
                        out.add((y, verb, x) if passive else (x, verb, y))
                    elif _PASSIVE_ZH.search(between[-3:]) and pattern.match(after.lstrip(" 亲自曾已")):
                        out.add((y, verb, x))  # "A 由 B 亲自招揽": B recruited A
        return out

    def _ties(self, text: str, a: str, b: str, between: set[str]) -> tuple[float, float]:
        """How well the passage ties a to b (and b to a) by the claim's words between them; one word must be
        nearly all that stands between them in the passage."""
        same, swapped = 0.0, 0.0
        for ps in split_sentences(text):
            pm = self._mentions(ps)
            for (x, _ix, ex), (y, iy, _ey) in ((p, q) for p in pm for q in pm if p[1] < q[1]):
                words = content_words(ps[ex:iy])
                if len(between) == 1 and len(words) > 2:
                    continue
                share = len(between & words) / len(between)
                if (x, y) == (a, b):
                    same = max(same, share)
                elif (x, y) == (b, a):
                    swapped = max(swapped, share)
        return same, swapped

    def _together(self, claim: str, text: str, parts: Sequence[str], joins: bool = False) -> list[str]:
        """Names one clause of a claim ties together, and the figures it gives them, must be tied in the passage.

        Tied: in one passage sentence, or across two neighbouring ones when the second goes on about the first
        one's subject, i.e. names no one but the clause's own first ("Anthropic built Mythos. It found a bug in
        OpenBSD" ties Anthropic to OpenBSD; "Meta signed with CoreWeave. Meta also works with AMD" does not tie
        CoreWeave to AMD). A figure follows its name: in the name's sentence or the next one.
        Against a pair (``joins``), a clause runs up to a semicolon or a comma before a conjunction ("…, while …",
        "…，而…"): a relative clause ("Mythos, which it built with CoreWeave") still ties its names to the
        sentence's, and they must be tied within one part of the pair.
        """
        whole = _flat(text)
        zh_names = chinese(text)
        boundary = _JOIN if joins else _CLAUSE
        sentences = [split_sentences(p) for p in parts]
        for sent in split_sentences(claim):
            for clause in [c for c in boundary.split(sent) if c and c.strip()]:
                names: dict[str, list[str]] = {}
                for key, a, b in self._mentions(clause, zh_names):
                    surface = clause[a:b]
                    words = surface.split()
                    if words and words[0].casefold() in _SENTENCE_START:
                        words = words[1:]
                    if a == 0 and len(words) == 1 and key not in self.names.keys and not chinese(clause) \
                            and not _opening_name(words[0], text):
                        continue  # a capitalised first word is not a name by itself
                    spellings = self.names.spellings(key) if key in self.names.keys else [" ".join(words)]
                    flat = [_flat(re.sub(r"['’]s$", "", x)) for x in spellings if x]
                    flat = [x for x in flat if x and x in whole]
                    if flat:
                        names.setdefault(key, flat)
                keys = list(names)
                for i, x in enumerate(keys):
                    for y in keys[i + 1:]:
                        if not self._tied(sentences, names, x, y, set(keys)):
                            return [f"entity: the source does not tie {x} to {y}"]
                # A figure belongs to the clause's subject, its first name before it ("China pledged $500 million").
                spans = [(key, a) for key, a, _ in self._mentions(clause, zh_names) if key in names]
                for q in quantities(clause):
                    at = clause.find(q.text) if q.text else -1
                    owner = [key for key, a in spans if a < at]
                    if at < 0 or not owner or (q.dim == "" and q.value in (0.0, 1.0)):
                        continue
                    if not self._figure_tied(sentences, names, owner[0], q, set(keys)):
                        return [f"entity: the source gives {q.text} to someone other than {owner[0]}"]
        return []

    def _lead_name(self, sentence: str) -> str:
        """The first name a sentence gives (its subject, mostly), or "": a capitalised opening word ("The", "In",
        "It") is none."""
        if sentence not in self._leads:
            lead = ""
            for key, a, b in self._mentions(sentence, chinese(sentence)):
                if a > max(_LEAD_CHARS, len(sentence) * 0.3):
                    break  # a name late in the sentence is what it is about, not who
                words = sentence[a:b].split()
                while words and (words[0].casefold() in _SENTENCE_START or words[0].casefold() in STOPWORDS
                                 or words[0].casefold() in _PRONOUNS):
                    words = words[1:]
                if a == 0 and len(words) == 1 and key not in self.names.keys and not chinese(sentence) \
                        and not _opening_name(words[0], sentence):
                    continue  # "Houses were searched", "Around 600 people": an opening capital, not a name
                if words:
                    lead = key if key in self.names.keys or a > 0 or len(words) == len(sentence[a:b].split()) \
                        else " ".join(words).casefold()
                    break
            self._leads[sentence] = lead
        return self._leads[sentence]

    def _continues(self, sentence: str, keys: set[str]) -> bool:
        """Whether a sentence goes on about what the one before it named: its first name, if any, is one of keys."""
        lead = self._lead_name(sentence)
        return not lead or lead in keys

    def _reach(self, part: Sequence[str], k: int, keys: set[str]) -> Iterable[int]:
        """Sentence k and those after it that go on about it (up to two more)."""
        yield k
        for m in range(k + 1, min(k + 1 + _CHAIN, len(part))):
            if not self._continues(part[m], keys):
                return
            yield m

    def _tied(self, sentences: Sequence[Sequence[str]], names: dict[str, list[str]], x: str, y: str,
              keys: set[str]) -> bool:
        def has(s: str, k: str) -> bool:
            f = _flat(s)
            return any(p in f for p in names[k])

        for part in sentences:
            for k, s in enumerate(part):
                for first, second in ((x, y), (y, x)):
                    if has(s, first) and any(has(part[m], second) for m in self._reach(part, k, keys)):
                        return True
        return False

    def _figure_tied(self, sentences: Sequence[Sequence[str]], names: dict[str, list[str]], x: str,
                     q: Quantity, keys: set[str]) -> bool:
        """A figure follows its name: it is in a sentence that names x, or in one of the next that go on about it
        (name no one the claim does not first). A figure the passage does not give at all is the number check's."""
        given = False
        for part in sentences:
            for k, s in enumerate(part):
                if any(p in _flat(s) for p in names[x]):
                    if any(same_quantity(q, quantities(part[m])) for m in self._reach(part, k, keys)):
                        return True
                given = given or same_quantity(q, quantities(s))
        return not given

    def _mentions(self, sentence: str, zh_names: bool = True) -> list[tuple[str, int, int]]:
        """Names in a sentence, in order: (key, start, end); glossary terms first, then other Latin names."""
        spans: list[tuple[str, int, int]] = []
        regex = self.names.glossary._regex
        if regex is not None:
            for m in regex.finditer(sentence):
                spans.append((self.names.glossary._by_spelling[m.group()].en.casefold(), m.start(), m.end()))
        for m in _LATIN_NAME.finditer(sentence):
            if m.group().casefold().rstrip("s") in _COMMON_CAPS or m.group().casefold() in _COMMON_CAPS:
                continue
            if not any(a <= m.start() < b for _, a, b in spans):
                spans.append((m.group().casefold(), m.start(), m.end()))
        if zh_names and chinese(sentence):
            for name in set(_zh_names(sentence)):
                for m in re.finditer(re.escape(name), sentence):
                    if not any(a <= m.start() < b for _, a, b in spans):
                        spans.append((name, m.start(), m.end()))
        return sorted(spans, key=lambda s: s[1])

    def _aligned(self, sentence: str, text: str, margin: float = 0.05) -> list[str]:
        """The passage sentences or clauses a claim sentence restates: the closest, and any within a margin of it."""
        units = list(dict.fromkeys(u for t in split_sentences(text) for u in [t, *_clauses(t)]))
        if not units:
            return []
        self.prepare([sentence, *units])
        v = self._vectors[sentence]
        sims = np.array([float(self._vectors[t] @ v) for t in units])
        order = np.argsort(-sims)
        top = float(sims[order[0]])
        return [units[i] for i in order if float(sims[i]) >= top - margin]

    def _polarity(self, claim: str, text: str, joins: bool = False) -> list[str]:
        """Negation, reversals and hedges of each claim sentence (against a pair: of each joined clause) as the
        passage sentences it restates have them; quantifiers and causes as the passage has them."""
        out: list[str] = []
        units = [u for t in split_sentences(claim) for u in (_JOIN.split(t) if joins else [t]) if u and u.strip()]
        for sentence in units:
            aligned = self._aligned(sentence, text, 0.08)
            if not aligned:
                continue
            out += _polarity(sentence, aligned, hedged=bool(_HEDGE_ANY.search(claim)),
                             echoed=_echoed(sentence, text) if chinese(sentence) == chinese(text) else None)
        if _UNIVERSAL.search(claim) and not _UNIVERSAL.search(text):
            out.append(f"polarity: '{_UNIVERSAL.search(claim).group()}' generalises the source")  # type: ignore[union-attr]
        if _CAUSE_CLAIM.search(claim) and not any(_CAUSE.search(a) for s in split_sentences(claim)
                                                  for a in self._aligned(s, text)):
            out.append("unsupported: a cause the source does not give")
        return list(dict.fromkeys(out))


_CLAUSE = re.compile(r"[，,;；:：]\s*")
_JOIN = re.compile(r"[;；]\s*|[,，]\s*(?=(?:and|while|but|whereas|meanwhile|separately|同时|而|但|此外|另外|与此同时|另一方面))",
                   re.I)


def _opening_name(word: str, text: str) -> bool:
    """Whether a capitalised word that opens a sentence is a name: the text has it so, and never in lower case
    ("China has promised" is; "Houses were searched ... six houses" is not)."""
    w = re.sub(r"['’]s$", "", word).strip(".,")
    if len(w) < 2 or any(w.casefold() in words for words in (_SENTENCE_START, STOPWORDS, _PRONOUNS, _FUNCTION_WORDS)):
        return False
    return w in text and not re.search(rf"(?<![A-Za-z]){re.escape(w.lower())}(?![a-z])", text)


def _clauses(sentence: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"[，,;；:：]\s*", sentence)]
    return [p for p in parts if len(p.split()) >= 3 or len("".join(_CJK_RUN.findall(p))) >= 4] \
        if len(parts) > 1 else []


def _echoed(sentence: str, text: str, share: float = 0.6) -> str | None:
    """The passage sentence or clause that repeats most of a claim sentence's words (same language), if one does:
    where a changed word ("增加" for "降低", "leads" for "trails") sits in otherwise the same words."""
    mine = content_words(sentence)
    if len(mine) < 3:
        return None
    best, top = None, share
    for unit in dict.fromkeys(u for t in split_sentences(text) for u in [t, *_clauses(t)]):
        overlap = len(mine & content_words(unit)) / len(mine)
        if overlap >= top:
            best, top = unit, overlap
    return best


def _reverses(sentence: str, evidence: str) -> str:
    """The claim's reversal word when the evidence has only its opposite, else ""."""
    for pos, negw in _REV:
        c_pos, c_neg = bool(pos.search(sentence)), bool(negw.search(sentence))
        if c_pos == c_neg:
            continue
        e_pos, e_neg = bool(pos.search(evidence)), bool(negw.search(evidence))
        if (c_pos and e_neg and not e_pos) or (c_neg and e_pos and not e_neg):
            word = (pos if c_pos else negw).search(sentence)
            return word.group() if word else "?"
    return ""


def _polarity(sentence: str, aligned: list[str], hedged: bool, echoed: str | None = None) -> list[str]:
    """Negation, reversal words and certainty of one claim sentence against the passage sentences it restates
    (closest first; negation must differ from all of them, the others are read in the closest few); reversals and
    uncertainty also against the one that repeats its words (``echoed``), where one does."""
    out = []
    neg = _negations(sentence)
    if neg <= 1 and all(_negations(a) <= 1 and _negations(a) % 2 != neg % 2 for a in aligned):
        out.append("polarity: negation differs from the source")
    best = aligned[0]
    if not neg:  # a negated reversal word is the negation check's
        word = _reverses(sentence, " ".join(aligned[:2])) or (_reverses(sentence, echoed) if echoed else "")
        if word:
            out.append(f"polarity: '{word}' reverses the source")
    if not hedged and _HEDGE_STRONG.search(best):
        out.append("polarity: states as fact what the source hedges or attributes")
    elif not _UNCERTAIN.search(sentence) and any(_UNCERTAIN.search(u) for u in (best, echoed) if u):
        out.append("polarity: states as settled what the source leaves open")
    return out


def _latin_names(claim: str, zh: bool) -> list[str]:
    if zh:
        return [w for w in (m.group() for m in _LATIN_WORD.finditer(claim))
                if w.casefold() not in _COMMON_CAPS and not IDENTIFIER.fullmatch(w)]
    out = []
    for sent in split_sentences(claim):
        for m in _LATIN_NAME.finditer(sent):
            words = m.group().split()
            start = m.start()
            if start == 0 or sent[:start].rstrip().endswith((":", "“", '"', "‘", "(")):
                if words[0].casefold() in _SENTENCE_START or len(words) == 1:
                    words = words[1:]
            for w in words:
                w = re.sub(r"['’]s$", "", w).strip(".")
                if w and w.casefold() not in _COMMON_CAPS and not IDENTIFIER.fullmatch(w):
                    out.append(w)
    return out


# -- a model judge's answers (judge.py asks; verify.py reads them through the Judge protocol) -------------
@dataclass(slots=True)
class JudgeVerdict:
    supported: bool
    passages: list[str] = field(default_factory=list)  # the passage ids (grounding.Passage.id) it used
    reason: str = ""
    said: str = ""  # the model's own verdict ("supported", "contradicted", "not in passage"); "" if it gave none
    across: bool = False  # the sentence is in another language than every passage it was judged against

    @property
    def rejects(self) -> bool:
        """Whether this verdict fails its sentence: the model says its passage contradicts it, and reads them in one
        language. Measured with Qwen2.5-1.5B on the labelled set (benchmarks/check.py --qwen), its "not in passage"
        and its verdicts on Chinese sentences about English passages flagged faithful claims (translations above
        all) and caught nothing the rules had not; those are the rules' to decide (their multilingual embedding
        reads translations), as is any verdict with no word of the model's own."""
        return not self.supported and self.said == "contradicted" and not self.across


def with_judge(reasons: Sequence[str], verdict: JudgeVerdict | None) -> list[str]:
    """Why a sentence fails, the rules' reasons and the judge's: it fails when either check fails, the judge's
    when its verdict rejects it (JudgeVerdict.rejects). No verdict (no judge, or an answer that could not be used)
    leaves the rules to decide. The one place the two are combined: verify, `dailybrief check --model`,
    benchmarks/check.py and the Qwen test all read it."""
    out = list(reasons)
    if verdict is not None and verdict.rejects:
        out.append(verdict.reason)
    return out


@dataclass(slots=True)
class JudgeStats:
    calls: int = 0  # stories judged (answers from the cache included)
    sentences: int = 0
    rejected: int = 0  # sentences the judge's verdict fails (JudgeVerdict.rejects)
    failed: int = 0  # stories whose answer could not be used (rules alone decided)
    unaligned: int = 0  # verdicts that quoted another sentence than their own, not used (rules alone decided)


class Judge(Protocol):
    """What verify needs of a model judge (judge.ModelJudge): one batched entailment call, and its counts."""

    stats: JudgeStats

    def judge(self, sentences: Sequence[tuple[str, str]],
              passages: Sequence[Passage]) -> list[JudgeVerdict | None] | None:
        ...
