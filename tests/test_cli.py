"""The CLI: help for every command, init, and the exit codes and summary of a run."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from dailybrief.cli import main
from helpers import rss

COMMANDS = ["init", "run", "fetch", "build", "render", "publish", "deliveries", "schedule", "sources", "extract",
            "runs", "demo", "stories", "eval", "check"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output and len(result.output.splitlines()) > 3
    assert main.commands[command].help


def test_init_writes_a_config_that_loads(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    assert Path("dailybrief.toml").read_text("utf-8").startswith("# dailybrief configuration")
    again = runner.invoke(main, ["init"])
    assert again.exit_code != 0 and "--force" in again.output
    assert runner.invoke(main, ["sources"]).exit_code == 0


def test_bad_config_exits_2_with_key_value_and_fix() -> None:
    Path("dailybrief.toml").write_text('[edition]\ntop_stories = "many"\n', "utf-8")
    result = CliRunner().invoke(main, ["sources"])
    assert result.exit_code == 2
    assert "edition.top_stories" in result.output and "'many'" in result.output and "integer" in result.output


def _write_config(base: str, feed: str = "f.xml") -> None:
    Path("dailybrief.toml").write_text(
        "[edition]\nlanguages = [\"en\"]\ncutoff = \"24:00\"\n[output]\nformats = [\"md\", \"json\"]\n"
        f"[[sources]]\nname = \"F\"\nurl = \"{base}/{feed}\"\ntier = \"press\"\n", "utf-8")


def test_run_prints_summary_and_paths(feed_dir: Path, feed_server: str, tmp_path: Path) -> None:
    (feed_dir / "f.xml").write_text(rss("F", [
        {"title": "Lab ships model", "link": "https://f.example/1", "published": datetime(2026, 4, 10, 3, tzinfo=timezone.utc),
         "description": "A lab shipped a new model today with better reasoning scores."}]), "utf-8")
    _write_config(feed_server)
    result = CliRunner().invoke(main, ["run", "--date", "2026-04-10", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "items fetched: 1" in result.output and "sections written: 1" in result.output
    flat = " ".join(result.output.split())  # the console wraps long lines
    # the fact, the abstract's fact and its theme sentence
    assert "faithfulness: 3 sentences · 3 cited · 3 supported · sections by writer: extractive 1" in flat
    assert "supported by part: abstract 2/2 · facts 1/1 · checker 3" in flat
    assert str(tmp_path / "o" / "brief.md") in result.output
    runs = CliRunner().invoke(main, ["runs"])
    assert "2026-04-10" in runs.output and "ok" in runs.output
    # build + render, stage by stage, from what is stored
    assert CliRunner().invoke(main, ["build", "--date", "2026-04-10", "--out", str(tmp_path / "b")]).exit_code == 0
    rendered = CliRunner().invoke(main, ["render", "--dir", str(tmp_path / "b"), "--format", "md"])
    assert rendered.exit_code == 0 and (tmp_path / "b" / "brief.md").exists()
    rendered = CliRunner().invoke(main, ["render", "--dir", str(tmp_path / "b"), "--format", "wechat",
                                         "--format", "chat", "--format", "txt"])
    assert rendered.exit_code == 0, rendered.output
    for name in ("brief.wechat.html", "brief.chat.md", "brief.txt"):
        assert str(tmp_path / "b" / name) in rendered.output.replace("\n", "")  # rich wraps long paths
        assert "Lab ships model" in (tmp_path / "b" / name).read_text("utf-8")


def test_run_with_nothing_to_brief_exits_nonzero(feed_dir: Path, feed_server: str) -> None:
    (feed_dir / "f.xml").write_text(rss("F", []), "utf-8")
    _write_config(feed_server)
    result = CliRunner().invoke(main, ["run", "--date", "2026-04-10"])
    assert result.exit_code == 1
    assert "no items published" in result.output


def test_bad_date_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["run", "--date", "yesterday"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


def test_sources_shows_health_history_and_flags(feed_dir: Path, feed_server: str) -> None:
    import json

    (feed_dir / "f.xml").write_text(rss("F", [{"title": "A thing", "link": "https://f.example/1"}]), "utf-8")
    Path("dailybrief.toml").write_text(
        "[fetch]\nfailing_runs = 2\ntimeout = 2.0\nretries = 0\n"
        f"[[sources]]\nname = \"Works\"\nurl = \"{feed_server}/f.xml\"\n"
        f"[[sources]]\nname = \"Broken\"\nurl = \"{feed_server}/missing.xml\"\n", "utf-8")
    runner = CliRunner()
    for _ in range(2):
        assert runner.invoke(main, ["fetch"]).exit_code == 0
    table = runner.invoke(main, ["sources"])
    assert table.exit_code == 0
    assert "⚠ Broken: failed 2 run(s) in a row: HTTP 404 (not found" in table.output
    assert "⚠ Broken" in table.output.split("┘")[0] and "✗✗" in table.output  # flagged in the table too
    assert "Works" in table.output and "✓✓" in table.output and "Works:" not in table.output
    rows = {r["name"]: r for r in json.loads(runner.invoke(main, ["sources", "--json"]).output)}
    assert rows["Broken"]["consecutive_failures"] == 2 and rows["Works"]["consecutive_failures"] == 0
    assert [r["items"] for r in rows["Works"]["runs"]] == [0, 1]  # the second run got a 304
    assert rows["Works"]["runs"][0]["status"] == 304 and rows["Works"]["runs"][1]["new"] == 1


def test_eval_cluster_has_help() -> None:
    result = CliRunner().invoke(main, ["eval", "cluster", "--help"])
    assert result.exit_code == 0 and "--text-column" in result.output and "pairwise_f1" in result.output


def test_stories_explains_each_score(feed_dir: Path, feed_server: str) -> None:
    when = datetime(2026, 4, 10, 3, tzinfo=timezone.utc)
    (feed_dir / "f.xml").write_text(rss("F", [
        {"title": "Lab ships model", "link": "https://f.example/1", "published": when,
         "description": "A lab shipped a new model today with better reasoning scores."},
        {"title": "Chipmaker beats forecasts", "link": "https://f.example/2", "published": when,
         "description": "A chipmaker reported revenue above forecasts as demand for GPUs grew."}]), "utf-8")
    _write_config(feed_server)
    assert CliRunner().invoke(main, ["fetch"]).exit_code == 0
    result = CliRunner().invoke(main, ["stories", "--date", "2026-04-10", "--explain"])
    assert result.exit_code == 0, result.output
    assert "2026-04-10: 2 items in 2 stories" in result.output
    for part in ("authority", "outlets", "engagement", "recency", "novelty", "topics", "watch", "= score"):
        assert part in result.output
    assert "press: F" in result.output and "compute" in result.output  # the GPU story matches the topic
    plain = CliRunner().invoke(main, ["stories", "--date", "2026-04-10"])
    assert "authority" not in plain.output and "Chipmaker beats forecasts" in plain.output
    empty = CliRunner().invoke(main, ["stories", "--date", "2020-01-01"])
    assert empty.exit_code == 1 and "no items published" in empty.output


MYTHOS_EN = {"title": "Anthropic keeps its new Mythos model out of public hands, citing hacking risk",
             "link": "https://ledger.example/mythos", "published": datetime(2026, 4, 10, 2, tzinfo=timezone.utc),
             "description": "Anthropic will not release its newest model, Mythos, to the public after internal tests "
                            "showed it could find and exploit software vulnerabilities. Eleven organisations get access."}
MYTHOS_ZH = {"title": "Anthropic 新模型 Mythos 只向 11 家机构开放：漏洞挖掘能力太强，不对公众发布",
             "link": "https://qianshao.example/mythos", "published": datetime(2026, 4, 10, 3, tzinfo=timezone.utc),
             "description": "Anthropic 推出新一代前沿模型 Mythos，但决定不向公众开放，只向 11 家机构提供，用于修补高危漏洞。"}


def _mythos_day(feed_dir: Path, base: str, extra: str = "") -> None:
    (feed_dir / "ledger.xml").write_text(rss("TechLedger", [MYTHOS_EN]), "utf-8")
    (feed_dir / "qianshao.xml").write_text(rss("AI 前哨", [MYTHOS_ZH]), "utf-8")
    Path("dailybrief.toml").write_text(
        '[edition]\nlanguages = ["zh"]\ncutoff = "24:00"\n[output]\nformats = ["md", "json"]\n'
        f'[[sources]]\nname = "TechLedger"\nurl = "{base}/ledger.xml"\n'
        f'[[sources]]\nname = "AI 前哨"\nurl = "{base}/qianshao.xml"\nlanguage = "zh"\n' + extra, "utf-8")


def _state() -> tuple[int, list[tuple]]:
    from dailybrief import config
    from dailybrief.store import Store

    store = Store.open(config.load().db_url())
    try:
        return store.count("runs"), sorted(tuple(r.values()) for r in store.iter_rows("SELECT * FROM story_items"))
    finally:
        store.close()


def test_stories_reports_what_the_build_wrote_with_its_titles_and_changes_nothing(feed_dir: Path,
                                                                                  feed_server: str) -> None:
    _mythos_day(feed_dir, feed_server)
    runner = CliRunner()
    assert runner.invoke(main, ["run", "--date", "2026-04-10"]).exit_code == 0
    brief = json.loads((Path("out") / "2026-04-10" / "brief.json").read_text("utf-8"))
    [section] = [s for s in brief["sections"] if s["kind"] == "story"]
    before = _state()
    result = runner.invoke(main, ["stories", "--date", "2026-04-10", "--explain"])
    assert result.exit_code == 0, result.output
    assert "2026-04-10: 2 items in 1 stories" in result.output
    [head] = [line for line in result.output.splitlines() if line.lstrip().startswith("1. ")]
    assert section["title"] in head and "Anthropic keeps its new" not in head  # the edition's title, not the cluster's
    assert "= score" in result.output
    assert _state() == before  # no run recorded, no story re-clustered


def test_fetch_build_and_stories_wait_for_no_one_and_take_the_run_lock(feed_dir: Path, feed_server: str) -> None:
    from dailybrief import config
    from dailybrief.run.schedule import lock_path, run_lock

    _mythos_day(feed_dir, feed_server)
    with run_lock(lock_path(config.load()), "run"):
        for args in (["fetch"], ["build", "--date", "2026-04-10"], ["stories", "--date", "2026-04-10"]):
            result = CliRunner().invoke(main, args)
            assert result.exit_code == 3, (args, result.output)
            assert "holds the lock" in result.output
    assert _state()[0] == 0  # none of them wrote a run
    assert CliRunner().invoke(main, ["fetch"]).exit_code == 0


def test_run_exits_1_when_a_publish_target_failed(feed_dir: Path, feed_server: str) -> None:
    from conftest import closed_port

    _mythos_day(feed_dir, feed_server, f'[[publish]]\nkind = "webhook"\nname = "ops"\nretries = 0\n'
                                       f'url = "http://127.0.0.1:{closed_port()}/hook"\n'
                                       'link = "https://brief.example.org/{date}/"\n')
    result = CliRunner().invoke(main, ["run", "--date", "2026-04-10"])
    assert result.exit_code == 1, result.output
    assert (Path("out") / "2026-04-10" / "brief.md").exists()  # the edition was written; the target failed
    assert "webhook ops: failed" in result.output


def test_out_moves_the_folder_and_site_targets_and_the_summary_says_where_each_file_went(
        feed_dir: Path, feed_server: str, tmp_path: Path) -> None:
    _mythos_day(feed_dir, feed_server, '[[publish]]\nkind = "folder"\nname = "archive"\n'
                                       '[[publish]]\nkind = "site"\nname = "site"\n')
    where = tmp_path / "elsewhere"
    result = CliRunner().invoke(main, ["run", "--date", "2026-04-10", "--out", str(where)])
    assert result.exit_code == 0, result.output
    assert (where / "brief.md").exists()
    assert (where / "editions" / "2026-04-10" / "brief.md").exists()
    assert (where / "site" / "index.html").exists() and (where / "site" / "2026-04-10" / "brief.json").exists()
    assert not Path("out").exists()  # nothing went to ./out
    flat = "".join(result.output.split())  # paths wrap on the console
    for path in (where / "brief.md", where / "editions" / "2026-04-10", where / "site" / "2026-04-10"):
        assert "".join(str(path).split()) in flat
    # Without --out, they live in [output].dir.
    from dailybrief import config

    cfg = config.load()
    assert [cfg.target_path(t) for t in cfg.publish] == [Path.cwd() / "out" / "editions", Path.cwd() / "out" / "site"]
def test_check_prints_one_verdict_per_line_and_a_summary(tmp_path: Path) -> None:
    source = "Meta has signed an AI infrastructure agreement worth $21 billion with CoreWeave."
    lines = [json.dumps({"id": "right", "claim": "Meta 与 CoreWeave 签署了价值 210 亿美元的协议。", "source_text": source},
                        ensure_ascii=False),
             json.dumps({"id": "scale", "claim": "Meta 与 CoreWeave 签署了价值 21 亿美元的协议。", "source_text": source},
                        ensure_ascii=False),
             json.dumps({"claim": "Meta signed with Oracle for $21 billion.", "source_text": source}),
             "{not json", json.dumps({"claim": "no source"})]
    path = tmp_path / "claims.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    result = CliRunner().invoke(main, ["check", str(path)])
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r.get("id") for r in rows[:5]] == ["right", "scale", "3", "4", "5"]
    assert rows[0] == {"id": "right", "supported": True, "reasons": []}
    assert rows[1]["supported"] is False and rows[1]["reasons"][0].startswith("number:")
    assert rows[2]["supported"] is False and any(r.startswith("entity:") for r in rows[2]["reasons"])
    assert rows[3]["supported"] is None and "one JSON object per line" in rows[3]["error"]
    assert "source_text" in rows[4]["error"]
    assert rows[5]["summary"] == {"claims": 3, "supported": 1, "unsupported": 2, "errors": 2, "checker": "3"}
    assert result.exit_code == 1


def test_check_reads_a_list_of_passages_alone_and_an_explicit_pair_together(tmp_path: Path) -> None:
    deal = "Meta has signed an AI infrastructure agreement worth $21 billion with CoreWeave."
    model = "Anthropic will never release its Mythos model to the general public."
    both = "Meta signed a $21 billion deal with CoreWeave, while Anthropic will never release Mythos to the public."
    chimera = "Anthropic signed a $21 billion deal with CoreWeave to build Mythos."
    lines = [{"id": "pair", "claim": both, "source_text": [deal, model]},
             {"id": "one", "claim": both, "source_text": [deal]},
             {"id": "chimera", "claim": chimera, "source_text": [deal, model]},
             {"id": "three", "claim": both, "source_text": [deal, model, "Acme shipped a chip."]}]
    path = tmp_path / "claims.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", "utf-8")
    result = CliRunner().invoke(main, ["check", str(path)])
    rows = {r["id"]: r for r in map(json.loads, result.output.splitlines()[:-1])}
    assert [rows[k]["supported"] for k in ("pair", "one", "chimera", "three")] == [True, False, False, False], rows
    assert any(r.startswith("entity:") for r in rows["chimera"]["reasons"]) and result.exit_code == 0


def test_check_uses_the_configs_glossary_like_verify(tmp_path: Path) -> None:
    (tmp_path / "names.toml").write_text('[[term]]\nen = "Zorblax"\nzh = "佐布拉克斯"\nkind = "company"\n', "utf-8")
    line = json.dumps({"id": "z", "claim": "A new model was released by Zorblax.", "source_text": "佐布拉克斯发布了一款新模型。"},
                      ensure_ascii=False)
    path = tmp_path / "claims.jsonl"
    path.write_text(line + "\n", "utf-8")
    before = json.loads(CliRunner().invoke(main, ["check", str(path)]).output.splitlines()[0])
    assert before["supported"] is False and any("Zorblax" in r for r in before["reasons"])  # the packaged glossary
    Path("dailybrief.toml").write_text(f'[writer]\nglossary = "{tmp_path / "names.toml"}"\n', "utf-8")
    after = CliRunner().invoke(main, ["check", str(path)])
    assert json.loads(after.output.splitlines()[0]) == {"id": "z", "supported": True, "reasons": []}, after.output
