"""Who may use the desk: argon2 password hashes, the session key, CSRF tokens and a login rate limit."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..records import DEFAULT_EDITION
from .drafts import Desk, DeskError

SECRET_ENV = "DAILYBRIEF_DESK_SECRET"  # noqa: S105 - an env var name; the session-signing key; else a file beside the database
LOGIN_ATTEMPTS = 5  # failed logins allowed per window, per client address and per user name
LOGIN_WINDOW = 600.0  # seconds
MIN_PASSWORD = 10
SESSION_COOKIE = "dailybrief_desk"  # the default edition's session cookie; another edition's adds its name

_hasher = PasswordHasher()
CAN = {"edit": {"editor", "approver", "admin"}, "approve": {"approver", "admin"}}


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:

        raise DeskError(f"a desk password has at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def check_password(desk: Desk, name: str, password: str) -> dict[str, str] | None:
    """The user, when the name and password match (the same work is done for an unknown name)."""
    user = desk.user(name)
    stored = user["password"] if user and not user["disabled"] else _DUMMY
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user["disabled"]:
        return None
    if _hasher.check_needs_rehash(stored):
        desk.set_password(name, _hasher.hash(password))
    return {"name": user["name"], "role": user["role"]}


_DUMMY = _hasher.hash(secrets.token_hex(8))


def allowed(role: str, action: str) -> bool:
    return role in CAN[action]


def session_secret(db_path: Path) -> str:
    """The key that signs session cookies: $DAILYBRIEF_DESK_SECRET, else a random one kept in a 0600 file."""
    env = os.environ.get(SECRET_ENV)
    if env:
        return env
    path = db_path.with_name(db_path.name + ".desk-secret") if str(db_path) != ":memory:" else None
    if path is None:
        return secrets.token_urlsafe(32)
    try:
        return path.read_text("ascii").strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key


def session_cookie(edition: str) -> str:
    """The name of an edition's desk session cookie. Browsers keep one cookie jar per host whatever the port, so
    the desks of two editions on one host (127.0.0.1:8751 and :8752) need two names, or signing in on one signs
    out of the other. The default edition's keeps the name it had before [[editions]]."""
    return SESSION_COOKIE if edition == DEFAULT_EDITION else f"{SESSION_COOKIE}_{edition}"


def edition_key(secret: str, edition: str) -> str:
    """The key that signs an edition's session cookies, made from the store's session secret: one edition's cookie
    sent to another edition's desk (renamed by hand) does not verify there. The default edition's is the secret
    itself, so its open sessions stay valid."""
    if edition == DEFAULT_EDITION:
        return secret
    return hmac.new(secret.encode(), f"desk-session:{edition}".encode(), hashlib.sha256).hexdigest()


def new_csrf() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


@dataclass(slots=True)
class LoginLimiter:
    """Failed sign-ins per key in a sliding window, kept in the store (migration 9): the limit holds across a
    restart of the desk and across desk processes on one database. A key over the limit waits until it slides."""

    desk: Desk
    attempts: int = LOGIN_ATTEMPTS
    window: float = LOGIN_WINDOW
    clock: Callable[[], float] = time.time  # wall-clock seconds: shared between processes

    def blocked(self, *keys: str) -> float:
        """Seconds until a sign-in may be tried again (0: now)."""
        now = self.clock()
        waits = [oldest + self.window - now for n, oldest in self.desk.login_failures(keys, now - self.window).values()
                 if n >= self.attempts]
        return max(waits, default=0.0)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        self.desk.add_login_failure(keys, now, forget_before=now - self.window)

    def succeeded(self, name_key: str) -> None:
        self.desk.clear_login_failures(name_key)
