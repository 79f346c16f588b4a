from dailybrief.sanitize import html_to_text
from dailybrief.text import clip, detect_language, split_sentences, strip_boilerplate


def test_html_to_text_drops_scripts_and_keeps_paragraphs() -> None:
    text = html_to_text("<p>One <b>two</b>.</p><script>alert(1)</script><p>Three &amp; four.</p>")
    assert text == "One two.\nThree & four."


def test_sentences_in_english_and_chinese() -> None:
    assert split_sentences("Dr. Smith met the U.S. team. It went well! 然后呢？好的。") == \
        ["Dr. Smith met the U.S. team.", "It went well!", "然后呢？", "好的。"]
    assert split_sentences("See example.com/item?id=3 now.") == ["See example.com/item?id=3 now."]


def test_language_by_script() -> None:
    assert detect_language("Meta 发布 Muse Spark 模型") == "zh"
    assert detect_language("Meta unveils Muse Spark") == "en"


def test_boilerplate_and_clip() -> None:
    assert strip_boilerplate("Points: 3\nhttps://x.example\nReal.") == "Real."
    assert clip("a" * 10 + " " + "b" * 10, 15).endswith("…")
