"""Numbers and dates in English and Chinese text, as comparable values.

    "$21 billion" ─┐
    "210 亿美元"  ─┴─▶ Quantity(2.1e10, "usd")      "三成" = "30%" = "three in ten" ─▶ Quantity(30, "%")
    "December 26" = "12 月 26 日" ─▶ {"m12", "m12d26"}   "下周五" ─▶ {"wd5", "next-week:wd5"}

The grounding check (verify.py) asks that every quantity and every date a
sentence states occurs in its evidence after conversion. Units are brought to
one base per dimension (metres, seconds, watts, bytes), so "6.4 inches" is not
"6.4 cm", and a currency is part of the value's unit, so "210 亿元" is not
"$21 billion". Years are dates, not quantities. Names that carry digits
("GPT-4", "Qwen3.6-27B", "70B") are left to the name check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# -- number words ---------------------------------------------------------------

_EN_SMALL = {
    "zero": 0, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "dozen": 12, "half": 0.5,
}
_EN_ORDINAL = {
    "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
    "eleventh": 11, "twelfth": 12, "fifteenth": 15, "twentieth": 20, "thirtieth": 30, "fiftieth": 50,
    "hundredth": 100,
}
_EN_SCALE = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12,
             "k": 1e3, "m": 1e6, "mn": 1e6, "bn": 1e9, "b": 1e9, "tn": 1e12}
_ZH_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
             "九": 9}
_ZH_UNIT = {"十": 10, "百": 100, "千": 1000}
_ZH_SCALE = {"万": 1e4, "亿": 1e8, "万亿": 1e12}


def zh_numeral(text: str) -> float | None:
    """The value of a Chinese numeral: 十五 = 15, 两百 = 200, 一千二百 = 1200, 百 = 100; None if it is not one."""
    if not text:
        return None
    total, section, digit = 0.0, 0.0, None
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in _ZH_DIGIT:
            digit = _ZH_DIGIT[ch]
        elif ch in _ZH_UNIT:
            section += (1 if digit is None else digit) * _ZH_UNIT[ch]
            digit = None
        elif ch in ("万", "亿"):
            scale = _ZH_SCALE[ch]
            section += digit or 0
            total = (total + section) * scale if ch == "亿" or total == 0 else total + section * scale
            section, digit = 0.0, None
        else:
            return None
        i += 1
    return total + section + (digit or 0)


# -- units ------------------------------------------------------------------------

# unit spelling -> (dimension, factor to the dimension's base)
_UNITS: dict[str, tuple[str, float]] = {}
for names, dim, factor in [
    (("%", "％", "percent", "per cent", "个百分点"), "%", 1.0),
    (("$", "usd", "us$", "dollar", "dollars", "u.s. dollars", "美元"), "usd", 1.0),
    (("€", "eur", "euro", "euros", "欧元"), "eur", 1.0),
    (("£", "gbp", "pound", "pounds", "英镑"), "gbp", 1.0),
    (("¥", "rmb", "cny", "yuan", "元", "元人民币", "人民币"), "cny", 1.0),
    (("日元", "yen"), "jpy", 1.0),
    (("mm", "millimetre", "millimetres", "millimeter", "millimeters", "毫米"), "m", 1e-3),
    (("cm", "centimetre", "centimetres", "centimeter", "centimeters", "厘米", "公分"), "m", 1e-2),
    (("metre", "metres", "meter", "meters", "米"), "m", 1.0),
    (("km", "kilometre", "kilometres", "kilometer", "kilometers", "公里", "千米"), "m", 1e3),
    (("inch", "inches", "英寸"), "m", 0.0254),
    (("mile", "miles", "英里"), "m", 1609.344),
    (("foot", "feet", "ft", "英尺"), "m", 0.3048),
    (("second", "seconds", "sec", "secs", "秒", "秒钟"), "s", 1.0),
    (("minute", "minutes", "min", "mins", "分钟"), "s", 60.0),
    (("hour", "hours", "hr", "hrs", "小时", "个小时"), "s", 3600.0),
    (("day", "days", "天", "日"), "s", 86400.0),
    (("week", "weeks", "周", "个星期", "星期"), "s", 604800.0),
    (("month", "months", "个月"), "s", 2629800.0),
    (("year", "years", "年", "周年"), "s", 31557600.0),
    (("w", "watt", "watts", "瓦"), "w", 1.0),
    (("kw", "kilowatt", "kilowatts", "千瓦"), "w", 1e3),
    (("mw", "megawatt", "megawatts", "兆瓦"), "w", 1e6),
    (("gw", "gigawatt", "gigawatts", "吉瓦"), "w", 1e9),
    (("mah", "毫安时"), "mah", 1.0),
    (("kb",), "byte", 1e3), (("mb",), "byte", 1e6), (("gb",), "byte", 1e9), (("tb",), "byte", 1e12),
    (("kg", "kilogram", "kilograms", "公斤", "千克"), "kg", 1.0),
    (("ton", "tons", "tonne", "tonnes", "吨"), "kg", 1e3),
    (("megaton", "megatons", "百万吨"), "tnt", 1e6), (("gigaton", "gigatons"), "tnt", 1e9),
    (("倍", "times", "fold"), "times", 1.0),
]:
    for name in names:
        _UNITS[name] = (dim, factor)

_CURRENCY_PREFIX = {"$": "usd", "us$": "usd", "€": "eur", "£": "gbp", "¥": "cny", "￥": "cny", "rmb": "cny"}


@dataclass(slots=True, frozen=True)
class Quantity:
    value: float  # in the dimension's base unit (dollars, metres, seconds, ...), or a plain count
    dim: str = ""  # "" for a count; "%", "usd", "m", "s", ...
    text: str = ""  # as written
    raw: float | None = None  # the value before its unit's conversion ("27 years": 27)

    def matches(self, other: Quantity) -> bool:
        """The same value in the same dimension; a bare number matches the same number with a unit."""
        if self.dim and other.dim:
            return self.dim == other.dim and _close(self.value, other.value)
        if not self.dim and not other.dim:
            return _close(self.value, other.value)
        return _close(self.plain, other.plain)

    @property
    def plain(self) -> float:
        return self.value if self.raw is None else self.raw

    def __str__(self) -> str:
        return self.text or f"{self.value:g}{self.dim}"


_EN_WORDS = "|".join(sorted([*_EN_SMALL, *_EN_ORDINAL], key=len, reverse=True))
_EN_SCALES = "hundred|thousand|million|billion|trillion"
_UNIT_WORDS = "|".join(sorted((re.escape(u) for u in _UNITS if u not in ("$", "€", "£", "¥")), key=len,
                              reverse=True))
_ZH_NUM = "[零〇一二两三四五六七八九十百千]+"
_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"

_QUANTITY = re.compile(
    rf"(?P<cur>us\$|\$|€|£|¥|￥)?\s?"
    rf"(?:(?P<digits>{_NUM})|(?P<enword>(?<![a-z])(?:{_EN_WORDS})(?:[\s-](?:{_EN_WORDS}))?(?![a-z]))"
    rf"|(?P<zhword>{_ZH_NUM}))"
    rf"(?:\s?-?\s?(?P<scale>(?<![a-z])(?:{_EN_SCALES})(?![a-z])|万亿|亿|万|千|百|bn|mn|tn|[kmb](?![a-z])))?"
    rf"(?:\s?-?\s?(?P<unit>(?:{_UNIT_WORDS})(?![a-z])))?",
    re.IGNORECASE,
)
_RATIO = re.compile(rf"(?<![a-z])(?P<a>{_EN_WORDS}|\d+)\s+(?:in|out\s+of)\s+(?P<b>{_EN_WORDS}|\d+)(?![a-z])", re.I)
_ZH_CHENG = re.compile(r"(?P<n>[一二两三四五六七八九十]|\d)成(?![员为功本绩果立交长])")
# A name that carries digits: GPT-4, Qwen3.6-27B, K3, V4, 70B, BA6634, quantum-nexus-ai-v2.
IDENTIFIER = re.compile(r"(?<![\w.])(?:[A-Za-z][\w.\-]*\d[\w.\-]*|\d+(?:\.\d+)?[A-Za-z][A-Za-z\d]*)(?![\w])")
_YEAR = re.compile(r"(?<![\d.,$])(?:19|20)\d{2}(?!\d|[.,]\d|\s?%)(?!\s?(?:亿|万|千|百|million|billion|thousand))")
_ZH_MEASURE = ("家个名位款项条次场轮人岁届周年天日月亿万千百倍成张处台部篇份只支场座所期次元米秒分"
               "小时英寸厘米公里千瓦兆瓦毫安美元欧元")


def _en_value(words: str) -> float:
    total = 0.0
    for w in re.split(r"[\s-]+", words.lower()):
        total += _EN_SMALL.get(w, _EN_ORDINAL.get(w, 0))
    return total


def quantities(text: str) -> list[Quantity]:
    """Every quantity stated in the text, years and digit-carrying names excluded."""
    masked = IDENTIFIER.sub(lambda m: m.group() if _plain(m.group()) else " " * len(m.group()), text)
    masked = _YEAR.sub(lambda m: " " * len(m.group()), masked)
    masked = _strip_dates(masked)
    out: list[Quantity] = []
    for m in _RATIO.finditer(masked):
        a, b = (float(x) if x.isdigit() else _en_value(x) for x in (m.group("a"), m.group("b")))
        if b:
            out.append(Quantity(100.0 * a / b, "%", m.group()))
    masked = _RATIO.sub(lambda m: " " * len(m.group()), masked)
    for m in _ZH_CHENG.finditer(masked):
        n = m.group("n")
        out.append(Quantity(10.0 * (float(n) if n.isdigit() else zh_numeral(n) or 0), "%", m.group()))
    masked = _ZH_CHENG.sub(lambda m: " " * len(m.group()), masked)
    for m in _QUANTITY.finditer(masked):
        q = _quantity(m, masked)
        if q is not None:
            out.append(q)
    return out


def _plain(token: str) -> bool:
    """A digits-and-unit token ("5500mAh", "40kW", "3090s") is a quantity, not a name."""
    m = re.fullmatch(rf"({_NUM})\s?([a-z%]+)", token, re.I)
    return m is not None and (m.group(2).lower() in _UNITS or m.group(2).lower() == "s")


def _quantity(m: re.Match[str], text: str) -> Quantity | None:
    digits, enword, zhword = m.group("digits"), m.group("enword"), m.group("zhword")
    scale, unit, cur = m.group("scale"), m.group("unit"), m.group("cur")
    if digits:
        value = float(digits.replace(",", ""))
    elif enword:
        value = _en_value(enword)
        if enword.lower() == "half" and not scale:
            return None  # "half" alone is a share, said many ways
    else:
        after = text[m.end("zhword"): m.end("zhword") + 2]
        if len(zhword) == 1 and not scale and not unit and not (after[:1] and after[:1] in _ZH_MEASURE):
            return None  # 一 in 一些, 统一, 一致: not a number
        value = zh_numeral(zhword) or 0.0
        if zhword in ("百", "千") and not scale:
            return None
    if scale:
        s = scale.lower()
        if s in ("k", "m", "b") and not (cur or digits):
            scale = None
        else:
            value *= _EN_SCALE.get(s) or _ZH_SCALE.get(scale) or {"千": 1e3, "百": 1e2}.get(scale, 1)
    dim, raw = "", None
    if cur:
        dim = _CURRENCY_PREFIX[cur.lower()]
    if unit:
        u = unit.lower()
        if u in ("mm", "mb", "gb", "kb", "tb", "w", "kw", "mw", "gw", "km", "cm", "ft", "mah") and not digits:
            unit = None  # a unit's short form after a number word is something else
        else:
            udim, factor = _UNITS[u]
            if not dim:
                dim, raw, value = udim, value, value * factor
    if value == 0 and not digits:
        return None
    return Quantity(value, dim, m.group().strip(), raw)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1e-9)


def same_quantity(claim: Quantity, evidence: list[Quantity]) -> bool:
    return any(claim.matches(e) for e in evidence)


# -- dates --------------------------------------------------------------------------

_MONTHS = {m: i for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july", "august",
                                         "september", "october", "november", "december"], start=1)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_WEEKDAYS = {d: i for i, d in enumerate(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                                           "sunday"], start=1)}
_ZH_WEEKDAY = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7}
_QUARTER = {"first": 1, "second": 2, "third": 3, "fourth": 4, "一": 1, "二": 2, "三": 3, "四": 4,
            "1": 1, "2": 2, "3": 3, "4": 4}
_REL = {"this": "this", "next": "next", "last": "last", "本": "this", "这": "this", "下": "next", "上": "last",
        "今": "this", "明": "next", "去": "last"}

_EN_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"(?<![a-z])(?P<part>end|start|beginning|early|late|mid|middle)(?:-|\s+of\s+|\s+)"
                rf"(?P<month>{_EN_MONTH})\.?(?![a-z])", re.I), "en_part_month"),
    (re.compile(rf"(?<![a-z])(?P<month>{_EN_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?!\d)", re.I),
     "en_month_day"),
    (re.compile(rf"(?<![a-z\d])(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_EN_MONTH})(?![a-z])",
                re.I), "en_day_month"),
    (re.compile(rf"(?<![a-z])(?P<month>{_EN_MONTH})(?![a-z])", re.I), "en_month"),
    (re.compile(r"(?P<month>\d{1,2}|[一二三四五六七八九十]+)\s?月\s?(?:(?P<day>\d{1,2}|[一二三四五六七八九十]+)\s?[日号])?"
                r"(?P<part>底|末|初|中旬|上旬|下旬)?"), "zh_month"),
    (re.compile(r"(?<![a-z])(?:(?P<ord>first|second|third|fourth)[\s-]+quarter|q(?P<q>[1-4])(?![\d]))", re.I),
     "quarter"),
    (re.compile(r"第\s?(?P<q>[一二三四1-4])\s?季度|(?P<h>[一二三四1-4])季度"), "quarter"),
    (re.compile(r"(?<![a-z])(?:(?P<rel>this|next|last)\s+)?(?P<wd>monday|tuesday|wednesday|thursday|friday|"
                r"saturday|sunday)(?![a-z])", re.I), "en_weekday"),
    (re.compile(r"(?P<rel>本|这|下|上)?(?:个)?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天])"), "zh_weekday"),
    (re.compile(r"(?<![a-z])(?P<rel>this|next|last)\s+(?P<unit>week|month|year|quarter)(?![a-z])", re.I),
     "en_rel"),
    (re.compile(r"(?P<rel>本|这|下|上|今|明|去)(?:个)?(?P<unit>周|星期|月|年|季度)(?![一二三四五六日天])"), "zh_rel"),
    (re.compile(r"(?<![a-z])(?P<word>today|yesterday|tomorrow|tonight)(?![a-z])", re.I), "en_day"),
    (re.compile(r"(?P<word>今日|今天|今晚|昨日|昨天|昨晚|明日|明天)"), "zh_day"),
]
_DAY_WORD = {"today": "today", "tonight": "today", "今日": "today", "今天": "today", "今晚": "today",
             "yesterday": "yesterday", "昨日": "yesterday", "昨天": "yesterday", "昨晚": "yesterday",
             "tomorrow": "tomorrow", "明日": "tomorrow", "明天": "tomorrow"}
_PART = {"end": "end", "late": "end", "底": "end", "末": "end", "下旬": "end", "start": "start",
         "beginning": "start", "early": "start", "初": "start", "上旬": "start", "mid": "mid", "middle": "mid",
         "中旬": "mid"}
_UNIT_REL = {"week": "week", "周": "week", "星期": "week", "month": "month", "月": "month", "year": "year",
             "年": "year", "quarter": "quarter", "季度": "quarter"}


def _num(s: str) -> int:
    return int(s) if s.isdigit() else int(zh_numeral(s) or 0)


def dates(text: str) -> set[str]:
    """The dates and periods the text names, as atoms: y2004, m12, m12d26, m3:end, q3, wd5, next-week:wd5, ..."""
    out: set[str] = set()
    for m in _YEAR.finditer(text):
        out.add(f"y{m.group()}")
    taken: list[tuple[int, int]] = []
    for pattern, kind in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(a <= m.start() < b for a, b in taken):
                continue
            atoms = _date_atoms(m, kind)
            if atoms:
                out |= atoms
                taken.append((m.start(), m.end()))
    return out


def _month_atoms(month: int, day: int | None, part: str | None) -> set[str]:
    """A month named in a sentence, with its day or its part ("late", "下旬") when given."""
    atoms = {f"m{month}"}
    if day is not None:
        atoms.add(f"m{month}d{day}")
    if part:
        atoms.add(f"m{month}:{_PART[part.lower()]}")
    return atoms


def _date_atoms(m: re.Match[str], kind: str) -> set[str]:
    g = m.groupdict()
    if kind.startswith("en_") and "month" in g and g["month"]:
        word = g["month"].lower().rstrip(".")
        if word == "may" and kind == "en_month":
            return set()  # the verb
        if word in ("mar", "jan", "jun", "oct", "dec", "sep", "nov", "feb", "apr", "jul", "aug") \
                and kind == "en_month" and not m.group().endswith(".") and m.group()[0].islower():
            return set()
        return _month_atoms(_MONTHS[word], int(g["day"]) if g.get("day") else None, g.get("part"))
    if kind == "zh_month":
        month = _num(g["month"])
        if not 1 <= month <= 12:
            return set()
        return _month_atoms(month, _num(g["day"]) if g.get("day") else None, g.get("part"))
    if kind == "quarter":
        q = g.get("ord") or g.get("q") or g.get("h") or ""
        return {f"q{_QUARTER[q.lower()]}"}
    if kind in ("en_weekday", "zh_weekday"):
        wd = _WEEKDAYS[g["wd"].lower()] if kind == "en_weekday" else _ZH_WEEKDAY[g["wd"]]
        atoms = {f"wd{wd}"}
        if g.get("rel"):
            atoms.add(f"{_REL[g['rel'].lower()]}-week:wd{wd}")
        return atoms
    if kind in ("en_rel", "zh_rel"):
        rel = _REL[g["rel"].lower()]
        unit = _UNIT_REL[g["unit"].lower()]
        if rel == "this" and g["rel"] in ("今",) and unit != "year":
            return set()
        return {f"{rel}-{unit}"}
    if kind in ("en_day", "zh_day"):
        return {_DAY_WORD[g["word"].lower()]}
    return set()


def _strip_dates(text: str) -> str:
    """The text with its dates blanked, so "December 26" and "12 月 26 日" are not counted as quantities."""
    for pattern, kind in _DATE_PATTERNS:
        if kind in ("en_month",):
            continue
        def blank(m: re.Match[str], k: str = kind) -> str:
            return " " * len(m.group()) if _date_atoms(m, k) else m.group()

        text = pattern.sub(blank, text)
    return text


# -- a thread's figures -------------------------------------------------------------

# A thread's (or a comment's) figures as a sentence gives them: "412 points", "318 comments", "score of 412",
# "412 分", "318 条评论", "得分 412". Points, votes and a score are one kind ("points"): the figure readers voted.
_FIGURE_KINDS = {"point": "points", "points": "points", "upvote": "points", "upvotes": "points", "vote": "points",
                 "votes": "points", "score": "points", "分": "points", "赞": "points", "个赞": "points",
                 "票": "points", "得分": "points", "comment": "comments", "comments": "comments",
                 "reply": "comments", "replies": "comments", "条评论": "comments", "个评论": "comments",
                 "则评论": "comments", "条回复": "comments", "条留言": "comments"}
_FIGURE = re.compile(
    rf"(?P<n>{_NUM})\s?-?\s?(?P<k>points?|upvotes?|votes?|comments?|replies|reply)(?![a-z])"
    rf"|(?<![a-z])(?P<k2>score)(?:d)?\s+(?:of\s+)?(?P<n2>{_NUM})"
    rf"|(?P<n3>{_NUM})\s?(?P<k3>分(?![钟之])|个?赞|票|条评论|个评论|则评论|条回复|条留言)"
    rf"|(?P<k4>得分)\s?(?P<n4>{_NUM})",
    re.IGNORECASE,
)


def thread_figures(text: str) -> list[tuple[str, int, int, int]]:
    """The figures of a thread the text gives: (kind, value, start, end), kind "points" or "comments"."""
    out = []
    for m in _FIGURE.finditer(text):
        n = m.group("n") or m.group("n2") or m.group("n3") or m.group("n4")
        kind = m.group("k") or m.group("k2") or m.group("k3") or m.group("k4")
        out.append((_FIGURE_KINDS[kind.lower()], int(float(n.replace(",", ""))), m.start(), m.end()))
    return out
