"""Synthetic editions for the publish tests: briefs made in code, rendered by the real renderers."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

from dailybrief.publish.base import Edition, file_stem
from dailybrief.records import Branding, Brief, Paragraph, Reference, Section, Sentence
from dailybrief.render.formats import render_all

SPECIAL_TITLE = "Prices #1 $5 *bold* _under_ <tag> @user [x] back\\slash"
XSS_TITLE = "<script>alert(1)</script> 模型发布"
XSS_SENTENCE = "有人在评论里贴了 <img src=x onerror=alert(1)> 这样的代码。"

MOMENTUM = [0, 1, 0, 3, 0, 2, 5]
EDITION_URL = "https://brief.example.org/2026-04-10/brief.html"

REF_TITLES = [
    "Anthropic withholds Mythos from public release",
    "OpenAI is prepping a Claude Mythos rival",
    "Meta unveils Muse Spark as it tries to catch up",
    "Meta signs $21 billion AI deal with CoreWeave",
    "Ask HN: Is restricted release the new normal?",
    "Measuring progress toward AGI: A cognitive framework",
]


def _png(path: Path) -> Path:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (160, 160), (31, 90, 140))
    draw = ImageDraw.Draw(image)
    draw.ellipse((30, 30, 130, 130), fill=(255, 255, 255))
    image.save(path)
    return path


def _sample_brief(tmp_path: Path, language: str = "zh") -> Brief:
    published = datetime(2026, 4, 9, 21, 30, tzinfo=timezone.utc)
    outlets = ["Times of India", "India Today", "Hacker News", "Reddit", "The Verge", "Axios"]
    references = [
        Reference(i + 1, f"item{i + 1}", f"https://news.example.com/story/{i + 1}?utm=x&y=1", outlets[i], title, published,
                  note=f"第 {i + 1} 条来源的说明", tier="press")
        for i, title in enumerate(REF_TITLES)
    ]
    references[4].url = "javascript:alert(1)"
    references[5].title = SPECIAL_TITLE
    s = Sentence
    story1 = Section(
        kind="story",
        title="网络安全 AI 的“潘多拉魔盒”：Mythos 与 Spud 的非公开博弈",
        paragraphs=[
            Paragraph("facts", [
                s("Anthropic 宣布 Mythos 将永远不对公众开放。", [1]),
                s("该模型仅向 11 家精选核心组织提供访问权限。", [1, 3]),
            ]),
            Paragraph("facts", [s("据 Axios 披露，OpenAI 也在研发代号为“Spud”的对标模型。", [2])]),
            Paragraph("views", [
                s("开源社区对这种“因极度危险而封闭”的做法表达了强烈的不满。", [5]),
                s(XSS_SENTENCE, [5]),
            ], lead="Hacker News · 412 points"),
            Paragraph("views", [s("部分安全专家认为零日漏洞自动化挖掘时代已经到来。", [1])], lead="Reddit"),
        ],
        story_id="st1",
        follow_up=True,
        outlets=outlets[:4],
        notes=["产业分析需要语言模型；本节由抽取式写作器生成。"],
        coverage={"press": 2, "community": 2},
        momentum=MOMENTUM,
    )
    story2 = Section(
        kind="story",
        title=XSS_TITLE,
        paragraphs=[
            Paragraph("facts", [
                s("Meta 正式揭晓了其最新的人工智能基础模型 Muse Spark。", [3]),
                s("Meta 已与 CoreWeave 签署了价值 210 亿美元的协议。", [4]),
            ]),
            Paragraph("views", [s("The Verge called it “Meta's most credible model yet.”", [3])], lead="The Verge"),
            Paragraph("analysis", [s("算力投入正在成为基础模型竞赛的门槛。", [3, 4])]),
        ],
        story_id="st2",
        outlets=outlets,
        coverage={"official": 1, "press": 3, "community": 2},
        momentum=[0, 0, 0, 0, 0, 0, 6],  # new today: no line to draw
    )
    roundup = Section(
        kind="roundup",
        title="其他动态",
        paragraphs=[
            Paragraph("roundup", [s("Google DeepMind 推出迈向 AGI 的认知框架。", [6])]),
            Paragraph("roundup", [s("OpenAI 发布《儿童安全蓝图》。", [])], lead="OpenAI"),
        ],
    )
    return Brief(
        edition=date(2026, 4, 10),
        language=language,
        title="AI 技术每日分析",
        branding=Branding(
            organisation=["中国高技术产业发展促进会新质生产力工作委员会", "博雅云创 & 中科创新驱动"],
            website="gyznswn.cn",
            contact=["电话：010-1234 5678", "邮箱：contact@example.com"],
            qr_url="https://gyznswn.cn/wechat",
            qr_caption="新质生产力工作委员会官方公众号",
            logo=str(_png(tmp_path / "logo.png")),
            about="中国高技术产业发展促进会新质生产力工作委员会，专注于推动工业人工智能、智能制造、数字化转型等前沿技术发展。",
        ),
        themes=["安全收紧", "底层竞速"],
        abstract=[Paragraph("abstract", [
            s("国际人工智能领域出现“安全收紧”与“底层竞速”双轨并行的趋势。", [1, 2]),
            s("Meta 推出新一代基础大模型 Muse Spark，并签下 210 亿美元的算力大单。", [3, 4]),
        ])],
        sections=[story1, story2, roundup],
        references=references,
        generated=datetime(2026, 4, 10, 7, 0, tzinfo=timezone.utc),
        notes=["本期由抽取式写作器生成。"],
        url=EDITION_URL,
    )

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
