"""The glossary: one Chinese and one English form for each name (models, companies, people).

The LLM writer gives the model the entries that occur in a story's sources,
then rewrites every spelling it knows (the other language's form and the
aliases) to the edition's form, in one pass, so a name reads the same way
throughout an edition. The packaged ``glossary.toml`` covers the demo's names;
``[writer].glossary`` points at a file of your own in the same format.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .errors import ConfigError


@dataclass(slots=True, frozen=True)
class Term:
    en: str
    zh: str
    aliases: tuple[str, ...] = ()
    kind: str = ""

    def form(self, language: str) -> str:
        return self.zh if language == "zh" else self.en

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.en, self.zh, *self.aliases)


def _pattern(spelling: str) -> str:
    escaped = re.escape(spelling)
    # Latin names match whole words only ("Meta" is not in "Metadata").
    head = r"(?<![A-Za-z0-9])" if spelling[:1].isascii() and spelling[:1].isalnum() else ""
    tail = r"(?![A-Za-z0-9])" if spelling[-1:].isascii() and spelling[-1:].isalnum() else ""
    return f"{head}{escaped}{tail}"


@dataclass(slots=True)
class Glossary:
    terms: list[Term] = field(default_factory=list)
    _regex: re.Pattern[str] | None = None
    _by_spelling: dict[str, Term] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for term in self.terms:
            for s in term.spellings:
                self._by_spelling.setdefault(s, term)
        spellings = sorted(self._by_spelling, key=len, reverse=True)
        self._regex = re.compile("|".join(_pattern(s) for s in spellings)) if spellings else None

    @classmethod
    def load(cls, path: Path | None = None) -> Glossary:
        """The glossary at `path`, or the packaged one."""
        where = "writer.glossary"
        try:
            if path is None:
                text = resources.files("dailybrief").joinpath("glossary.toml").read_text("utf-8")
            else:
                text = path.read_text("utf-8")
            data = tomllib.loads(text)
        except FileNotFoundError:
            raise ConfigError(where, str(path), "the glossary file does not exist; fix the path or leave it empty "
                                                "for the packaged glossary") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(where, str(path), f"the glossary is not valid UTF-8 TOML ({exc}); fix the line it names") \
                from None
        terms = []
        for n, row in enumerate(data.get("term", []), start=1):
            if not isinstance(row, dict) or not row.get("en") or not row.get("zh"):
                raise ConfigError(f"{where}: term {n}", row, "every [[term]] needs both en = \"...\" and zh = \"...\"")
            aliases = row.get("aliases", [])
            if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
                raise ConfigError(f"{where}: term {n}", aliases, "aliases must be a list of names, e.g. [\"Open AI\"]")
            terms.append(Term(str(row["en"]), str(row["zh"]), tuple(aliases), str(row.get("kind", ""))))
        return cls(terms)

    def apply(self, text: str, language: str) -> str:
        """Every known spelling of a name rewritten to the edition language's form."""
        if self._regex is None:
            return text
        return self._regex.sub(lambda m: self._by_spelling[m.group()].form(language), text)

    def found_in(self, texts: Iterable[str]) -> list[Term]:
        """The terms any of these texts mention, in glossary order."""
        if self._regex is None:
            return []
        hits = {id(self._by_spelling[m.group()]) for t in texts for m in self._regex.finditer(t)}
        return [t for t in self.terms if id(t) in hits]
