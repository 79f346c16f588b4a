"""Secrets never leave the process: one registry of every secret value dailybrief holds, blanked
out of any text before it is logged, stored, printed or alerted.

    register(value)      an API key, an SMTP password, a signing or WeChat secret
    register_url(url)    a webhook URL: the whole URL, its path segments that look like tokens, its query values
    scrub(text)          the text with every registered secret (and its URL-encoded and JSON-escaped
                         forms) replaced by ``MASK``
    scrub_data(obj)      the same through the strings of nested dicts and lists (run records, JSON)
    scrub_fields(rec)    the same, in place, through a record's dataclass fields (a Brief before rendering)

Whoever reads a secret registers it at once (config for the model key, each publisher for its own
credentials); the exits (the run record in the store, the console, the log handlers, the alert)
call ``scrub``. An endpoint that echoes the ``Authorization`` header or its token-bearing path back
in an error body is therefore harmless wherever that body ends up.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import threading
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

__all__ = ["MASK", "MIN_LENGTH", "forget_all", "register", "register_url", "scrub", "scrub_data", "scrub_fields",
           "secrets"]

MASK = "***"
MIN_LENGTH = 6  # shorter values are not worth blanking everywhere (they would blank ordinary words)
_TOKENISH = re.compile(r"(?=.*\d)[A-Za-z0-9_\-.:~%=]{8,}")  # a path segment that looks like a key, not a word

_lock = threading.RLock()  # re-entrant: a log record made while compiling (a GC-time warning) scrubs too
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def _variants(value: str) -> set[str]:
    """The forms a secret takes when a server echoes it: as sent, URL-encoded, JSON-escaped."""
    forms = {value, quote(value, safe=""), quote_plus(value), quote(value, safe="/:"),
             json.dumps(value)[1:-1], value.replace("/", "\\/")}
    return {f for f in forms if len(f) >= MIN_LENGTH}


def register(*values: str | None) -> None:
    """Remember secret values so that ``scrub`` blanks them from now on."""
    global _pattern
    added = set()
    for value in values:
        value = (value or "").strip()
        if len(value) >= MIN_LENGTH:
            added |= _variants(value)
    if added - _secrets:
        with _lock:
            _secrets.update(added)
            _pattern = None


def register_url(url: str | None) -> None:
    """A URL that carries a credential (a webhook): the URL, its token-like path segments, its query values."""
    url = (url or "").strip()
    if not url:
        return
    register(url)
    parts = urlsplit(url)
    if parts.password:
        register(parts.password)
    register(*(seg for seg in parts.path.split("/") if _tokenish(seg)))
    values = [v for _, v in parse_qsl(parts.query) if _tokenish(v)]
    register(*values)
    if values:
        register(parts.query)


def _tokenish(text: str) -> bool:
    """A path segment or query value that looks like a credential rather than a word ("markdown", "v2")."""
    return bool(_TOKENISH.fullmatch(text)) or (len(text) >= 16 and " " not in text)


def secrets() -> frozenset[str]:
    return frozenset(_secrets)


def forget_all() -> None:
    """Clear the registry (tests; a long-lived process that reloads its config)."""
    global _pattern
    with _lock:
        _secrets.clear()
        _pattern = None


def _compiled() -> re.Pattern[str] | None:
    global _pattern
    if _pattern is None and _secrets:
        with _lock:
            ordered = sorted(_secrets, key=len, reverse=True)  # longest first: a URL before its token
            _pattern = re.compile("|".join(re.escape(s) for s in ordered))
    return _pattern


def scrub(text: str) -> str:
    """``text`` with every registered secret replaced by MASK."""
    if not text or not _secrets:
        return text
    pattern = _compiled()
    return pattern.sub(MASK, text) if pattern is not None else text


def scrub_data(obj: Any) -> Any:
    """``scrub`` applied to every string inside nested dicts, lists and tuples."""
    if isinstance(obj, str):
        return scrub(obj)
    if isinstance(obj, dict):
        return {scrub_data(k): scrub_data(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(scrub_data(v) for v in obj)
    return obj


def scrub_fields(obj: Any) -> Any:
    """``scrub`` every string inside a record in place: dataclasses, lists and dicts, nested (a Brief,
    whose notes may quote an error an endpoint echoed). Returns the object."""
    if not _secrets:
        return obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if isinstance(value, str):
                setattr(obj, f.name, scrub(value))
            else:
                scrub_fields(value)
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            obj[i] = scrub(value) if isinstance(value, str) else scrub_fields(value)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            obj[key] = scrub(value) if isinstance(value, str) else scrub_fields(value)
    return obj


def _clean_record(record: logging.LogRecord) -> None:
    try:
        text = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed log call is logging's to report, not ours
        return
    clean = scrub(text)
    if clean != text:
        record.msg, record.args = clean, ()
    if record.exc_info and not record.exc_text:
        record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))


_base_factory = logging.getLogRecordFactory()


def _record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Every log record, from any logger (httpx logs each request's full URL at INFO), is scrubbed
    as it is made, traceback included, before any handler or formatter sees it."""
    record = _base_factory(*args, **kwargs)
    if _secrets:
        _clean_record(record)
    return record


logging.setLogRecordFactory(_record_factory)
