"""The cluster stage: cross-lingual merges, no merges on a shared company name, incremental days, guards."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from dailybrief.records import Item
from dailybrief.stories.cluster import (
    ClusterSettings,
    StoryIndex,
    average_linkage_groups,
    cluster_items,
    heading_item,
    release_keys,
    thread_evidence,
)
from dailybrief.stories.embed import default_embedder, embed_items

DAY = date(2026, 4, 10)


def item(key: str, title: str, text: str = "", outlet: str = "Outlet", language: str = "en", hour: int = 3,
         day: date = DAY, tier: str = "press") -> Item:
    when = datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)
    return Item(id=key, source_id=outlet, source_name=outlet, tier=tier, url=f"https://{key}.example/",
                canonical_url=f"https://{key}.example/", title=title, text=text, language=language, published=when)


MYTHOS = [
    item("m-en1", "Anthropic keeps its new Mythos model out of public hands, citing hacking risk",
         "Anthropic will not release its newest model, Mythos, to the public after internal tests showed it could "
         "find and exploit software vulnerabilities. Access goes to eleven organisations.", "TechLedger"),
    item("m-zh1", "Anthropic 新模型 Mythos 只向 11 家机构开放：漏洞挖掘能力太强，不对公众发布",
         "Anthropic 推出新一代前沿模型 Mythos，但决定不向公众开放，只向 11 家机构提供，用于修补操作系统和浏览器的高危漏洞。",
         "AI 前哨", "zh"),
]
COREWEAVE = [
    item("c-en1", "Meta signs $21 billion AI infrastructure deal with CoreWeave",
         "Meta has agreed a $21 billion AI infrastructure deal with the GPU cloud provider CoreWeave, one of the "
         "largest compute contracts so far.", "TechLedger"),
    item("c-zh1", "Meta 与 CoreWeave 签下 210 亿美元 AI 基础设施协议",
         "Meta 与 GPU 云服务商 CoreWeave 签署了价值 210 亿美元的 AI 基础设施协议，是迄今规模最大的算力合同之一。",
         "算力观察", "zh"),
]
# Three unrelated OpenAI stories, two reports each: they share the company's name and nothing else.
OPENAI = [
    item("o-safety1", "OpenAI publishes a Child Safety Blueprint",
         "OpenAI has published a blueprint describing how it protects minors who use its products, with age "
         "prediction and parental controls.", "OpenAI News", tier="official"),
    item("o-safety2", "OpenAI 发布《儿童安全蓝图》，介绍保护未成年人的做法",
         "OpenAI 发布《儿童安全蓝图》，介绍年龄预测和家长控制等保护未成年用户的措施。", "机器视界", "zh"),
    item("o-cyber1", "OpenAI is preparing Spud, a restricted model with advanced cyber capabilities",
         "According to Axios, OpenAI is developing a model with advanced cybersecurity capabilities that it plans "
         "to release only to a few vetted companies.", "TechLedger"),
    item("o-cyber2", "OpenAI's cyber model is reportedly codenamed Spud",
         "Axios reports that OpenAI will limit its new cyber-capable model, codenamed Spud, to a small set of "
         "partners because it can find software flaws.", "Circuit Review"),
    item("o-fund1", "OpenAI completes a $122 billion funding round",
         "OpenAI has closed a funding round of $122 billion led by SoftBank, valuing the company far above its last "
         "round.", "Wire"),
    item("o-fund2", "OpenAI raises $122bn in record private funding round",
         "The $122 billion round, the largest private raise on record, will pay for data centres and chips, OpenAI "
         "said.", "Money Daily"),
]


@pytest.fixture(scope="module")
def embedder():
    return default_embedder()


def stories_of(items: list[Item], embedder, index: StoryIndex | None = None, day: date = DAY):
    index = index or StoryIndex()
    stories, _ = cluster_items(items, embed_items(items, embedder), day, index)
    return {frozenset(i.id for i in s.items) for s in stories}, stories, index


def test_an_english_and_a_chinese_report_of_one_event_become_one_story(embedder) -> None:
    groups, _, _ = stories_of(MYTHOS + COREWEAVE, embedder)
    assert frozenset({"m-en1", "m-zh1"}) in groups
    assert frozenset({"c-en1", "c-zh1"}) in groups
    assert len(groups) == 2


def test_unrelated_stories_that_share_a_company_name_are_not_merged(embedder) -> None:
    groups, _, _ = stories_of(OPENAI, embedder)
    assert groups == {frozenset({"o-safety1", "o-safety2"}), frozenset({"o-cyber1", "o-cyber2"}),
                      frozenset({"o-fund1", "o-fund2"})}


def test_same_input_in_any_order_gives_identical_stories(embedder) -> None:
    items = MYTHOS + COREWEAVE + OPENAI
    _, first, _ = stories_of(items, embedder)
    for seed in (1, 2):
        shuffled = items[:]
        random.Random(seed).shuffle(shuffled)  # noqa: S311 - a shuffle, not a secret
        _, again, _ = stories_of(shuffled, embedder)
        assert [(s.id, [i.id for i in s.items], s.title) for s in again] == \
            [(s.id, [i.id for i in s.items], s.title) for s in first]


def test_next_day_items_join_earlier_stories_and_keep_first_seen(embedder) -> None:
    _, day1, index = stories_of(MYTHOS + COREWEAVE, embedder)
    mythos_id = next(s.id for s in day1 if any(i.id == "m-en1" for i in s.items))
    day2 = DAY + timedelta(days=1)
    follow = [
        item("m-en2", "Mythos: eleven partners begin patching browsers with Anthropic's restricted model",
             "A day after Anthropic kept Mythos from the public, the eleven organisations with access said they "
             "had started fixing vulnerabilities it found in browsers.", "Circuit Review", day=day2),
        item("new1", "EmberDB 4.0 adds SQL window functions to its embedded time-series database",
             "The EmberDB project released version 4.0 with window functions and faster compaction.", "HN", day=day2),
    ]
    _, day2_stories, _ = stories_of(follow, embedder, index, day2)
    by_item = {i.id: s for s in day2_stories for i in s.items}
    continued = by_item["m-en2"]
    assert continued.id == mythos_id
    assert continued.first_seen == DAY and continued.last_seen == day2
    assert by_item["new1"].first_seen == day2 and by_item["new1"].id != mythos_id


def test_stories_older_than_the_lookback_are_closed(embedder) -> None:
    _, day1, index = stories_of(MYTHOS, embedder)
    later = DAY + timedelta(days=ClusterSettings().lookback_days + 1)
    _, stories, _ = stories_of([item("m-late", MYTHOS[0].title, MYTHOS[0].text, day=later)], embedder, index, later)
    assert stories[0].id != day1[0].id and stories[0].first_seen == later


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def _near(center: np.ndarray, rng: np.random.Generator, spread: float = 0.35) -> np.ndarray:
    return _unit(center + spread * rng.standard_normal(center.shape) / np.sqrt(len(center)))


def test_a_bridging_item_does_not_chain_two_stories_together() -> None:
    rng = np.random.default_rng(0)
    a, b = _unit(rng.standard_normal(64)), _unit(rng.standard_normal(64))
    group_a = [_near(a, rng, 0.2) for _ in range(5)]
    group_b = [_near(b, rng, 0.2) for _ in range(5)]
    bridge = _unit(a + b)  # close to both: single linkage would chain a–bridge–b
    vectors = np.vstack([*group_a, bridge, *group_b])
    assert (vectors[5] @ vectors[:5].T).min() > 0.6 and (vectors[5] @ vectors[6:].T).min() > 0.6
    single = fcluster(linkage(squareform(np.clip(1 - vectors @ vectors.T, 0, 2), checks=False), "single"),
                      1 - 0.43, "distance")
    assert len(set(single)) == 1  # what the guard is for
    labels = average_linkage_groups(vectors, np.zeros(11), 0.43, 2.0, 300)
    assert len(set(labels[:5])) == 1 and len(set(labels[6:])) == 1
    assert labels[0] != labels[6]


def test_a_group_too_large_is_split_and_a_large_story_needs_a_closer_match() -> None:
    rng = np.random.default_rng(1)
    base = _unit(rng.standard_normal(64))
    subs = [_unit(base + 0.9 * _unit(rng.standard_normal(64))) for _ in range(3)]
    vectors = np.vstack([_near(s, rng, 0.2) for s in subs for _ in range(4)])
    assert len(set(average_linkage_groups(vectors, np.zeros(12), 0.43, 2.0, 300))) == 1
    labels = average_linkage_groups(vectors, np.zeros(12), 0.43, 2.0, 5)
    assert np.bincount(labels).max() <= 5 and len(set(labels)) == 3
    assert all(len(set(labels[k * 4 : k * 4 + 4])) == 1 for k in range(3))
    # A story already at max_size takes a group only with large_margin more similarity.
    settings = ClusterSettings(max_size=4, large_margin=0.5)
    index = StoryIndex(dim=64, settings=settings)
    index.cluster_day(DAY, vectors[:4], np.zeros(4, bool), [f"a{i}" for i in range(4)])
    result = index.cluster_day(DAY + timedelta(days=1), vectors[4:6], np.zeros(2, bool), ["b0", "b1"])
    assert result.new and not result.joined
    roomy = StoryIndex(dim=64, settings=ClusterSettings(max_size=300))
    roomy.cluster_day(DAY, vectors[:4], np.zeros(4, bool), [f"a{i}" for i in range(4)])
    assert roomy.cluster_day(DAY + timedelta(days=1), vectors[4:6], np.zeros(2, bool), ["b0", "b1"]).joined == [0]


def test_a_repo_meets_news_only_when_the_news_names_it() -> None:
    from dailybrief.stories.cluster import apart_pairs, artifact_name, release_keys

    assert artifact_name("unsloth / Qwen3.6-27B-GGUF") == artifact_name("Qwen/Qwen3.6-27B") == "qwen3.6-27b"
    assert artifact_name("Introducing Claude") == ""
    tiers = ["code", "code", "community", "community"]
    titles = ["Qwen/Qwen3.6-27B", "someone / claude-mem", "Qwen3.6-27B is out", "Claude Code outage"]
    apart = apart_pairs(tiers, titles, [t.lower() for t in titles])
    assert not apart[0, 2]          # the model page and the thread that names it
    assert apart[1, 3] and apart[0, 1]  # a repo that uses Claude is not Claude's news; two repos are two
    assert apart_pairs(["press", "press"], ["a", "b"], ["a", "b"]) is None
    assert release_keys("DeepSeek v4") == release_keys("deepseek-ai/DeepSeek-V4-Flash") == {"deepseekv4"}
    assert not release_keys("Part 2 of the series")


def test_a_digest_of_many_stories_joins_none_of_them() -> None:
    from dailybrief.stories.cluster import apart_pairs, is_digest

    digest = "AI日报：Kimi K2.6模型发布；腾讯QClaw海外版上线；爱奇艺回应“签约AI演员”"
    assert is_digest(digest) and not is_digest("Kimi K2.6: the new leading open weights model")
    apart = apart_pairs(["press", "press"], [digest, "Kimi K2.6 released"], [digest, "Kimi K2.6 released"])
    assert apart is not None and apart[0, 1] and apart[1, 0]


def test_a_heading_is_the_most_authoritative_real_title_in_the_editions_language() -> None:
    def it(key: str, tier: str, title: str, language: str = "en") -> Item:
        return Item(id=key, source_id=key, source_name=key, tier=tier, url=f"https://{key}.example/p",
                    canonical_url=f"https://{key}.example/p", title=title, language=language)

    lab = it("lab", "official", "Introducing Orbit-3")
    digest = it("daily", "press", "AI日报：Orbit-3发布；某公司上线新应用；另一家公司融资", "zh")
    zh_press = it("wire", "press", "Orbit-3 模型发布，长文本推理更快", "zh")
    thread = it("hn", "community", "Orbit-3 is out")
    repo = it("gh", "code", "someone/orbit-3-gguf")
    assert heading_item([repo, thread, digest, lab]) is lab
    assert heading_item([repo, thread, digest]) is thread  # a digest of many stories heads none
    assert heading_item([lab, thread, zh_press, digest], "zh") is zh_press  # the Chinese edition's own language
    assert heading_item([lab, thread, zh_press], "en") is lab
    assert heading_item([lab, thread], "zh") is lab  # no authoritative Chinese title: the lab's stands


def test_a_version_standing_alone_belongs_to_the_titles_name() -> None:
    assert release_keys("DeepSeek is back among the leading open weights models with V4 Pro and V4 Flash") == \
        release_keys("DeepSeek v4") == {"deepseekv4"}
    assert release_keys("Show HN: a tool that reads PDFs") == frozenset()
    assert release_keys("OpenAI's GPT-5.5 is the new leading AI model") == {"gpt55"}


def test_titles_naming_only_different_versions_are_different_releases() -> None:
    def it(key: str, title: str) -> Item:
        return Item(id=key, source_id="aa", source_name="Benchmarks", tier="press", url=f"https://b.example/{key}",
                    canonical_url=f"https://b.example/{key}", title=title)

    a, b, c = (it("a", "OpenAI's GPT-5.5 is the new leading AI model"),
               it("b", "DeepSeek is back among the leading open weights models with V4 Pro and V4 Flash"),
               it("c", "DeepSeek V4 tops the open weights leaderboard"))
    adjust = thread_evidence([a, b, c], ClusterSettings())
    assert adjust is not None
    assert adjust[0, 1] == -ClusterSettings().release_conflict < 0 < adjust[1, 2] == ClusterSettings().release_bonus


def test_a_repackaging_is_its_release_and_two_checkpoints_are_never_one_report() -> None:
    from dailybrief.stories.cluster import NEVER, apart_pairs, artifact_key, release_keys, same_artifact

    # A ComfyUI conversion and a GGUF are the release they repackage, however the name is spelled.
    assert artifact_key("Kijai/Orbit2.3_comfy") == artifact_key("orbitlab / Orbit-2.3-GGUF") == "orbit23"
    assert same_artifact("orbitlab/Orbit-2.3", "Kijai/Orbit2.3_comfy")
    assert release_keys("Kijai/Orbit2.3_comfy") == release_keys("orbitlab/Orbit-2.3") == {"orbit23"}
    # Two sizes of one family are two checkpoints: never one report, however alike their pages read.
    titles = ["orbitlab/Orbit-2.3-9B", "orbitlab/Orbit-2.3-27B", "someone/Orbit-2.3-9B-GGUF"]
    apart = apart_pairs(["code"] * 3, titles, [t.lower() for t in titles])
    assert apart is not None and apart[0, 1] == NEVER and apart[0, 2] == 0
    rng = np.random.default_rng(3)
    base = _unit(rng.standard_normal(64))
    vectors = np.vstack([_unit(base + 0.05 * _unit(rng.standard_normal(64))) for _ in range(3)])
    assert (vectors @ vectors.T).min() > 0.88  # alike enough to be linked as one report
    labels = average_linkage_groups(vectors, np.zeros(3), 0.43, 0.88, 300, apart)
    assert labels[0] == labels[2] != labels[1]


def test_a_plain_repo_name_from_two_owners_is_two_repos() -> None:
    from dailybrief.stories.cluster import artifacts_of, same_artifact

    assert not same_artifact("acme / skills", "globex / skills")
    assert not same_artifact("acme / agent-skills", "globex / agent-skills")
    assert same_artifact("acme / skills", "acme / skills")
    assert same_artifact("Comfy-Org/Orbit-Image", "orbitlab/Orbit-Image")  # a release's name, repackaged
    repo = item("r", "acme / skills", tier="code")
    other = item("s", "globex / skills", tier="code")
    assert not artifacts_of(repo) & artifacts_of(other)
    assert artifacts_of(item("m", "orbitlab/Orbit-Image", tier="code")) == {"orbitimage"}


def _thread(key: str, title: str, points: int | None = None, comments: int | None = None) -> Item:
    post = item(key, title, tier="community", outlet="Forum")
    post.points, post.comment_count = points, comments
    return post


def test_a_thread_whose_discussion_moved_meets_the_post_it_is_most_like() -> None:
    from dailybrief.stories.cluster import moved_thread

    penalty = ClusterSettings().title_only_penalty
    first = _thread("a", "Acme to make senior engineers sign off on assisted changes", 578, 447)
    second = _thread("b", "Acme holds a mandatory meeting about outages", 287, 4)
    other = _thread("c", "Growing tomatoes on a balcony", 300, 120)
    assert moved_thread(second) and not moved_thread(first) and not moved_thread(other)
    assert not moved_thread(_thread("d", "New post", 30, 0))  # too few points to tell
    assert not moved_thread(_thread("e", "A front page post without figures"))
    rng = np.random.default_rng(4)
    a, c = _unit(rng.standard_normal(16)), _unit(rng.standard_normal(16))
    vectors = np.vstack([a, _unit(a + 0.8 * c), c])  # the moved thread is most like the first
    adjust = thread_evidence([first, second, other], ClusterSettings(), vectors)
    assert adjust is not None
    assert adjust[0, 1] == adjust[1, 0] == 0.0       # its own story's post: no title-only penalty
    assert adjust[1, 2] == pytest.approx(-penalty)   # any other thread: the penalty stands
    second.comment_count = 150                       # a discussion of its own: an ordinary thread
    assert thread_evidence([first, second, other], ClusterSettings(), vectors)[0, 1] == pytest.approx(-penalty)


def test_threads_that_share_only_the_days_theme_pay_the_penalty_twice() -> None:
    from dailybrief.stories.cluster import content_words

    assert content_words("Acme Prices increase 30-40%") == {"acme", "price", "increase"}
    assert content_words("Acme to increase prices by up to 38%") >= {"acme", "increase", "price"}
    penalty = ClusterSettings().title_only_penalty
    posts = [_thread("a", "Acme is having issues now"), _thread("b", "Acme Pipelines is the weakest link"),
             _thread("c", "Zed is leaving Acme"), _thread("d", "Acme Copilot reviews will use Acme Pipelines minutes")]
    adjust = thread_evidence(posts, ClusterSettings())
    assert adjust is not None
    assert adjust[0, 2] == pytest.approx(-2 * penalty)  # "acme", in all four titles: the day's theme
    assert adjust[1, 3] == pytest.approx(-penalty)      # "pipelines" too: a word of their own
    assert thread_evidence(posts[:2], ClusterSettings())[0, 1] == pytest.approx(-penalty)  # two are no theme
    # One big event's threads share more than its name, however many they are: the penalty stays single.
    leak = [_thread(k, t) for k, t in (("e", "Acme source code leaked"), ("f", "The Acme source leak, explained"),
                                      ("g", "What the Acme source leak tells us"))]
    adjust = thread_evidence(posts + leak, ClusterSettings())
    assert adjust is not None and adjust[4, 5] == adjust[5, 6] == pytest.approx(-penalty)


def test_a_thread_sharing_only_the_theme_with_an_earlier_story_starts_its_own() -> None:
    rng = np.random.default_rng(5)
    a = _unit(rng.standard_normal(64))
    side = rng.standard_normal(64)
    side = _unit(side - (side @ a) * a)
    b = _unit(0.75 * a + np.sqrt(1 - 0.75**2) * side)  # as alike as short titles on one theme: 0.75, above the
    assert float(a @ b) == pytest.approx(0.75, abs=1e-4)  # bare threads' bar (0.63), under twice the penalty's
    noise = [_unit(rng.standard_normal(64)) for _ in range(2)]

    def second_day(words: list[frozenset[str]]) -> list[int]:
        index = StoryIndex(dim=64)
        index.cluster_day(DAY, a[None, :], np.zeros(1, bool), ["s1"], bare=[True],
                          words=[frozenset({"acme", "down"})])
        result = index.cluster_day(DAY + timedelta(days=1), np.vstack([b, *noise]), np.zeros(3, bool),
                                   ["t1", "t2", "t3"], bare=[True] * 3, words=words)
        return result.joined

    theme = [frozenset({"acme", "leaving"}), frozenset({"acme", "price"}), frozenset({"acme", "outage"})]
    assert second_day(theme) == []                                   # all it shares is "acme", in four stories
    assert second_day([theme[0] | {"down"}, *theme[1:]]) == [0]      # "down" is theirs alone: it joins


def test_two_organisations_both_named_are_evidence_one_alone_is_not() -> None:
    from dailybrief.stories.cluster import parties

    def post(key: str, title: str, url: str, tier: str = "community") -> Item:
        return Item(id=key, source_id=key, source_name=key, tier=tier, url=url, canonical_url=url, title=title)

    lab = post("lab", "Where things stand with the Department of War", "https://www.anthropic.com/news/where",
               "official")
    report = post("wire", "Pentagon formally labels Anthropic a supply-chain risk", "https://wire.example/a")
    other = post("blog", "Anthropic opens an office in Sydney", "https://blog.example/b")
    assert parties(lab) == parties(report) == {"anthropic", "pentagon"}  # the lab's own site names the lab
    assert parties(other) == {"anthropic"}
    assert parties(post("x", "AWS and the DoD sign a cloud deal", "https://x.example/")) == {"amazon", "pentagon"}
    penalty = ClusterSettings().title_only_penalty
    adjust = thread_evidence([lab, report, other], ClusterSettings())
    assert adjust is not None
    assert adjust[0, 1] == ClusterSettings().release_bonus  # an event between the two
    assert adjust[1, 2] == pytest.approx(-penalty)          # a shared company name alone is not evidence


def test_an_earlier_story_takes_a_thread_naming_its_two_organisations() -> None:
    rng = np.random.default_rng(6)
    a = _unit(rng.standard_normal(64))
    side = rng.standard_normal(64)
    side = _unit(side - (side @ a) * a)
    b = _unit(0.4 * a + np.sqrt(1 - 0.4**2) * side)  # under the bare threads' bar, over it less release_bonus

    def joined(found: frozenset[str]) -> list[int]:
        index = StoryIndex(dim=64)
        index.cluster_day(DAY, a[None, :], np.zeros(1, bool), ["s1"], bare=[True],
                          parties=[frozenset({"anthropic", "pentagon"})])
        return index.cluster_day(DAY + timedelta(days=1), b[None, :], np.zeros(1, bool), ["t1"], bare=[True],
                                 parties=[found]).joined

    assert joined(frozenset({"anthropic", "pentagon"})) == [0]
    assert joined(frozenset({"anthropic"})) == []


def test_of_two_threads_on_one_story_the_main_discussion_heads_and_is_read_first() -> None:
    from dailybrief.stories.cluster import reading_order

    essay = _thread("essay", "The regulator threatens Orbit Labs", 183, 120)
    statement = _thread("statement", "Statement from Orbit Labs on our talks with the regulator", 1859, 985)
    essay.published = datetime(2026, 4, 9, 17, tzinfo=timezone.utc)  # the earlier post
    assert heading_item([essay, statement]) is statement
    assert sorted([essay, statement], key=reading_order)[0] is statement
    lab = item("lab", "Orbit Labs on the regulator", tier="official")
    assert sorted([essay, statement, lab], key=reading_order)[0] is lab  # tiers first


def test_a_name_ties_a_bare_thread_only_as_alike_as_two_titles_must_be() -> None:
    rng = np.random.default_rng(7)
    a = _unit(rng.standard_normal(64))
    side = rng.standard_normal(64)
    side = _unit(side - (side @ a) * a)
    c = _unit(0.39 * a + np.sqrt(1 - 0.39**2) * side)  # within name_margin under the threshold, not above it
    vectors = np.vstack([a, a, c])
    texts = ["Zorblang: the nine-year journey", "Zorblang: a nine-year journey", "Show HN: a Zorblang simulator"]
    penalty = ClusterSettings().title_only_penalty
    adjust = np.array([[0, 1, -penalty], [1, 0, -penalty], [-penalty, -penalty, 0]], dtype=np.float32)

    def groups(bare: bool) -> set[int]:
        labels = StoryIndex(dim=64).cluster_day(DAY, vectors, np.zeros(3, bool), ["a", "b", "c"], texts,
                                                adjust=adjust, bare=[bare] * 3).labels
        return {int(x) for x in labels}

    assert len(groups(bare=True)) == 2   # the simulator's thread says "Zorblang" and nothing of the journey
    assert len(groups(bare=False)) == 1  # texts with a lead: the name ties them, as before


def test_a_labs_own_page_heads_its_story_whatever_its_tier() -> None:
    def it(key: str, tier: str, title: str, url: str, points: int | None = None) -> Item:
        return Item(id=key, source_id=key, source_name=key, tier=tier, url=url, canonical_url=url, title=title,
                    points=points)

    rating = it("aa", "press", "Orbit-3 is the new leading AI model", "https://ratings.example/orbit-3")
    launch = it("hn", "community", "Orbit-3", "https://orbitlab.example/introducing-orbit-3", 1400)
    api = it("hn2", "community", "Orbit-3 in the API", "https://orbitlab.example/changelog", 240)
    own = lambda i: "orbitlab.example" in i.url  # noqa: E731  (the write stage passes rank.lab_site's rule)
    assert heading_item([rating, api, launch]) is rating
    assert heading_item([rating, api, launch], None, own) is launch  # of two lab pages, the most discussed


def test_one_sites_posts_of_one_article_are_one_story_across_days_whatever_their_titles() -> None:
    from dailybrief.stories.cluster import site_pages

    def post(key: str, title: str, url: str, outlet: str = "Forum") -> Item:
        return Item(id=key, source_id=key, source_name=outlet, tier="community", url=url, canonical_url=url,
                    title=title)

    best = post("best", "acme / voice", "https://github.com/acme/voice")
    front = post("front", "Voice: open-source frontier voice AI", "https://github.com/acme/voice/")
    assert site_pages(best) == site_pages(front) and site_pages(best)
    assert not site_pages(post("t", "GitHub's trending page", "https://github.com/trending"))  # no one article
    assert site_pages(post("r", "Acme's voice model", "https://github.com/acme/voice", "Reddit")) != site_pages(best)
    rng = np.random.default_rng(7)
    a, b = _unit(rng.standard_normal(64)), _unit(rng.standard_normal(64))  # titles that read nothing alike

    def joined(second: Item) -> list[int]:
        index = StoryIndex(dim=64)
        index.cluster_day(DAY, a[None, :], np.zeros(1, bool), ["s1"], bare=[True], pages=[site_pages(best)])
        return index.cluster_day(DAY + timedelta(days=1), b[None, :], np.zeros(1, bool), ["t1"], bare=[True],
                                 pages=[site_pages(second)]).joined

    assert joined(front) == [0]
    assert joined(post("other", "Voice: open-source frontier voice AI", "https://github.com/acme/other")) == []
