from __future__ import annotations

import tomllib
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
    p = tmp_path / "c.toml"
    p.write_text('[edition]\ntop_stories = 3\n[branding]\norganisation = ["甲", "乙"]\nlogo = "logo.png"\n', "utf-8")
    cfg = config.load(p)
    assert cfg.edition.top_stories == 3
    assert cfg.edition.timezone == "Asia/Shanghai"  # untouched default
    assert cfg.branding.to_branding(cfg.base_dir).logo == str(tmp_path / "logo.png")


@pytest.mark.parametrize(("data", "key", "value", "fix"), [
    ({"sources": [{"name": "x", "url": "http://a.example", "tier": "blog"}]}, "sources[0].tier", "blog",
     "official, press, community, paper, code"),
    ({"sources": [{"name": "x", "url": "ftp://a.example"}]}, "sources[0].url", "ftp://a.example", "http://"),
    ({"edition": {"timezone": "Mars/Olympus"}}, "edition.timezone", "Mars/Olympus", "IANA"),
    ({"edition": {"languages": ["fr"]}}, "edition.languages[0]", "fr", "'zh' or 'en'"),
    ({"writer": {"kind": "openai"}}, "writer", None, "base_url"),
    ({"edtion": {"title": "x"}}, "edtion", None, "unknown"),
    ({"sources": [{"url": "http://a.example"}]}, "sources[0].name", None, "required"),
    ({"writer": {"api_key_env": "sk-live-0123456789"}}, "writer.api_key_env", "sk-live-0123456789", "NAME of an env var"),
    ({"writer": {"base_url": "api.deepseek.com"}}, "writer.base_url", "api.deepseek.com", "https://"),
    ({"writer": {"response_format": "xml"}}, "writer.response_format", "xml", "json_schema"),
    ({"writer": {"token_budget": -1}}, "writer.token_budget", -1, "greater than or equal to 0"),
    ({"verify": {"unsupported": "hide"}}, "verify.unsupported", "hide", "'mark' or 'drop'"),
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
