"""Ranking: each part of the score moves it the right way, and the parts are explained."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from dailybrief import config
from dailybrief.records import Item, Story
from dailybrief.stories.rank import PARTS, RankSettings, Topic, lab_site, mentions, rank, score_story

DAY = date(2026, 4, 10)
NOW = datetime(2026, 4, 10, 16, tzinfo=timezone.utc)


def item(key: str, tier: str = "press", outlet: str = "", hours_ago: float = 2, title: str = "A lab ships a model",
         points: int | None = None, comments: int | None = None) -> Item:
    return Item(id=key, source_id=outlet or key, source_name=outlet or key, tier=tier, url=f"https://{key}.example",
                canonical_url=f"https://{key}.example", title=title, text="It is faster than the last one.",
                published=NOW - timedelta(hours=hours_ago), points=points, comment_count=comments)


def story(key: str, items: list[Item], **kw: object) -> Story:
    return Story(id=key, items=items, first_seen=DAY, last_seen=DAY, **kw)  # type: ignore[arg-type]


def test_official_and_primary_sources_rank_above_aggregators() -> None:
    official = story("a", [item("a1", "official"), item("a2", "community")])
    aggregator = story("b", [item("b1", "community"), item("b2", "community")])
    ranked = rank([aggregator, official], NOW)
    assert [s.id for s in ranked] == ["a", "b"]
    assert official.score_parts["authority"] > aggregator.score_parts["authority"]
    assert "official" in official.score_notes["authority"]


def test_outlets_engagement_and_recency_each_raise_the_score() -> None:
    base = score_story(story("x", [item("x1")]), NOW, RankSettings())[0]
    more_outlets = score_story(story("y", [item("y1"), item("y2"), item("y3")]), NOW, RankSettings())[0]
    engaged = score_story(story("z", [item("z1", points=900, comments=400)]), NOW, RankSettings())[0]
    old = score_story(story("o", [item("o1", hours_ago=20)]), NOW, RankSettings())[0]
    assert more_outlets["outlets"] > base["outlets"]
    assert engaged["engagement"] > base["engagement"] == 0
    assert old["recency"] < base["recency"]
    # Ten reports from one outlet are one outlet.
    same = score_story(story("s", [item(f"s{i}", outlet="Wire") for i in range(10)]), NOW, RankSettings())[0]
    assert same["outlets"] == base["outlets"]


def test_novelty_favours_new_stories_over_follow_ups_with_little_new() -> None:
    fresh = story("f", [item("f1"), item("f2")])
    stale = story("g", [item("g1", outlet="A"), item("g2", outlet="B")], follow_up=True, briefed_on=DAY - timedelta(1),
                  earlier_outlets=["A", "B"])
    news = story("h", [item("h1", outlet="A"), item("h2", outlet="C")], follow_up=True, briefed_on=DAY - timedelta(1),
                 earlier_outlets=["A", "B"])
    parts = {s.id: score_story(s, NOW, RankSettings())[0]["novelty"] for s in (fresh, stale, news)}
    assert parts["f"] > parts["h"] > parts["g"]
    _, notes = score_story(news, NOW, RankSettings())
    assert "follow-up" in notes["novelty"] and "1 of 2 outlets new" in notes["novelty"]


def test_topic_weights_and_watch_list_come_from_config() -> None:
    cfg = config.from_dict({"rank": {"watchlist": ["DeepSeek"], "watch": 2.0, "topics": [
        {"name": "security", "zh": "网络安全", "en": "Security", "weight": 3.0, "keywords": ["vulnerability", "漏洞"]},
        {"name": "policy", "weight": 0.5, "keywords": ["regulation"]}]}})
    settings = RankSettings.from_config(cfg.rank)
    sec = story("s", [item("s1", title="Model finds a 27-year-old vulnerability")])
    zh = story("z", [item("z1", title="新模型发现 27 年前的漏洞")])
    pol = story("p", [item("p1", title="EU regulation for models")])
    watched = story("w", [item("w1", title="DeepSeek ships a model")])
    plain = story("n", [item("n1")])
    parts = {s.id: score_story(s, NOW, settings)[0] for s in (sec, zh, pol, watched, plain)}
    assert parts["s"]["topics"] == parts["z"]["topics"] > parts["p"]["topics"] > parts["n"]["topics"] == 0
    assert parts["w"]["watch"] == 2.0 and parts["n"]["watch"] == 0
    assert sec.topics == ["security"]


def test_every_part_is_explained_and_sums_to_the_score() -> None:
    s = story("e", [item("e1", "official", points=10), item("e2", "community", comments=5)])
    [ranked] = rank([s], NOW, RankSettings(topics=[Topic("models", ["model"])]))
    assert set(ranked.score_parts) == set(PARTS) == set(ranked.score_notes)
    assert abs(ranked.score - sum(ranked.score_parts.values())) < 1e-6
    assert all(ranked.score_notes[p] for p in PARTS)


def test_keywords_match_whole_words_in_latin_and_substrings_in_chinese() -> None:
    assert mentions("The chips are down", ["chip", "chips"]) == ["chips"]
    assert mentions("Microchips", ["chips"]) == []
    assert mentions("英伟达发布新芯片", ["芯片"]) == ["芯片"]
    assert mentions("Anthropic's Mythos", ["mythos", "anthropic"]) == ["mythos", "anthropic"]


def test_default_topics_are_in_the_commented_config() -> None:
    from_file = config.load().rank  # the packaged default_config.toml
    assert [t.name for t in from_file.topics] == [t.name for t in config.RankConfig().topics]
    assert from_file.model_dump() == config.RankConfig().model_dump()


def test_a_link_two_of_a_sites_lists_carry_counts_as_listed_twice() -> None:
    once = story("a", [item("a1", "community", outlet="Hacker News")])
    twice = story("b", [item("b1", "community", outlet="Hacker News")], listed_by=["hn-front-page"])
    parts = {s.id: score_story(s, NOW, RankSettings()) for s in (once, twice)}
    assert parts["a"][0]["listings"] == 0 < parts["b"][0]["listings"]
    assert "2 feeds list it" in parts["b"][1]["listings"]
    # A second outlet is counted by `outlets`, not again as a listing.
    other = story("c", [item("c1", "community", outlet="Hacker News"), item("c2", "press", outlet="Wire")])
    assert score_story(other, NOW, RankSettings())[0]["listings"] == 0


def test_a_post_a_list_shows_without_figures_counts_as_that_sites_middle_item() -> None:
    scored = [story(f"s{n}", [item(f"s{n}", "community", outlet="Hacker News", points=p, comments=0)])
              for n, p in enumerate((10, 100, 1000))]
    listed = story("l", [item("l1", "community", outlet="Hacker News")])
    lone = story("m", [item("m1", "community", outlet="Lobsters")])  # its site shows no figures at all that day
    ranked = rank([*scored, listed, lone], NOW)
    share = {s.id: s.score_parts["engagement"] / RankSettings().engagement for s in ranked}
    assert abs(share["l"] - share["s1"]) < 1e-9 and share["s1"] == 0.5  # the middle of the site's scored posts
    assert share["m"] == 0.5
    assert "no figures" in listed.score_notes["engagement"]


def test_figures_count_by_their_standing_on_their_own_site_that_day() -> None:
    """The day's top thread and the day's top repo are each their site's top; the spread is the day's, whatever
    the size of the figures."""
    threads = [story(f"t{n}", [item(f"t{n}", "community", outlet="Hacker News", points=p, comments=0)])
               for n, p in enumerate((100, 200, 1300))]
    repos = [story(f"r{n}", [item(f"r{n}", "code", outlet="GitHub Trending")]) for n in range(3)]
    for repo, stars in zip(repos, (500, 4000, 90000), strict=True):
        repo.items[0].score = stars
    ranked = rank([*threads, *repos], NOW)
    share = {s.id: s.score_parts["engagement"] / RankSettings().engagement for s in ranked}
    assert share["t2"] == share["r2"] == 1.0 and share["t1"] == share["r1"] == 0.5 and share["t0"] == 0.0
    assert "among the day's 3" in threads[2].score_notes["engagement"]


def test_a_threads_votes_count_as_the_attention_it_holds_now() -> None:
    """600 points in the last three hours stand above 900 points over two days: the site's own front page would
    show the first, not the second."""
    fresh = story("f", [item("f1", "community", outlet="Hacker News", hours_ago=3, points=600, comments=100)])
    stale = story("s", [item("s1", "community", outlet="Hacker News", hours_ago=46, points=900, comments=300)])
    filler = story("x", [item("x1", "community", outlet="Hacker News", hours_ago=10, points=50, comments=5)])
    ranked = rank([stale, filler, fresh], NOW, RankSettings(recency=0))
    assert [s.id for s in ranked] == ["f", "s", "x"]
    assert fresh.score_parts["engagement"] > stale.score_parts["engagement"] > filler.score_parts["engagement"]


def test_a_place_on_a_ranked_listing_counts_as_engagement_on_its_sites_scale() -> None:
    """A front page shows no figures but its order: its #1 stands with the day's top thread, a post lower on it
    below, and a copy's place (a link that a site's best list and front page both carry) counts for the story."""
    threads = [story(f"t{n}", [item(f"t{n}", "community", outlet="Hacker News", points=p, comments=0)])
               for n, p in enumerate((50, 100, 200, 400, 800, 1600))]
    first = story("a", [item("a1", "community", outlet="Hacker News")])
    first.items[0].position = 1
    third = story("b", [item("b1", "community", outlet="Hacker News")])
    third.items[0].position = 3
    low = story("c", [item("c1", "community", outlet="Hacker News")])
    low.items[0].position = 6
    copied = story("d", [item("d1", "community", outlet="Hacker News", points=60, comments=0)],
                   listed_at={"Hacker News": 2})
    ranked = rank([*threads, first, third, low, copied], NOW, RankSettings(recency=0))
    share = {s.id: s.score_parts["engagement"] / RankSettings().engagement for s in ranked}
    assert share["a"] == share["t5"] == 1.0
    assert 1.0 > share["d"] > share["b"] > 0.5 > share["c"] > share["t0"] == 0.0
    assert "#3 of 7 on Hacker News's ranked listing" in third.score_notes["engagement"]
    assert [s.id for s in ranked].index("a") < [s.id for s in ranked].index("c")


def test_a_community_post_of_a_labs_own_page_is_the_labs_announcement() -> None:
    sites = ["openai.com", "huggingface.co/blog"]
    settings = RankSettings(lab_sites=sites)
    post = item("p", "community", outlet="Hacker News", title="Notes on long context")
    post.url = "https://openai.com/index/introducing-orbit-3/"
    essay = item("e", "community", outlet="Hacker News", title="Notes on long context")
    essay.url = "https://someone.example/orbit-3-thoughts"
    lab, other = score_story(story("a", [post]), NOW, settings), score_story(story("b", [essay]), NOW, settings)
    assert lab[0]["authority"] == settings.tier["official"] > other[0]["authority"]
    assert lab[0]["announcement"] > other[0]["announcement"] == 0
    assert "the lab's own page (openai.com)" in lab[1]["authority"]
    assert lab_site("https://huggingface.co/blog/orbit", sites) == "huggingface.co/blog"
    assert lab_site("https://huggingface.co/someone/orbit", sites) == ""
    assert lab_site("https://notopenai.com/x", sites) == ""
    # Status pages, forums and reference docs on the lab's site are not its announcements.
    for url in ("https://status.openai.com/incidents/1", "https://community.openai.com/t/1",
                "https://platform.openai.com/docs/models", "https://api-docs.openai.com/x"):
        assert lab_site(url, sites) == "", url


def test_the_beats_lab_sites_reach_the_ranking_from_config() -> None:
    cfg = config.from_dict({"edition": {"beat": {"sites": ["lab.example"]}}})
    assert RankSettings.from_config(cfg.rank, cfg.edition.beat.sites).lab_sites == ["lab.example"]
    assert "anthropic.com" in config.from_dict({}).edition.beat.sites


def _thread(key: str, title: str, url: str, thread: str = "", points: int = 300) -> Item:
    post = item(key, "community", outlet="Hacker News", title=title, points=points, comments=100)
    post.url = post.canonical_url = url
    post.thread_url = thread
    return post


def test_talk_alone_ranks_below_the_news_it_is_about() -> None:
    talk = {
        "essay": _thread("e", "I cancelled my model subscription", "https://someone.example/cancelled"),
        "opinion": _thread("o", "A case for Go as the language of agents", "https://blog.example/go"),
        "status": _thread("s", "Chat service unavailable, elevated errors",
                          "https://status.lab.example/incidents/abc"),
        "status2": _thread("t", "The code host is down again", "https://www.codehoststatus.com"),
        "meta": _thread("m", "Don't post generated comments", "https://news.site.example/guidelines.html",
                        thread="https://news.site.example/item?id=1"),
        "issue": _thread("i", "Models Think, Robots Work, Chips Ship", "https://letter.example/the-letter/issue-350/"),
        "job": _thread("j", "Orbit Labs (YC W24) is hiring engineers to build agents", "https://jobs.example/orbit"),
    }
    report = _thread("r", "Orbit-3 beats the last model on code", "https://press.example/orbit-3-code")
    ranked = rank([story(k, [i]) for k, i in talk.items()] + [story("report", [report])], NOW)
    assert ranked[0].id == "report"
    assert ranked[0].score_parts["commentary"] == 0
    for s in ranked[1:]:
        assert s.score_parts["commentary"] == -RankSettings().commentary < 0, s.id
        assert s.score_notes["commentary"].startswith("talk, not news"), s.id
    # Its own discussion page is no article: a post that links elsewhere is not about the community.
    linked = score_story(story("x", [_thread("x", "A post", "https://elsewhere.example/a",
                                             thread="https://news.site.example/item?id=2")]), NOW, RankSettings())[0]
    assert linked["commentary"] == 0


def test_a_story_that_announces_something_is_news_however_it_is_told() -> None:
    maker = _thread("a", "Show HN: I built a voice agent from scratch", "https://maker.example/voice")
    essay = _thread("b", "I wrote about the launch", "https://someone.example/launch-notes")
    lab = item("c", "official", outlet="Lab News", title="Orbit-3")
    parts = {k: score_story(story(k, items), NOW, RankSettings())[0] for k, items in
             (("maker", [maker]), ("essay+lab", [essay, lab]))}
    assert parts["maker"]["commentary"] == 0 and parts["maker"]["announcement"] > 0
    assert parts["essay+lab"]["commentary"] == 0  # the lab's own post is among its items


def test_a_page_name_or_a_deal_announces_and_a_percentage_is_no_version() -> None:
    def said(title: str, url: str = "https://site.example/post") -> float:
        return score_story(story("s", [_thread("s", title, url)]), NOW, RankSettings())[0]["announcement"]

    assert said("Talkie: a vintage language model", "https://talkie.example/introducing-talkie") > 0
    assert said("Rocket maker has agreement to acquire an editor maker for $60B") > 0
    assert said("A researcher raises $1B for a new lab") > 0
    assert said("Orbit 3.5 Flash, an open model") > 0  # a versioned name
    assert said("CTO says 93% of developers use AI, but productivity is still 10%") == 0
    assert said("Notes on long context", "https://site.example/notes-on-long-context") == 0


def test_a_post_of_a_projects_own_page_is_its_release() -> None:
    """A link to a repository's or a model's own page shows the thing released; its issues are a user's report,
    and a trending list's entry is only trending."""
    def said(url: str, tier: str = "community") -> float:
        post = _thread("p", "CC-Probe: detect early signs of regressions", url)
        post.tier = tier
        return score_story(story("p", [post]), NOW, RankSettings())[0]["announcement"]

    assert said("https://github.com/someone/cc-probe") > 0
    assert said("https://huggingface.co/lab/orbit-3") > 0
    assert said("https://github.com/someone/cc-probe/issues/12") == 0
    assert said("https://github.com/someone/cc-probe", tier="code") == 0
