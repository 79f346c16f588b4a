"""Text helpers shared by the stages: sentences, language, normalising (HTML to text is in sanitize.py)."""

from __future__ import annotations

import re
import unicodedata

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WS = re.compile(r"\s+")


_BOILERPLATE = re.compile(
    r"^\s*(?:Article URL|Comments URL|Points|# ?Comments|Score|Discussion|Link|Comments)\s*[:：].*$|"
    r"^\s*(?:submitted by\s+/?u/\S+.*|\[link\]\s*\[comments\]|\[link\]|\[comments\])\s*$",
    re.I,
)
_URL = re.compile(r"https?://\S+")


def strip_boilerplate(text: str) -> str:
    """Drop aggregator furniture (URL lines, score and comment counters) from feed text."""
    lines = [_BOILERPLATE.sub("", line) for line in text.split("\n")]
    lines = [line for line in lines if line.strip() and _URL.sub("", line).strip(" :：-—|")]
    return "\n".join(lines)


def cjk_ratio(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if _CJK.match(c)) / len(letters)


def detect_language(text: str, default: str = "en") -> str:
    """'zh' or 'en' by script: enough CJK characters make a text Chinese."""
    if not text.strip():
        return default
    if not _CJK.search(text):  # the common case, answered without counting letters
        return "en"
    return "zh" if cjk_ratio(text) > 0.15 else "en"


# A sentence ends at 。！？ (with closing quotes/brackets), or at .!? followed by
# space and an upper-case letter, digit, quote or CJK character.
_ZH_END = re.compile(r"(?<=[。！？；])[”」』）)]*")
_EN_SPLIT = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"“‘(\[]?[A-Z0-9\u4e00-\u9fff])")
_ABBREV = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|Inc|Ltd|Co|Corp|vs|etc|e\.g|i\.e|U\.S|No|St|Jr|Sr)\.$")


def split_sentences(text: str) -> list[str]:
    """Split text into sentences; handles Chinese and English punctuation."""
    out: list[str] = []
    for para in text.split("\n"):
        para = para.strip()
        if not para:
            continue
        pieces: list[str] = []
        start = 0
        for m in _ZH_END.finditer(para):
            if m.end() > start:
                pieces.append(para[start : m.end()])
                start = m.end()
        pieces.append(para[start:])
        for piece in pieces:
            buf = ""
            for part in _EN_SPLIT.split(piece):
                buf = f"{buf} {part}".strip() if buf else part
                if not _ABBREV.search(buf):
                    out.append(buf.strip())
                    buf = ""
            if buf.strip():
                out.append(buf.strip())
    return [s for s in out if s]


def normalise(text: str) -> str:
    """Case-, width- and space-folded text, for hashing and comparison."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _WS.sub(" ", text).strip()


def clip(text: str, limit: int) -> str:
    """Shorten to at most `limit` characters at a word or sentence boundary, with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    for mark in ("。", "；", ". ", "，", ", ", " "):
        pos = cut.rfind(mark)
        if pos > limit * 0.5:
            cut = cut[: pos + len(mark.strip())]
            break
    return cut.rstrip(" ,，;；") + "…"


# Bidirectional controls (U+202E turns "gpj.exe" into "exe.jpg" on screen) and zero-width characters:
# invisible in a title, they can only hide or reorder what a reader sees.
# Bidirectional overrides, isolates and marks, zero-width characters, and the C0 controls but tab and line ends (a
# NUL from a loosely parsed or JSON feed: PostgreSQL refuses it in text, and with it the whole batch of items).
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
                        "\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_controls(text: str) -> str:
    """Text without bidirectional overrides, isolates, marks, zero-width characters and control characters (tab
    and line ends stay)."""
    return _INVISIBLE.sub("", text) if text else text


# CJK ideographs, kana, hangul, CJK symbols and punctuation, full-width forms.
_CJK_END = re.compile(
    r"[\u2e80-\u2fdf\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]$"
)


def sentence_sep(text: str) -> str:
    """What joins a sentence to the next: nothing after CJK text, else a space."""
    return "" if _CJK_END.search(text) else " "


def join_sentences(sentences: list[str]) -> str:
    """Sentences as one paragraph, each joined to the next by `sentence_sep`."""
    return "".join(s + (sentence_sep(s) if i < len(sentences) - 1 else "") for i, s in enumerate(sentences))
