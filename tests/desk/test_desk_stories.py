"""Merge and split fix the stored stories, not only the draft: the change is in the store's stories, a rebuilt
draft is written from the corrected stories, and the next day's clustering continues them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from deskenv import (
    BOTH_STORES,
    DAY,
    _make_env,  # noqa: F401 - the make_env fixture
    _shared_embedder,
    client,
    csrf,
    feeds,
    post,
)

from dailybrief.desk.drafts import Desk
from dailybrief.ids import split_story_id
from dailybrief.run.pipeline import Pipeline

NEXT = DAY + timedelta(days=1)


def draft(env):
    return Desk(env.store).draft(DAY)


def story_of(env, needle: str) -> dict:
    return next(c for c in draft(env).candidates if any(needle in i["url"] for i in c["items"]))


def item_id(env, url_end: str) -> str:
    return next(i["id"] for c in draft(env).candidates for i in c["items"] if i["url"].endswith(url_end))


def cited(brief, story_id: str) -> set[str]:
    sec = next(s for s in brief.sections if s.kind == "story" and s.story_id == story_id)
    refs = {r.n: r.item_id for r in brief.references}
    return {refs[n] for p in sec.paragraphs for s in p.sentences for n in s.refs}


def filed(env, day) -> dict[str, str]:
    """item_id -> story_id, as clustering filed the day."""
    return {r["item_id"]: r["story_id"] for r in env.store.day_stories(day)}


def next_day(env, later: list[dict]) -> None:
    """The next day's run, on the same feeds plus `later` items published that day."""
    for name, text in feeds(later=later).items():
        (env.root / "served" / name).write_text(text, "utf-8")
    now = datetime(2026, 4, 11, 17, 0, tzinfo=timezone.utc)  # after the 11th's cutoff (24:00 Asia/Shanghai)
    run = Pipeline(env.cfg, env.store, embedder=_shared_embedder()).run(NEXT, now=now)
    assert run.status == "draft", run.failures


@BOTH_STORES
def test_a_merge_changes_the_stored_stories_survives_a_rebuild_and_the_next_day_continues_it(make_env) -> None:
    env = make_env()
    c = client(env, "edna")
    nvidia, oracle = story_of(env, "b300")["story_id"], story_of(env, "stargate")["story_id"]
    nvidia_items = set(story_of(env, "b300")["item_ids"])
    r = post(c, "merge", story_id=nvidia, into=oracle)
    assert r.status_code == 200, r.text[:300]
    # the store: one story now, the merge recorded for clustering again
    assert nvidia_items <= set(env.store.story_item_ids(oracle)) and env.store.story_item_ids(nvidia) == []
    assert list(env.store.iter_rows("SELECT id FROM stories WHERE id = :s", {"s": nvidia})) == []
    assert env.store.story_moves(nvidia_items) == dict.fromkeys(nvidia_items, oracle)
    # the draft: one section written from both stories' items, in every language, every sentence checked
    for brief in draft(env).briefs:
        ids = [s.story_id for s in brief.sections if s.kind == "story"]
        assert nvidia not in ids and oracle in ids
        assert cited(brief, oracle) & nvidia_items
        sec = next(s for s in brief.sections if s.story_id == oracle)
        assert all(s.supported is not None for p in sec.paragraphs for s in p.sentences)
    [row] = [h for h in Desk(env.store).history(DAY) if h["action"] == "merge"]
    assert row["user"] == "edna" and nvidia in row["before"] and oracle in row["after"]
    # a rebuilt draft: the day clustered again keeps the merge; nothing is listed as no longer applying
    assert env.rebuild().status == "draft"
    rebuilt = draft(env)
    assert not rebuilt.stale and all(c["story_id"] != nvidia for c in rebuilt.candidates)
    assert {filed(env, DAY)[i] for i in nvidia_items} == {oracle}
    for brief in rebuilt.briefs:
        assert cited(brief, oracle) & nvidia_items
    # the next day: the merged story is the one still open; the retired one is gone
    next_day(env, [{"title": "Nvidia ships B300 accelerators to a fourth cloud provider",
                    "link": "https://a.example/b300-fourth",
                    "description": "Nvidia shipped 40,000 more B300 accelerators, now to a fourth cloud provider.",
                    "published": datetime(2026, 4, 11, 2, 0, tzinfo=timezone.utc)}])
    opened = {o["id"] for o in env.store.open_stories(NEXT + timedelta(days=1), 3)}
    assert oracle in opened and nvidia not in opened
    assert set(filed(env, NEXT).values()) == {oracle}  # the day's B300 report continues the merged story


def test_a_split_item_gets_a_story_of_its_own_that_stays_after_a_rebuild_and_the_next_day(make_env) -> None:
    env = make_env()
    c = client(env, "edna")
    nvidia = story_of(env, "b300")["story_id"]
    item = item_id(env, "/nvidia-b300")
    r = post(c, "split", story_id=nvidia, item_id=item)
    assert r.status_code == 200, r.text[:300]
    alone = split_story_id(item)
    assert env.store.story_item_ids(alone) == [item] and item not in env.store.story_item_ids(nvidia)
    d = draft(env)
    for brief in d.briefs:
        assert item not in cited(brief, nvidia)  # the section is written again from the items it keeps
        roundup = next(s for s in brief.sections if s.kind == "roundup")
        refs = {r.n: r.item_id for r in brief.references}
        assert item in {refs[n] for p in roundup.paragraphs for s in p.sentences for n in s.refs}
    cand = next(x for x in d.candidates if x["story_id"] == alone)
    assert cand["split_from"] == nvidia and cand["item_ids"] == [item]
    # a rebuilt draft: clustering the day again files the item in its own story still
    assert env.rebuild().status == "draft"
    rebuilt = draft(env)
    assert not rebuilt.stale and filed(env, DAY)[item] == alone
    assert all(item not in cited(b, nvidia) for b in rebuilt.briefs if nvidia in [s.story_id for s in b.sections])
    # the next day: both stories are open, apart
    next_day(env, [{"title": "A second look at sparse attention", "link": "https://a.example/sparse-again",
                    "description": "Another team reports that sparse attention halves memory use.",
                    "published": datetime(2026, 4, 11, 2, 0, tzinfo=timezone.utc)}])
    members = env.store.story_members([nvidia, alone], NEXT)
    assert (item, alone) in {(i, s) for i, s, _ in members} and (item, nvidia) not in {(i, s) for i, s, _ in members}


def test_a_merge_refused_as_a_conflict_changes_no_stored_story(make_env) -> None:
    env = make_env()
    c = client(env, "edna")
    nvidia, oracle = story_of(env, "b300")["story_id"], story_of(env, "stargate")["story_id"]
    page = c.get(f"/edition/{DAY}").text
    stale = draft(env).version
    post(c, "down", story_id=nvidia)  # someone else's change first
    r = c.post(f"/edition/{DAY}/change", data={"csrf": csrf(page), "version": stale, "op": "merge",
                                               "story_id": nvidia, "into": oracle})
    assert r.status_code == 409
    assert env.store.story_item_ids(nvidia) and env.store.story_moves(env.store.story_item_ids(nvidia)) == {}
