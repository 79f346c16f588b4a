"""The write stage: the extractive writer, the writer chain and its fallbacks, the registry."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from dailybrief.config import WriterConfig
from dailybrief.errors import BadAnswer, WriterError
from dailybrief.records import Branding, Brief, Comment, Paragraph, Section, Sentence
from dailybrief.stories.embed import default_embedder
from dailybrief.write.verify import verify_brief
from dailybrief.write.writer import ChainWriter, ExtractiveWriter, ReferenceBook, WriterContext, build_writer, get_writer
from helpers import make_item, make_story

DAY = date(2026, 4, 10)

CHIP = make_story(
    make_item(1, "Nimbus unveils Stratus accelerator", "Chipmaker Nimbus unveiled Stratus, an accelerator for training "
              "AI models, at an event in San Jose. Nimbus says Stratus doubles training throughput per watt.",
              tier="official", source="Nimbus Newsroom"),
    make_item(2, "Stratus paper", "We present the Stratus architecture, which uses a novel systolic array design that "
              "improves utilisation for transformer training workloads.", tier="paper", source="arXiv"),
    make_item(3, "Nimbus Stratus chip announced", "", tier="community", source="Hacker News", points=300,
              comment_count=120, comments=[Comment("bob", "Per-watt claims from vendors never survive independent "
                                                           "benchmarks, so I will wait for MLPerf.", score=57)]),
)
MODEL = make_story(make_item(4, "Acme releases Falcon-9B open model", "Acme Labs released Falcon-9B, an open-weight "
                             "language model with nine billion parameters, under the Apache 2.0 licence.", source="Wire"))


def test_extractive_facts_views_and_notes() -> None:
    writer = ExtractiveWriter(default_embedder())
    book = ReferenceBook()
    section = writer.section(CHIP, "en", book)
    facts, views = section.paragraphs
    # Facts come from the official item; the paper is only used when a story has no press or official text.
    assert facts.part == "facts" and {r.item_id for r in book.refs if r.n in facts.sentences[0].refs} == {"item1"}
    assert all("systolic" not in s.text for s in facts.sentences)
    assert views.lead == "Hacker News · 300 points · 120 comments"
    assert views.sentences[0].text.startswith("bob (57 points): Per-watt claims")
    # Each sentence names the passage it was taken from: the article, or the comment it quotes.
    assert facts.sentences[0].passages == ["item1"] and views.sentences[0].passages == ["item3#c1"]
    assert book.refs[views.sentences[0].refs[0] - 1].url == "https://news.example/3"  # the link to the thread
    assert not any("Analysis needs a language model" in n for n in section.notes)  # once per edition instead
    only_paper = make_story(CHIP.items[1])
    assert "systolic" in writer.section(only_paper, "en", ReferenceBook()).paragraphs[0].sentences[0].text


def test_facts_are_in_the_editions_language_when_it_has_enough_of_them() -> None:
    en = ("Nimbus unveiled Stratus, an accelerator for training AI models. Nimbus has unveiled its Stratus "
          "accelerator for AI training. Stratus, Nimbus's new AI training accelerator, was unveiled today. "
          "The chip ships in June.")
    zh = "Stratus 芯片采用三纳米工艺制造，内置 288GB 高带宽内存，由台积电代工，国内三家云厂商已确认首批采购。"
    story = make_story(make_item(2, "Nimbus 发布 Stratus 加速器", zh, tier="official", source="Nimbus 中国", language="zh"),
                       make_item(1, "Nimbus unveils Stratus", en, tier="official", source="Nimbus"))
    writer = ExtractiveWriter(default_embedder())

    def facts(language: str) -> list[str]:
        return [s.text for s in writer.section(story, language, ReferenceBook()).paragraphs[0].sentences]

    # English sentences can tell it: the English edition has no Chinese one, however new what it says.
    assert facts("en") and all(s.isascii() for s in facts("en"))
    # One Chinese sentence cannot tell it alone: the Chinese edition quotes both languages.
    zh_facts = facts("zh")
    assert any(not s.isascii() for s in zh_facts) and any(s.isascii() for s in zh_facts)


def test_views_quote_the_comments_readers_voted_up() -> None:
    said = [("ops_lead", "If a model can write working exploits for anyone, patch windows are about to shrink.", 312),
            ("greybeard", "One old bug is a headline; the false-positive rate is what would convince me.", 201),
            ("lurker", "Labs were asked for years not to ship dangerous capabilities, and this is what it looks like.",
             96),
            ("tabs", "Meanwhile I still cannot get my printer driver to compile on this laptop.", 12)]
    post = make_item(7, "Lab keeps its security model private", tier="community", source="Forum", points=900,
                     comment_count=400, comments=[Comment(a, t, score=s) for a, t, s in said])
    writer = ExtractiveWriter(default_embedder())
    [views] = writer.section(make_story(post), "en", ReferenceBook()).paragraphs[1:]
    quoted = " ".join(s.text for s in views.sentences)
    assert "ops_lead" in quoted and "greybeard" in quoted and "lurker" in quoted
    assert "printer" not in quoted  # 12 points under a 312-point comment: an aside, not a view
    # Without votes nothing is left out for want of them.
    post.comments = [Comment(a, t) for a, t, _ in said]
    [views] = writer.section(make_story(post), "en", ReferenceBook()).paragraphs[1:]
    assert "printer" in " ".join(s.text for s in views.sentences)


def test_abstract_is_built_from_the_themes() -> None:
    writer = ExtractiveWriter(default_embedder())
    book = ReferenceBook()
    brief = Brief(edition=DAY, language="en", title="T", branding=Branding(),
                  sections=[writer.section(CHIP, "en", book), writer.section(MODEL, "en", book)])
    brief.themes = ["open-weight language models", "AI chips"]
    [para] = writer.abstract(brief, "en", book)
    assert [s.text.split(",")[0] for s in para.sentences] == ["Acme Labs released Falcon-9B",
                                                              "Chipmaker Nimbus unveiled Stratus"]
    assert all(s.refs for s in para.sentences)


class Flaky:
    """A section writer that cannot write stories whose title mentions a word."""

    name = "llm"

    def __init__(self, word: str, fatal: bool = False) -> None:
        self.word, self.fatal, self.asked = word, fatal, 0

    def section(self, story, language, book) -> Section:
        self.asked += 1
        if self.word in story.title:
            err = WriterError("the endpoint is down") if self.fatal else BadAnswer("the model talked nonsense")
            err.fatal = self.fatal
            raise err
        n = book.cite(story.items[0])
        return Section(kind="story", title="LLM: " + story.title, writer=self.name,
                       paragraphs=[Paragraph("facts", [Sentence(story.items[0].body, [n])])])

    def abstract(self, brief, language, book) -> list[Paragraph]:
        return [Paragraph("abstract", [Sentence("Chips and open models.", [1])])]


def test_chain_falls_back_per_story_and_says_so() -> None:
    flaky = Flaky("Nimbus")
    chain = ChainWriter([flaky], ExtractiveWriter(default_embedder()))
    brief = chain.write([CHIP, MODEL], [], DAY, "zh", "T", Branding())
    assert [s.writer for s in brief.sections] == ["llm→extractive", "llm"]
    assert brief.sections[0].notes[0].startswith("语言模型未能写出本节（the model talked nonsense）")
    assert [str(f) for f in chain.fallbacks] == ["llm → extractive for 'Nimbus unveils Stratus accelerator' (zh): "
                                                 "the model talked nonsense"]
    assert any("已改用抽取式写作" in n for n in brief.notes)
    # A model is configured: the note that analysis needs one would tell the reader to set what is set.
    assert not any("产业分析需要语言模型" in n for n in brief.notes)
    assert [r.n for r in brief.references] == list(range(1, len(brief.references) + 1))


def test_a_fatal_error_stops_asking_for_the_rest_of_the_run() -> None:
    flaky = Flaky("Nimbus", fatal=True)
    chain = ChainWriter([flaky], ExtractiveWriter(default_embedder()))
    brief = chain.write([CHIP, MODEL], [], DAY, "en", "T", Branding())
    assert flaky.asked == 1
    assert [s.writer for s in brief.sections] == ["llm→extractive", "llm→extractive"]
    assert len(chain.fallbacks) == 3  # two stories and the abstract


class Broken:
    """A section writer with a bug: it raises something that is not a WriterError."""

    name = "llm"

    def section(self, story, language, book) -> Section:
        return {}["follow"]  # the KeyError a missing label once raised

    def abstract(self, brief, language, book) -> list[Paragraph]:
        raise ZeroDivisionError("division by zero")


def test_any_exception_falls_back_to_extractive_with_its_traceback_logged(caplog) -> None:
    chain = ChainWriter([Broken()], ExtractiveWriter(default_embedder()))
    with caplog.at_level("WARNING", logger="dailybrief.write.writer"):
        brief = chain.write([CHIP, MODEL], [], DAY, "en", "T", Branding())
    assert [s.writer for s in brief.sections] == ["llm→extractive", "llm→extractive"]
    assert all(s.paragraphs[0].sentences for s in brief.sections)
    assert brief.abstract and brief.abstract[0].sentences  # the abstract fell back too
    assert [f.reason for f in chain.fallbacks] == ["KeyError: 'follow'", "KeyError: 'follow'",
                                                   "ZeroDivisionError: division by zero"]
    assert "KeyError: 'follow'" in brief.sections[0].notes[0]
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 3 and tracebacks[0].exc_info[0] is KeyError


def test_a_story_no_writer_can_write_is_left_out_named_and_the_rest_written(caplog) -> None:
    from dailybrief.records import Story

    empty = Story(id="story-empty", items=[], first_seen=DAY, last_seen=DAY, title="A story with no items")
    chain = ChainWriter([Broken()], ExtractiveWriter(default_embedder()))
    brief = chain.write([CHIP, empty, MODEL], [], DAY, "zh", "T", Branding())
    assert [s.story_id for s in brief.sections] == [CHIP.id, MODEL.id]
    [gone] = [f for f in chain.fallbacks if f.left_out]
    assert gone.part == "A story with no items" and gone.writer == "extractive"
    assert str(gone).startswith("'A story with no items' (zh) left out: no writer could write it (")
    assert gone.reason.split(":")[0] in ("IndexError", "ValueError")  # the error itself, named
    assert any(r.exc_info and "extractive writer could not write" in r.getMessage() for r in caplog.records)
    assert any(n.startswith("1 个事件无法写出，已从本期略去：A story with no items") for n in brief.notes)
    # Extractive alone: the same story is left out, the others written.
    alone = ChainWriter([], ExtractiveWriter(default_embedder()))
    assert [s.story_id for s in alone.write([empty, MODEL], [], DAY, "en", "T", Branding()).sections] == [MODEL.id]
    assert [f.left_out for f in alone.fallbacks] == [True]


def test_registry() -> None:
    ctx = WriterContext(WriterConfig(), default_embedder())
    assert build_writer(ctx).name == "extractive"
    ctx.config = WriterConfig(kind="openai", base_url="http://127.0.0.1:9/v1", model="m")
    assert build_writer(ctx).name == "llm→extractive"
    with pytest.raises(WriterError, match="no writer named 'gpt'; use one of extractive, openai"):
        get_writer("gpt")


def test_a_title_only_story_says_so_once_and_the_model_note_is_once_per_edition() -> None:
    bare = make_story(make_item(7, "Show HN: a tiny compiler", "", tier="community", source="Hacker News", points=90))
    writer = ExtractiveWriter(default_embedder())
    brief = writer.write([bare, MODEL], [], DAY, "en", "T", Branding())
    first = brief.sections[0]
    texts = [s.text for p in first.paragraphs for s in p.sentences]
    assert texts == ["Show HN: a tiny compiler"]  # the title once, as the fact; no view repeating it
    assert first.notes == ["The sources give only a headline."]
    assert not brief.sections[1].notes
    assert sum("Analysis needs a language model" in n for n in brief.notes) == 1


def test_repos_and_papers_alone_share_one_roundup_line_each() -> None:
    repo = make_story(make_item(8, "someone / fast-agent", "An agent framework", tier="code", source="GitHub Trending"))
    repo2 = make_story(make_item(9, "other / tiny-llm", "A small LLM", tier="code", source="GitHub Trending"))
    paper = make_story(make_item(10, "Sparse Routers", "We route tokens.", tier="paper", source="arXiv"))
    book = ReferenceBook()
    section = ExtractiveWriter(default_embedder()).roundup([repo, MODEL, paper, repo2], "en", book)
    tools, papers, other = section.paragraphs
    assert (tools.lead, tools.listed) == ("Tools and repos", True)
    assert [s.text for s in tools.sentences] == ["someone / fast-agent", "other / tiny-llm"]
    # Each entry cites its own repo: the line is a list of names, not one claim resting on all of them.
    assert [[book.refs[n - 1].item_id for n in s.refs] for s in tools.sentences] == [[repo.items[0].id],
                                                                                     [repo2.items[0].id]]
    assert (papers.lead, [s.text for s in papers.sentences]) == ("Papers", ["Sparse Routers"])
    assert not other.listed and other.sentences[0].text.startswith("Acme releases Falcon-9B")
    brief = Brief(edition=DAY, language="en", title="T", branding=Branding(), sections=[section],
                  references=book.refs)
    items = {i.id: i for s in (repo, MODEL, paper, repo2) for i in s.items}
    verify_brief(brief, items, default_embedder())
    assert [s.supported for s in tools.sentences] == [True, True]  # each name is its own item's


def test_a_line_of_many_repos_is_supported_name_by_name() -> None:
    from dailybrief.write.verify import verify_brief

    repos = [make_story(make_item(20 + k, f"{who} / {what}", "", tier="code", source="GitHub Trending"))
             for k, (who, what) in enumerate([("virtbyte", "dexterous"), ("ocelot-ai", "skillbook"),
                                              ("quillsoft", "prompt-atlas"), ("mossgrid", "tilecode")])]
    brief = ExtractiveWriter(default_embedder()).write([MODEL], repos, DAY, "en", "T", Branding())
    items = {i.id: i for s in [MODEL, *repos] for i in s.items}
    verify_brief(brief, items, default_embedder())
    [roundup] = [s for s in brief.sections if s.kind == "roundup"]
    line = roundup.paragraphs[0].sentences
    assert "; ".join(s.text for s in line) == ("virtbyte / dexterous; ocelot-ai / skillbook; quillsoft / prompt-atlas; "
                                              "mossgrid / tilecode")
    assert all(s.supported for s in line)
    zh = ExtractiveWriter(default_embedder()).write([MODEL], repos, DAY, "zh", "T", Branding())
    verify_brief(zh, items, default_embedder())
    [roundup] = [s for s in zh.sections if s.kind == "roundup"]
    assert roundup.paragraphs[0].lead == "工具与代码库" and all(s.supported for s in roundup.paragraphs[0].sentences)


def test_the_abstract_is_whole_lead_sentences_never_headlines_or_repo_names() -> None:
    writer = ExtractiveWriter(default_embedder())
    book = ReferenceBook()
    headline_only = make_story(make_item(5, "Orbit-3 is the new leading open model", "", source="Benchmarks Weekly"))
    repo = make_story(make_item(6, "someone/orbit-3-gguf", "", tier="code", source="GitHub Trending"))
    brief = Brief(edition=DAY, language="en", title="T", branding=Branding(),
                  sections=[writer.section(s, "en", book) for s in (headline_only, repo, MODEL)])
    brief.themes = ["open models", "model repos"]
    [para] = writer.abstract(brief, "en", book)
    texts = [s.text for s in para.sentences]
    assert texts and all(t.startswith("Acme Labs released Falcon-9B") for t in texts)
    assert not any("Orbit-3" in t or "/" in t for t in texts)


def test_a_digests_text_tells_no_story_that_has_other_sources() -> None:
    digest = make_item(7, "AI日报：Orbit-3发布；某公司上线思维导图工具；另一家公司融资",
                       "1、Orbit-3发布，长文本推理更快。2、某公司上线思维导图工具，提升了工作效率。", source="AI日报")
    rating = make_item(8, "Orbit-3 is the new leading open model", "", source="Benchmarks Weekly")
    facts = ExtractiveWriter(default_embedder()).section(make_story(rating, digest), "en",
                                                         ReferenceBook()).paragraphs[0].sentences
    assert [s.text for s in facts] == ["Orbit-3 is the new leading open model"]


def test_a_chinese_section_is_headed_by_the_chinese_press_when_the_lab_writes_in_english() -> None:
    story = make_story(make_item(9, "Introducing Orbit-3", "Orbit-3 is our new model for long documents.",
                                 tier="official", source="Orbit Lab"),
                       make_item(10, "Orbit-3 模型发布，长文本推理更快", "Orbit-3 今天发布，长文本推理速度提升一倍。",
                                 source="机器之心", language="zh"))
    writer = ExtractiveWriter(default_embedder())
    assert writer.section(story, "zh", ReferenceBook()).title == "Orbit-3 模型发布，长文本推理更快"
    assert writer.section(story, "en", ReferenceBook()).title == "Introducing Orbit-3"


def _on(item, url: str):  # the item, linking `url`
    return replace(item, url=url, canonical_url=url)


def test_a_lab_page_shared_by_a_community_heads_its_section_and_the_lead_items_are_cited() -> None:
    launch = _on(make_item(11, "Orbit-3", "", tier="community", source="Hacker News", points=1400, comment_count=900),
                 "https://orbitlab.example/index/introducing-orbit-3")
    api = _on(make_item(12, "Orbit Lab releases Orbit-3 in the API", "", tier="community", source="Hacker News",
                        points=240, comment_count=130), "https://developers.orbitlab.example/changelog")
    rating = make_item(13, "Orbit-3 is the new leading AI model", "", source="Benchmarks Weekly")
    repo = make_item(14, "someone / orbit-3-wrapper", "", tier="code", source="GitHub Trending")
    story = make_story(rating, repo, launch, api)
    book = ReferenceBook()
    section = ExtractiveWriter(default_embedder(), lab_sites=["orbitlab.example"]).section(story, "en", book)
    assert section.title == "Orbit-3"  # the lab's own page, the most discussed, over the press's rating
    facts = section.paragraphs[0].sentences
    cited = [book.refs[n - 1].item_id for s in facts for n in s.refs]
    assert cited == ["item11", "item12", "item13"]  # the lab's pages and the press; the wrapper repo is not news
    # Without the beat's sites the press heads it, and the most discussed thread is still cited.
    plain = ExtractiveWriter(default_embedder()).section(story, "en", ReferenceBook())
    assert plain.title == "Orbit-3 is the new leading AI model"
    assert [s.text for s in plain.paragraphs[0].sentences][:2] == ["Orbit-3 is the new leading AI model", "Orbit-3"]


def test_the_most_discussed_thread_is_cited_when_the_press_tells_the_story() -> None:
    report = make_item(15, "Nimbus ships Stratus", "Nimbus shipped its Stratus accelerator for AI training on "
                       "Tuesday. The chip doubles training throughput per watt, the company says.", source="Wire")
    big = make_item(16, "Nimbus Stratus is out, and it is fast", "", tier="community", source="Hacker News",
                    points=800, comment_count=400)
    small = make_item(17, "Stratus benchmarks", "", tier="community", source="Hacker News", points=20, comment_count=3)
    book = ReferenceBook()
    section = ExtractiveWriter(default_embedder()).section(make_story(report, big, small), "en", book)
    facts = section.paragraphs[0].sentences
    assert facts[0].text.startswith("Nimbus shipped its Stratus")
    assert facts[-1].text == "Nimbus Stratus is out, and it is fast" and book.refs[facts[-1].refs[0] - 1].item_id == "item16"
    assert "item17" not in {r.item_id for r in book.refs}  # one thread leads: the one with the largest reaction
    # A headline the section states already is not stated again: the heading's item joins the first fact.
    bare_lead = _on(make_item(18, "Nimbus ships Stratus", "", tier="community", source="Hacker News", points=900),
                    "https://nimbus.example/news/stratus")
    book = ReferenceBook()
    section = ExtractiveWriter(default_embedder(), lab_sites=["nimbus.example"]).section(
        make_story(report, bare_lead), "en", book)
    assert section.title == "Nimbus ships Stratus"
    texts = [s.text for s in section.paragraphs[0].sentences]
    assert "Nimbus ships Stratus" not in texts
    assert "item18" in [book.refs[n - 1].item_id for n in section.paragraphs[0].sentences[0].refs]


def test_a_repos_slug_is_cited_on_the_headline_never_stated_as_a_fact() -> None:
    rating = make_item(21, "Orbit-3 is the new leading open weights model", "", source="Benchmarks Weekly")
    model = make_item(22, "orbitlab/Orbit-3", "", tier="code", source="Hugging Face trending models")
    story = make_story(rating, model)
    book = ReferenceBook()
    facts = ExtractiveWriter(default_embedder()).section(story, "en", book).paragraphs[0].sentences
    assert [s.text for s in facts] == ["Orbit-3 is the new leading open weights model"]
    assert [book.refs[n - 1].item_id for n in facts[0].refs] == ["item21", "item22"]  # the model page, cited
    # A story told by nothing but a slug still states it: it is all there is.
    alone = ExtractiveWriter(default_embedder()).section(make_story(model), "en", ReferenceBook())
    assert [s.text for s in alone.paragraphs[0].sentences] == ["orbitlab/Orbit-3"]


def test_the_editions_counts_are_worded_for_one_and_for_many() -> None:
    writer = ExtractiveWriter(default_embedder())
    one = writer.write([MODEL], [], DAY, "en", "T", Branding())
    assert "Today's edition draws on 1 report from 1 source, merged into 1 event; it is briefed below." in one.notes
    many = writer.write([CHIP], [MODEL], DAY, "en", "T", Branding())
    assert ("Today's edition draws on 4 reports from 4 sources, merged into 2 events; this is the one that matters "
            "most.") in many.notes
    zh = writer.write([CHIP], [MODEL], DAY, "zh", "T", Branding())
    assert "今日共收录 4 条报道，来自 4 个信源，归并为 2 个事件；以下是其中最受关注的 1 个。" in zh.notes
    # Only a roundup (every event too small for a section): never "these are the 0 that matter most".
    brief = writer.write([], [CHIP, MODEL], DAY, "en", "T", Branding())
    assert ("Today's edition draws on 4 reports from 4 sources, merged into 2 events; none has a section of its "
            "own; the roundup lists them.") in brief.notes
    zh = writer.write([], [CHIP, MODEL], DAY, "zh", "T", Branding())
    assert "今日共收录 4 条报道，来自 4 个信源，归并为 2 个事件；均未单独成节，见速览。" in zh.notes


def test_a_references_date_is_the_one_of_the_editions_time_zone() -> None:
    late = make_item(9, "Acme ships Falcon-9B weights", "Acme Labs published the weights of Falcon-9B under the Apache "
                     "2.0 licence.", source="Wire")
    late = replace(late, published=datetime(2026, 4, 9, 16, 30, tzinfo=timezone.utc))  # 00:30 on the 10th in Shanghai
    ctx = WriterContext(WriterConfig(), default_embedder(), tz=ZoneInfo("Asia/Shanghai"))
    brief = build_writer(ctx).write([make_story(late)], [], DAY, "zh", "T", Branding())
    [ref] = brief.references
    assert ref.published is not None and ref.published.date() == date(2026, 4, 10)
    assert ref.published == late.published  # the same moment, told in the edition's zone
    utc = build_writer(WriterContext(WriterConfig(), default_embedder())).write([make_story(late)], [], DAY, "zh", "T",
                                                                               Branding())
    assert utc.references[0].published == late.published


def test_a_fact_and_its_translation_are_told_once_in_each_edition() -> None:
    en = make_item(30, "Acme Labs releases Falcon-9B", "Acme Labs released Falcon-9B, an open-weight language model "
                   "with nine billion parameters, under the Apache 2.0 licence.", tier="official", source="Acme Blog")
    zh = make_item(31, "Acme 实验室发布开源权重模型 Falcon-9B", "Acme 实验室发布了 90 亿参数的开源权重语言模型 Falcon-9B，"
                   "采用 Apache 2.0 许可证。", source="AI 前哨", language="zh")
    writer = ExtractiveWriter(default_embedder())
    for language, told in (("zh", "Acme 实验室发布了"), ("en", "Acme Labs released")):
        [facts] = writer.section(make_story(en, zh), language, ReferenceBook()).paragraphs
        assert [s.text[: len(told)] for s in facts.sentences] == [told]
        assert len(facts.sentences[0].refs) == 2  # both sources state it, and are cited


def test_a_roundup_line_names_the_outlet_whose_headline_it_shows() -> None:
    lab = make_item(40, "Ten years since AlphaGo", "Google DeepMind marks ten years since AlphaGo.", tier="official",
                    source="DeepMind Blog")
    zh = make_item(41, "AlphaGo 十年：从一盘棋到 AGI 之问", "十年前，AlphaGo 战胜了李世石。", source="机器视界", language="zh")
    section = ExtractiveWriter(default_embedder()).roundup([make_story(lab, zh)], "zh", ReferenceBook())
    [line] = [s.text for p in section.paragraphs for s in p.sentences]
    assert line == "AlphaGo 十年：从一盘棋到 AGI 之问（机器视界）"  # the Chinese report's headline, and its outlet
