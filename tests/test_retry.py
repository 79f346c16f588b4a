"""The one retry rule: backoff doubling, or the server's Retry-After; too long a wait ends the tries."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import formatdate

from dailybrief.retry import LONGEST_WAIT, Retries, retry_after


def test_retry_after_parses_seconds_and_dates() -> None:
    assert retry_after("7") == 7.0
    assert retry_after(" 1.5 ") == 1.5
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert retry_after("soon") is None and retry_after(None) is None and retry_after("") is None
    later = datetime.now(timezone.utc).replace(microsecond=0).timestamp() + 120
    assert 100 < (retry_after(formatdate(later, usegmt=True)) or 0) <= 120


def test_backoff_doubles_until_the_tries_are_spent() -> None:
    tries = Retries(3, 0.5)
    assert [tries.again(), tries.again(), tries.again(), tries.again()] == [0.5, 1.0, 2.0, None]
    assert tries.tries == 4 and tries.asked is None


def test_backoff_never_waits_longer_than_the_longest_wait() -> None:
    tries = Retries(10, 10.0, longest=25.0)
    assert [tries.again() for _ in range(4)] == [10.0, 20.0, 25.0, 25.0]


def test_retry_after_replaces_the_backoff_in_any_header_case() -> None:
    tries = Retries(2, 0.5)
    assert tries.again({"Retry-After": "3"}) == 3.0
    assert tries.again({"retry-after": "0"}) == 0.0
    assert tries.again({"retry-after": "1"}) is None  # the tries are spent, whatever the server says


def test_a_longer_retry_after_than_the_longest_wait_ends_the_tries_at_once() -> None:
    tries = Retries(5, 0.5)
    assert tries.again({"Retry-After": str(int(LONGEST_WAIT) + 1)}) is None
    assert tries.asked == LONGEST_WAIT + 1 and tries.tries == 1


def test_jitter_adds_at_most_its_seconds() -> None:
    waits = [Retries(1, 1.0, jitter=0.25).again() or 0.0 for _ in range(50)]
    assert all(1.0 <= w <= 1.25 for w in waits) and len(set(waits)) > 1
