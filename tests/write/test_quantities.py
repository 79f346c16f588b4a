"""Numbers with units and scales, and dates and periods, across Chinese and English."""

from __future__ import annotations

import pytest

from dailybrief.write.quantities import dates, quantities, zh_numeral


def one(text: str):
    [q] = quantities(text)
    return q


@pytest.mark.parametrize(("a", "b"), [
    ("$21 billion", "210 亿美元"),
    ("a half-billion dollar donation", "5 亿美元"),
    ("about ten billion dollars", "约百亿美元"),
    ("three in ten citizens", "三成公民"),
    ("down about 30%", "下降约三成"),
    ("60.5 million USD", "6050 万美元"),
    ("thirteen days", "十三天"),
    ("a 6.4-inch screen", "6.4 英寸屏幕"),
    ("40 kW", "40 千瓦"),
    ("forty organisations", "四十家机构"),
    ("two hundred people", "两百人"),
    ("2.5 trillion parameters", "2.5 万亿参数"),
])
def test_the_same_quantity_in_both_languages(a: str, b: str) -> None:
    assert one(a).matches(one(b)), (one(a), one(b))


@pytest.mark.parametrize(("a", "b"), [
    ("$21 billion", "21 亿美元"),          # the example: 21 亿 is 2.1 billion
    ("$21 billion", "$2.1 billion"),
    ("$21 billion", "210 亿元人民币"),      # another currency
    ("110 organisations", "11 organisations"),
    ("a CER of 0.717", "a CER of 0.0717"),
    ("a 6.4-inch screen", "a 6.4-centimetre screen"),
    ("40 千瓦", "40 兆瓦"),
    ("600 seconds", "600 minutes"),
    ("三成", "七成"),
    ("three in ten", "four in ten"),
])
def test_different_quantities_differ(a: str, b: str) -> None:
    assert not one(a).matches(one(b))


def test_a_bare_number_matches_the_same_number_with_a_unit() -> None:
    assert one("27").matches(one("27 years")) and one("11").matches(one("Eleven organisations"))


def test_years_and_names_with_digits_are_not_quantities() -> None:
    assert quantities("In 2023 GPT-4 and Qwen3.6-27B beat a 70B model") == []
    assert [q.value for q in quantities("two used 3090s")] == [2, 3090]


def test_chinese_numerals() -> None:
    assert [zh_numeral(t) for t in ("十五", "两百", "一千二百", "二十", "三万")] == [15, 200, 1200, 20, 30000]
    assert quantities("一些统一的一致意见") == []  # 一 inside words is not a number


@pytest.mark.parametrize(("a", "b"), [
    ("December 26, 2004", "2004 年 12 月 26 日"),
    ("at the end of March", "3 月底"),
    ("first-quarter revenue", "第一季度营收"),
    ("goes on sale next Friday", "下周五开售"),
    ("this week", "本周"),
])
def test_the_same_date_in_both_languages(a: str, b: str) -> None:
    assert dates(a) == dates(b)


@pytest.mark.parametrize(("claim", "source"), [
    ("November 26", "December 26"),
    ("本周五", "下周五"),
    ("第四季度", "第三季度"),
    ("3 月初", "3 月底"),
    ("in 2021", "in 2023"),
])
def test_a_changed_date_is_not_in_the_source(claim: str, source: str) -> None:
    assert dates(claim) - dates(source)


def test_may_the_verb_is_not_a_month() -> None:
    assert dates("The model's codename may be Spud.") == set()
