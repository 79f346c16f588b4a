"""Article pages for the extraction tests: our own text in the shapes sites use (nav, byline, asides, footer)."""

from __future__ import annotations

EN_PARAS = [
    "The lab released an open-weights model on Thursday that it says matches closed systems on coding benchmarks. "
    "The weights are available under a permissive licence, and the training recipe is described in a report.",
    "According to the report, the model was trained on 14 trillion tokens with a mixture-of-experts design. "
    "Only a fraction of its parameters is active for each token, which keeps serving costs low.",
    "Independent researchers cautioned that benchmark scores saturate quickly and asked for real-world evaluations. "
    "The lab said it would publish its evaluation harness next week so that others can reproduce the numbers.",
    "Cloud providers announced same-day support, and several inference engines shipped releases that load the model. "
    "Analysts expect the release to put pressure on the pricing of closed models in the coming months.",
]
ZH_PARAS = [
    "该实验室周四发布了一款开放权重模型，称其在代码基准测试上的成绩与闭源系统相当。模型权重以宽松许可证发布，训练方法也在技术报告中作了说明。",
    "报告显示，该模型采用混合专家架构，在十四万亿个词元上完成训练。每个词元只激活一小部分参数，从而降低了推理成本。",
    "独立研究人员提醒说，基准测试成绩很快就会饱和，呼吁进行真实场景的评测。实验室表示将于下周公开评测工具，方便其他人复现结果。",
    "多家云服务商宣布当天提供支持，多个推理引擎也发布了可加载该模型的新版本。分析人士预计，这将在未来几个月给闭源模型的定价带来压力。",
]


def article(title: str, paras: list[str], author: str = "Jane Doe", date: str = "2026-04-10T08:30:00Z",
            lang: str = "en", charset: str = "utf-8", meta_charset: bool = True) -> str:
    charset_tag = f'<meta charset="{charset}">' if meta_charset else ""
    body = "".join(f"<p>{p}</p>" for p in paras)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head>{charset_tag}<title>{title} | Lab News</title>'
        f'<meta name="author" content="{author}"><meta property="article:published_time" content="{date}">'
        '</head><body><header><nav><a href="/">Home</a> <a href="/news/">News</a> <a href="/about">About us</a>'
        '<a href="/careers">Careers</a></nav></header><main><article>'
        f'<h1>{title}</h1><p class="byline">By {author}</p>{body}</article>'
        '<aside><h3>Related stories</h3><ul><li><a href="/news/older-model">Our older model</a></li>'
        '<li><a href="/news/hiring">We are hiring</a></li></ul></aside></main>'
        '<footer><p>Subscribe to our newsletter for weekly updates.</p><p>(c) 2026 Example Lab. All rights reserved.</p>'
        '<a href="/privacy">Privacy</a> <a href="/terms">Terms</a></footer></body></html>'
    )
