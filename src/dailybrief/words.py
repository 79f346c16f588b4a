"""Every word a reader sees, in every edition language: one table.

The writers (section notes, follow-up wording, the sentences the extractive
writer builds, the language names given to the model), the renderers' labels,
the chat digest, the archive site and the themes all read from ``WORDS``. A
test checks that every key exists in every language, so a label one module
asks for can never be missing in another language.

Placeholders are ``str.format`` fields: ``{n}``, ``{platform}``, ...
"""

from __future__ import annotations

from datetime import date

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        # -- the sections of a brief (render)
        "abstract": "摘要",
        "contents": "目录",
        "facts": "事实梳理",
        "views": "社区与媒体观点",
        "analysis": "产业分析",
        "roundup": "速览",
        "references": "参考文献与拓展阅读",
        "follow_up": "跟进",
        "contact": "联系我们",
        "scan": "联系我们，请扫描二维码",
        "about": "关于我们",
        "website": "网站地址",
        "themes": "今日主题",
        "notes": "说明",
        "published": "发布于",
        "page": "页",
        "outlets_one": "{n} 家媒体报道",
        "outlets_many": "{n} 家媒体报道",
        "coverage": "报道覆盖",
        "coverage_note": "每个事件的报道媒体数，按来源类型",
        "tier_official": "官方",
        "tier_press": "媒体",
        "tier_paper": "论文",
        "tier_code": "代码",
        "tier_community": "社区",
        "tier_other": "其他",
        "momentum": "近 {n} 日热度",
        "momentum_note": "每日相关报道数",
        "headlines": "今日要闻",
        "read_more": "阅读全文",
        "roundup_more": "另有 {n} 条速览",
        "more_stories": "……另有 {n} 个事件，见全文",
        "unsupported": "〔来源未证实〕",
        # -- punctuation and dates
        "list_sep": "、",
        "more": "等",
        "lead_sep": "：",
        "paren": "（{text}）",
        "figure_sep": "，",
        "and": "与",
        "date_long": "{year} 年 {month} 月 {day} 日",
        "date_short": "{month}/{day}",
        # -- the writers: figures, notes, fallbacks
        "points": "{n} 分",
        "comments": "{n} 条评论",
        "score": "得分 {n}",
        "thread": "{platform} 讨论帖",
        "no_analysis": "产业分析需要语言模型：在配置的 [writer] 中设置 kind = \"openai\" 及其端点后生成。"
                       "抽取式写作只转述来源原文，不做推断。",
        # the edition's counts: "outlets" joins the counted words below (each _one or _many by its number)
        "outlets": "今日共收录 {items}，来自 {outlets}，归并为 {stories}；{top}。",
        "n_reports_one": "{n} 条报道",
        "n_reports_many": "{n} 条报道",
        "n_sources_one": "{n} 个信源",
        "n_sources_many": "{n} 个信源",
        "n_events_one": "{n} 个事件",
        "n_events_many": "{n} 个事件",
        "top_one": "以下是其中最受关注的 1 个",
        "top_many": "以下是其中最受关注的 {n} 个",
        "top_all_one": "详见下文",
        "top_all_many": "以下逐一介绍",
        "top_none": "均未单独成节，见速览",
        "fallback": "语言模型未能写出本节（{reason}），以下内容由抽取式写作生成。",
        "fallbacks": "{n} 个部分的语言模型输出不可用，已改用抽取式写作：{titles}。",
        "fallback_sep": "、",
        "holders": "（{holders}）",
        "comment_score": "{n} 分",
        "holders_sep": "；",
        "title_only": "来源只给出了标题。",
        "tools_line": "工具与代码库",
        "papers_line": "论文",
        "roundup_sep": "；",
        "left_out": "{n} 个事件无法写出，已从本期略去：{titles}。",
        "the_abstract": "摘要",
        # -- a follow-up: what is new since the story was last briefed
        "follow_up_head": "跟进：此事件已在 {when} 的简报中报道（首见于 {first}）。",
        "new_reports_one": "此后新增 {n} 篇报道，",
        "new_reports_many": "此后新增 {n} 篇报道，",
        "new_outlets_one": "新信源：{outlets}。",
        "new_outlets_many": "新信源：{outlets}。",
        "same_outlets": "均来自此前已报道的信源。",
        # -- themes and the abstract's theme sentence
        "term_sep": "、",
        "themes_sentence_one": "今日重点事件可归为{count}条主线：{themes}。",
        "themes_sentence_many": "今日重点事件可归为{count}条主线：{themes}。",
        "theme_sections_one": "{name}（第 {numbers} 节）",
        "theme_sections_many": "{name}（第 {numbers} 节）",
        "theme_sep": "、",
        "theme_and": "与",
        "number_sep": "、",
        "number_and": "、",
        "count_1": "一",
        "count_2": "两",
        "count_3": "三",
        # -- the language the model is asked to write in (the prompt is in English)
        "model_language": "Simplified Chinese (简体中文)",
        "model_write_in": "请用简体中文写这一节，回复一个 JSON 对象：标题、每一句话和每个观点的名称都用中文；"
                          "英文来源的内容要译成中文，产品名和机构名可保留原文。",
        # -- chat messages (digest)
        "digest_more": "另有 {n} 条，详见全文",
        "follow_up_mark": "（跟进）",
        "more_problems": "……另有 {n} 条问题，详见 `dailybrief runs`",
        # -- the archive site
        "archive": "往期简报",
        "feed": "订阅（Atom）",
        "html": "网页版",
        "pdf": "PDF",
        "md": "Markdown",
        "count": "共 {n} 期",
        "empty": "还没有简报。",
        "made": "由 dailybrief 生成",
        # -- the editor's desk: uncited text an editor adds is labelled as theirs
        "editor_note": "编者按：{text}",
    },
    "en": {
        "abstract": "Abstract",
        "contents": "Contents",
        "facts": "What happened",
        "views": "Community & media views",
        "analysis": "Analysis",
        "roundup": "Roundup",
        "references": "References",
        "follow_up": "Follow-up",
        "contact": "Contact",
        "scan": "Scan the QR code to get in touch",
        "about": "About",
        "website": "Website",
        "themes": "Themes",
        "notes": "Notes",
        "published": "published",
        "page": "Page",
        "outlets_one": "{n} outlet",
        "outlets_many": "{n} outlets",
        "coverage": "Coverage",
        "coverage_note": "Outlets per story, by kind of source",
        "tier_official": "Official",
        "tier_press": "Press",
        "tier_paper": "Paper",
        "tier_code": "Code",
        "tier_community": "Community",
        "tier_other": "Other",
        "momentum": "{n}-day momentum",
        "momentum_note": "reports per day",
        "headlines": "Headlines",
        "read_more": "Read the full briefing",
        "roundup_more": "plus {n} more in the roundup",
        "more_stories": "… and {n} more stories in the full briefing",
        "unsupported": " [not supported by its sources]",
        "list_sep": ", ",
        "more": ", …",
        "lead_sep": ": ",
        "paren": " ({text})",
        "figure_sep": ", ",
        "and": " and ",
        "date_long": "{day} {month_name} {year}",
        "date_short": "{month_abbr} {day}",
        "points": "{n} points",
        "comments": "{n} comments",
        "score": "score {n}",
        "thread": "{platform} thread",
        "no_analysis": "Analysis needs a language model: set [writer] kind = \"openai\" and its endpoint in the "
                       "config. The extractive writer only restates its sources; it does not infer.",
        "outlets": "Today's edition draws on {items} from {outlets}, merged into {stories}; {top}.",
        "n_reports_one": "{n} report",
        "n_reports_many": "{n} reports",
        "n_sources_one": "{n} source",
        "n_sources_many": "{n} sources",
        "n_events_one": "{n} event",
        "n_events_many": "{n} events",
        "top_one": "this is the one that matters most",
        "top_many": "these are the {n} that matter most",
        "top_all_one": "it is briefed below",
        "top_all_many": "each is briefed below",
        "top_none": "none has a section of its own; the roundup lists them",
        "fallback": "The model could not write this section ({reason}); what follows is extractive.",
        "fallbacks": "{n} part(s) fell back from the model to the extractive writer: {titles}.",
        "fallback_sep": "; ",
        "holders": " ({holders})",
        "comment_score": "{n} points",
        "holders_sep": "; ",
        "title_only": "The sources give only a headline.",
        "tools_line": "Tools and repos",
        "papers_line": "Papers",
        "roundup_sep": "; ",
        "left_out": "{n} story(ies) could not be written and were left out of this edition: {titles}.",
        "the_abstract": "the abstract",
        "follow_up_head": "Follow-up: this story was briefed on {when} (first seen {first}). ",
        "new_reports_one": "New since then: {n} report",
        "new_reports_many": "New since then: {n} reports",
        "new_outlets_one": ", from a new outlet, {outlets}.",
        "new_outlets_many": ", from new outlets {outlets}.",
        "same_outlets": ", all from outlets that covered it before.",
        "term_sep": " and ",
        "themes_sentence_one": "The day's top stories run along one thread: {themes}.",
        "themes_sentence_many": "The day's top stories run along {n} threads: {themes}.",
        "theme_sections_one": "{name} (section {numbers})",
        "theme_sections_many": "{name} (sections {numbers})",
        "theme_sep": "; ",
        "theme_and": "; and ",
        "number_sep": ", ",
        "number_and": " and ",
        "count_1": "one",
        "count_2": "two",
        "count_3": "three",
        "model_language": "English",
        "model_write_in": "Write the section in English, as one JSON object: the title, every sentence and every position's "
                          "name; translate what the passages say in other languages.",
        "digest_more": "{n} more in the full briefing",
        "follow_up_mark": " (follow-up)",
        "more_problems": "… and {n} more: see `dailybrief runs`",
        "archive": "Archive",
        "feed": "Atom feed",
        "html": "Web",
        "pdf": "PDF",
        "md": "Markdown",
        "count": "{n} editions",
        "empty": "No editions yet.",
        "made": "Made by dailybrief",
        "editor_note": "Editor's note: {text}",
    },
}

LANGUAGES = tuple(WORDS)


def words(language: str) -> dict[str, str]:
    """The words of a language; an unknown language gets the English ones."""
    return WORDS.get(language, WORDS["en"])


def count_word(n: int, language: str) -> str:
    """'两' / 'two' for small counts, the digits otherwise."""
    return words(language).get(f"count_{n}", str(n))


def counted(w: dict[str, str], key: str, n: int, **fields: str) -> str:
    """The words `key`_one or `key`_many of a language's words `w`, as `n` asks, with {n} and `fields` filled in."""
    return w[f"{key}_one" if n == 1 else f"{key}_many"].format(n=n, **fields)


def join_all(parts: list[str], sep: str, last: str) -> str:
    """'a、b与c' / 'a; b; and c': parts joined, the last one by its own word."""
    if len(parts) < 2:
        return "".join(parts)
    return sep.join(parts[:-1]) + last + parts[-1]


MONTHS = ("January", "February", "March", "April", "May", "June",
          "July", "August", "September", "October", "November", "December")


def format_date(day: date, language: str) -> str:
    """'2026 年 4 月 10 日' in Chinese, '10 April 2026' otherwise."""
    return words(language)["date_long"].format(year=day.year, month=day.month, day=day.day,
                                               month_name=MONTHS[day.month - 1])
