"""The one table of words: every key in every language, and every key the code asks for in the table."""

from __future__ import annotations

import re
import string
from pathlib import Path

from dailybrief.words import WORDS, count_word, join_all, words

SRC = Path(__file__).resolve().parents[1] / "src" / "dailybrief"
# w["key"], words(lang)["key"], labels["key"], lab["key"], self.labels["key"], d.labels['key'] ...
ASKED_PY = re.compile(r"""(?:\bw|\bwords\([^()]*\)|\blabels|\blab|\bwords)\[["'](\w+)["']\]""")
ASKED_TEMPLATE = re.compile(r"""\blabels(?:\.(\w+)|\[["'](\w+)["']\])""")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_exists_in_every_language() -> None:
    keys = {lang: set(table) for lang, table in WORDS.items()}
    assert set(WORDS) == {"zh", "en"}
    for lang, have in keys.items():
        for other, theirs in keys.items():
            assert theirs <= have, f"{lang} lacks {sorted(theirs - have)} (in {other})"
    for key in WORDS["en"]:
        assert all(WORDS[lang][key] for lang in WORDS), key  # none left empty


def test_every_word_the_code_asks_for_is_in_the_table() -> None:
    asked: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        if path.name != "words.py":
            for key in ASKED_PY.findall(path.read_text("utf-8")):
                asked.setdefault(key, set()).add(path.name)
    for path in (SRC / "render" / "templates").iterdir():
        for a, b in ASKED_TEMPLATE.findall(path.read_text("utf-8")):
            asked.setdefault(a or b, set()).add(path.name)
    assert len(asked) > 40  # the scan sees the writers, renderers, digest and site
    missing = {k: sorted(v) for k, v in asked.items() if k not in WORDS["en"]}
    assert not missing, f"asked for but not in words.py: {missing}"


def test_every_word_formats_with_the_fields_its_callers_pass() -> None:
    # A caller passes the fields of every language (e.g. count= for zh and n= for en); each string must format with
    # them: no stray braces, no field only one language's caller would know.
    for key in WORDS["en"]:
        fields = {name: "x" for lang in WORDS for name in _fields(WORDS[lang][key])}
        for lang in WORDS:
            WORDS[lang][key].format(**fields)



def test_helpers() -> None:
    assert words("fr") is WORDS["en"]  # an unknown language reads English
    assert count_word(2, "zh") == "两" and count_word(7, "zh") == "7"
    assert join_all(["a", "b", "c"], "、", "与") == "a、b与c" and join_all(["a"], "; ", "; and ") == "a"
