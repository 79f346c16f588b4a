"""`dailybrief eval days/pairs/topics`: the golden days served as feeds, the scores, and pinned floors."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import SHARED
from dailybrief.cli import main
from dailybrief.evals.days import GoldStory, Ranked, feed_kind, normalise_url, read_day, recall, run_day, score_day, write_feeds

GOLDEN = SHARED / "eval-data" / "golden-days-dev"


@pytest.fixture(scope="module")
def embedder():
    from dailybrief.stories.embed import default_embedder

    return default_embedder()


def test_urls_are_normalised_as_the_data_set_says() -> None:
    assert normalise_url("https://www.Example.com/a/?utm_source=x&id=3&ref=hn#top") == "example.com/a?id=3"
    assert normalise_url("http://example.com/") == "example.com"


def test_feeds_get_honest_tiers() -> None:
    assert feed_kind("ai-news-direct:anthropic_news")[1].tier == "official"
    assert feed_kind("ai-news-direct:hackernews_best_stories")[1].tier == "community"
    assert feed_kind("hn-front-page (amutu/hacker-news-summarizer)")[1].tier == "community"
    assert feed_kind("ai-news-direct:github_trends")[1].tier == "code"
    assert feed_kind("ai-news-direct:huggingface_daily_papers")[1].tier == "paper"


def _day(tmp_path: Path) -> Path:
    """A tiny golden day of our own: a lab post, its HN thread, an unrelated thread, a trending repo."""
    folder = tmp_path / "2030-01-02"
    folder.mkdir()
    rows = [
        {"id": "a", "title": "Introducing Orbit-3, our new language model", "url": "https://lab.example/orbit-3",
         "summary": "Orbit-3 is a new AI language model that reasons over long documents and writes code.",
         "source": "ai-news-direct:anthropic_news", "published": "2030-01-01T10:00:00Z"},
        {"id": "b", "title": "Orbit-3 language model released", "url": "https://lab.example/orbit-3",
         "summary": "HN score 900, 400 comments; discussion https://news.ycombinator.com/item?id=1",
         "source": "ai-news-direct:hackernews_best_stories", "published": "2030-01-01T11:00:00Z", "points": 900,
         "comments": 400},
        {"id": "c", "title": "Growing tomatoes on a balcony in winter", "url": "https://garden.example/tomatoes",
         "summary": "HN score 1200, 300 comments; discussion https://news.ycombinator.com/item?id=2",
         "source": "ai-news-direct:hackernews_best_stories", "published": "2030-01-01T12:00:00Z", "points": 1200,
         "comments": 300},
        {"id": "d", "title": "someone / agent-skills", "url": "https://github.com/someone/agent-skills",
         "summary": "Skills for coding agents", "source": "ai-news-direct:github_trends",
         "published": "2030-01-01T13:00:00Z", "stars_today": 5000},
        {"id": "e", "title": "Orbit-3 发布", "url": "https://news.example/zh", "summary": "一段中文摘要",
         "summary_lang": "zh", "source": "hn-front-page (amutu/hacker-news-summarizer)",
         "published": "2030-01-01T14:00:00Z", "hn_rank": 2},
        {"id": "f", "title": "Growing tomatoes on a balcony in winter", "url": "https://garden.example/tomatoes",
         "summary": "", "source": "hn-front-page (amutu/hacker-news-summarizer)", "published": "2030-01-01T15:00:00Z",
         "hn_rank": 1},
    ]
    (folder / "candidates.jsonl").write_text("\n".join(json.dumps(r) for r in rows), "utf-8")
    (folder / "briefing.json").write_text(json.dumps({"briefing_time_utc": "2030-01-02T01:00:00Z", "stories": [
        {"title": "Orbit-3", "urls": ["https://lab.example/orbit-3"]}]}), "utf-8")
    (folder / "ceiling.json").write_text(json.dumps({"stories": [{"story_index": 0, "matched": True,
                                                                   "strength": "strict", "matches": []}]}), "utf-8")
    return folder


def test_feeds_carry_figures_but_not_the_llm_summaries(tmp_path: Path) -> None:
    day = read_day(_day(tmp_path))
    sources = write_feeds(day.candidates, tmp_path / "feeds")
    tiers = {s["url"].rsplit("/", 1)[1]: s["tier"] for s in sources}
    assert tiers["anthropic_news.xml"] == "official" and tiers["github_trends.xml"] == "code"
    hn = (tmp_path / "feeds" / "hackernews_best_stories.xml").read_text("utf-8")
    assert "Points: 900" in hn and "<comments>https://news.ycombinator.com/item?id=1</comments>" in hn
    assert "一段中文摘要" not in (tmp_path / "feeds" / "hn-front-page.xml").read_text("utf-8")
    assert "score:5000" in (tmp_path / "feeds" / "github_trends.xml").read_text("utf-8")
    # The front page is a ranked listing, served in its order (as news.ycombinator.com/rss is); the rest by date.
    assert {s["url"].rsplit("/", 1)[1] for s in sources if s["ranked"]} == {"hn-front-page.xml"}
    front = (tmp_path / "feeds" / "hn-front-page.xml").read_text("utf-8")
    assert front.index("Growing tomatoes") < front.index("Orbit-3")


def test_recall_counts_cover_and_lead_per_cut_off() -> None:
    stories = [GoldStory("a", {"x.example/a"}, {"x.example/a"}, True),
               GoldStory("b", {"x.example/b"}, {"x.example/b"}, True)]
    ranked = Ranked(cited=[{"x.example/b", "x.example/a"}, set()], lead=[{"x.example/b"}, set()])
    r = recall(stories, ranked)
    assert (r.top["N"], r.lead["N"], r.ceiling) == (2, 1, 2)


def test_a_day_runs_end_to_end_and_the_lab_post_leads(tmp_path: Path, embedder) -> None:
    run = run_day(read_day(_day(tmp_path)), embedder)
    score = score_day(run)
    assert score.ours["primary"].lead["N"] == 1  # the lab's post heads the first section
    brief = run.briefs[0]
    first = next(s for s in brief.sections if s.kind == "story")
    assert first.title == "Introducing Orbit-3, our new language model"
    # The tomatoes are on the front page and the best list: one item (the copy is a duplicate), listed twice.
    tomatoes = next(s for s in run.ranked if "tomatoes" in s.title)
    assert len(tomatoes.items) == 1 and tomatoes.listed_by and tomatoes.score_parts["listings"] > 0
    titles = [s.title for s in brief.sections if s.kind == "story"]
    assert not any("tomatoes" in t for t in titles)  # off the beat, however many points
    assert not any("agent-skills" in t for t in titles)  # a trending repo alone heads no section
    assert run.counts["off_beat"] >= 1
    # The baseline, HN points alone, puts the tomatoes first.
    assert score.baseline["primary"].top["N"] == 0


def test_missing_files_say_which(tmp_path: Path) -> None:
    (tmp_path / "2030-01-03").mkdir()
    result = CliRunner().invoke(main, ["eval", "days", str(tmp_path)])
    assert result.exit_code != 0 and "candidates.jsonl" in result.output


def _last(output: str, key: str) -> float:
    line = output.strip().splitlines()[-1]
    assert line.startswith(f"{key}=")
    return float(line.split("=")[1])


@pytest.mark.skipif(not GOLDEN.exists(), reason="needs ../shared/eval-data/golden-days-dev")
def test_golden_days_hold_their_floors() -> None:
    result = CliRunner().invoke(main, ["eval", "days", str(GOLDEN)])
    assert result.exit_code == 0, result.output
    assert _last(result.output, "lead_recall") >= 0.60  # pinned floor (0.6316 when pinned; 0.5000 before the front
    # page's places, engagement by standing, project pages as releases, sections citing their lead items and one
    # site's posts of one article meeting across days, 0.4474 before the ranking part of issue
    # 14's third session, 0.3684 before its second, 0.0263 before its first)
    flat = result.output
    ours = re.findall(r"ours +of strict ceiling: top@N=([\d.]+) +top@5=([\d.]+) +top@10=([\d.]+) +lead@N=([\d.]+)", flat)
    assert len(ours) == 2, flat  # the primary briefing, then AINews
    primary, ainews = ours
    assert float(primary[0]) >= 0.60 and float(primary[2]) >= 0.92  # 0.632 / 0.947 when pinned (0.500 / 0.789 before)
    assert float(ainews[3]) >= 0.75  # AINews lead@N 0.769 when pinned (the HN-points baseline: 0.596)
    base = float(re.search(r"baseline_lead_recall=([\d.]+)", flat).group(1))
    assert _last(result.output, "lead_recall") > base


@pytest.mark.skipif(not GOLDEN.exists(), reason="needs ../shared/eval-data/golden-days-dev")
def test_golden_pairs_hold_their_floors() -> None:
    result = CliRunner().invoke(main, ["eval", "pairs", str(GOLDEN / "same-event-pairs.jsonl")])
    assert result.exit_code == 0, result.output
    m = re.search(r"different URLs .* precision=([\d.]+) recall=([\d.]+)", result.output)
    assert m and float(m.group(1)) >= 0.97 and float(m.group(2)) >= 0.83  # 1.000 / 0.857 when pinned (0.738, 0.643 before)
    m = re.search(r"same URL .* precision=([\d.]+) recall=([\d.]+)", result.output)
    assert m and float(m.group(1)) >= 0.99 and float(m.group(2)) >= 0.995  # 1.000 / 1.000 when pinned (recall 0.993
    # before one site's posts of one article met across days)


@pytest.mark.skipif(not GOLDEN.exists(), reason="needs ../shared/eval-data/golden-days-dev")
def test_golden_topics_hold_their_floors() -> None:
    result = CliRunner().invoke(main, ["eval", "topics", str(GOLDEN / "topic-labels.jsonl")])
    assert result.exit_code == 0, result.output
    m = re.search(r"precision=([\d.]+) recall=([\d.]+)", result.output)
    assert m and float(m.group(1)) >= 0.95 and float(m.group(2)) >= 0.90  # 0.966 / 0.918 when pinned (0.965 / 0.902
    # before a link's words and glued-on versions counted)


def test_day_folder_name_is_the_edition_day(tmp_path: Path) -> None:
    assert read_day(_day(tmp_path)).day == date(2030, 1, 2)
