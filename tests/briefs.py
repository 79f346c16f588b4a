"""Synthetic editions for the publish tests: briefs made in code, rendered by the real renderers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from dailybrief.publish import Edition, file_stem
from dailybrief.records import Branding, Brief, Paragraph, Reference, Section, Sentence
from dailybrief.render import render_all

ZH_SENTENCES = [
    "今日共收录 {n} 条报道，归并为若干事件。",
    "多家实验室发布新模型，推理与代码能力明显提升。",
    "监管机构就前沿模型的安全评估征求意见，业界反应不一。",
    "开源社区发布了新的推理框架，显著降低了部署成本。",
]
EN_SENTENCES = [
    "Today's edition draws on {n} reports merged into a handful of events.",
    "Several labs released new models with better reasoning and coding.",
    "Regulators asked for comments on safety evaluations of frontier models, and the industry is split.",
    "The open-source community shipped a new inference framework that cuts serving costs.",
]


def make_brief(language: str = "zh", day: date = date(2026, 4, 10), *, sentences: int = 3, headlines: int = 4,
               headline: str = "", long: bool = False) -> Brief:
    """A brief with an abstract of whole sentences and numbered story sections, each citing a reference."""
    base = ZH_SENTENCES if language == "zh" else EN_SENTENCES
    abstract = []
    for i in range(sentences):
        text = base[i % len(base)].format(n=40 + i)
        if long:  # long sentences make the size limits bite
            text = (f"第 {i + 1} 句：" if language == "zh" else f"Sentence {i + 1}: ") + text * 4
        elif i >= len(base):
            text = (f"（{i + 1}）" if language == "zh" else f"({i + 1}) ") + text
        abstract.append(Sentence(text, [1]))
    sections = []
    for k in range(headlines):
        title = headline if (headline and k == 0) else (
            f"第 {k + 1} 条要闻：某实验室发布新一代多模态模型并开放接口" if language == "zh"
            else f"Story {k + 1}: a lab ships a new multimodal model and opens its API")
        if long:
            title += "，" + "细节与各方评论" * 8 if language == "zh" else ", " + "with details and reactions " * 6
        sections.append(Section(kind="story", title=title.strip(), story_id=f"s{k}", outlets=["Outlet A"],
                                paragraphs=[Paragraph("facts", [Sentence(base[1], [1])])]))
    sections.append(Section(kind="roundup", title="", paragraphs=[Paragraph("roundup", [Sentence(base[3], [1])])]))
    title = "AI 技术每日分析" if language == "zh" else "AI Daily Analysis"
    return Brief(edition=day, language=language, title=title,
                 branding=Branding(organisation=["测试机构"], website="https://org.example"),
                 themes=["模型" if language == "zh" else "models"], abstract=[Paragraph("abstract", abstract)],
                 sections=sections,
                 references=[Reference(1, "item1", "https://news.example/1", "Outlet A", "A report", None, "note")])


def render_edition(folder: Path, briefs: list[Brief], formats: tuple[str, ...] = ("md", "html", "pdf", "json")) -> Edition:
    """Render briefs with the real renderers into ``folder``; the Edition that holds them."""
    langs = [b.language for b in briefs]
    files: list[Path] = []
    for b in briefs:
        files.extend(render_all(b, folder, formats, stem=file_stem(b.language, langs)).values())
    return Edition(briefs[0].edition, briefs, sorted(files))
