"""brief.json is the contract between `build` and `render`: it reads back into the same Brief."""

from __future__ import annotations

import json
from pathlib import Path

from briefs import _sample_brief
from dailybrief.records import brief_from_dict


def test_brief_round_trips_through_json(tmp_path: Path) -> None:
    brief = _sample_brief(tmp_path)
    again = brief_from_dict(json.loads(json.dumps(brief.as_dict())))
    assert again == brief
    assert again.sections[0].coverage == {"press": 2, "community": 2}
    assert again.sections[0].momentum == [0, 1, 0, 3, 0, 2, 5]
    assert again.url == "https://brief.example.org/2026-04-10/brief.html"


def test_older_brief_json_without_figures_still_loads(tmp_path: Path) -> None:
    data = _sample_brief(tmp_path).as_dict()
    del data["url"]
    for section in data["sections"]:
        del section["coverage"], section["momentum"]
    brief = brief_from_dict(data)
    assert brief.url == "" and all(s.coverage == {} and s.momentum == [] for s in brief.sections)


def test_one_tier_order() -> None:
    from typing import get_args

    from dailybrief import config
    from dailybrief.records import AUTHORITY, TIERS, authority_rank

    assert set(get_args(config.Tier)) == set(TIERS) == set(AUTHORITY)  # config's Literal names the same kinds
    assert sorted(TIERS, key=authority_rank) == list(AUTHORITY) == ["official", "press", "paper", "code", "community"]
    assert authority_rank("blog") > authority_rank("community")  # an unknown tier after every known one
