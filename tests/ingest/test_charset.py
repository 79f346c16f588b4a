"""Decoding: declared and undeclared UTF-8, GBK/GB18030, Big5 and Shift-JIS, and declarations that lie."""

from __future__ import annotations

import pytest

from dailybrief.ingest.charset import codec_for, decode, xml_as_utf8

ZH = "谷歌发布新一代推理模型，开发者可以通过接口使用。该模型在多项基准测试中取得领先成绩。"
TW = "蘋果發表新一代晶片，開發者可以透過介面使用。該晶片在多項測試中領先，效能大幅提升。"
JA = "新しいモデルが発表されました。このモデルは多くのベンチマークで最高の成績を収めました。"
EN = "A lab shipped a new model today."


def page(text: str, meta: str = "") -> str:
    return f"<html><head>{meta}<title>t</title></head><body><p>{text}</p><p>{text}</p></body></html>"


@pytest.mark.parametrize(("text", "codec", "label"), [
    (ZH, "gbk", "gbk"), (ZH, "gb18030", "gb18030"), (ZH, "gb2312", "gb2312"), (TW, "big5", "big5"),
    (JA, "shift_jis", "shift_jis"), (ZH, "utf-8", "utf-8"),
])
def test_declared_in_meta_header_or_xml(text: str, codec: str, label: str) -> None:
    body = page(text, f'<meta charset="{label}">').encode(codec)
    assert text in decode(body).text
    assert text in decode(page(text).encode(codec), f"text/html; charset={label}").text
    xml = f'<?xml version="1.0" encoding="{label}"?><rss><channel><title>{text}</title></channel></rss>'
    fixed, info = xml_as_utf8(xml.encode(codec))
    assert text in fixed.decode("utf-8") and b'encoding="utf-8"' in fixed and not info.note


@pytest.mark.parametrize(("text", "codec", "expect"), [
    (ZH, "gbk", "gb18030"), (ZH, "gb18030", "gb18030"), (TW, "big5", "big5"), (JA, "shift_jis", "cp932"),
    (ZH, "utf-8", "utf-8"),
])
def test_undeclared_encodings_are_detected(text: str, codec: str, expect: str) -> None:
    got = decode(page(text).encode(codec))
    assert text in got.text
    assert got.encoding.startswith(expect)
    if codec != "utf-8":
        assert "no encoding declared" in got.note


def test_a_wrong_declaration_is_overruled_by_the_bytes() -> None:
    got = decode(page(ZH).encode("gbk"), "text/html; charset=utf-8")
    assert ZH in got.text and "does not fit the bytes" in got.note
    latin = decode(page("Café – naïve").encode("utf-8"), "text/html; charset=iso-8859-1")
    assert "Café – naïve" in latin.text and "bytes are UTF-8" in latin.note
    xml = f'<?xml version="1.0" encoding="big5"?><rss><channel><title>{ZH}</title></channel></rss>'.encode("gbk")
    fixed, info = xml_as_utf8(xml, "application/xml; charset=big5")
    # GBK bytes often decode as Big5 without error; what must hold is that nothing is lost or crashes.
    assert fixed.decode("utf-8") and info.encoding


def test_labels_map_to_browser_supersets() -> None:
    assert codec_for("GB2312") == "gb18030" and codec_for("gbk") == "gb18030"
    assert codec_for("Shift_JIS") == "cp932" and codec_for("big5") == "big5hkscs"
    assert codec_for("ISO-8859-1") == "cp1252" and codec_for("no-such-thing") is None
    # A GBK-only character (not in GB2312) survives a gb2312 label.
    assert "镕" in decode("朱镕基".encode("gbk"), "text/html; charset=gb2312").text


def test_bom_wins_and_english_is_untouched() -> None:
    assert decode("\ufeff".encode("utf-8") + EN.encode()).text.endswith(EN)
    assert decode(EN.encode("utf-16")).text == EN
    assert decode(EN.encode("ascii")).encoding == "utf-8"


@pytest.mark.parametrize("declared", ['<?xml version="1.0" encoding="utf-8"?>', '<?xml version="1.0"?>'])
def test_a_few_broken_bytes_in_a_utf8_feed_do_not_garble_the_rest(declared: str) -> None:
    """One broken sequence among many Chinese titles (a truncated title, a bad copy-paste): the body stays UTF-8,
    the broken bytes become U+FFFD, and the note says so; a guess would have read every title as Cyrillic."""
    xml = declared + "<rss><channel>" + "".join(f"<item><title>{ZH[:12]} {i}</title></item>" for i in range(30))
    body = (xml + "</channel></rss>").encode("utf-8").replace(b" 7<", b" \xff\xfe 7<", 1)
    fixed, info = xml_as_utf8(body)
    text = fixed.decode("utf-8")
    assert f"{ZH[:12]} 0<" in text and f"{ZH[:12]} 29<" in text and "\ufffd\ufffd 7<" in text
    assert info.encoding == "utf-8" and "2 invalid UTF-8 byte sequence(s) replaced" in info.note


@pytest.mark.parametrize(("text", "codec"), [(ZH, "gbk"), (TW, "big5"), (JA, "shift_jis")])
def test_a_legacy_encoding_is_not_taken_for_broken_utf8(text: str, codec: str) -> None:
    got = decode(page(text * 5).encode(codec))
    assert text in got.text and got.encoding != "utf-8"
    assert decode("Café, déjà vu".encode("cp1252")).encoding != "utf-8"  # no valid multi-byte character at all
