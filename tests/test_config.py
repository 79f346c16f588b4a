from __future__ import annotations

import tomllib
from datetime import date, timedelta
from pathlib import Path

import pytest

from dailybrief import config
from dailybrief.errors import ConfigError


def test_defaults_hold_a_curated_source_list() -> None:
    cfg = config.load()
    tiers = {s.tier for s in cfg.sources}
    names = " ".join(s.name for s in cfg.sources)
    assert tiers == {"official", "press", "community", "paper", "code"}
    for must in ("OpenAI", "DeepMind", "arXiv cs.AI", "arXiv cs.CL", "arXiv cs.LG", "Hacker News",
                 "r/MachineLearning", "r/LocalLLaMA", "机器之心", "量子位"):
        assert must in names
    assert {s.language for s in cfg.sources} == {"zh", "en"}


def test_init_text_is_commented_and_loads(tmp_path: Path) -> None:
    text = config.default_text()
    assert text.count("\n#") > 20
    for table in ("[edition]", "[branding]", "[writer]", "[output]", "[[publish]]", "[[sources]]"):
        assert table in text
    p = tmp_path / "c.toml"
    p.write_text(text, "utf-8")
    assert config.load(p).edition.top_stories == 5


def test_user_file_overrides_key_by_key(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (4, 4)).save(tmp_path / "logo.png")
    p = tmp_path / "c.toml"
    p.write_text('[edition]\ntop_stories = 3\n[branding]\norganisation = ["甲", "乙"]\nlogo = "logo.png"\n', "utf-8")
    cfg = config.load(p)
    assert cfg.edition.top_stories == 3
    assert cfg.edition.timezone == "Asia/Shanghai"  # untouched default
    assert cfg.branding.to_branding(cfg.base_dir).logo == str(tmp_path / "logo.png")


def test_title_is_one_for_all_editions_or_one_per_language() -> None:
    both = config.from_dict({"edition": {"languages": ["zh", "en"]}})
    assert both.edition.title_for("zh") == "AI 技术每日分析" and both.edition.title_for("en") == "AI Technology Daily"
    one = config.from_dict({"edition": {"title": "Tech Brief", "languages": ["zh", "en"]}})
    assert one.edition.title_for("zh") == one.edition.title_for("en") == "Tech Brief"
    zh_only = config.from_dict({"edition": {"title": {"zh": "科技简报"}, "languages": ["zh", "en"]}})
    assert zh_only.edition.title_for("en") == "科技简报"  # a missing language borrows the first edition's


@pytest.mark.parametrize(("data", "key", "value", "fix"), [
    ({"sources": [{"name": "x", "url": "http://a.example", "tier": "blog"}]}, "sources[0].tier", "blog",
     "official, press, community, paper, code"),
    ({"sources": [{"name": "x", "url": "ftp://a.example"}]}, "sources[0].url", "ftp://a.example", "http://"),
    ({"edition": {"timezone": "Mars/Olympus"}}, "edition.timezone", "Mars/Olympus", "IANA"),
    ({"edition": {"languages": ["fr"]}}, "edition.languages[0]", "fr", "'zh' or 'en'"),
    ({"writer": {"kind": "openai"}}, "writer", None, "base_url"),
    ({"edtion": {"title": "x"}}, "edtion", None, "unknown"),
    ({"sources": [{"url": "http://a.example"}]}, "sources[0].name", None, "required"),
    ({"output": {"formats": ["md", "docx"]}}, "output.formats[1]", "docx", "md, html, wechat, chat, txt, pdf, json"),
    ({"output": {"edition_url": "brief.example.com/{date}/"}}, "output.edition_url", "brief.example.com/{date}/",
     "https://brief.example.com/{date}/"),
    ({"output": {"edition_url": "https://b.example/{day}/"}}, "output.edition_url", "https://b.example/{day}/",
     "only the placeholders {date} and {lang}"),
    ({"writer": {"api_key_env": "sk-live-0123456789"}}, "writer.api_key_env", "<hidden: it looks like a secret>",
     "NAME of an env var"),
    ({"writer": {"base_url": "api.deepseek.com"}}, "writer.base_url", "api.deepseek.com", "https://"),
    ({"writer": {"response_format": "xml"}}, "writer.response_format", "xml", "json_schema"),
    ({"writer": {"token_budget": -1}}, "writer.token_budget", -1, "greater than or equal to 0"),
    ({"verify": {"unsupported": "hide"}}, "verify.unsupported", "hide", "'auto', 'mark' or 'drop'"),
    ({"edition": {"title": " "}}, "edition.title", " ", "give the briefing a title"),
    ({"edition": {"title": {"zh": "简报", "en": ""}}}, "edition.title", None, "each title must be text"),
    ({"edition": {"title": {"fr": "Le brief"}}}, "edition.title", None, "'fr' is not an edition language"),
])
def test_bad_config_names_key_value_and_fix(data: dict, key: str, value: object, fix: str) -> None:
    with pytest.raises(ConfigError) as err:
        config.from_dict(data)
    assert err.value.key == key
    if value is not None:
        assert err.value.value == value
    assert fix in str(err.value)


def test_broken_toml_is_one_clear_message(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text("[edition\ntitle = 1", "utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(p)


def test_database_moves_with_env_and_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DAILYBRIEF_DB")
    monkeypatch.setenv("DAILYBRIEF_HOME", str(tmp_path / "h"))
    assert config.from_dict({}).db_path() == tmp_path / "h" / "dailybrief.db"
    assert config.from_dict({"storage": {"path": "/x/y.db"}}).db_path() == Path("/x/y.db")
    monkeypatch.setenv("DAILYBRIEF_DB", str(tmp_path / "e.db"))
    assert config.from_dict({"storage": {"path": "/x/y.db"}}).db_path() == tmp_path / "e.db"


def test_default_file_is_valid_toml() -> None:
    assert tomllib.loads(config.default_text())["writer"]["kind"] == "extractive"


def test_output_formats_and_edition_link() -> None:
    from datetime import date

    cfg = config.load()
    assert cfg.output.formats == ["md", "html", "wechat", "chat", "txt", "pdf", "json"]
    assert cfg.output.edition_link(date(2026, 4, 10), "zh", "brief") == ""
    out = config.from_dict({"output": {"edition_url": "https://b.example/{date}/"}}).output
    assert out.edition_link(date(2026, 4, 10), "en", "brief.en") == "https://b.example/2026-04-10/brief.en.html"
    out = config.from_dict({"output": {"edition_url": "https://b.example/{lang}/{date}.html"}}).output
    assert out.edition_link(date(2026, 4, 10), "zh", "brief") == "https://b.example/zh/2026-04-10.html"


def test_source_kinds_defaults_and_identity() -> None:
    cfg = config.from_dict({"sources": [
        {"name": "HN", "kind": "hackernews"},
        {"name": "AI", "kind": "arxiv", "categories": ["cs.AI"]},
        {"name": "CL", "kind": "arxiv", "categories": ["cs.CL"]},
        {"name": "Rel", "kind": "github", "repos": ["a/b"], "tier": "official"},
        {"name": "Feed", "url": "https://f.example/rss", "full_text": True},
    ]})
    hn, ai, cl, rel, feed = cfg.enabled_sources()
    assert (hn.url, hn.tier) == ("https://hacker-news.firebaseio.com/v0", "community")
    assert (ai.url, ai.tier, ai.options) == ("https://export.arxiv.org/api/query", "paper", {"categories": ["cs.AI"]})
    assert ai.id != cl.id  # same endpoint, other categories: another source
    assert rel.tier == "official" and feed.kind == "rss" and feed.tier == "press" and feed.full_text
    from dailybrief.records import Source
    assert feed.id == Source("Feed", "rss", "https://f.example/rss").id  # plain feeds keep the foundation's ids


@pytest.mark.parametrize(("source", "key", "fix"), [
    ({"name": "x", "kind": "carrier-pigeon", "url": "https://a.example"}, "sources[0].kind", "use one of rss, "),
    ({"name": "x", "url": "https://a.example", "categories": ["cs.AI"]}, "sources[0].categories",
     "unknown for kind 'rss'"),
    ({"name": "x", "kind": "rss"}, "sources[0].url", "needs a url"),
    ({"name": "x", "kind": "github", "repos": ["not a repo"]}, "sources[0].repos", "'owner/name'"),
    ({"name": "x", "kind": "hackernews", "list": "worst"}, "sources[0].list", "'top'"),
    ({"name": "x", "kind": "hackernews", "limit": 0}, "sources[0].limit", "greater than or equal to 1"),
])
def test_kind_options_are_validated_with_key_and_fix(source: dict, key: str, fix: str) -> None:
    with pytest.raises(ConfigError) as err:
        config.from_dict({"sources": [source]})
    assert err.value.key == key
    assert fix in str(err.value)


def test_fetch_settings_come_from_config() -> None:
    cfg = config.from_dict({"fetch": {"retries": 4, "user_agent": "bot/1", "max_redirects": 2}})
    s = cfg.fetch.settings()
    assert (s.retries, s.user_agent, s.max_redirects, s.respect_robots) == (4, "bot/1", 2, True)
    with pytest.raises(ConfigError) as err:
        config.from_dict({"fetch": {"retries": -1}})
    assert err.value.key == "fetch.retries"


def test_edition_cutoff_is_checked_and_window_hours_is_gone_with_a_fix() -> None:
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    cfg = config.from_dict({})
    assert cfg.edition.cutoff == "07:30"
    start, end = cfg.edition.window(date(2026, 4, 10))
    zone = ZoneInfo("Asia/Shanghai")
    assert (start, end) == (datetime(2026, 4, 9, 7, 30, tzinfo=zone), datetime(2026, 4, 10, 7, 30, tzinfo=zone))
    day = config.from_dict({"edition": {"cutoff": "24:00"}}).edition.window(date(2026, 4, 10))
    assert day == (datetime(2026, 4, 10, tzinfo=zone), datetime(2026, 4, 11, tzinfo=zone))
    for bad in ("7:30", "25:00", "24:30", "noon"):
        with pytest.raises(ConfigError) as err:
            config.from_dict({"edition": {"cutoff": bad}})
        assert err.value.key == "edition.cutoff" and '"HH:MM"' in str(err.value)
    with pytest.raises(ConfigError) as err:
        config.from_dict({"edition": {"window_hours": 24}})
    assert err.value.key == "edition.window_hours" and "edition.cutoff" in str(err.value)


@pytest.mark.parametrize(("toml", "key", "fix"), [
    ('[writer]\nglossary = "terms.toml"\n', "writer.glossary", "no such file"),
    ('[writer]\nglossary = "bad.toml"\n', "writer.glossary", "not valid UTF-8 TOML"),
    ('[branding]\nlogo = "missing.png"\n', "branding.logo", "does not exist"),
    ('[[publish]]\nkind = "email"\nname = "mail"\nhost = "smtp.example"\nsender = "a@b.example"\nto = ["c@d.example"]\n'
     'ca_file = "ca.pem"\n', "publish[0].ca_file", "no such file"),
])
def test_every_file_the_config_names_is_checked_at_load(tmp_path: Path, toml: str, key: str, fix: str) -> None:
    from click.testing import CliRunner

    from dailybrief.cli import main

    (tmp_path / "bad.toml").write_text("[[term]\nen = ", "utf-8")
    p = tmp_path / "c.toml"
    p.write_text(toml, "utf-8")
    with pytest.raises(ConfigError) as err:
        config.load(p)
    assert err.value.key == key and fix in str(err.value)
    # The CLI says so in one message with exit code 2, before any work: no traceback, no run.
    result = CliRunner().invoke(main, ["--config", str(p), "run", "--date", "2026-04-10"])
    assert result.exit_code == 2 and key in result.output and "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) <= 3


def test_files_the_config_names_resolve_from_its_folder(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n", "utf-8")
    (tmp_path / "terms.toml").write_text('[[term]]\nen = "Acme"\nzh = "艾克米"\n', "utf-8")
    p = tmp_path / "c.toml"
    p.write_text('[writer]\nglossary = "terms.toml"\n[[publish]]\nkind = "email"\nname = "mail"\nhost = "smtp.example"\n'
                 'sender = "a@b.example"\nto = ["c@d.example"]\nca_file = "ca.pem"\n', "utf-8")
    cfg = config.load(p)
    assert cfg.publish[0].ca_file == str(tmp_path / "ca.pem")


# -- several editions ([[editions]]) ------------------------------------------------------------------------------
_EDITION_SOURCES = [
    {"name": "Acme Lab", "url": "https://acme.example/feed.xml", "tags": ["ai"]},
    {"name": "AI 前哨", "url": "https://zh.example/feed.xml", "language": "zh", "tags": ["ai"]},
    {"name": "ChipWire", "url": "https://chips.example/feed.xml"},
]
_TARGETS = [{"kind": "folder", "name": "archive"}, {"kind": "folder", "name": "chips"}]


def _editions(*entries: dict, **over: object) -> config.Config:
    return config.from_dict({"sources": _EDITION_SOURCES, "publish": _TARGETS, "output": {"dir": "out"},
                             "edition": {"languages": ["zh"], "cutoff": "07:30", "top_stories": 4},
                             "branding": {"organisation": ["Assoc"], "website": "https://assoc.example"},
                             "editions": list(entries), **over})


def _error(*entries: dict, **over: object) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        _editions(*entries, **over)
    return caught.value


def test_each_edition_falls_back_to_the_top_level_for_what_it_leaves_out() -> None:
    cfg = _editions({"name": "ai", "sources": ["ai"]},
                    {"name": "chips", "sources": ["ChipWire"], "languages": ["en"], "cutoff": "09:00", "days": 7,
                     "title": "Chips Weekly", "publish": ["chips"], "branding": {"website": "https://chips.example"},
                     "cron": "0 9 * * 1"})
    ai, chips = cfg.edition_configs()
    assert cfg.edition_names() == ["ai", "chips"]
    # ai: the top-level [edition], [branding] and targets, and its tagged sources.
    assert (ai.edition.name, ai.edition.languages, ai.edition.cutoff, ai.edition.top_stories) == ("ai", ["zh"],
                                                                                                 "07:30", 4)
    assert [s.name for s in ai.enabled_sources()] == ["Acme Lab", "AI 前哨"]
    assert [t.name for t in ai.publish if t.editions] == ["archive", "chips"]
    assert ai.out_dir() == Path.cwd() / "out" / "ai"
    assert ai.cron() == "30 7 * * *"
    # chips: its own keys; branding key by key over [branding]; the targets it does not name get no edition.
    assert (chips.edition.languages, chips.edition.title_for("en"), chips.edition.top_stories) == (["en"],
                                                                                                   "Chips Weekly", 4)
    assert [s.name for s in chips.enabled_sources()] == ["ChipWire"]
    assert chips.branding.organisation == ["Assoc"] and chips.branding.website == "https://chips.example"
    assert [t.name for t in chips.publish if t.editions] == ["chips"]
    assert chips.cron() == "0 9 * * 1"
    start, end = chips.edition.window(date(2026, 4, 13))
    assert end - start == timedelta(days=7)
    # The top level is untouched, and one source of truth: the entry's values live in its config only.
    assert cfg.edition.languages == ["zh"] and cfg.branding.website == "https://assoc.example"
    assert cfg.for_edition("chips").edition.cutoff == "09:00"


def test_one_edition_config_is_its_own_edition() -> None:
    cfg = config.from_dict({"sources": _EDITION_SOURCES})
    assert cfg.edition_configs() == [cfg] and cfg.for_edition(None) is cfg
    assert cfg.edition.name == "daily" and cfg.for_edition("daily") is cfg
    assert config.from_dict({"edition": {"name": "ai-daily"}}).edition_names() == ["ai-daily"]


@pytest.mark.parametrize(("entries", "over", "key", "fix"), [
    ([{"name": "ai"}, {"name": "ai"}], {}, "editions[1].name", "two editions share this name"),
    ([{"name": "AI Daily"}], {}, "editions[0].name", "short slug"),
    ([{"sources": ["ai"]}], {}, "editions[0].name", "this key is required"),
    ([{"name": "ai", "sources": ["Acme"]}], {}, "editions[0].sources",
     "no [[sources]] entry has this name or tag; name sources by name (Acme Lab, AI 前哨, ChipWire) or tag (ai)"),
    ([{"name": "ai", "publish": ["mail"]}], {}, "editions[0].publish",
     "no [[publish]] target has this name; use archive, chips"),
    ([{"name": "ai", "languages": ["fr"]}], {}, "editions[0].languages[0]", "'zh' or 'en'"),
    ([{"name": "ai", "cutof": "08:00"}], {}, "editions[0].cutof", "this key is unknown"),
    ([{"name": "ai", "cutoff": "8am"}], {}, "editions[0].cutoff", "HH:MM"),
    ([{"name": "ai", "branding": {"logo": "missing.png"}}], {}, "editions[0].branding.logo", ""),
    ([{"name": "ai", "cron": "every day"}], {}, "editions[0].cron", ""),
    ([{"name": "ai"}, {"name": "chips"}], {"review": {"required": True}}, "editions[1].review.desk_url",
     "editions ai and chips are both reviewed on this desk"),
    ([{"name": "ai", "review": {"required": True}}, {"name": "chips", "review": {"required": True}}], {},
     "editions[1].review.desk_url", "give each reviewed edition its own"),
    ([{"name": "ai", "review": {"auto_publish_at": "9am"}}], {}, "editions[0].review.auto_publish_at", "HH:MM"),
    ([{"name": "ai", "review": {"requird": True}}], {}, "editions[0].review.requird", "this key is unknown"),
    ([{"name": "ai", "output": {"formats": ["docx"]}}], {}, "editions[0].output.formats[0]", "md, html"),
    ([{"name": "ai", "output": {"edition_url": "brief.example/{date}/"}}], {}, "editions[0].output.edition_url",
     "http:// or https://"),
    ([{"name": "ai", "output": {"dir": "elsewhere"}}], {}, "editions[0].output.dir", "<output.dir>/<name>/"),
    ([{"name": "ai", "output": {"format": ["md"]}}], {}, "editions[0].output.format", "may set formats and edition_url"),
    ([{"name": "ai"}, {"name": "chips", "publish": ["archive"]}],
     {"publish": [{"kind": "folder", "name": "archive", "path": "/srv/archive"}]}, "publish[0].path",
     "editions ai and chips would all write their files here"),
    # Wrong types in an entry's tables, and half-filled entries: the key, and how to write it.
    ([{"name": "ai", "review": "yes"}], {}, "editions[0].review", "this must be a table; e.g. review = {"),
    ([{"name": "ai", "output": ["html"]}], {}, "editions[0].output", "e.g. output = { formats = "),
    ([{"name": "ai", "branding": 3}], {}, "editions[0].branding", "this must be a table"),
    ([{"name": "ai", "review": {"required": "sometimes"}}], {}, "editions[0].review.required", "use true or false"),
    ([{"name": "ai", "review": {"desk_url": 8751}}], {}, "editions[0].review.desk_url", "put the value in quotes"),
    ([{"name": "ai", "review": {"desk_url": "127.0.0.1:8751"}}], {}, "editions[0].review.desk_url",
     "an http:// or https:// URL with a host"),
    ([{"name": "ai", "review": {"desk_url": "http://127.0.0.1:99999/"}}], {}, "editions[0].review.desk_url",
     "a port up to 65535"),
    ([{"name": "ai", "output": {"formats": "html"}}], {}, "editions[0].output.formats", "md, html"),
    ([{"name": "ai", "sources": "ai"}], {}, "editions[0].sources", 'a list of names, e.g. sources = ["ai"]'),
    ([{"name": "ai", "reviw": {"required": True}}], {}, "editions[0].reviw", "this key is unknown"),
    (["ai"], {}, "editions[0]", "[[editions]] table (double brackets)"),
])
def test_a_wrong_editions_entry_names_its_key_and_the_fix(entries: list, over: dict, key: str, fix: str) -> None:
    err = _error(*entries, **over)
    assert err.key == key, err
    assert fix in err.fix, err


def test_folder_and_site_targets_without_a_path_live_in_each_editions_folder() -> None:
    ai, chips = _editions({"name": "ai"}, {"name": "chips"},
                          publish=[{"kind": "folder", "name": "archive"}, {"kind": "site", "name": "site"}]
                          ).edition_configs()
    assert [ai.target_path(t) for t in ai.publish] == [Path.cwd() / "out" / "ai" / "editions",
                                                       Path.cwd() / "out" / "ai" / "site"]
    assert chips.target_path(chips.publish[0]) == Path.cwd() / "out" / "chips" / "editions"


def test_an_edition_of_disabled_sources_only_is_refused() -> None:
    sources = [{**s, "enabled": s["name"] != "ChipWire"} for s in _EDITION_SOURCES]
    err = _error({"name": "chips", "sources": ["ChipWire"]}, sources=sources)
    assert err.key == "editions[0].sources" and "no enabled source" in err.fix
    with pytest.raises(ConfigError, match="no such edition; use one of ai"):
        _editions({"name": "ai"}).for_edition("weekly")
    with pytest.raises(ConfigError, match="name one with --edition"):
        _editions({"name": "ai"}, {"name": "chips"}).for_edition(None)


def test_output_and_review_per_edition_fall_back_to_the_top_level_key_by_key() -> None:
    cfg = _editions({"name": "ai", "review": {"required": True, "auto_publish_at": "09:00"}},
                    {"name": "chips", "output": {"edition_url": "https://chips.example/{date}/"},
                     "review": {"required": True, "desk_url": "http://127.0.0.1:8751/"}},
                    {"name": "weekly", "output": {"formats": ["html", "json"]}},
                    output={"dir": "out", "formats": ["md", "json"], "edition_url": "https://assoc.example/{date}/"},
                    review={"desk_url": "http://127.0.0.1:8750/"})
    ai, chips, weekly = cfg.edition_configs()
    assert (ai.output.formats, ai.output.edition_url) == (["md", "json"], "https://assoc.example/{date}/")
    assert (chips.output.formats, weekly.output.formats) == (["md", "json"], ["html", "json"])
    assert chips.output.edition_link(date(2026, 4, 10), "zh", "brief") == "https://chips.example/2026-04-10/brief.html"
    assert weekly.output.edition_url == "https://assoc.example/{date}/"
    assert [c.output.dir for c in (ai, chips, weekly)] == [str(Path.cwd() / "out" / n) for n in ("ai", "chips", "weekly")]
    assert (ai.review.required, ai.review.auto_publish_at, ai.review.desk_url) == (True, "09:00", "http://127.0.0.1:8750/")
    assert (chips.review.required, chips.review.auto_publish_at, chips.review.desk_url) == (True, "", "http://127.0.0.1:8751/")
    assert not weekly.review.required
    # The top level keeps its own; an entry's values live in its config only.
    assert cfg.output.formats == ["md", "json"] and not cfg.review.required
    # Without an output table an edition has the packaged default formats, the one list in default_config.toml.
    defaults = config.load()
    assert _editions({"name": "ai"}).for_edition("ai").output.formats == defaults.output.formats


def test_editions_written_as_one_table_says_to_use_double_brackets() -> None:
    with pytest.raises(ConfigError) as caught:
        config.from_dict({"sources": _EDITION_SOURCES, "editions": {"name": "ai"}})
    assert caught.value.key == "editions" and "a list of tables" in caught.value.fix
    assert "[[editions]]" in caught.value.fix
