"""The labelled claims of the grounding benchmark, with their sources resolved at run time.

The claims are hand-written (``benchmarks/data/check_claims.jsonl``); their
sources are references into the packaged demo feeds and the shared eval data
(``benchmarks/data/check_sources.json``), never copies. A feed entry is named
by its id and field (``content`` is what the writer is given: title, summary and
full text), a comment feed by the comment's position (its passage reads
``author (n points): text``, as a view quotes it), a MULTILING document by
instance, file and sentence range.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import feedparser

from ..errors import DailybriefError
from ..sanitize import html_to_text
from ..text import strip_boilerplate
from ..write.grounding import chinese, comment_passage

# The claims the Qwen judge test runs (tests/write/test_judge.py) and benchmarks/check.py --subset measures: whole
# batches of four sources (one model call each), faithful claims and misstatements in each language pair: an English
# article with English and Chinese claims (two), a Chinese article, and a thread's comment.
JUDGE_SUBSET = (
    "tl_cw-01", "tl_cw-02", "tl_cw-05", "tl_cw-08", "tl_cw-12", "tl_cw-14", "tl_cw-15", "tl_cw-18",
    "oa_child-01", "oa_child-03", "oa_child-04", "oa_child-05", "oa_child-07", "oa_child-08", "oa_child-09",
    "oa_child-10",
    "aq_mythos-01", "aq_mythos-02", "aq_mythos-03", "aq_mythos-04", "aq_mythos-05", "aq_mythos-06", "aq_mythos-07",
    "aq_mythos-10",
    "hn_kernel-01", "hn_kernel-03", "hn_kernel-04", "hn_kernel-05",
)


class ClaimSetError(DailybriefError):
    """A labelled claim or its source reference cannot be resolved."""


@dataclass(slots=True)
class LabelledClaim:
    id: str
    claim: str
    source_text: str
    supported: bool
    category: str
    claim_lang: str
    source_lang: str
    author: str = ""  # the source is this person's comment

    @property
    def pair(self) -> str:
        return f"{self.claim_lang}←{self.source_lang}"


def _lang(text: str) -> str:
    return "zh" if chinese(text) else "en"


class Resolver:
    def __init__(self, shared: Path) -> None:
        self.shared = shared
        self._feeds: dict[str, Any] = {}
        self._docs: dict[str, dict[str, list[str]]] = {}

    def _feed(self, where: str, path: str) -> Any:
        key = f"{where}:{path}"
        if key not in self._feeds:
            if where == "demo":
                data = resources.files("dailybrief").joinpath("demo", path).read_bytes()
            else:
                data = (self.shared / path).read_bytes()
            self._feeds[key] = feedparser.parse(data)
        return self._feeds[key]

    def author(self, ref: dict[str, Any]) -> str:
        if "comment" not in ref:
            return ""
        feed = self._feed("demo" if "demo" in ref else "shared", ref.get("demo") or ref.get("shared") or "")
        return str(feed.entries[int(ref["comment"])].get("author", ""))

    def text(self, ref: dict[str, Any]) -> str:
        where = "demo" if "demo" in ref else "shared"
        path = ref.get("demo") or ref.get("shared")
        if not path:
            raise ClaimSetError(f"source reference {ref} names neither 'demo' nor 'shared'")
        if "instance" in ref:
            return self._multiling(path, ref)
        feed = self._feed(where, path)
        if "comment" in ref:
            entry = feed.entries[int(ref["comment"])]
            body = html_to_text(entry.content[0].value if entry.get("content") else entry.get("summary", ""))
            score = next((t.term.split(":", 1)[1] for t in entry.get("tags", []) if t.term.startswith("score:")), None)
            return comment_passage(entry.get("author", ""), int(score) if score else None, body,
                                   html_to_text(feed.feed.get("title", "")))
        for entry in feed.entries:
            if (entry.get("id") or entry.get("link")) == ref["entry"]:
                return _entry_text(entry, ref.get("field", "content"))
        raise ClaimSetError(f"{path} has no entry {ref['entry']!r}")

    def _multiling(self, path: str, ref: dict[str, Any]) -> str:
        if path not in self._docs:
            docs: dict[str, list[str]] = {}
            for line in (self.shared / path).read_text("utf-8").splitlines():
                row = json.loads(line)
                for doc in row["documents"]:
                    docs[f"{row['instance_id']}/{doc['filename']}"] = doc["text"]
            self._docs[path] = docs
        sentences = self._docs[path][f"{ref['instance']}/{ref['file']}"]
        a, b = ref.get("sentences", [0, len(sentences)])
        return " ".join(sentences[a:b])


def _entry_text(entry: Any, field: str) -> str:
    title = html_to_text(entry.get("title", "") or "").strip()
    summary = html_to_text(entry.get("summary", "") or "").strip()
    content = strip_boilerplate(html_to_text(entry.content[0].value)).strip() if entry.get("content") else ""
    if field == "title":
        return title
    if field == "summary":
        return summary
    parts = [title, summary if summary and summary not in content else "", content]
    return "\n".join(p for p in parts if p)


def default_paths(root: Path) -> tuple[Path, Path, Path]:
    """The claims, the source references and the shared folder, relative to a checkout's root."""
    data = root / "benchmarks" / "data"
    return data / "check_claims.jsonl", data / "check_sources.json", root.parent / "shared"


def load(claims: Path, sources: Path, shared: Path) -> list[LabelledClaim]:
    refs = json.loads(sources.read_text("utf-8"))
    resolver = Resolver(shared)
    cache: dict[str, str] = {}
    out = []
    for n, line in enumerate(claims.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        key = row["source"]
        if key not in refs:
            raise ClaimSetError(f"{claims.name} line {n}: source {key!r} is not in {sources.name}")
        if key not in cache:
            cache[key] = resolver.text(refs[key])
        source = cache[key]
        out.append(LabelledClaim(row["id"], row["claim"], source, bool(row["supported"]), row["category"],
                                 _lang(row["claim"]), _lang(source), resolver.author(refs[key])))
    return out


def scores(rows: Sequence[tuple[bool, bool]]) -> dict[str, float | int]:
    """rows: (gold supported, predicted supported). The positive class is "unsupported"."""
    tp = sum(1 for g, p in rows if not g and not p)
    fp = sum(1 for g, p in rows if g and not p)
    fn = sum(1 for g, p in rows if not g and p)
    faithful = [p for g, p in rows if g]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"n": len(rows), "misstatements": tp + fn, "precision": precision, "recall": recall, "f1": f1,
            "faithful_passed": sum(faithful) / len(faithful) if faithful else 1.0, "faithful": len(faithful)}
