"""Decoding bodies: declared and undeclared encodings, and declarations that lie.

The order follows what browsers do (the WHATWG encoding standard): a byte-order
mark first, then the HTTP ``charset``, then the document's own declaration
(``<?xml encoding?>`` or ``<meta charset>``), then UTF-8. A declared encoding is
only trusted when the bytes decode under it; when they don't, or when nothing is
declared and the bytes are not UTF-8, ``charset-normalizer`` guesses from the
bytes (it tells GBK/GB18030, Big5 and Shift-JIS apart well on a few hundred bytes).

Legacy labels map to the superset a browser would use: gb2312/gbk → gb18030,
shift_jis → cp932, big5 → big5hkscs, latin-1/ascii → cp1252.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

SUPERSETS = {
    "gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030", "cp936": "gb18030", "x-gbk": "gb18030",
    "euc-cn": "gb18030", "hz-gb-2312": "gb18030",
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "ms_kanji": "cp932",
    "windows-31j": "cp932", "cp932": "cp932",
    "big5": "big5hkscs", "big5-hkscs": "big5hkscs", "x-x-big5": "big5hkscs", "cp950": "big5hkscs",
    "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252",
    "iso8859-1": "cp1252", "windows-1252": "cp1252",
    "utf8": "utf-8", "unicode-1-1-utf-8": "utf-8",
}
_SINGLE_BYTE = {"cp1252", "iso8859-15", "cp1250", "cp1251", "koi8-r", "cp1253", "cp1254", "cp1257"}

_CHARSET_PARAM = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["'][^>]*\?>""", re.I)
_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass(slots=True)
class Decoded:
    text: str
    encoding: str  # the Python codec used
    declared: str = ""  # what the body or the headers claimed, if anything
    note: str = ""  # set when the declaration was wrong or missing and we guessed


def encoding_warning(note: str) -> list[str]:
    """A source's warning for a body whose encoding was guessed or declared wrongly (a `Decoded.note`)."""
    return [f"encoding: {note}"] if note else []


def codec_for(label: str) -> str | None:
    """The Python codec for an encoding label, widened to its browser superset; None if unknown."""
    label = label.strip().strip("\"'").lower()
    if not label:
        return None
    label = SUPERSETS.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return SUPERSETS.get(name, name)


def header_charset(content_type: str | None) -> str:
    if not content_type:
        return ""
    m = _CHARSET_PARAM.search(content_type.encode("latin-1", "replace"))
    return m.group(1).decode("ascii", "replace") if m else ""


def _declared(body: bytes, content_type: str | None, markup: str) -> str:
    label = header_charset(content_type)
    if label:
        return label
    head = body[:4096]
    m = _XML_DECL.match(head) if markup == "xml" else (_META.search(head) or _XML_DECL.match(head))
    return m.group(1).decode("ascii", "replace") if m else ""


def _guess(body: bytes) -> str | None:
    best = from_bytes(body[:200_000]).best()
    return codec_for(best.encoding) if best else None


def decode(body: bytes, content_type: str | None = None, markup: str = "html") -> Decoded:
    """Decode an HTML or XML body to text, trusting declarations only as far as the bytes bear them out."""
    for bom, bom_codec in _BOMS:
        if body.startswith(bom):
            return Decoded(body.decode(bom_codec, "replace"), bom_codec.replace("-sig", ""))
    declared = _declared(body, content_type, markup)
    codec = codec_for(declared) if declared else None
    if codec and codec.startswith("utf-16") and not body[:2].count(b"\x00"):
        codec = "utf-8"  # a document that reads as ASCII cannot really be UTF-16
    if codec:
        try:
            text = body.decode(codec)
        except UnicodeDecodeError:
            pass
        else:
            if codec in _SINGLE_BYTE and _is_utf8_with_multibyte(body):
                return Decoded(body.decode("utf-8"), "utf-8", declared,
                               f"declared {declared}, but the bytes are UTF-8; read as UTF-8")
            return Decoded(text, codec, declared)
    try:
        return Decoded(body.decode("utf-8"), "utf-8", declared,
                       f"declared {declared}, but the bytes are UTF-8; read as UTF-8" if declared else "")
    except UnicodeDecodeError:
        pass
    bad = _stray_in_utf8(body)
    if bad:  # UTF-8 but for a few broken bytes: a guess would garble every other character of the body
        return Decoded(body.decode("utf-8", "replace"), "utf-8", declared,
                       f"{bad} invalid UTF-8 byte sequence(s) replaced with U+FFFD (the rest of the body is UTF-8); "
                       "read as UTF-8")
    guess = _guess(body) or "cp1252"
    why = f"declared {declared!r} does not fit the bytes" if declared and codec else (
        f"unknown encoding {declared!r}" if declared else "no encoding declared")
    return Decoded(body.decode(guess, "replace"), guess, declared, f"{why}; read as {guess} (detected)")


STRAY_UTF8_RATIO = 20  # valid multi-byte characters per broken sequence for a body to be read as UTF-8 still
_NON_ASCII = re.compile("[^\x00-\x7f\ufffd]")


def _stray_in_utf8(body: bytes) -> int:
    """How many broken sequences a body that is otherwise UTF-8 has (0 when it is not UTF-8 so clearly): a
    legacy encoding (GBK, cp1252) gives few valid multi-byte characters for its many broken ones."""
    text = body.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    return bad if bad and len(_NON_ASCII.findall(text)) >= STRAY_UTF8_RATIO * bad else 0


def _is_utf8_with_multibyte(body: bytes) -> bool:
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def xml_as_utf8(body: bytes, content_type: str | None = None) -> tuple[bytes, Decoded]:
    """An XML body re-encoded as UTF-8 with its declaration saying so, for parsers that trust declarations."""
    decoded = decode(body, content_type, markup="xml")
    text = decoded.text.lstrip("\ufeff")
    m = _XML_DECL.match(text[:4096].encode("utf-8", "replace"))
    if m:
        decl_end = text.index("?>") + 2
        text = '<?xml version="1.0" encoding="utf-8"?>' + text[decl_end:]
    return text.encode("utf-8"), decoded
