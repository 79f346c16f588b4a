"""The glossary: one spelling per name and edition language."""

from __future__ import annotations

from pathlib import Path

import pytest

from dailybrief.errors import ConfigError
from dailybrief.glossary import Glossary


def test_packaged_glossary_rewrites_to_the_edition_language() -> None:
    g = Glossary.load()
    assert g.apply("谷歌 DeepMind and Open AI met 奥特曼 at NVIDIA.", "en") == \
        "Google DeepMind and OpenAI met Sam Altman at Nvidia."
    assert g.apply("Google DeepMind 与 Moonshot AI 以及 Sam Altman", "zh") == "谷歌 DeepMind 与 月之暗面 以及 萨姆·奥尔特曼"
    # Whole words only, and a longer name wins over a shorter one inside it.
    assert g.apply("Metadata from Meta Platforms and Metaverse", "en") == "Metadata from Meta and Metaverse"
    assert [t.en for t in g.found_in(["Alexandr Wang left Scale AI", "nothing"])] == ["Scale AI", "Alexandr Wang"]


def test_own_glossary_file_and_its_errors(tmp_path: Path) -> None:
    path = tmp_path / "names.toml"
    path.write_text('[[term]]\nen = "Kimi"\nzh = "月之暗面 Kimi"\naliases = ["KIMI"]\n', "utf-8")
    assert Glossary.load(path).apply("KIMI ships", "zh") == "月之暗面 Kimi ships"
    path.write_text('[[term]]\nen = "Kimi"\n', "utf-8")
    with pytest.raises(ConfigError, match=r"writer\.glossary: term 1.*needs both en"):
        Glossary.load(path)
    path.write_text('[[term]\n', "utf-8")
    with pytest.raises(ConfigError, match="not valid UTF-8 TOML"):
        Glossary.load(path)
    with pytest.raises(ConfigError, match="does not exist"):
        Glossary.load(tmp_path / "missing.toml")
