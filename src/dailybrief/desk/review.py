"""How the day flows with review: a run stops at a draft; an approver (or auto_publish_at) publishes it.

    Pipeline.run ─▶ write ─▶ hold_for_review: the draft (+ the editors' earlier decisions replayed) ─▶ alert
    desk: approve ─▶ draft→publishing (one request wins) ─▶ Pipeline.release (render, place, deliver once) ─▶ published
    auto_publish_due: an untouched draft whose auto_publish_at has passed is published the same way, and the alert says so

Approving twice, or while a publish runs, sends nothing twice: only one request moves the draft out of
``draft``/``held``, and the delivery log (publish.deliver) sends each target an edition at most once anyway.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from .. import config as config_mod
from .. import redact
from ..config import Config
from ..errors import BusyError, DailybriefError, NotConfigured, StoreError
from ..ids import split_story_id
from ..publish.alerts import send_alert
from ..publish.base import Delivery
from ..records import Brief, Paragraph, Reference, RunReport, Sentence, Story
from ..run.pipeline import Pipeline, Review, register_review
from ..run.schedule import lock_path, run_lock
from ..store import Store, edition_label, utcnow
from ..stories.embed import Embedder
from ..write.verify import verify_brief
from . import regroup
from .addstory import add_story
from .drafts import DONE, OPEN, Desk, DeskError, Draft
from .edits import Change, Checker, replay
from .regenerate import promote, section_writer

log = logging.getLogger(__name__)

SYSTEM_USER = "dailybrief"  # the audit log's name for what the pipeline itself did
AUTO_USER = "auto_publish_at"
CANDIDATE_ITEMS = 8  # items listed per candidate story


def candidates(ranked: list[Story], top: int, roundup: int) -> list[dict[str, Any]]:
    """Every ranked story, selected or not, with its score's explanation, its sources and its topics."""
    out = []
    for rank, s in enumerate(ranked):
        out.append({
            "story_id": s.id, "rank": rank + 1, "title": s.title or (s.items[0].title if s.items else s.id),
            "score": round(float(s.score), 4), "parts": {k: round(float(v), 4) for k, v in s.score_parts.items()},
            "notes": dict(s.score_notes), "topics": list(s.topics), "outlets": s.outlets, "follow_up": s.follow_up,
            "selected": "section" if rank < top else ("roundup" if rank < top + roundup else ""),
            "pinned": False, "dropped": False,
            "items": [{"id": i.id, "title": i.title, "url": i.url, "source": i.source_name, "tier": i.tier,
                       "published": i.published.isoformat() if i.published else ""} for i in s.items[:CANDIDATE_ITEMS]],
            "item_ids": [i.id for i in s.items], "item_count": len(s.items),
        })
    return out


def grounding_checker(cfg: Config, store: Store, embedder: Embedder) -> Checker:
    """The grounding check of one edited sentence, through verify's public ``verify_brief``."""
    v = cfg.verify
    settings = v.model_copy(update={"unsupported": "mark"})  # the editor sees the flag; nothing is dropped

    def check(brief: Brief, sentence: Sentence, part: str) -> tuple[bool, str]:
        refs = {r.n: r for r in brief.references}
        cited = [refs[n] for n in sentence.refs if n in refs]
        if not cited:
            return False, "it cites no source; add uncited text as an editor's note"
        items = {i.id: i for i in store.items([r.item_id for r in cited])}
        mini = Brief(edition=brief.edition, language=brief.language, title="", branding=brief.branding,
                     abstract=[Paragraph(part, [Sentence(sentence.text, list(sentence.refs))])],
                     references=[Reference(r.n, r.item_id, r.url, r.outlet, r.title, r.published) for r in cited])
        result = verify_brief(mini, items, embedder, settings)
        if result.supported:
            return True, ""
        if result.flagged:
            return False, result.flagged[0].split(": ", 1)[-1]
        return False, "its cited sources are no longer in the store"

    return check


def _alert(cfg: Config, store: Store, run_id: str, day: date, subject: str, lines: list[str]) -> str:
    name = cfg.alerts.target
    if not name:
        return ""
    if store.alert_sent(run_id, name):
        return f"alert already sent to {name}"
    try:
        detail = send_alert(cfg, subject, lines)
    except (NotConfigured, DailybriefError) as exc:
        store.record_alert(run_id, name, day, subject, ok=False, error=str(exc))
        return f"alert to {name} failed: {exc}"
    store.record_alert(run_id, name, day, subject, ok=True)
    return f"alert sent to {name} ({detail})"


def desk_link(cfg: Config, day: date) -> str:
    return cfg.review.desk_url.rstrip("/") + f"/edition/{day.isoformat()}"


def hold_for_review(pipe: Pipeline, run: RunReport, day: date, ranked: list[Story], briefs: list[Brief]) -> Draft:
    """Keep the written briefs as the day's draft, replay the editors' decisions, and tell the editors."""
    cfg, store = pipe.cfg, pipe.store
    desk = Desk(store)
    ed = cfg.edition
    done = desk.draft(day)
    if done is not None and done.status in DONE:
        return _kept(desk, run, done, desk_link(cfg, day))
    touched = done is not None and done.touched  # an editor acted on the day: auto_publish_at leaves it alone
    draft = Draft(edition=day, version=0, status="draft", briefs=briefs,
                  candidates=candidates(ranked, ed.top_stories, ed.roundup_items), run_id=run.id)
    decisions = desk.decisions(day)
    if decisions:

        check = grounding_checker(cfg, store, pipe.embedder)

        def added(d: Draft, decision: dict[str, Any]) -> None:
            found = store.items([decision["item_id"]])
            if not found:
                raise DeskError("the page it added is no longer in the store")
            add_story(d, found[0], check)

        writer = section_writer(cfg, store, pipe.embedder)

        def promoted(d: Draft, decision: dict[str, Any]) -> None:
            promote(d, store, writer, decision["story_id"], check)

        def merged(d: Draft, decision: dict[str, Any]) -> None:
            sid, into = decision["story_id"], decision["into"]
            if any(c["story_id"] == sid for c in d.candidates):
                change = regroup.merge(d, store, writer, sid, into, check)
            elif store.story_item_ids(sid):
                raise DeskError(f"story {sid} is not in the rebuilt draft")
            else:
                return  # the rebuilt day's clustering kept the merge (the store's story_moves)
            _stored(change, decision)

        def split(d: Draft, decision: dict[str, Any]) -> None:
            sid, item = decision["story_id"], decision.get("item_id", "")
            cand = next((c for c in d.candidates if c["story_id"] == sid), None)
            if cand is not None and item in (cand.get("item_ids") or []):
                _stored(regroup.split(d, store, writer, sid, item, check), decision)
            elif store.story_moves([item]).get(item) != split_story_id(item):
                raise DeskError(f"story {sid} is not in the rebuilt draft")

        def _stored(change: Change, decision: dict[str, Any]) -> None:
            try:
                if change.then is not None:
                    change.then(decision.get("user") or SYSTEM_USER)
            except StoreError as exc:
                raise DeskError(str(exc)) from exc

        draft.stale = replay(draft, decisions, check, {"add_item": added, "promote": promoted, "merge": merged,
                                                       "split": split})
        draft.touched = True
    draft.touched = draft.touched or touched
    desk.put_draft(draft)
    desk.audit(day, "draft built", SYSTEM_USER, f"run {run.id}", "",
               f"{sum(len(b.sections) for b in briefs)} sections; {len(decisions) - len(draft.stale)} earlier decisions "
               f"kept, {len(draft.stale)} no longer apply")
    link = desk_link(cfg, day)
    run.outputs["draft"] = link
    label = edition_label(ed.name, day)
    lines = [f"the draft of {label} waits for review on the desk: {link}"]
    if cfg.review.auto_publish_at:
        lines.append(f"if no one has acted by {cfg.review.auto_publish_at} ({ed.timezone}), it is published as it is")
    if draft.stale:
        lines.append(f"{len(draft.stale)} earlier editor decision(s) no longer apply to the rebuilt draft")
    note = _alert(cfg, store, run.id, day, f"[dailybrief] {label} draft waits for review", lines)
    if note and not note.startswith(("alert sent", "alert already sent")):
        run.failures.append(note)
    return draft


def _kept(desk: Desk, run: RunReport, done: Draft, link: str) -> Draft:
    """A rerun of an edition the desk published (or is publishing) keeps it: nothing is rebuilt or sent."""
    day = done.edition
    msg = (f"the edition of {day} is {done.status} already (approved by {done.decided_by or 'someone'}); this rerun "
           f"kept it as it is: no new draft, nothing sent again. To revise it, reopen it on the desk ({link}, "
           f"\"Reopen for a revision\"), then run the day again")
    run.failures.append(msg)
    run.outputs["draft"] = link
    desk.audit(day, "rerun kept the published edition", SYSTEM_USER, f"run {run.id}", "", msg)
    return done


def reopen(store: Store, day: date, user: str, have: int) -> None:
    """A published edition becomes a draft again, for a revision: a rerun rebuilds it, approving sends it again
    where its content changed (the folder and site copies; a message once sent stays sent: the delivery log)."""
    desk = Desk(store)
    if not desk.transition(day, have, ("published",), "draft", user, "reopened for a revision", touched=True):
        raise desk._why_not(day, have, reopening=True)


@dataclass(slots=True)
class Outcome:
    status: str  # published | already | failed | busy
    message: str
    deliveries: list[Delivery] = field(default_factory=list)


def publish_draft(cfg: Config, store: Store, day: date, user: str, have: int | None = None,
                  note: str = "approved") -> Outcome:
    """Publish the draft once: move it to ``publishing`` (one caller wins), release it, mark it ``published``."""
    store = store.as_edition(cfg.edition.name)
    desk = Desk(store)
    draft = desk.draft(day)
    if draft is None:
        raise DeskError(f"there is no draft of {day}")
    if not desk.transition(day, have, OPEN, "publishing", user, note):
        now = desk.draft(day)
        status = now.status if now else "gone"
        if now and now.status in OPEN:
            raise DeskError(f"the draft of {day} changed since your page was loaded (now version {now.version}); "
                            "reload and check it before approving")
        return Outcome("already", f"the edition of {day} is {status}; nothing was sent again")
    briefs = desk.draft(day).briefs  # type: ignore[union-attr]
    pipe = Pipeline(cfg, store)
    try:
        with run_lock(lock_path(cfg), "desk approval"):
            run = pipe.new_run(day)
            pipe.release(run, day, briefs)
            run = pipe.finish_and_alert(run, "degraded" if run.failures else "ok")
    except BusyError as exc:
        desk.transition(day, None, ("publishing",), "draft", user, "a run held the lock; nothing was sent")
        return Outcome("busy", str(exc))
    except Exception as exc:
        msg = redact.scrub(f"publishing failed: {type(exc).__name__}: {exc}")
        desk.transition(day, None, ("publishing",), "held", user, msg)
        log.exception("publishing the draft of %s failed", day)
        return Outcome("failed", msg)
    summary = "; ".join(f"{d.target}: {d.status}" for d in pipe.deliveries) or "no publish targets"
    desk.transition(day, None, ("publishing",), "published", user, summary)
    return Outcome("published", f"published the edition of {day} ({summary})", pipe.deliveries)


def hold(store: Store, day: date, user: str, have: int, reason: str = "") -> None:
    if not Desk(store).transition(day, have, ("draft",), "held", user, reason):
        raise Desk(store)._why_not(day, have)


def auto_publish_at(cfg: Config, day: date) -> datetime | None:
    if not cfg.review.auto_publish_at:
        return None
    hh, mm = (int(x) for x in cfg.review.auto_publish_at.split(":"))
    return datetime.combine(day, time(hh, mm), cfg.edition.tz)


def auto_publish_due(cfg: Config, store: Store, now: datetime | None = None) -> list[Outcome]:
    """Publish every untouched draft of `cfg`'s edition whose auto_publish_at has passed; the alert says it went out
    unreviewed."""
    now = now or utcnow()
    out = []
    store = store.as_edition(cfg.edition.name)
    desk = Desk(store)
    for row in desk.drafts():
        day = date.fromisoformat(row["edition"])
        due = auto_publish_at(cfg, day)
        if row["status"] != "draft" or due is None or now < due:
            continue
        draft = desk.draft(day)
        if draft is None or draft.touched:
            continue
        result = publish_draft(cfg, store, day, AUTO_USER, draft.version,
                               note=f"no one acted by {cfg.review.auto_publish_at}: published as it is")
        if result.status == "published":
            label = edition_label(cfg.edition.name, day)  # also the alert's key: each edition's is its own
            _alert(cfg, store, f"auto-{label.replace(' ', '-')}", day, f"[dailybrief] {label} published unreviewed at "
                   f"{cfg.review.auto_publish_at}", [f"no editor acted on the draft of {label} by "
                   f"{cfg.review.auto_publish_at} ({cfg.edition.timezone}); it was published as it is",
                   result.message, f"desk: {desk_link(cfg, day)}"])
        out.append(result)
    return out


def auto_published(cfg: Config) -> list[Config]:
    """The editions of `cfg` whose untouched drafts go out at their [review] auto_publish_at."""
    return [c for c in cfg.edition_configs() if c.review.required and c.review.auto_publish_at]


def auto_publish_job(config_path: str | None) -> list[Outcome]:
    """The scheduler's minute job: fresh config, then auto_publish_due for each edition reviewed with an
    auto_publish_at."""
    cfg = config_mod.load(config_path)
    store = Store.open(cfg.db_url())
    try:
        outcomes = [o for c in auto_published(cfg) for o in auto_publish_due(c, store)]
    finally:
        store.close()
    for o in outcomes:
        log.info("auto_publish_at: %s", o.message)
    return outcomes


register_review(Review(hold=hold_for_review, auto_publish_job=auto_publish_job))
