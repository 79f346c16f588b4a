"""Scheduling: run the day's job at the configured time, and never two runs at once.

    dailybrief schedule ─▶ APScheduler BlockingScheduler, CronTrigger([schedule].cron, time zone)
                             └─▶ daily_job(): run_lock ─▶ Pipeline.run(the edition due now) ─▶ alerts (inside the run)
                                   └─▶ retry_job() in [schedule].retry_minutes, for the targets that failed

``run_lock`` is an exclusive lock on a file beside the database, or, when the store is
PostgreSQL, an advisory lock on that database (so schedulers on several machines share it);
``dailybrief run``, ``dailybrief publish`` and every scheduled job take it, so two runs on
one database never overlap. The operating system (or the server, when the connection ends)
drops the lock when its process ends, so a crashed run never leaves a stale lock behind.
A scheduled run that gets the lock after another scheduler has run the same edition since its
window closed does nothing: two schedulers on one store never run an edition twice.

Several editions ([[editions]]): one job per distinct schedule (crontab line and time zone; an edition's own
``cron``, else [schedule].cron, else daily at its cutoff), which runs the editions it has with one fetch
(run/editions.py), each edition's date the latest its own window has closed; each edition is checked, retried
and recorded on its own.
"""

from __future__ import annotations

import json
import logging
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import filelock
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger

from .. import config as config_mod
from ..config import Config
from ..cron import cron_trigger
from ..errors import BusyError, DailybriefError
from ..publish import alerts
from ..publish.base import load_edition
from ..store import Store, advisory_lock, edition_label, is_postgres
from .editions import run_editions
from .pipeline import PUBLISH_STAGE, Pipeline, registered_review

if TYPE_CHECKING:
    from ..records import RunReport

__all__ = ["daily_job", "lock_path", "retry_job", "run_lock", "scheduler", "schedules", "serve", "timezone_of"]

log = logging.getLogger(__name__)


def timezone_of(cfg: Config) -> str:
    """The schedule's time zone: [schedule].timezone, else the edition's."""
    return cfg.schedule.timezone or cfg.edition.timezone


def lock_path(cfg: Config) -> Path | str:
    """The lock: a file beside the SQLite database, or the PostgreSQL store's URL (its advisory lock),
    so one database never has two runs."""
    url = cfg.db_url()
    if is_postgres(url):
        return str(url)
    db = cfg.db_path()
    return db.with_name(db.name + ".lock") if str(db) != ":memory:" else Path(os.devnull + ".lock")


@contextmanager
def run_lock(path: Path | str, what: str = "run") -> Iterator[None]:
    """Hold the exclusive run lock, or raise BusyError at once naming who holds it."""
    if isinstance(path, str):
        with advisory_lock(path, what):
            yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(path), timeout=0)
    info = path.with_name(path.name + ".json")
    try:
        lock.acquire()
    except filelock.Timeout:
        holder = ""
        try:
            data = json.loads(info.read_text("utf-8"))
            holder = f" (a {data.get('what', 'run')} by process {data.get('pid')}, started {data.get('started', '?')[:19]})"
        except (OSError, ValueError):
            pass
        raise BusyError(f"another dailybrief run holds the lock {path}{holder}; this {what} did not start. "
                        "Wait for it to finish (it releases the lock when its process ends).") from None
    try:
        info.write_text(json.dumps({"pid": os.getpid(), "what": what, "started": datetime.now().isoformat()}), "utf-8")
        yield
    finally:
        info.unlink(missing_ok=True)
        lock.release()


def _already_run(cfg: Config, store: Store, day: date) -> dict[str, Any] | None:
    """Another process's run of edition `day` that started after its window closed and made the edition, if any: a
    scheduler that gets the lock after another one ran the edition leaves it alone (its own cron firing again within
    one edition still runs it again). A run made the edition when it published it, holds it for review ("draft"),
    or is still going; one that only fetched, ranked or built (`dailybrief fetch`, `stories`, `build`, from cron or
    an editor's shell after the cutoff) sent nothing, so the day's scheduled run still runs."""
    closed = cfg.edition.window(day)[1]
    rows = store.iter_rows("SELECT id, status, started, pid, EXISTS (SELECT 1 FROM run_stages s WHERE "
                           "s.run_id = runs.id AND s.name = :p) AS published FROM runs WHERE edition = :e AND "
                           "edition_name = :n", {"e": day.isoformat(), "n": cfg.edition.name, "p": PUBLISH_STAGE})
    return next((r for r in rows
                 if (r["status"] in ("draft", "running") or (r["status"] in ("ok", "degraded") and r["published"]))
                 and r["pid"] != os.getpid() and datetime.fromisoformat(r["started"]) >= closed), None)


def _failed_targets(store: Store, cfg: Config, day: date) -> list[str]:
    return [r["target"] for r in store.scoped(cfg.edition.name).deliveries(day) if r["status"] == "failed"]


def daily_job(config_path: str | None, report: Callable[[RunReport], None] | None = None,
              sched: BlockingScheduler | None = None, names: list[str] | None = None) -> RunReport | None:
    """One scheduled run: fresh config, lock, each edition's latest due date in its own time zone, the editions
    (the named ones, else all) fetched once.

    Returns the first edition's RunReport (None when the lock was busy, the config broke or no edition was left
    to run); ``report`` gets each edition's. Nothing escapes: the scheduler must live to run tomorrow. With
    ``sched``, targets that failed are queued for a retry (see ``retry_job``).
    """
    try:
        cfg = config_mod.load(config_path)
        configs = [cfg.for_edition(n) for n in names] if names else cfg.edition_configs()
    except DailybriefError as exc:
        log.error("scheduled run skipped: %s", exc)
        return None
    # The edition whose window has just closed, of each edition.
    todo: list[tuple[Config, date]] = [(c, c.edition.due(datetime.now(c.edition.tz))) for c in configs]
    day = todo[0][1]
    failed: dict[str, list[str]] = {}
    try:
        with run_lock(lock_path(cfg), "scheduled run"):
            store = Store.open(cfg.db_url())
            try:
                left = []
                for c, d in todo:
                    done = _already_run(c, store.scoped(c.edition.name), d)
                    if done is None:
                        left.append((c, d))
                        continue
                    log.info("edition %s was already run by another process (run %s, %s); not running it again",
                             edition_label(c.edition.name, d), done["id"], done["status"])
                if not left:
                    return None
                runs = run_editions(left, store, distributed=cfg.cluster.enabled)
                failed = {c.edition.name: _failed_targets(store, c, d) for c, d in left}
            finally:
                store.close()
    except BusyError as exc:
        log.warning("%s", exc)
        return None
    except Exception as exc:
        log.exception("scheduled run for %s crashed", day)
        alerts.notify_crash(cfg, day, exc)
        return None
    for one, (c, d) in zip(runs, left, strict=True):
        if report:
            report(one.run)
        if sched is not None and failed[c.edition.name]:
            _queue_retry(sched, c, config_path, d, 1, failed[c.edition.name], report)
    return runs[0].run


def _queue_retry(sched: BlockingScheduler, cfg: Config, config_path: str | None, day: date, attempt: int,
                 failed: list[str], report: Callable[[RunReport], None] | None) -> None:
    """Queue a retry of edition `cfg`'s failed targets (an [[editions]] entry's config names its edition)."""
    if attempt > cfg.schedule.retries:
        log.warning("publish targets %s still failing for %s after %d retries; `dailybrief publish --date %s` "
                    "tries again", ", ".join(failed), day, cfg.schedule.retries, day)
        return

    when = datetime.now(ZoneInfo(timezone_of(cfg))) + timedelta(minutes=cfg.schedule.retry_minutes)
    name = cfg.edition.name
    sched.add_job(retry_job, DateTrigger(when), args=(config_path, day, attempt, sched, report, name),
                  id=f"retry-{name}-{day}-{attempt}", replace_existing=True, misfire_grace_time=None)
    log.info("publish targets %s failed for %s; retry %d of %d at %s", ", ".join(failed), day, attempt,
             cfg.schedule.retries, when.strftime("%H:%M:%S"))


def retry_job(config_path: str | None, day: date, attempt: int, sched: BlockingScheduler | None = None,
              report: Callable[[RunReport], None] | None = None, edition: str | None = None) -> RunReport | None:
    """Publish an edition again to the targets that failed; the delivery log keeps the others from a second copy."""
    try:
        cfg = config_mod.load(config_path).for_edition(edition)
    except DailybriefError as exc:
        log.error("publish retry for %s skipped: %s", day, exc)
        return None
    run = None
    try:
        with run_lock(lock_path(cfg), "publish retry"):
            store = Store.open(cfg.db_url())
            try:
                failed = _failed_targets(store, cfg, day)
                if failed:
                    pipe = Pipeline(cfg, store)
                    run = pipe.new_run(day)
                    pipe.publish_edition(run, load_edition(cfg.out_dir() / day.isoformat(), day), failed)
                    pipe.finish_and_alert(run, "degraded" if run.failures else "ok")
                still = _failed_targets(store, cfg, day)
            finally:
                store.close()
    except DailybriefError as exc:  # busy, or the edition's folder is gone: try again later
        log.warning("publish retry %d for %s did not run: %s", attempt, day, exc)
        still = ["(retry did not run)"]
    except Exception:
        log.exception("publish retry for %s crashed", day)
        return None
    if run is not None and report:
        report(run)
    if sched is not None and still:
        _queue_retry(sched, cfg, config_path, day, attempt + 1, still, report)
    return run


def scheduler(cfg: Config, config_path: str | None, report: Callable[[RunReport], None] | None = None,
              now: bool = False) -> BlockingScheduler:
    """A BlockingScheduler with the daily job on the configured cron line (not started).

    ``now`` also runs the job once as soon as the scheduler starts.
    """
    tz = ZoneInfo(timezone_of(cfg))
    sched = BlockingScheduler(timezone=tz)
    jobs = schedules(cfg)
    for k, ((line, zone), names) in enumerate(jobs.items()):
        # One job for all (the usual case, "daily"); else one per schedule, named by its first edition.
        job_id, only = ("daily", None) if len(jobs) == 1 else ("daily" if k == 0 else f"daily-{names[0]}", names)
        sched.add_job(daily_job, cron_trigger(line, ZoneInfo(zone)), args=(config_path, report, sched, only),
                      id=job_id, name=f"dailybrief run of {', '.join(names)}", max_instances=1, coalesce=True,
                      misfire_grace_time=cfg.schedule.misfire_grace_minutes * 60)
    if now:
        sched.add_job(daily_job, args=(config_path, report, sched), id="now", name="dailybrief run at start",
                      max_instances=1)
    if any(c.review.required and c.review.auto_publish_at for c in cfg.edition_configs()):  # the editor's desk:
        # an untouched draft of an edition reviewed with an auto_publish_at goes out then
        sched.add_job(registered_review().auto_publish_job, "interval", minutes=1, args=(config_path,), id="auto_publish",
                      name="dailybrief auto_publish_at", max_instances=1, coalesce=True)
    return sched


def schedules(cfg: Config) -> dict[tuple[str, str], list[str]]:
    """(crontab line, time zone) -> the editions run on it, in config order."""
    out: dict[tuple[str, str], list[str]] = {}
    for c in cfg.edition_configs():
        out.setdefault((c.cron(), timezone_of(c)), []).append(c.edition.name)
    return out


def serve(sched: Any) -> None:
    """Run the scheduler until SIGINT or SIGTERM."""

    def stop(signum: int, frame: object) -> None:
        log.info("stopping the scheduler (signal %s)", signum)
        sched.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    try:
        sched.start()
    except (KeyboardInterrupt, SystemExit):
        pass
