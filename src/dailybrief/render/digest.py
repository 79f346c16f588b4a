"""The short form of an edition for chat: the abstract, the headlines and a link.

A chat platform caps a message's size. Nothing here is ever cut mid-sentence:
:func:`fit` builds the message from whole parts (the title and the link
always; then the abstract's first sentence; then the headlines in order; then
the rest of the abstract) and stops adding a kind of part at the first one
that no longer fits. The size is measured on the platform's own rendering of
the message, in the platform's unit (bytes, characters or UTF-16 units).

Alerts use the same rule through :func:`fit_lines`: whole problem lines,
then "and N more".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

from ..errors import PublishError
from ..records import Brief
from ..text import join_sentences
from ..words import format_date, words

__all__ = ["Digest", "Measure", "digest_of", "fit", "fit_lines", "join_sentences", "measure_bytes",
           "measure_chars", "measure_utf16"]

Measure = Callable[[str], int]

def measure_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def measure_chars(text: str) -> int:
    return len(text)


def measure_utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def labels(language: str) -> dict[str, str]:
    return words(language)


def _clean(text: str) -> str:
    return " ".join((text or "").split())


@dataclass(slots=True)
class Digest:
    """What a chat message of one edition may say. ``fit`` trims it to whole parts."""

    language: str
    edition: date
    title: str
    date_label: str
    link: str
    abstract: list[str] = field(default_factory=list)
    headlines: list[str] = field(default_factory=list)
    hidden_headlines: int = 0  # headlines left out to fit

    @property
    def labels(self) -> dict[str, str]:
        return labels(self.language)

    @property
    def heading(self) -> str:
        return f"{self.title} · {self.date_label}"

    @property
    def abstract_text(self) -> str:
        return join_sentences(self.abstract)

    @property
    def more_line(self) -> str:
        return self.labels["digest_more"].format(n=self.hidden_headlines) if self.hidden_headlines else ""

    def plain(self) -> str:
        """The digest as plain text, the form most platforms get."""
        parts = [self.heading]
        if self.abstract:
            parts.append(self.abstract_text)
        if self.headlines:
            lines = [f"{i}. {h}" for i, h in enumerate(self.headlines, 1)]
            if self.more_line:
                lines.append(self.more_line)
            parts.append(f"{self.labels['headlines']}\n" + "\n".join(lines))
        parts.append(f"{self.labels['read_more']}: {self.link}")
        return "\n\n".join(parts)


def digest_of(brief: Brief, link: str) -> Digest:
    """The whole digest of a brief: every abstract sentence and every story headline."""
    lab = labels(brief.language)
    sentences = [_clean(s.text) for p in brief.abstract for s in p.sentences if _clean(s.text)]
    headlines = [_clean(s.title) + (lab["follow_up_mark"] if s.follow_up else "")
                 for s in brief.sections if s.kind == "story" and _clean(s.title)]
    return Digest(language=brief.language, edition=brief.edition, title=_clean(brief.title),
                  date_label=format_date(brief.edition, brief.language), link=link,
                  abstract=sentences, headlines=headlines)


def fit(full: Digest, render: Callable[[Digest], str], measure: Measure, limit: int) -> Digest:
    """The fullest digest made of whole parts whose rendering measures at most ``limit``.

    Order of preference: title and link (always), the abstract's first
    sentence, the headlines in order, the rest of the abstract. Raises
    PublishError when not even the title and the link fit.
    """

    def size(d: Digest) -> int:
        return measure(render(d))

    def with_headlines(n: int, abstract: list[str]) -> Digest:
        return replace(full, abstract=abstract, headlines=full.headlines[:n],
                       hidden_headlines=len(full.headlines) - n)

    if size(full) <= limit:
        return full
    best = with_headlines(0, [])
    if size(best) > limit:
        raise PublishError(f"even the title and the link measure {size(best)}, over this platform's limit of {limit}")
    abstract: list[str] = []
    if full.abstract and size(with_headlines(0, full.abstract[:1])) <= limit:
        abstract = full.abstract[:1]
        best = with_headlines(0, abstract)
    shown = 0
    for n in range(1, len(full.headlines) + 1):
        candidate = with_headlines(n, abstract)
        if size(candidate) > limit:
            break
        best, shown = candidate, n
    for k in range(len(abstract) + 1, len(full.abstract) + 1):
        candidate = with_headlines(shown, full.abstract[:k])
        if size(candidate) > limit:
            break
        best = candidate
    return best


def fit_lines(head: str, lines: list[str], render: Callable[[str, list[str]], str], measure: Measure, limit: int,
              language: str = "en") -> list[str]:
    """The most leading whole ``lines`` that fit under ``head``, plus an "and N more" line when some are left out."""
    more = labels(language)["more_problems"]

    def shown(k: int) -> list[str]:
        return lines[:k] + ([more.format(n=len(lines) - k)] if k < len(lines) else [])

    best = shown(0)
    for k in range(1, len(lines) + 1):
        if measure(render(head, shown(k))) > limit:
            break
        best = shown(k)
    return best
