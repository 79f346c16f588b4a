"""Themes: top stories grouped into two or three named threads, and the abstract sentence that names them."""

from __future__ import annotations

from datetime import date, datetime, timezone

import numpy as np

from dailybrief.records import Branding, Brief, Item, Paragraph, Section, Sentence, Story
from dailybrief.stories.embed import default_embedder, embed_items
from dailybrief.stories.rank import Topic
from dailybrief.stories.themes import build_themes, key_terms, theme_terms
from dailybrief.write.writer import apply_themes, theme_sentence

DAY = date(2026, 4, 10)
TOPICS = [
    Topic("security", ["vulnerability", "exploit", "cyber", "漏洞", "网络安全"], 1.5, "网络安全", "Security"),
    Topic("compute", ["GPU", "chips", "data center", "算力", "芯片"], 1.2, "算力", "Compute"),
]


def story(key: str, titles: list[str], score: float, language: str = "en") -> Story:
    items = [Item(id=f"{key}{n}", source_id="s", source_name=f"Outlet {n}", tier="press", url="", canonical_url="",
                  title=t, text=t, language=language, published=datetime(2026, 4, 10, 3, tzinfo=timezone.utc))
             for n, t in enumerate(titles)]
    return Story(id=key, items=items, first_seen=DAY, last_seen=DAY, score=score)


STORIES = [
    story("mythos", ["Anthropic keeps Mythos private after it found a 27-year-old vulnerability",
                     "Mythos model finds exploit chains in browsers"], 15),
    story("spud", ["OpenAI prepares Spud, a restricted cyber model", "OpenAI's Spud targets cyber defenders"], 12),
    story("coreweave", ["Meta signs $21 billion deal with CoreWeave for GPU capacity",
                        "Meta buys data center capacity from CoreWeave"], 11),
    story("tpu", ["Google rents TPU chips to Meta in a $10 billion deal"], 9),
    story("games", ["Starfall Tactics review roundup: a strategy game worth the wait",
                    "Starfall Tactics reviews praise its turn-based battles"], 8),
]


def centroids(stories: list[Story]) -> dict[str, np.ndarray]:
    out = {}
    for s in stories:
        v = embed_items(s.items, default_embedder()).mean(axis=0)
        out[s.id] = v / np.linalg.norm(v)
    return out


def test_top_stories_fall_into_named_themes_from_the_configured_topics() -> None:
    themes = build_themes(STORIES, centroids(STORIES), TOPICS)
    assert 2 <= len(themes) <= 3
    by_topic = {t.topic: t for t in themes}
    assert by_topic["security"].story_ids[:2] == ["mythos", "spud"]
    assert set(by_topic["compute"].story_ids) >= {"coreweave", "tpu"}
    assert by_topic["security"].name("zh") == "网络安全" and by_topic["compute"].name("en") == "Compute"
    assert themes[0].topic == "security"  # the theme of the top story first
    assert sorted(i for t in themes for i in t.story_ids) == sorted(s.id for s in STORIES)


def test_without_topics_themes_are_split_by_content_and_named_by_glossary_entities() -> None:
    stories = STORIES[:3] + STORIES[4:]
    themes = build_themes(stories, centroids(stories), [])
    assert 2 <= len(themes) <= 3
    names = [t.name("en") for t in themes]
    assert any(n in ("Mythos", "CoreWeave") or "Mythos" in n or "CoreWeave" in n for n in names)
    games = next(t for t in themes if "games" in t.story_ids)
    assert "Starfall" not in games.name("en")  # a name the glossary does not know is no theme's name


def test_a_thread_nothing_names_is_left_out_of_the_abstract_never_called_other_news() -> None:
    stories = [STORIES[0], STORIES[4]]  # Mythos (an entity of the glossary) and a game nobody's glossary knows
    themes = build_themes(stories, centroids(stories), [])
    games = next(t for t in themes if "games" in t.story_ids)
    assert games.name("en") == "" and games.name("zh") == ""
    for language in ("en", "zh"):
        brief = Brief(edition=DAY, language=language, title="T", branding=Branding(),
                      sections=[Section(kind="story", title=s.id, story_id=s.id) for s in stories])
        apply_themes(brief, themes)
        assert "" not in brief.themes and brief.themes == [t.name(language) for t in themes if t is not games]
        text = brief.abstract[0].sentences[0].text
        assert "Other" not in text and "其他" not in text and "2" not in text  # section 2's thread is not named


def test_stray_keywords_never_name_a_theme() -> None:
    # The failing examples of real days: "killed and Claude Code", "Iran and Show HN".
    stories = [story("k", ["Two killed as storm hits the coast", "Storm: two killed, thousands without power"], 9),
               story("c", ["Claude Code login bug locks users out", "Claude Code users report login failures"], 8),
               story("i", ["Iran blocks internet access again", "Show HN: a map of Iran's internet outages"], 7),
               story("s", ["Show HN: a tiny terminal game", "Show HN: I made a text editor"], 6)]
    themes = build_themes(stories, centroids(stories), [])
    for theme in themes:
        for lang in ("en", "zh"):
            name = theme.name(lang)
            assert not any(w in name for w in ("killed", "Show HN", "Iran", "Claude Code", "storm")), name


def test_chinese_key_terms_are_nouns_and_never_numbers() -> None:
    terms = key_terms(["营收增长 3.45%，净利润创新高", "Meta 与 CoreWeave 签下 210 亿美元 AI 基础设施协议"])
    assert "CoreWeave" in terms and "基础设施" in terms
    assert not any(any(ch.isdigit() for ch in t) for t in terms)
    assert "3.45%" not in terms and "增长" not in terms  # a verb
    zh = [story("a", ["谷歌 DeepMind 发布 AGI 认知框架", "DeepMind 提出 AGI 认知评估框架"], 5, "zh"),
          story("b", ["DeepMind 的 AGI 框架引发讨论：增长 12.5%"], 3, "zh")]
    assert set(theme_terms(zh, "zh")) == {"谷歌 DeepMind"}  # the glossary's entity, in the edition's form


def test_the_abstract_names_the_themes_with_their_sections() -> None:
    themes = build_themes(STORIES, centroids(STORIES), TOPICS)
    for language in ("zh", "en"):
        brief = Brief(edition=DAY, language=language, title="T", branding=Branding(),
                      sections=[Section(kind="story", title=s.id, story_id=s.id) for s in STORIES],
                      abstract=[Paragraph("abstract", [Sentence("Opening.", []), Sentence("Lead.", [1])])])
        apply_themes(brief, themes)
        assert brief.themes == [t.name(language) for t in themes if t.name(language)]
        text = brief.abstract[0].sentences[0].text  # the themes open the abstract
        assert brief.abstract[0].sentences[1].text == "Opening." and brief.abstract[0].sentences[2].text == "Lead."
        if language == "zh":
            assert text.startswith("今日重点事件可归为") and "网络安全（第 1、2 节）" in text
        else:
            assert "Security (sections 1 and 2)" in text and "Compute" in text
    empty = Brief(edition=DAY, language="en", title="T", branding=Branding())
    assert theme_sentence(themes, empty) is None


def test_a_day_no_name_fits_has_no_theme_sentence_rather_than_other_news() -> None:
    stories = [story("bread", ["A bakery in Lyon bakes sourdough with a robot arm",
                               "The sourdough robot kneads two hundred loaves a night"], 9),
               story("scope", ["A retired teacher grinds a telescope mirror by hand"], 8),
               story("garden", ["Allotment gardeners swap heirloom tomato seeds at a spring fair"], 7)]
    themes = build_themes(stories, centroids(stories), [])
    assert themes and all(t.name(lang) == "" for t in themes for lang in ("en", "zh"))
    brief = Brief(edition=DAY, language="en", title="T", branding=Branding(),
                  sections=[Section(kind="story", title=s.id, story_id=s.id) for s in stories])
    assert theme_sentence(themes, brief) is None
    apply_themes(brief, themes)
    assert brief.themes == [] and brief.abstract == []


def test_a_name_found_in_one_of_many_stories_never_names_their_theme() -> None:
    stories = [story("google", ["Google ships a new image model"], 9),
               story("cardboard", ["Launch: an agentic video editor for small teams"], 8),
               story("beehive", ["An orchestrator for many coding agents at once"], 7),
               story("bash", ["A bash shell built for coding agents"], 6)]
    assert theme_terms(stories, "en") == []
    assert theme_terms(stories[:2], "en") == ["Google"]  # one story in two: half of them
