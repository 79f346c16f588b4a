"""Scheduling: run the day's job at the configured time, and never two runs at once.

    dailybrief schedule ─▶ APScheduler BlockingScheduler, CronTrigger([schedule].cron, time zone)
                             └─▶ daily_job(): run_lock ─▶ Pipeline.run(the edition due now) ─▶ alerts (inside the run)
                                   └─▶ retry_job() in [schedule].retry_minutes, for the targets that failed

``run_lock`` is an exclusive lock on a file beside the database; ``dailybrief
run``, ``dailybrief publish`` and every scheduled job take it, so two runs on
one database never overlap. The operating system drops the lock when its
process ends, so a crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import filelock
from apscheduler.triggers.cron import CronTrigger

from .errors import BusyError

__all__ = ["cron_trigger", "daily_job", "lock_path", "retry_job", "run_lock", "scheduler", "serve", "timezone_of"]

log = logging.getLogger(__name__)

_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_CRON_HELP = ("use five fields, minute hour day month day-of-week (e.g. '30 7 * * *' for 07:30 every day, "
              "'0 8 * * 1-5' for 08:00 on weekdays), or six with seconds first")


def _cron_weekdays(field: str) -> str:
    """A crontab day-of-week field (0 and 7 are Sunday) as APScheduler weekday names.

    APScheduler 3 counts 0 as Monday; spelling the days out keeps cron's meaning.
    """
    if not re.search(r"\d", field):
        return field
    days: set[int] = set()
    for part in field.split(","):
        m = re.fullmatch(r"(\*|\d+)(?:-(\d+))?(?:/(\d+))?", part)
        if not m:
            raise ValueError(f"day-of-week part {part!r} mixes names and numbers")
        start, end, step = m.group(1), m.group(2), int(m.group(3) or 1)
        lo, hi = (0, 6) if start == "*" else (int(start), int(end) if end else int(start))
        if end is None and m.group(3) and start != "*":
            hi = 6
        if not (0 <= lo <= 7 and 0 <= hi <= 7 and lo <= hi and step >= 1):
            raise ValueError(f"day-of-week {part!r} is out of range 0-7")
        days.update(d % 7 for d in range(lo, hi + 1, step))
    return ",".join(_CRON_DAYS[d] for d in sorted(days))


def cron_trigger(expr: str, timezone: str | ZoneInfo) -> CronTrigger:
    """A CronTrigger from a crontab line (five fields, or six with seconds first), in ``timezone``."""
    fields = expr.split()
    try:
        if len(fields) == 5:
            second, (minute, hour, day, month, dow) = "0", fields
        elif len(fields) == 6:
            second, minute, hour, day, month, dow = fields
        else:
            raise ValueError(f"it has {len(fields)} fields")
        return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month,
                           day_of_week=_cron_weekdays(dow), timezone=timezone)
    except ValueError as exc:
        raise ValueError(f"{expr!r} is not a cron expression ({exc}); {_CRON_HELP}") from None


def timezone_of(cfg: Any) -> str:
    """The schedule's time zone: [schedule].timezone, else the edition's."""
    return cfg.schedule.timezone or cfg.edition.timezone


def lock_path(cfg: Any) -> Path:
    """The lock file: beside the database, so one database never has two runs."""
    db = cfg.db_path()
    return db.with_name(db.name + ".lock") if str(db) != ":memory:" else Path(os.devnull + ".lock")


@contextmanager
def run_lock(path: Path, what: str = "run") -> Iterator[None]:
    """Hold the exclusive run lock, or raise BusyError at once naming who holds it."""
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


def _failed_targets(store: Any, day: date) -> list[str]:
    return [r["target"] for r in store.deliveries(day) if r["status"] == "failed"]


def daily_job(config_path: str | None, report: Callable[[Any], None] | None = None, sched: Any = None) -> Any:
    """One scheduled run: fresh config, lock, today's edition in the edition's time zone.

    Returns the RunReport (None when the lock was busy or the config broke).
    Nothing escapes: the scheduler must live to run tomorrow. With ``sched``,
    targets that failed are queued for a retry (see ``retry_job``).
    """
    from . import alerts
    from . import config as config_mod
    from .errors import DailybriefError
    from .pipeline import Pipeline
    from .store import Store

    try:
        cfg = config_mod.load(config_path)
    except DailybriefError as exc:
        log.error("scheduled run skipped: %s", exc)
        return None
    day: date = cfg.edition.due(datetime.now(cfg.edition.tz))  # the edition whose window has just closed
    try:
        with run_lock(lock_path(cfg), "scheduled run"):
            store = Store.open(cfg.db_path())
            try:
                run = Pipeline(cfg, store).run(day)
                failed = _failed_targets(store, day)
            finally:
                store.close()
    except BusyError as exc:
        log.warning("%s", exc)
        return None
    except Exception as exc:
        log.exception("scheduled run for %s crashed", day)
        alerts.notify_crash(cfg, day, exc)
        return None
    if report:
        report(run)
    if sched is not None and failed:
        _queue_retry(sched, cfg, config_path, day, 1, failed, report)
    return run


def _queue_retry(sched: Any, cfg: Any, config_path: str | None, day: date, attempt: int, failed: list[str],
                 report: Callable[[Any], None] | None) -> None:
    if attempt > cfg.schedule.retries:
        log.warning("publish targets %s still failing for %s after %d retries; `dailybrief publish --date %s` "
                    "tries again", ", ".join(failed), day, cfg.schedule.retries, day)
        return
    from apscheduler.triggers.date import DateTrigger

    when = datetime.now(ZoneInfo(timezone_of(cfg))) + timedelta(minutes=cfg.schedule.retry_minutes)
    sched.add_job(retry_job, DateTrigger(when), args=(config_path, day, attempt, sched, report),
                  id=f"retry-{day}-{attempt}", replace_existing=True, misfire_grace_time=None)
    log.info("publish targets %s failed for %s; retry %d of %d at %s", ", ".join(failed), day, attempt,
             cfg.schedule.retries, when.strftime("%H:%M:%S"))


def retry_job(config_path: str | None, day: date, attempt: int, sched: Any = None,
              report: Callable[[Any], None] | None = None) -> Any:
    """Publish an edition again to the targets that failed; the delivery log keeps the others from a second copy."""
    from . import config as config_mod
    from .errors import DailybriefError
    from .pipeline import Pipeline
    from .publish import load_edition
    from .store import Store

    try:
        cfg = config_mod.load(config_path)
    except DailybriefError as exc:
        log.error("publish retry for %s skipped: %s", day, exc)
        return None
    run = None
    try:
        with run_lock(lock_path(cfg), "publish retry"):
            store = Store.open(cfg.db_path())
            try:
                failed = _failed_targets(store, day)
                if failed:
                    pipe = Pipeline(cfg, store)
                    run = pipe.new_run(day)
                    pipe.publish_edition(run, load_edition(cfg.out_dir() / day.isoformat(), day), failed)
                    pipe.finish_and_alert(run, "degraded" if run.failures else "ok")
                still = _failed_targets(store, day)
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


def scheduler(cfg: Any, config_path: str | None, report: Callable[[Any], None] | None = None,
              now: bool = False) -> Any:
    """A BlockingScheduler with the daily job on the configured cron line (not started).

    ``now`` also runs the job once as soon as the scheduler starts.
    """
    from apscheduler.schedulers.blocking import BlockingScheduler

    tz = ZoneInfo(timezone_of(cfg))
    sched = BlockingScheduler(timezone=tz)
    sched.add_job(daily_job, cron_trigger(cfg.cron(), tz), args=(config_path, report, sched), id="daily",
                  name="dailybrief daily run", max_instances=1, coalesce=True,
                  misfire_grace_time=cfg.schedule.misfire_grace_minutes * 60)
    if now:
        sched.add_job(daily_job, args=(config_path, report, sched), id="now", name="dailybrief run at start",
                      max_instances=1)
    if cfg.review.required and cfg.review.auto_publish_at:  # the editor's desk: an untouched draft goes out then
        from .desk.review import auto_publish_job

        sched.add_job(auto_publish_job, "interval", minutes=1, args=(config_path,), id="auto_publish",
                      name="dailybrief auto_publish_at", max_instances=1, coalesce=True)
    return sched


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
