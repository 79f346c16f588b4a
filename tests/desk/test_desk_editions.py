"""The desk per edition ([[editions]]): each reviewed edition's drafts, decisions, audit log and approval are its
own, on its own desk, on either store; `dailybrief desk` names the edition when there are several."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from click.testing import CliRunner
from deskenv import (
    BOTH_STORES,
    DAY,
    _make_env,  # noqa: F401 - the make_env fixture
    client,
    csrf,
    post,
    version,
)

from dailybrief.cli import main
from dailybrief.desk.cli import DEFAULT_PORT, desk_port
from dailybrief.desk.drafts import Desk
from dailybrief.desk.review import auto_publish_due, auto_published
from dailybrief.run.schedule import scheduler

# Both editions reviewed, each on its own desk: ai briefs both outlets and goes to every target, chips briefs
# outlet B and goes to the webhook only (the archive folder is ai's).
EDITIONS = [
    {"name": "ai"},
    {"name": "chips", "sources": ["Outlet B"], "publish": ["hook"], "title": "Chips Daily",
     "review": {"desk_url": "https://chips-desk.example/"}},
]


@BOTH_STORES
def test_each_editions_desk_holds_its_own_draft_decisions_history_and_approval(make_env) -> None:
    env = make_env(editions=EDITIONS)
    assert [(r.name, r.status) for r in env.runs] == [("ai", "draft"), ("chips", "draft")], \
        [r.failures for r in env.runs]
    ai, chips = Desk(env.store.scoped("ai")), Desk(env.store.scoped("chips"))
    assert ai.draft(DAY).run_id == env.runs[0].id and chips.draft(DAY).run_id == env.runs[1].id
    assert ai.draft(DAY).briefs[0].title != chips.draft(DAY).briefs[0].title  # chips has its own title
    chip_items = {i for c in chips.draft(DAY).candidates for i in c["item_ids"]}
    assert {i.source_name for i in env.store.items(sorted(chip_items))} == {"Outlet B"}
    # Each edition's alert names it and links to its own desk.
    alerts = [a.body.decode() for a in env.echo.to("/alerts")]
    assert len(alerts) == 2
    assert "https://desk.example/edition/2026-04-10" in alerts[0] and "ai 2026-04-10" in alerts[0]
    assert "https://chips-desk.example/edition/2026-04-10" in alerts[1] and "chips 2026-04-10" in alerts[1]

    # An editor's change on ai's desk is ai's alone.
    ai_desk = client(env, "edna")
    page = ai_desk.get(f"/edition/{DAY}").text
    assert 'id="desk-edition">edition ai<' in page
    chips_version = chips.draft(DAY).version
    third = [s.story_id for s in ai.draft(DAY).briefs[0].sections if s.kind == "story"][-1]
    assert post(ai_desk, "drop", story_id=third).status_code == 200
    assert [d["action"] for d in ai.decisions(DAY)] == ["drop"] and chips.decisions(DAY) == []
    assert chips.draft(DAY).version == chips_version and "drop" not in [h["action"] for h in chips.history(DAY)]

    # Approving chips on its own desk publishes chips only; ai still waits.
    chips_desk = client(env, "abe", cfg=env.edition("chips"))
    page = chips_desk.get(f"/edition/{DAY}").text
    assert 'id="desk-edition">edition chips<' in page
    asked = chips_desk.post(f"/edition/{DAY}/approve", data={"csrf": csrf(page), "version": version(page)})
    assert "hook (webhook)" in asked.text and "archive" not in asked.text  # chips' own targets
    done = chips_desk.post(f"/edition/{DAY}/approve", data={"csrf": csrf(asked.text), "version": version(asked.text),
                                                            "confirm": "yes"})
    assert done.status_code == 200 and "published the edition" in done.text
    assert chips.draft(DAY).status == "published" and ai.draft(DAY).status == "draft"
    assert env.deliveries("hook") == 1 and not (env.root / "archive").exists()
    assert [(r["target"], r["status"]) for r in env.store.scoped("chips").deliveries(DAY)] == [("hook", "delivered")]
    assert env.store.scoped("ai").deliveries(DAY) == []
    # ...and ai's approval on its desk sends ai to its targets, the webhook once more (another edition).
    ai_approver = client(env, "abe")
    page = ai_approver.get(f"/edition/{DAY}").text
    assert ai_approver.post(f"/edition/{DAY}/approve", data={"csrf": csrf(page), "version": version(page),
                                                             "confirm": "yes"}).status_code == 200
    assert ai.draft(DAY).status == "published" and env.deliveries("hook") == 2
    assert {r["target"] for r in env.store.scoped("ai").deliveries(DAY)} == {"archive", "hook"}


def test_desk_names_the_edition_when_the_config_has_several(tmp_path: Path) -> None:
    path = tmp_path / "dailybrief.toml"
    path.write_text('[[sources]]\nname = "A"\nkind = "rss"\nurl = "http://127.0.0.1:1/a.xml"\n\n'
                    '[[editions]]\nname = "ai"\n\n[[editions]]\nname = "chips"\n', "utf-8")
    vague = CliRunner().invoke(main, ["--config", str(path), "desk"])
    assert vague.exit_code == 2 and "--edition (ai, chips)" in vague.output
    unknown = CliRunner().invoke(main, ["--config", str(path), "desk", "--edition", "weekly"])
    assert unknown.exit_code == 2 and "no such edition; use one of ai, chips" in unknown.output


def test_auto_publish_at_is_each_editions_own(make_env) -> None:
    """chips goes out unreviewed at its own auto_publish_at; ai, reviewed without one, waits for its approver."""
    chips = {**EDITIONS[1], "review": {**EDITIONS[1]["review"], "auto_publish_at": "09:00"}}
    env = make_env(editions=[EDITIONS[0], chips])
    assert [c.edition.name for c in auto_published(env.whole)] == ["chips"]
    assert scheduler(env.whole, None).get_job("auto_publish") is not None  # one edition has it: the minute job runs
    late = datetime(2026, 4, 10, 1, 5, tzinfo=timezone.utc)  # 09:05 in Shanghai
    [outcome] = [o for c in auto_published(env.whole) for o in auto_publish_due(c, env.store, late)]
    assert outcome.status == "published", outcome.message
    assert Desk(env.store.scoped("chips")).draft(DAY).status == "published"
    assert Desk(env.store.scoped("ai")).draft(DAY).status == "draft" and env.store.scoped("ai").deliveries(DAY) == []
    assert auto_publish_due(env.cfg, env.store, late) == []  # ai's own review has no auto_publish_at
    unreviewed = [a.body.decode() for a in env.echo.to("/alerts") if "published unreviewed" in a.body.decode()]
    assert len(unreviewed) == 1 and "chips 2026-04-10" in unreviewed[0]


def test_a_desk_listens_on_its_desk_urls_port_when_that_is_this_machine() -> None:
    assert desk_port("http://127.0.0.1:8751/") == 8751 and desk_port("http://localhost:9000") == 9000
    assert desk_port("https://desk.example.org/") == DEFAULT_PORT  # behind a proxy: the default
    assert desk_port("https://desk.example.org:8443/") == DEFAULT_PORT and desk_port("http://127.0.0.1/") == DEFAULT_PORT


def test_desk_edition_names_that_do_not_exist_are_refused_everywhere(tmp_path: Path, monkeypatch) -> None:
    """A misspelt --edition is exit 2 naming the editions, before any user is saved or a port is taken; so is a
    port no desk can listen on."""
    monkeypatch.setenv("DAILYBRIEF_DB", str(tmp_path / "db.sqlite"))
    monkeypatch.setenv("DAILYBRIEF_DESK_PASSWORD", "correct horse battery")
    two, one = tmp_path / "two.toml", tmp_path / "one.toml"
    source = '[[sources]]\nname = "A"\nkind = "rss"\nurl = "http://127.0.0.1:1/a.xml"\n'
    two.write_text(source + '[[editions]]\nname = "ai"\n\n[[editions]]\nname = "chips"\n', "utf-8")
    one.write_text(source, "utf-8")
    typo = CliRunner().invoke(main, ["--config", str(two), "desk", "--edition", "chip", "adduser", "bob"])
    assert typo.exit_code == 2 and "no such edition; use one of ai, chips" in typo.output
    assert not (tmp_path / "db.sqlite").exists()  # nothing saved, not even a store made
    saved = CliRunner().invoke(main, ["--config", str(two), "desk", "--edition", "chips", "adduser", "bob"])
    assert saved.exit_code == 0 and "desk user bob (editor) saved (for every edition's desk)" in saved.output
    alone = CliRunner().invoke(main, ["--config", str(one), "desk", "--edition", "ai"])
    assert alone.exit_code == 2 and "this config has one, daily (no [[editions]] entries)" in alone.output
    for port in ("0", "70000"):
        bad = CliRunner().invoke(main, ["--config", str(two), "desk", "--edition", "ai", "--port", port])
        assert bad.exit_code == 2 and "1<=x<=65535" in bad.output, bad.output
