"""The one retry rule of every HTTP client in a run: the sources' fetcher, the model endpoint, the chat targets.

    failed try ──▶ Retries.again(headers) ──▶ seconds to wait, or None: give up
                   the server's Retry-After when it sends one, else backoff · 2^n (at most `longest`);
                   a Retry-After longer than `longest` ends the tries at once (``asked`` says how long it was)

The caller decides what is worth another try (which statuses, which broken connections) and sleeps the way it
runs (``time.sleep``, ``asyncio.sleep``); this module only counts the tries and says how long to wait.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

__all__ = ["LONGEST_WAIT", "RETRY_STATUSES", "Retries", "retry_after"]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})  # the answers that say: try again later
LONGEST_WAIT = 60.0  # seconds: the most one wait lasts where the caller sets no limit of its own


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None when there is none."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


class Retries:
    """The tries of one request: ``again`` after each failed one says how long to wait before the next."""

    def __init__(self, retries: int, backoff: float, *, longest: float = LONGEST_WAIT, jitter: float = 0.0) -> None:
        self.retries = retries  # tries after the first
        self.backoff = backoff  # the first wait without a Retry-After; it doubles each time
        self.longest = longest
        self.jitter = jitter  # up to this many seconds added at random, so many clients do not retry in step
        self.tries = 0  # failed tries so far
        self.asked: float | None = None  # the Retry-After that was longer than `longest`, when that ended the tries

    def again(self, headers: Mapping[str, str] | None = None) -> float | None:
        """Count a failed try (its answer's `headers`, if it had one): seconds to wait, or None to give up."""
        self.tries += 1
        asked = retry_after(_header(headers, "retry-after")) if headers else None
        if asked is not None and asked > self.longest:
            self.asked = asked
            return None
        if self.tries > self.retries:
            return None
        wait = asked if asked is not None else min(self.backoff * 2 ** (self.tries - 1), self.longest)
        return wait + (random.uniform(0, self.jitter) if self.jitter else 0.0)  # noqa: S311 - jitter, not crypto


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name in any case (httpx's headers are case-blind already, a plain dict is not)."""
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value
