"""default_config.toml documents every default, and each value there is the model's own default.

The pydantic models are the one source of truth: `dailybrief init` writes the packaged file for people to
read and edit, so a key the models gained, lost or changed must show up there the same.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from dailybrief import config
from dailybrief.ingest.http import FetchSettings
from dailybrief.run.pipeline import Pipeline
from dailybrief.store import Store
from dailybrief.stories.cluster import ClusterSettings
from dailybrief.stories.rank import RankSettings
from dailybrief.write.llm import LLMSettings
from dailybrief.write.verify import VerifySettings


def _pairs(model: type[BaseModel], table: dict[str, Any], where: str) -> list[tuple[str, Any, Any]]:
    """(key, toml value, model default) for every field of `model`, descending into sub-tables."""
    out = []
    defaults = model.model_construct()
    for name, field in model.model_fields.items():
        if field.exclude:  # set by the loader (where the file was), never written by people
            continue
        key = field.alias or name
        default = getattr(defaults, name)
        if isinstance(default, BaseModel):
            out += _pairs(type(default), table.get(key, {}), f"{where}{key}.")
        else:
            out.append((f"{where}{key}", table.get(key, KeyError), default))
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def test_every_model_default_is_written_in_the_packaged_file_with_the_same_value() -> None:
    packaged = tomllib.loads(config.default_text())
    pairs = _pairs(config.Config, packaged, "")
    missing = [key for key, written, _ in pairs
               if written is KeyError and key.split(".")[0] not in LISTS and key not in NOT_WRITTEN]
    assert not missing, f"keys with a model default that default_config.toml does not show: {missing}"
    differ = [(key, written, default) for key, written, default in pairs
              if written is not KeyError and key.split(".")[0] not in LISTS and _plain(default) != _plain(written)]
    assert not differ, f"default_config.toml and the models disagree (key, file, model): {differ}"


def test_the_packaged_file_names_no_key_the_models_do_not_have() -> None:
    packaged = tomllib.loads(config.default_text())
    known = {key for key, _, _ in _pairs(config.Config, packaged, "")}
    tables = {key.split(".")[0] for key in known}

    def keys(table: dict[str, Any], where: str) -> list[str]:
        out = []
        for k, v in table.items():
            if isinstance(v, dict) and f"{where}{k}" in tables | {t for t in known if "." in t and t.startswith(f"{where}{k}.")}:
                out += keys(v, f"{where}{k}.")
            elif isinstance(v, dict) and any(t.startswith(f"{where}{k}.") for t in known):
                out += keys(v, f"{where}{k}.")
            else:
                out.append(f"{where}{k}")
        return out

    unknown = [k for k in keys(packaged, "") if k.split(".")[0] not in LISTS and k not in known]
    assert not unknown, f"default_config.toml keys no model declares: {unknown}"


# arrays of tables replace the default list as a whole; their entries are checked by the kind's own model
LISTS = {"sources", "publish", "editions"}
# keys the file leaves to the model on purpose, each saying so in its comments
# The AI beat's long term and site lists; the file says a given `terms` or `sites` replaces them.
NOT_WRITTEN = {"edition.beat.terms", "edition.beat.sites"}


def test_each_stage_reads_its_section_through_the_one_mechanism(tmp_path: Path) -> None:
    """A stage's settings from the default config are the stage's own defaults, key for key; and every stage's
    settings follow a change in its section, clustering included."""
    cfg = config.from_dict({})
    assert asdict(cfg.fetch.settings()) == asdict(FetchSettings())
    assert cfg.clustering == ClusterSettings() and cfg.verify == VerifySettings()
    ranked = RankSettings.from_config(cfg.rank)
    assert {k: v for k, v in asdict(ranked).items() if k != "topics"} == \
        {k: v for k, v in asdict(RankSettings()).items() if k != "topics"}
    llm = LLMSettings.from_config(cfg.writer)
    assert asdict(llm) == asdict(LLMSettings(base_url="", model=""))

    changed = config.from_dict({"fetch": {"concurrency": 7}, "clustering": {"threshold": 0.5, "lookback_days": 3},
                                "rank": {"engagement": 0.5}, "writer": {"max_tokens": 99},
                                "verify": {"lexical": 0.7}})
    assert changed.fetch.settings().concurrency == 7
    assert (changed.clustering.threshold, changed.clustering.lookback_days) == (0.5, 3)
    assert RankSettings.from_config(changed.rank).engagement == 0.5
    assert LLMSettings.from_config(changed.writer).max_tokens == 99
    assert changed.verify.check_settings().lexical == 0.7
    store = Store.open(tmp_path / "db.sqlite")
    try:
        assert Pipeline(changed, store).tracker().settings.threshold == 0.5  # the cluster stage reads [clustering]
    finally:
        store.close()
