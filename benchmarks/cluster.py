"""Benchmark: 100,000 items over 30 simulated days, clustered incrementally, day by day.

    python benchmarks/cluster.py [--items 100000] [--days 30]

Items are synthetic news reports in English and Chinese: templated headlines and leads about many
synthetic events (launches, deals, funding, lawsuits, breaches ...) by a few hundred companies in forty
domains, several paraphrases per template, events lasting one to several days, reported by 1 to ~150
outlets each. Same-template reports of one event are near-duplicates by design (syndication). Each item
is embedded from its title and lead, as in the pipeline.

Printed, from the same run:
- the embedding model's own bound: short sentences/s (2,000 of the items' titles, median of 3);
- end to end, day by day: near-duplicate signatures + embedding + clustering + ranking, items/s, and how
  fast the embedding alone went inside it (title + lead: the real bound for end to end);
- clustering alone, once the items are embedded: items/s;
- peak memory (max RSS) of the whole run;
- as a sanity check, pairwise F1 of the stories against the synthetic events.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone

import numpy as np

from dailybrief.evals.cluster import pairwise
from dailybrief.ids import content_hash
from dailybrief.records import Item
from dailybrief.stories.cluster import StoryIndex, cluster_items
from dailybrief.stories.dedup import dedup_text, minhash_many, near_duplicates
from dailybrief.stories.embed import USEEmbedder, item_text
from dailybrief.stories.rank import RankSettings, rank

COMPANIES = [
    ("OpenAI", "OpenAI"), ("Google", "谷歌"), ("Meta", "Meta"), ("Microsoft", "微软"), ("Nvidia", "英伟达"),
    ("Alibaba", "阿里巴巴"), ("Tencent", "腾讯"), ("Baidu", "百度"), ("ByteDance", "字节跳动"), ("Apple", "苹果"),
    ("Amazon", "亚马逊"), ("Anthropic", "Anthropic"), ("DeepSeek", "DeepSeek"), ("Huawei", "华为"),
    ("Samsung", "三星"), ("Intel", "英特尔"), ("AMD", "AMD"), ("Xiaomi", "小米"), ("Mistral", "Mistral"),
    ("Zhipu", "智谱"), ("Moonshot", "月之暗面"), ("MiniMax", "MiniMax"), ("IBM", "IBM"), ("Oracle", "甲骨文"),
    ("Tesla", "特斯拉"), ("xAI", "xAI"), ("Cohere", "Cohere"), ("Qualcomm", "高通"), ("Arm", "Arm"), ("TSMC", "台积电"),
]
SYLLABLES = ["ka", "ro", "mi", "ta", "ven", "lo", "sar", "qui", "del", "nor", "bex", "tal", "zu", "fen", "gri", "mox",
             "pra", "sol", "ter", "vik", "wen", "yor", "zan", "cal", "dri", "esk", "hal", "jun", "lum", "orb"]
CITIES = [("Berlin", "柏林"), ("Tokyo", "东京"), ("Austin", "奥斯汀"), ("Shenzhen", "深圳"), ("Paris", "巴黎"),
          ("Seoul", "首尔"), ("London", "伦敦"), ("Singapore", "新加坡"), ("Dubai", "迪拜"), ("Toronto", "多伦多")]
PRODUCTS = [("model", "模型"), ("chip", "芯片"), ("assistant", "助手"), ("robot", "机器人"), ("search engine", "搜索引擎"),
            ("coding agent", "编程智能体"), ("data platform", "数据平台"), ("smart glasses", "智能眼镜")]

DOMAINS = [("healthcare", "医疗"), ("finance", "金融"), ("education", "教育"), ("weather forecasting", "天气预报"),
           ("drug discovery", "药物研发"), ("autonomous driving", "自动驾驶"), ("gaming", "游戏"),
           ("translation", "翻译"), ("agriculture", "农业"), ("logistics", "物流"), ("music", "音乐"), ("video", "视频"),
           ("legal work", "法律服务"), ("retail", "零售"), ("energy grids", "电网"), ("climate research", "气候研究"),
           ("satellites", "卫星"), ("smartphones", "手机"), ("batteries", "电池"), ("insurance", "保险"),
           ("shipping", "航运"), ("aviation", "航空"), ("mining", "矿业"), ("banking", "银行业"), ("advertising", "广告"),
           ("customer service", "客服"), ("chip design", "芯片设计"), ("genomics", "基因组学"), ("cameras", "相机"),
           ("home robots", "家用机器人"), ("tax filing", "报税"), ("recruiting", "招聘"), ("sports", "体育"),
           ("real estate", "房地产"), ("tourism", "旅游"), ("food delivery", "外卖"), ("e-commerce", "电商"),
           ("public transit", "公共交通"), ("steel", "钢铁"), ("cloud storage", "云存储")]

# Per event kind: English titles, Chinese titles, English leads, Chinese leads. {a} {b} companies, {p} product
# name, {k} product kind, {t} domain, {n} amount, {c} city.
EVENTS: dict[str, tuple[list[str], list[str], list[str], list[str]]] = {
    "launch": (
        ["{a} unveils {p}, a {k} for {t}", "{a} launches {p} {k} aimed at {t}", "{a}'s {p} brings a {k} to {t}",
         "Hands-on with {p}, {a}'s new {t} {k}"],
        ["{a}发布面向{t}的{k}{p}", "{a}推出{t}{k}{p}", "{a}新{k}{p}瞄准{t}", "上手体验：{a}的{t}{k}{p}"],
        ["{a} has released {p}, a {k} built for {t} that it says beats its previous generation.",
         "The {p} {k} from {a} targets {t} customers and goes on sale this week.",
         "{a} says {p} is its most capable {k} for {t} yet."],
        ["{a}发布了面向{t}的新一代{k}{p}，称性能大幅超过上一代。", "{a}的{p}主要面向{t}客户，将于本周上市。",
         "{a}表示{p}是其迄今在{t}领域最强的{k}。"],
    ),
    "funding": (
        ["{a} raises ${n} billion to expand in {t}", "{a} closes ${n}bn round for its {t} push",
         "Investors pour ${n} billion into {a}'s {t} business"],
        ["{a}完成{n}0亿美元融资，加码{t}", "{a}获{n}0亿美元融资布局{t}", "投资者向{a}的{t}业务注资{n}0亿美元"],
        ["The round values {a} well above its last valuation, people familiar with the {t} deal said.",
         "{a} will use the ${n} billion to build {k} products for {t}."],
        ["本轮融资后{a}估值大幅上升，资金将投向{t}。", "{a}表示将把资金用于开发{t}{k}。"],
    ),
    "deal": (
        ["{a} signs ${n} billion {t} deal with {b}", "{a} and {b} agree ${n}bn partnership in {t}",
         "{b} wins {a} {t} contract worth ${n}bn"],
        ["{a}与{b}签下{n}0亿美元{t}协议", "{a}与{b}在{t}领域达成合作，金额{n}0亿美元", "{b}拿下{a}价值{n}0亿美元的{t}大单"],
        ["Under the deal {b} will supply {a} with {k} capacity for {t} over five years.",
         "{a} and {b} did not disclose every term of the {t} agreement."],
        ["根据协议，{b}将在五年内为{a}的{t}业务提供{k}。", "双方未披露这项{t}协议的全部条款。"],
    ),
    "lawsuit": (
        ["{b} sues {a} over {p} {t} software", "{a} faces lawsuit from {b} over {t} patents",
         "Court battle: {b} takes {a} to court over {p}"],
        ["{b}起诉{a}，涉及{t}软件{p}", "{a}因{t}专利遭{b}起诉", "{b}就{p}与{a}对簿公堂"],
        ["The complaint, filed in {c}, says {a} copied parts of {b}'s {t} {k}.",
         "{a} said it would fight the claims about {p}."],
        ["起诉书在{c}提交，称{a}抄袭了{b}的{t}{k}。", "{a}表示将就{p}相关指控积极应诉。"],
    ),
    "breach": (
        ["{a} discloses breach of its {t} service {p}", "Hackers hit {a}'s {t} app {p}",
         "{a} confirms security incident at {p}, its {t} platform"],
        ["{a}披露{t}服务{p}数据泄露", "黑客攻击{a}旗下{t}应用{p}", "{a}确认{t}平台{p}发生安全事件"],
        ["Attackers accessed data of about {n} million {t} accounts, {a} said.",
         "{a} has patched the vulnerability in {p} used for {t}."],
        ["{a}称约{n}百万个{t}账户数据遭到访问。", "{a}已修复{p}中的相关漏洞。"],
    ),
    "datacenter": (
        ["{a} to build ${n} billion {t} data center in {c}", "{a} plans {c} campus for {t} computing",
         "{a} bets ${n}bn on {c} hub to serve {t}"],
        ["{a}将在{c}投资{n}0亿美元建设{t}数据中心", "{a}计划在{c}建设{t}算力园区", "{a}押注{c}{t}算力枢纽"],
        ["The {c} site will house {b} accelerators for {t} workloads and open next year.",
         "{a} says the {c} campus for {t} will run on renewable power."],
        ["{c}园区将部署{b}加速器，服务{t}业务，预计明年投用。", "{a}表示{c}的{t}园区将使用可再生能源。"],
    ),
    "acquisition": (
        ["{a} to acquire {t} startup {b} for ${n} billion", "{a} buys {b} to grow in {t}",
         "{a}-{b} merger creates a {t} giant"],
        ["{a}拟以{n}0亿美元收购{t}初创公司{b}", "{a}收购{b}，扩张{t}业务", "{a}与{b}合并，打造{t}巨头"],
        ["The purchase gives {a} control of {b}'s {t} {k} business.", "Regulators in {c} cleared the {t} deal."],
        ["此次收购让{a}掌控{b}的{t}{k}业务。", "{c}监管机构批准了这笔{t}交易。"],
    ),
}
FOLLOW_EN = ["Shares of {a} moved after the {t} news.", "Analysts in {c} weighed in on {p}.",
             "{b} responded to the {t} report on {d}.", "Customers in {t} asked what {p} means for them."]
FOLLOW_ZH = ["{t}消息公布后{a}股价波动。", "{c}的分析师点评了{p}。", "{b}随后就{t}报道作出回应。",
             "{t}行业客户关心{p}带来的影响。"]
PREFIX_EN = ["", "", "", "Report: ", "Exclusive: ", "Update: ", "Analysis: "]
PREFIX_ZH = ["", "", "", "快讯：", "独家：", "观察：", "更新："]
EXTRA_EN = ["", "The company did not comment further.", "More details are expected next week.",
            "It is the latest move in a crowded market.", "Rivals are expected to respond.",
            "A spokesperson confirmed the plan.", "People familiar with the matter described it first.",
            "The news was first reported by a trade newsletter.", "Critics questioned the timing.",
            "The figures could not be independently verified.", "Employees were told in an internal memo."]
EXTRA_ZH = ["", "公司未作进一步评论。", "更多细节预计下周公布。", "这是该赛道的最新动向。", "竞争对手预计将跟进。",
            "公司发言人证实了这一计划。", "知情人士率先透露了消息。", "该消息最早由行业媒体披露。", "也有人质疑发布时机。",
            "相关数字暂无法独立核实。", "员工已通过内部邮件获知。"]


def _name(rng: np.random.Generator) -> str:
    return "".join(rng.choice(SYLLABLES, size=int(rng.integers(2, 4)))).capitalize()


def synthetic_stream(n_items: int, days: int, seed: int = 7) -> tuple[list[list[Item]], list[list[str]]]:
    """Items per day and their gold event ids."""
    rng = np.random.default_rng(seed)
    companies = COMPANIES + [(n, n) for n in sorted({_name(rng) for _ in range(400)})]  # sorted: hash-seed free
    kinds = sorted(EVENTS)
    per_day: list[list[Item]] = [[] for _ in range(days)]
    gold: list[list[str]] = [[] for _ in range(days)]
    outlets = [f"Outlet {i}" for i in range(300)]
    start = date(2026, 3, 1)
    made = 0
    event = 0
    while made < n_items:
        event += 1
        kind = kinds[int(rng.integers(len(kinds)))]
        a, b = (companies[int(i)] for i in rng.choice(len(companies), size=2, replace=False))
        p = _name(rng)
        k = PRODUCTS[int(rng.integers(len(PRODUCTS)))]
        c = CITIES[int(rng.integers(len(CITIES)))]
        t = DOMAINS[int(rng.integers(len(DOMAINS)))]
        n = int(rng.integers(2, 60))
        first = int(rng.integers(days))
        length = int(min(rng.geometric(0.45), 6))
        reports = int(min(rng.zipf(1.8), 150))
        en_t, zh_t, en_l, zh_l = EVENTS[kind]
        for r in range(reports):
            if made >= n_items:
                break
            d = min(days - 1, first + int(rng.integers(length)))
            zh = rng.random() < 0.4
            fill = {"a": a[1] if zh else a[0], "b": b[1] if zh else b[0], "p": p, "k": k[1] if zh else k[0],
                    "n": n, "c": c[1] if zh else c[0], "t": t[1] if zh else t[0],
                    "d": (start + timedelta(days=d)).strftime("%A")}
            titles, leads, follow = (zh_t, zh_l, FOLLOW_ZH) if zh else (en_t, en_l, FOLLOW_EN)
            prefix, extra = (PREFIX_ZH, EXTRA_ZH) if zh else (PREFIX_EN, EXTRA_EN)
            sep = "" if zh else " "
            title = prefix[int(rng.integers(len(prefix)))] + titles[int(rng.integers(len(titles)))].format(**fill)
            lead = leads[int(rng.integers(len(leads)))].format(**fill)
            if d > first:
                lead = follow[int(rng.integers(len(follow)))].format(**fill) + sep + lead
            lead = (lead + sep + extra[int(rng.integers(len(extra)))]).strip()
            when = datetime.combine(start + timedelta(days=d), datetime.min.time(), timezone.utc) + \
                timedelta(minutes=int(rng.integers(24 * 60)))
            outlet = outlets[int(rng.integers(len(outlets)))]
            item_id = content_hash("bench", event, r)
            per_day[d].append(Item(id=item_id, source_id=outlet, source_name=outlet,
                                   tier=("official", "press", "press", "press", "community")[int(rng.integers(5))],
                                   url=f"https://{outlet.replace(' ', '').lower()}.example/{item_id}",
                                   canonical_url="", title=title, text=lead, language="zh" if zh else "en",
                                   published=when, points=int(rng.integers(0, 500)) if rng.random() < 0.2 else None))
            gold[d].append(f"e{event}")
            made += 1
    return per_day, gold


def peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Max RSS in MB: of this process, or (RUSAGE_CHILDREN) of the largest child that has ended."""
    return resource.getrusage(who).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=30)
    args = ap.parse_args()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores; other work slows the figures)")

    t = time.perf_counter()
    per_day, gold = synthetic_stream(args.items, args.days)
    total = sum(len(d) for d in per_day)
    print(f"synthetic stream: {total} items over {args.days} days, {len({g for d in gold for g in d})} events "
          f"({time.perf_counter() - t:.1f} s to generate)")

    embedder = USEEmbedder()  # as in the pipeline: batches this large are encoded by one process per core
    embedder.encode(["warm up"] * 2000)  # starts the worker processes
    sample = [i for d in per_day for i in d][:: max(1, total // 2000)][:2000]
    rates = []
    for _ in range(3):
        t = time.perf_counter()
        embedder.encode([i.title for i in sample])
        rates.append(len(sample) / (time.perf_counter() - t))
    short_rate = statistics.median(rates)
    print(f"embedding model's bound (USE, {embedder.workers} processes): {short_rate:,.0f} short sentences/s "
          f"(2,000 titles, median of 3; best {max(rates):,.0f})")

    # End to end, day by day: signatures + near-duplicates, embedding, clustering, ranking.
    index = StoryIndex()
    rank_settings = RankSettings()
    vectors: list[np.ndarray] = []
    texts: list[list[str]] = []
    labels: list[str] = []
    recent: list[tuple[list[Item], dict[str, np.ndarray]]] = []
    dupes = 0
    embedding = 0.0
    t0 = time.perf_counter()
    for day_n, items in enumerate(per_day):
        day = date(2026, 3, 1) + timedelta(days=day_n)
        sigs = dict(zip([i.id for i in items], minhash_many([dedup_text(i) for i in items]), strict=True))
        pool = [i for its, _ in recent for i in its]
        pool_sigs = {k: v for _, s in recent for k, v in s.items()}
        copies = {d.item_id for d in near_duplicates(items, {**pool_sigs, **sigs}, pool)}
        dupes += len(copies)
        originals = [i for i in items if i.id not in copies]  # as in the store, copies are not compared again
        recent = [*recent[-2:], (originals, {i.id: sigs[i.id] for i in originals})]
        day_texts = [item_text(i) for i in items]
        t = time.perf_counter()
        vecs = embedder.encode(day_texts)
        embedding += time.perf_counter() - t
        stories, _ = cluster_items(items, vecs, day, index, day_texts)
        rank(stories, datetime.combine(day + timedelta(days=1), datetime.min.time(), timezone.utc), rank_settings)
        story_of = {i.id: s.id for s in stories for i in s.items}
        labels.extend(story_of[i.id] for i in items)
        vectors.append(vecs)
        texts.append(day_texts)
    end_to_end = time.perf_counter() - t0
    item_rate = total / embedding
    print(f"end to end (signatures, near-duplicates, embedding, clustering, ranking): {total / end_to_end:,.0f} items/s "
          f"({end_to_end:.1f} s; {dupes} near-duplicates; {len(set(labels))} stories)")
    print(f"of which embedding (title + lead, avg {statistics.mean(len(t) for d in texts for t in d):.0f} chars): "
          f"{item_rate:,.0f} items/s ({embedding:.1f} s), the bound for end to end")

    # Clustering alone, once embedded: the same days again into a fresh index, three times (median and best:
    # other work on the machine only ever slows a run down).
    runs = []
    for _ in range(3):
        index = StoryIndex()
        t0 = time.perf_counter()
        for day_n, (items, vecs, day_texts) in enumerate(zip(per_day, vectors, texts, strict=True)):
            cluster_items(items, vecs, date(2026, 3, 1) + timedelta(days=day_n), index, day_texts)
        runs.append(time.perf_counter() - t0)
    alone = statistics.median(runs)
    print(f"clustering alone: {total / alone:,.0f} items/s median of 3 ({alone:.2f} s; best {total / min(runs):,.0f} items/s)")

    embedder.close()  # the workers' peak memory is known once they have ended
    p, r, f = pairwise(labels, [g for d in gold for g in d])
    print(f"synthetic events vs stories: pairwise P {p:.4f} R {r:.4f} F1 {f:.4f} (a sanity check, not an evaluation)")
    own, child = peak_mb(), peak_mb(resource.RUSAGE_CHILDREN)
    print(f"peak memory: {own + embedder.workers * child:,.0f} MB at most ({own:,.0f} MB this process "
          f"+ {embedder.workers} embedding workers x {child:,.0f} MB)")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"gap to the embedding bound: end to end {total / end_to_end:,.0f} vs {item_rate:,.0f} items/s embedding alone "
          f"({100 * total / end_to_end / item_rate:.0f}%); short sentences {short_rate:,.0f}/s")


if __name__ == "__main__":
    sys.exit(main())
