"""Several editions from one store ([[editions]]): one fetch, one embedding, an edition of its own each."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dailybrief import config
from dailybrief.cli import main
from dailybrief.run.editions import plan, run_editions
from dailybrief.store import Store
from helpers import config as make_config
from helpers import rss, source

DAY = date(2026, 4, 10)
AFTER = datetime(2026, 4, 11, 1, tzinfo=timezone(timedelta(hours=8)))  # the 10th's window (calendar day) is closed
WHEN = datetime(2026, 4, 10, 3, tzinfo=timezone.utc)

AI_NEWS = [
    ("Acme Labs releases Falcon-9B, an open-weight language model", "falcon",
     "Acme Labs released Falcon-9B, an open-weight AI language model with nine billion parameters."),
    ("OpenAI ships a new coding agent for developers", "agent",
     "OpenAI released an AI coding agent that writes and tests code, built on its latest language model."),
    ("DeepMind publishes a reasoning model that solves geometry problems", "geometry",
     "DeepMind's new AI reasoning model solves olympiad geometry problems, the lab said in a paper."),
]
ZH_NEWS = [
    ("Acme 发布开源大模型 Falcon-9B", "falcon-zh", "Acme 实验室发布开源大模型 Falcon-9B，参数规模九十亿。"),
    ("国内团队发布智能体框架", "agents-zh", "一家人工智能公司发布开源智能体框架，支持多模型协作。"),
]
CHIP_NEWS = [
    ("TSMC starts 2nm wafer production at its Hsinchu foundry", "tsmc",
     "TSMC began volume production of 2nm semiconductor wafers at its Hsinchu foundry, the chipmaker said."),
    ("Intel delays its next chip fab in Ohio", "ohio",
     "Intel pushed back the opening of its Ohio semiconductor fab, citing slower demand for foundry capacity."),
    ("ASML ships its first high-NA lithography machines to chipmakers", "asml",
     "ASML delivered high-NA EUV lithography tools to two chipmakers for next-generation semiconductor nodes."),
]
SEMI_BEAT = {
    "name": "Semiconductors",
    "description": "Semiconductors: chips, foundries, wafers, fabs, lithography and the chipmakers.",
    "topics": ["a chipmaker starts production at a semiconductor foundry", "lithography machines for chip fabs"],
    "terms": ["chip", "chips", "chipmaker", "chipmakers", "semiconductor", "foundry", "fab", "wafer", "wafers",
              "TSMC", "Intel", "ASML", "lithography"],
    "sites": [],
}


def _feed(base: str, title: str, news: list[tuple[str, str, str]], when: datetime = WHEN) -> str:
    return rss(title, [{"title": t, "link": f"{base}/news/{slug}", "description": d, "published": when}
                       for t, slug, d in news])


def _config(base: str, root: Path, **over: Any) -> dict[str, Any]:
    data = make_config(
        [{**source("Acme Lab", f"{base}/ai.xml", tier="official"), "tags": ["ai"]},
         {**source("AI 前哨", f"{base}/zh.xml", language="zh"), "tags": ["ai"]},
         source("ChipWire", f"{base}/chips.xml")],
        output={"dir": str(root / "out"), "formats": ["md", "json"]},
        publish=[{"kind": "folder", "name": "ai-archive", "path": str(root / "ai-archive")},
                 {"kind": "folder", "name": "chip-archive", "path": str(root / "chip-archive")}],
        editions=[
            {"name": "ai", "sources": ["ai"], "languages": ["zh", "en"], "publish": ["ai-archive"],
             "branding": {"organisation": ["AI Association"]}},
            {"name": "semi", "sources": ["ChipWire"], "languages": ["en"], "title": "Semiconductor Daily",
             "beat": SEMI_BEAT, "publish": ["chip-archive"]},
        ],
    )
    return {**data, **over}


@pytest.fixture
def news() -> Any:
    from httpd import serve

    with serve() as srv:
        srv.route("/ai.xml", _feed(srv.base, "Acme Lab", AI_NEWS))
        srv.route("/zh.xml", _feed(srv.base, "AI 前哨", ZH_NEWS))
        srv.route("/chips.xml", _feed(srv.base, "ChipWire", CHIP_NEWS))
        yield srv


def _links(path: Path) -> set[str]:
    data = json.loads(path.read_text("utf-8"))
    return {r["url"] for r in data["references"]}


def test_two_editions_from_one_fetch_each_with_its_sources_languages_and_targets(news: Any, tmp_path: Path) -> None:
    cfg = config.from_dict(_config(news.base, tmp_path))
    store = Store.open(cfg.db_url())
    try:
        first = run_editions(plan(cfg, day=DAY), store, now=AFTER)
        assert [(one.run.name, one.run.status) for one in first] == [("ai", "ok"), ("semi", "ok")], \
            [one.run.failures for one in first]
        # One fetch for both: each feed asked once, by the first edition's run; the second fetched nothing.
        assert [len(news.hits(p)) for p in ("/ai.xml", "/zh.xml", "/chips.xml")] == [1, 1, 1]
        assert first[0].run.count("fetch", "sources") == 3
        assert not any(s.name == "fetch" for s in first[1].run.stages)

        out = tmp_path / "out"
        ai, semi = out / "ai" / DAY.isoformat(), out / "semi" / DAY.isoformat()
        assert sorted(p.name for p in ai.iterdir()) == ["brief.en.json", "brief.en.md", "brief.json", "brief.md"]
        assert sorted(p.name for p in semi.iterdir()) == ["brief.json", "brief.md"]
        assert (semi / "brief.md").read_text("utf-8").startswith("# Semiconductor Daily\n")
        assert json.loads((semi / "brief.json").read_text("utf-8"))["language"] == "en"
        assert "AI Association" in (ai / "brief.md").read_text("utf-8")
        # Each edition's stories come from its own sources only.
        chip_links = {f"{news.base}/news/{slug}" for _, slug, _ in CHIP_NEWS}
        ai_links = {f"{news.base}/news/{slug}" for _, slug, _ in AI_NEWS + ZH_NEWS}
        assert _links(semi / "brief.json") and _links(semi / "brief.json") <= chip_links
        assert _links(ai / "brief.json") and _links(ai / "brief.json") <= ai_links
        assert _links(ai / "brief.en.json") <= ai_links
        for name, links in (("ai", ai_links), ("semi", chip_links)):
            filed = store.scoped(name).day_stories(DAY)
            assert filed and {i.url for i in store.items(r["item_id"] for r in filed)} <= links
        # Each edition went to its own target, once.
        assert (tmp_path / "ai-archive" / DAY.isoformat() / "brief.en.md").is_file()
        assert not (tmp_path / "ai-archive" / DAY.isoformat() / "brief.json").read_text("utf-8").count("TSMC")
        assert sorted(p.name for p in (tmp_path / "chip-archive" / DAY.isoformat()).iterdir()) == \
            ["brief.json", "brief.md"]
        ai_log, semi_log = store.scoped("ai").deliveries(DAY), store.scoped("semi").deliveries(DAY)
        assert [(r["target"], r["status"]) for r in ai_log] == [("ai-archive", "delivered")]
        assert [(r["target"], r["status"]) for r in semi_log] == [("chip-archive", "delivered")]
        # Items and their vectors are shared: one row per item, whatever the editions.
        assert store.count("items") == len(AI_NEWS) + len(ZH_NEWS) + len(CHIP_NEWS)

        # The rerun: fetched once more (one request a feed), written again, delivered to no one a second time.
        again = run_editions(plan(cfg, day=DAY), store, now=AFTER)
        assert [one.run.status for one in again] == ["ok", "ok"]
        assert [len(news.hits(p)) for p in ("/ai.xml", "/zh.xml", "/chips.xml")] == [2, 2, 2]
        assert [d.status for one in again for d in one.pipe.deliveries] == ["unchanged", "unchanged"]
        assert [r["attempts"] for r in store.scoped("ai").deliveries(DAY) + store.scoped("semi").deliveries(DAY)] \
            == [1, 1]
        assert store.count("items") == len(AI_NEWS) + len(ZH_NEWS) + len(CHIP_NEWS)
        assert sorted(r.name for r in store.runs()) == ["ai", "ai", "semi", "semi"]
    finally:
        store.close()


def test_run_edition_runs_one_and_the_commands_name_it(news: Any, tmp_path: Path) -> None:
    from fleet import toml_text

    path = tmp_path / "dailybrief.toml"
    path.write_text(toml_text(_config(news.base, tmp_path)), "utf-8")
    runner = CliRunner()
    one = runner.invoke(main, ["--config", str(path), "run", "--edition", "semi", "--date", DAY.isoformat()])
    assert one.exit_code == 0, one.output
    # Only the named edition: its sources fetched, its folder written.
    assert [len(news.hits(p)) for p in ("/ai.xml", "/zh.xml", "/chips.xml")] == [0, 0, 1]
    assert (tmp_path / "out" / "semi" / DAY.isoformat() / "brief.md").is_file()
    assert not (tmp_path / "out" / "ai").exists()
    # A command about one edition's stories needs to be told which, when there are several.
    vague = runner.invoke(main, ["--config", str(path), "stories", "--date", DAY.isoformat()])
    assert vague.exit_code == 2 and "--edition (ai, semi)" in vague.output
    listed = runner.invoke(main, ["--config", str(path), "stories", "--edition", "semi", "--date", DAY.isoformat()])
    assert listed.exit_code == 0 and "TSMC" in listed.output and "Falcon" not in listed.output
    unknown = runner.invoke(main, ["--config", str(path), "run", "--edition", "weekly"])
    assert unknown.exit_code == 2 and "no such edition; use one of ai, semi" in unknown.output
    log = runner.invoke(main, ["--config", str(path), "deliveries"], env={"COLUMNS": "200"})
    assert log.exit_code == 0 and "semi 2026-04-10" in log.output and "chip-archive" in log.output


def test_one_edition_config_is_run_as_before(news: Any, tmp_path: Path) -> None:
    """No [[editions]]: the [edition] alone, named "daily", its folder <output.dir>/<date> as ever."""
    data = _config(news.base, tmp_path)
    del data["editions"]
    cfg = config.from_dict(data)
    assert cfg.edition_configs() == [cfg] and cfg.edition_names() == ["daily"]
    store = Store.open(cfg.db_url())
    try:
        [one] = run_editions(plan(cfg, day=DAY), store, now=AFTER)
        assert one.run.status == "ok", one.run.failures
        assert (tmp_path / "out" / DAY.isoformat() / "brief.md").is_file()
        assert [r["target"] for r in store.deliveries(DAY)] == ["ai-archive", "chip-archive"]
        assert [r.name for r in store.runs()] == ["daily"]
    finally:
        store.close()


def test_the_scheduled_job_runs_every_edition_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One job for editions on one schedule, one fetch; a second scheduler's job then leaves both alone."""
    from dailybrief.run.schedule import daily_job, scheduler, schedules
    from fleet import toml_text
    from httpd import serve

    data = _config("http://127.0.0.1:1", tmp_path)
    edition = config.from_dict(data).for_edition("ai").edition
    day = edition.due(datetime.now(timezone.utc))
    inside = edition.window(day)[1] - timedelta(hours=1)  # published within the edition due now
    with serve() as srv:
        srv.route("/ai.xml", _feed(srv.base, "Acme Lab", AI_NEWS, inside))
        srv.route("/zh.xml", _feed(srv.base, "AI 前哨", ZH_NEWS, inside))
        srv.route("/chips.xml", _feed(srv.base, "ChipWire", CHIP_NEWS, inside))
        path = tmp_path / "dailybrief.toml"
        path.write_text(toml_text(_config(srv.base, tmp_path)), "utf-8")
        cfg = config.load(path)
        assert schedules(cfg) == {("0 0 * * *", "Asia/Shanghai"): ["ai", "semi"]}
        assert [j.id for j in scheduler(cfg, str(path)).get_jobs()] == ["daily"]
        reported: list[Any] = []
        first = daily_job(str(path), reported.append)
        assert first is not None and [(r.name, r.status, r.edition) for r in reported] == [("ai", "ok", day),
                                                                                           ("semi", "ok", day)]
        assert [len(srv.hits(p)) for p in ("/ai.xml", "/zh.xml", "/chips.xml")] == [1, 1, 1]
        monkeypatch.setattr("dailybrief.run.schedule.os.getpid", lambda: 1)  # another scheduler's process
        assert daily_job(str(path), reported.append) is None
        assert len(reported) == 2 and [len(srv.hits(p)) for p in ("/ai.xml", "/zh.xml", "/chips.xml")] == [1, 1, 1]


def test_editions_on_their_own_schedules_get_a_job_each(tmp_path: Path) -> None:
    from dailybrief.run.schedule import scheduler, schedules

    data = _config("http://127.0.0.1:1", tmp_path)
    data["editions"][1] = {**data["editions"][1], "days": 7, "cron": "0 9 * * 1"}
    cfg = config.from_dict(data)
    assert schedules(cfg) == {("0 0 * * *", "Asia/Shanghai"): ["ai"], ("0 9 * * 1", "Asia/Shanghai"): ["semi"]}
    jobs = {j.id: j for j in scheduler(cfg, None).get_jobs()}
    assert sorted(jobs) == ["daily", "daily-semi"]
    assert jobs["daily-semi"].args[3] == ["semi"] and jobs["daily"].args[3] == ["ai"]


def test_one_edition_waits_for_its_desk_while_the_other_publishes_each_with_its_own_output(
        news: Any, tmp_path: Path) -> None:
    """[review] and [output] per edition: ai stops at a draft on its desk (its own chat-message links and formats)
    while semi, unreviewed, publishes at once with the top-level output; approving ai sends it once, and a rerun
    keeps the published draft and sends neither edition again."""
    from dailybrief.desk.drafts import Desk
    from dailybrief.desk.review import publish_draft

    data = _config(news.base, tmp_path, review={"desk_url": "https://desk.example/"})
    data["output"]["edition_url"] = "https://assoc.example/{date}/"
    data["editions"][0]["review"] = {"required": True, "desk_url": "https://ai-desk.example/"}
    data["editions"][0]["output"] = {"formats": ["md", "json", "chat"], "edition_url": "https://ai.example/{date}/"}
    cfg = config.from_dict(data)
    store = Store.open(cfg.db_url())
    try:
        first = run_editions(plan(cfg, day=DAY), store, now=AFTER)
        assert [(one.run.name, one.run.status) for one in first] == [("ai", "draft"), ("semi", "ok")], \
            [one.run.failures for one in first]
        assert first[0].run.outputs["draft"] == f"https://ai-desk.example/edition/{DAY}"
        # ai: a draft on its desk, nothing delivered; semi: published, and no draft of its own.
        ai_desk, semi_desk = Desk(store.scoped("ai")), Desk(store.scoped("semi"))
        draft = ai_desk.draft(DAY)
        assert draft is not None and draft.status == "draft" and draft.run_id == first[0].run.id
        assert semi_desk.draft(DAY) is None and semi_desk.drafts() == []
        assert store.scoped("ai").deliveries(DAY) == [] and not (tmp_path / "ai-archive").exists()
        assert [(r["target"], r["status"]) for r in store.scoped("semi").deliveries(DAY)] == [("chip-archive",
                                                                                              "delivered")]
        semi = tmp_path / "chip-archive" / DAY.isoformat()
        assert sorted(p.name for p in semi.iterdir()) == ["brief.json", "brief.md"]  # the top-level formats
        assert json.loads((semi / "brief.json").read_text("utf-8"))["url"] == \
            f"https://assoc.example/{DAY}/brief.html"  # the top-level edition_url
        # Approving ai publishes it once, with its own formats and links; semi's log is untouched.
        ai_cfg = cfg.for_edition("ai")
        done = publish_draft(ai_cfg, store, DAY, "abe")
        assert done.status == "published", done.message
        assert publish_draft(ai_cfg, store, DAY, "abe").status == "already"
        ai = tmp_path / "ai-archive" / DAY.isoformat()
        assert sorted(p.name for p in ai.iterdir()) == ["brief.chat.md", "brief.en.chat.md", "brief.en.json",
                                                        "brief.en.md", "brief.json", "brief.md"]
        assert f"https://ai.example/{DAY}/brief.en.html" in (ai / "brief.en.chat.md").read_text("utf-8")
        assert [(r["target"], r["status"], r["attempts"]) for r in store.scoped("ai").deliveries(DAY)] == \
            [("ai-archive", "delivered", 1)]
        assert [r["attempts"] for r in store.scoped("semi").deliveries(DAY)] == [1]
        # The rerun: ai's published edition is kept (no new draft), semi's is sent to no one again.
        again = run_editions(plan(cfg, day=DAY), store, now=AFTER)
        assert [one.run.status for one in again] == ["draft", "ok"]
        assert "kept it as it is" in " ".join(again[0].run.failures)
        assert ai_desk.draft(DAY).status == "published"  # type: ignore[union-attr]
        assert [d.status for d in again[1].pipe.deliveries] == ["unchanged"]
        assert [r["attempts"] for r in store.scoped("ai").deliveries(DAY) + store.scoped("semi").deliveries(DAY)] \
            == [1, 1]
    finally:
        store.close()
