"""Alerts: a failed or degraded run notifies the target named in ``[alerts].target``.

    failed     the run stopped: no briefing was written
    empty      there was nothing to brief (an empty briefing)
    degraded   a briefing was written, but not all went well: a writer fell back,
               sources failed, a format was not rendered, a publish target failed
               or was skipped for missing credentials

The alert names the edition, the run and every problem (whole lines, as many
as the target's size limit allows, then "and N more"). Each run alerts a
target at most once, recorded in the ``alerts`` table. An alert that cannot
be sent is reported on the run; it never stops the run.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING, Any

from .. import redact
from ..errors import DailybriefError, NotConfigured
from ..store import edition_label
from .delivery import make_target

if TYPE_CHECKING:
    from ..config import Config
    from ..records import RunReport
    from ..store import Store

__all__ = ["needs_alert", "notify_crash", "notify_run", "reasons", "send_alert"]

log = logging.getLogger(__name__)


def reasons(run: RunReport) -> list[str]:
    """Why a run is not simply ok, in words: 'failed', '2 failing sources', 'writer fallback' …"""
    out: list[str] = []
    if run.status == "failed":
        out.append("failed")
    if run.status == "empty":
        out.append("empty briefing")
    stage = {s.name: s for s in run.stages}
    fetch_failures = [e for e in stage["fetch"].errors if e in run.failures] if "fetch" in stage else []
    if fetch_failures:
        out.append(f"{len(fetch_failures)} failing source{'s' if len(fetch_failures) > 1 else ''}")
    if "write" in stage and stage["write"].errors:
        out.append("writer fallback")
    if "render" in stage and stage["render"].errors:
        out.append(f"{len(stage['render'].errors)} format(s) not rendered")
    if "publish" in stage and stage["publish"].errors:
        out.append(f"{len(stage['publish'].errors)} publish target(s) failed")
    if not out and run.failures:
        out.append(f"{len(run.failures)} problem(s)")
    return out


def needs_alert(cfg: Config, run: RunReport) -> bool:
    if not cfg.alerts.target:
        return False
    if run.status in ("failed", "empty"):
        return True
    return run.status == "degraded" and cfg.alerts.on_degraded


def send_alert(cfg: Config, subject: str, lines: list[str]) -> str:
    """Send one alert to the configured target; raises PublishError (or NotConfigured) when it cannot."""
    conf = next(t for t in cfg.publish if t.name == cfg.alerts.target)
    target: Any = make_target(conf, cfg)
    return str(target.alert(redact.scrub(subject), [redact.scrub(line) for line in lines]))


def notify_run(cfg: Config, store: Store, run: RunReport) -> str:
    """Alert about a run that needs it, once. Returns what happened, "" when no alert was due."""
    if not needs_alert(cfg, run):
        return ""
    name = cfg.alerts.target
    if store.alert_sent(run.id, name):
        return f"alert already sent to {name}"
    subject = (f"[dailybrief] {edition_label(run.name, run.edition)} {run.status}: "
               f"{', '.join(reasons(run)) or run.status} (run {run.id})")
    lines = list(dict.fromkeys(run.failures)) or [f"the run ended {run.status}"]
    try:
        detail = send_alert(cfg, subject, lines)
    except (NotConfigured, DailybriefError) as exc:
        store.record_alert(run.id, name, run.edition, subject, ok=False, error=str(exc))
        log.error("alert to %s failed: %s", name, exc)
        return f"alert to {name} failed: {exc}"
    store.record_alert(run.id, name, run.edition, subject, ok=True)
    return f"alert sent to {name} ({detail})"


def notify_crash(cfg: Config, day: date, exc: BaseException) -> str:
    """Alert that a run crashed before it could record itself (the scheduler calls this)."""
    if not cfg.alerts.target:
        return ""
    subject = f"[dailybrief] {day} failed: the run crashed"
    try:
        return send_alert(cfg, subject, [f"{type(exc).__name__}: {exc}", "see the scheduler's log for the traceback"])
    except DailybriefError as err:
        log.error("alert to %s failed: %s", cfg.alerts.target, err)
        return f"alert failed: {err}"
