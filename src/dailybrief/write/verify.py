"""Grounding verification: every sentence cites, every citation exists, and the cited text supports it.

    Brief ──verify──▶ Brief (uncited sentences dropped, unsupported ones marked or dropped)
                      + Faithfulness {sentences, cited, supported}

A sentence is *supported* when ONE passage of what it cites carries it: the
article's text, or one comment of a thread. The checks are grounding.py's:
numbers with units and scales, dates, names and roles, polarity and hedges,
and a multilingual embedding that lets a Chinese sentence rest on an English
source. Analysis keeps the factual checks and must stay on its story's topic.
A model's section titles are checked too, and the counts are kept by part
and by writer.

Text addressed to a model ("ignore previous instructions and ...") is removed
from the cited text before checking, and before any prompt is built from it
(``strip_instructions``), so a sentence that obeys an injected instruction has
nothing to rest on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..config import CheckSettings, VerifyConfig
from ..glossary import Glossary
from ..ids import figures_id, passage_id, passage_item
from ..records import Brief, Item, Paragraph, Section, Sentence
from ..stories.embed import Embedder
from ..text import split_sentences
from .grounding import (
    CHECKER_VERSION,
    Checker,
    Judge,
    JudgeVerdict,
    Passage,
    comment_passage,
    content_words,
    evidence,
    with_judge,
)

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


# -- the check ----------------------------------------------------------------------

PARTS = ("facts", "views", "analysis", "abstract", "roundup", "titles")


VerifySettings = VerifyConfig  # the stage's settings are its [verify] section, as config checked it


def unsupported_policy(unsupported: str, reviewed: bool) -> str:
    """What [verify] unsupported means for an edition: "auto" drops unsupported facts and marks the rest when
    nobody reviews the edition before it is published; when an editor does ([review] required = true, the desk)
    it is "mark": every flagged sentence is kept, marked, for the editor to see. "mark" and "drop" stand."""
    if unsupported != "auto":
        return unsupported
    return "mark" if reviewed else "auto"


@dataclass(slots=True)
class Faithfulness:
    sentences: int = 0
    cited: int = 0
    supported: int = 0
    dropped: int = 0
    marked: int = 0
    bad_citations: int = 0
    flagged: list[str] = field(default_factory=list)  # every sentence the check failed, with its reasons (run report)
    withdrawn: list[str] = field(default_factory=list)  # ... of those, the ones dropped: never written into brief.json
    by_part: dict[str, dict[str, int]] = field(default_factory=dict)  # part -> {sentences, supported}
    by_writer: dict[str, dict[str, int]] = field(default_factory=dict)  # writer -> {sentences, supported}
    dropped_sections: list[str] = field(default_factory=list)  # sections emptied by "drop", by title
    judge: dict[str, int] = field(default_factory=dict)  # the model judge's calls, sentences, rejected, failed

    def count(self, part: str, writer: str, supported: bool) -> None:
        for table, key in ((self.by_part, part), (self.by_writer, writer)):
            row = table.setdefault(key, {"sentences": 0, "supported": 0})
            row["sentences"] += 1
            row["supported"] += int(supported)

    def as_brief_dict(self) -> dict[str, object]:
        return {"sentences": self.sentences, "cited": self.cited, "supported": self.supported,
                "by_part": {k: dict(v) for k, v in sorted(self.by_part.items())},
                "by_writer": {k: dict(v) for k, v in sorted(self.by_writer.items())},
                "checker": CHECKER_VERSION, **({"judge": dict(self.judge)} if self.judge else {}),
                **({"flagged": shown} if (shown := [f for f in self.flagged if f not in self.withdrawn]) else {})}

    def add(self, other: Faithfulness) -> None:
        for name in ("sentences", "cited", "supported", "dropped", "marked", "bad_citations"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.flagged.extend(other.flagged)
        self.withdrawn.extend(other.withdrawn)
        self.dropped_sections.extend(other.dropped_sections)
        for k, v in other.judge.items():
            self.judge[k] = self.judge.get(k, 0) + v
        for mine, theirs in ((self.by_part, other.by_part), (self.by_writer, other.by_writer)):
            for key, row in theirs.items():
                into = mine.setdefault(key, {"sentences": 0, "supported": 0})
                for k, v in row.items():
                    into[k] = into.get(k, 0) + v


class SourceText:
    """The passages of cited items, each checked on its own: the article (title, summary, text, outlet), each
    comment, and a thread's figures (its points or score and its comment count) as a passage of their own.

    The figures are never part of another passage's text: a sentence's "(412 points)" is checked against the
    thread's figures by kind, and the rest of it against one passage of what someone wrote (Checker.check).
    """

    def __init__(self, items: dict[str, Item], embedder: Embedder, glossary: Glossary | None = None,
                 settings: CheckSettings | None = None) -> None:
        self.items = items
        self.checker = Checker(embedder, glossary, settings)
        self._passages: dict[str, list[Passage]] = {}

    def passages(self, item_id: str) -> list[Passage]:
        if item_id not in self._passages:
            item = self.items.get(item_id)
            out: list[Passage] = []
            if item is not None:
                # The outlet is part of what the writer is given ("according to Reuters", "（TechLedger）").
                parts = [item.title, item.summary if item.summary not in item.text else "", item.text,
                         item.source_name]
                body = "\n".join(strip_instructions(p or "")[0] for p in parts if p)
                if body.strip():
                    out.append(Passage(item_id, body))
                for k, c in enumerate(item.comments):
                    text, _ = strip_instructions(c.text or "")
                    if text.strip():
                        # With the thread's title and platform, as the writer is given them ("outlet").
                        thread = "\n".join(x for x in (item.title, item.source_name) if x)
                        out.append(Passage(passage_id(item_id, k + 1), comment_passage(c.author, c.score, text, thread),
                                           c.author))
                points = item.points if item.points is not None else item.score  # what the writer is given
                if points is not None or item.comment_count is not None:
                    title = strip_instructions(item.title)[0]
                    out.append(Passage.thread(figures_id(item_id), item.source_name, title, points, item.comment_count))
            self._passages[item_id] = out
        return self._passages[item_id]

    def evidence(self, item_ids: Sequence[str], named: Sequence[str] = ()) -> list[Passage]:
        """What one sentence may rest on: each passage it names of its cited items (an item it cites without
        naming one of its passages gives all of them), and the explicit pair when exactly two passages remain.
        A cited thread's figures passage always goes along; it vouches for the thread's figures only.

        A pair is never made from an item cited as a whole that has several passages (which two?), and three
        or more passages are each read alone: more citations never pool into support.
        """
        chosen: list[Passage] = []
        for item_id in dict.fromkeys(item_ids):
            own = [p for p in self.passages(item_id) if not p.figures]
            mine = [p for p in own if p.id in named]
            chosen.extend(mine or own)
            chosen.extend(p for p in self.passages(item_id) if p.figures)
        return evidence(chosen)

    def prepare(self, claims: Iterable[str], item_ids: Iterable[str]) -> None:
        """Embed the claims and the passages of these items in one batch."""
        ids = list(dict.fromkeys(item_ids))
        self.checker.prepare_pairs(claims, [p.text for i in ids for p in self.passages(i)])


def verify_brief(brief: Brief, items: dict[str, Item], embedder: Embedder,
                 settings: VerifySettings | None = None, source: SourceText | None = None,
                 judge: Judge | None = None, reviewed: bool = False) -> Faithfulness:
    """Check every sentence of a brief in place; returns the counts (also stored on ``brief.faithfulness``).

    Citations of numbers with no reference are removed; a sentence left with
    none is dropped (it cannot be checked). Each remaining sentence must rest
    on one passage of what it cites (grounding.py). Unsupported sentences are
    marked (``Sentence.supported = False``) or dropped, as settings say; a
    section that "drop" leaves empty is removed and named in ``dropped_sections``.
    A model's section titles are checked against the passages the section cites.
    With a ``judge`` (a model writer is configured), each story section's sentences also go to the model in
    one batched call, and a sentence fails when either check fails. ``reviewed``: an editor sees the edition
    before it is published ([review] required), so "auto" keeps and marks what it would drop (unsupported_policy).
    """
    settings = settings or VerifySettings()
    policy = unsupported_policy(settings.unsupported, reviewed)
    source = source or SourceText(items, embedder, settings=settings.check_settings())
    ref_item = {r.n: r.item_id for r in brief.references}
    writer_of: dict[int, str] = {}
    todo: list[tuple[Paragraph, Sentence, list[str], str]] = []
    result = Faithfulness()
    owners: list[tuple[str, list[Paragraph]]] = [("extractive", list(brief.abstract))]
    owners += [(s.writer, s.paragraphs) for s in brief.sections]
    story_of = {id(p): k for k, s in enumerate(brief.sections) if s.kind == "story" for p in s.paragraphs}
    for writer, paragraphs in owners:
        for para in paragraphs:
            writer_of[id(para)] = writer
            for sentence in para.sentences:
                result.sentences += 1
                good = [n for n in sentence.refs if n in ref_item and ref_item[n] in items]
                result.bad_citations += len(sentence.refs) - len(good)
                sentence.refs = list(dict.fromkeys(good))
                cited = {ref_item[n] for n in sentence.refs}
                sentence.passages = [p for p in dict.fromkeys(sentence.passages) if passage_item(p) in cited]
                if sentence.refs:
                    result.cited += 1
                    todo.append((para, sentence, [ref_item[n] for n in sentence.refs], writer))
    titles = _model_titles(brief, ref_item, items)
    source.prepare([s.text for _, s, _, _ in todo] + [t for _, t, _ in titles],
                   (i for _, _, ids, _ in todo for i in ids))
    judged = _judge(judge, todo, source, story_of) if judge is not None else {}
    flag_of: dict[int, str] = {}  # id(sentence) -> its line in flagged
    for para, sentence, ids, writer in todo:
        verdict = source.checker.check(sentence.text, source.evidence(ids, sentence.passages), para.part)
        reasons = with_judge(verdict.reasons, judged.get(id(sentence)))
        sentence.supported = not reasons
        result.count(para.part, writer, sentence.supported)
        if sentence.supported:
            result.supported += 1
        else:
            result.flagged.append(flag_of.setdefault(id(sentence), f"{sentence.text[:80]!r}: {'; '.join(reasons)}"))
    if judge is not None:
        result.judge = {"calls": judge.stats.calls, "sentences": judge.stats.sentences,
                        "rejected": judge.stats.rejected, "failed": judge.stats.failed,
                        "unaligned": judge.stats.unaligned}
    for section, title, ids in titles:
        passages = [p for i in ids for p in source.passages(i)]
        verdict = source.checker.check(title, passages, "titles")
        result.count("titles", section.writer, verdict.supported)
        if not verdict.supported:
            result.flagged.append(f"title {title[:80]!r}: {'; '.join(verdict.reasons)}")
    for _writer, paragraphs in owners:
        for para in paragraphs:
            kept = []
            for s in para.sentences:
                if not s.refs or (s.supported is False and _drops(policy, para.part)):
                    result.dropped += 1
                    if id(s) in flag_of:  # its text leaves the brief with it
                        result.withdrawn.append(flag_of[id(s)])
                    continue
                if s.supported is False:
                    result.marked += 1
                kept.append(s)
            para.sentences = kept
    for section in brief.sections:
        had = bool(section.paragraphs)
        section.paragraphs = [p for p in section.paragraphs if p.sentences]
        if had and not section.paragraphs:
            result.dropped_sections.append(section.title)
    brief.sections = [s for s in brief.sections if s.paragraphs]
    brief.abstract = [p for p in brief.abstract if p.sentences]
    renumber_references(brief)
    brief.faithfulness = result.as_brief_dict()
    return result


def verify_themes(brief: Brief, themes: Sequence[tuple[str, Sequence[str], str]], source: SourceText,
                  result: Faithfulness) -> None:
    """Check the abstract's theme sentence: each theme's name must stay on the topic of the sections it names.

    ``themes`` holds (name, story ids, configured topic); a configured topic's name is the editor's own
    label and stands, and the section numbers the sentence gives are the code's own. A name drawn from
    the stories must have its words in those sections or be close to them in meaning. The sentence is
    marked unsupported when a name is not, and counted under "abstract".
    """
    sentence = next((s for p in brief.abstract[:1] for s in p.sentences[:1] if not s.refs), None)
    if sentence is None or not themes:
        return
    stories = {s.story_id: s for s in brief.sections if s.kind == "story"}
    failed = []
    for name, story_ids, topic in themes:
        passages = [Passage(sid, "\n".join([stories[sid].title, *(t.text for p in stories[sid].paragraphs
                                                                   for t in p.sentences)]))
                    for sid in story_ids if sid in stories]
        if topic or not passages:
            continue
        if not _on_topic(name, passages, source):
            failed.append(name)
    sentence.supported = not failed
    result.sentences += 1
    result.cited += 1  # it rests on the sections it names
    result.supported += int(not failed)
    result.count("abstract", "extractive", not failed)
    if failed:
        result.flagged.append(f"theme sentence: {', '.join(failed)} off the topic of its sections")
    brief.faithfulness = result.as_brief_dict()


def _judge(judge: Judge, todo: list[tuple[Paragraph, Sentence, list[str], str]], source: SourceText,
           story_of: dict[int, int]) -> dict[int, JudgeVerdict]:
    """The model's verdicts on each story section's sentences, one call per section: sentence id -> verdict."""
    groups: dict[int, list[tuple[Paragraph, Sentence, list[str]]]] = {}
    for para, sentence, ids, _ in todo:
        if id(para) in story_of:
            groups.setdefault(story_of[id(para)], []).append((para, sentence, ids))
    out: dict[int, JudgeVerdict] = {}
    for rows in groups.values():
        item_ids = list(dict.fromkeys(i for _, _, ids in rows for i in ids))
        passages = [p for i in item_ids for p in source.passages(i)]
        verdicts = judge.judge([(s.text, para.part) for para, s, _ in rows], passages)
        if verdicts is None:
            continue  # the answer could not be used: the rules decide
        for (_, sentence, _), verdict in zip(rows, verdicts, strict=True):
            if verdict is not None:  # None: that verdict was unusable, the rules decide
                out[id(sentence)] = verdict
    return out


def _drops(policy: str, part: str) -> bool:
    """Whether an unsupported sentence of this part is removed: "auto" (an unreviewed edition) drops facts and
    marks the rest; "mark" (what "auto" is under review) keeps every sentence, flagged, for the editor."""
    return policy == "drop" or (policy == "auto" and part == "facts")


def _model_titles(brief: Brief, ref_item: dict[int, str], items: dict[str, Item]) -> list[tuple[Section, str, list[str]]]:
    """A model's section titles, with the items each section cites (an extractive title is a source's own)."""
    out = []
    for section in brief.sections:
        if section.writer.endswith("extractive") or section.kind != "story" or not section.title:
            continue
        ids = list(dict.fromkeys(ref_item[n] for p in section.paragraphs for s in p.sentences for n in s.refs
                                 if n in ref_item and ref_item[n] in items))
        if ids:
            out.append((section, section.title, ids))
    return out


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


def _on_topic(name: str, passages: list[Passage], source: SourceText) -> bool:
    """A theme's name stays on the topic of these sections: half its words are theirs, or it is close in meaning."""
    words = content_words(name)
    found = content_words(" ".join(p.text for p in passages))
    if words and len(words & found) / len(words) >= 0.5:
        return True
    return source.checker.check(name, passages, "analysis").supported


def verify_model_themes(brief: Brief, source: SourceText, result: Faithfulness, writer: str = "llm") -> list[str]:
    """The themes a model named itself (it wrote the abstract): each must stay on the topic of the day's
    sections, like a theme drawn from the stories. The ones that do, in order; the others are left out of the
    brief, listed in the run report, and counted under "themes"."""
    passages = [Passage(s.story_id, "\n".join([s.title, *(t.text for p in s.paragraphs for t in p.sentences)]))
                for s in brief.sections if s.kind == "story"]
    if not passages:
        return list(brief.themes)
    kept = []
    for name in brief.themes:
        ok = _on_topic(name, passages, source)
        result.count("themes", writer, ok)
        if ok:
            kept.append(name)
        else:
            note = f"theme {name!r}: not about the day's sections; left out"
            result.flagged.append(note)
            result.withdrawn.append(note)
    return kept
