"""Crontab lines: five fields (or six, seconds first) as an APScheduler trigger in a time zone.

The config checks a [schedule].cron line with it at load; the scheduler runs by it.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

__all__ = ["cron_trigger"]

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
