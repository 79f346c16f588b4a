"""The desk's tables (store migration 8): users, drafts with optimistic versions, decisions, audit log.

A draft is one edition's briefs (every language) and its ranked candidates, as JSON. Every change
is a compare-and-set on ``version``: an editor whose page shows an older version gets a Conflict,
never a silent overwrite of someone else's change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..errors import DailybriefError
from ..records import Brief, brief_from_dict
from ..store import Store, utcnow

ROLES = ("editor", "approver", "admin")
OPEN = ("draft", "held")  # statuses an editor may still change
DONE = ("publishing", "published")  # statuses a rerun of the day leaves alone


class DeskError(DailybriefError):
    """A desk action that cannot be done (unknown user, bad role, missing draft ...)."""


class Conflict(DeskError):
    """The draft changed since the editor loaded it."""

    def __init__(self, edition: date, have: int, current: int) -> None:
        self.edition, self.have, self.current = edition, have, current
        super().__init__(f"the draft of {edition} is at version {current}, your page showed version {have}: "
                         "someone else changed it meanwhile. Reload, look at their change, and make yours again.")


@dataclass(slots=True)
class Draft:
    edition: date
    version: int
    status: str  # draft | held | publishing | published
    briefs: list[Brief]
    candidates: list[dict[str, Any]]
    stale: list[dict[str, Any]] = field(default_factory=list)  # decisions that no longer apply after a rebuild
    touched: bool = False  # an editor changed something (auto_publish_at leaves it alone then)
    run_id: str = ""
    decided_by: str = ""
    note: str = ""

    @property
    def open(self) -> bool:
        return self.status in OPEN


class Desk:
    """The desk's view of the store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.conn

    # -- users -------------------------------------------------------------------
    def add_user(self, name: str, role: str, password_hash: str) -> None:
        if role not in ROLES:
            raise DeskError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
        if not name or not name.isprintable() or len(name) > 64:
            raise DeskError("a user name is 1 to 64 printable characters")
        with self.conn:
            self.conn.execute("INSERT INTO desk_users (name, role, password, created) VALUES (?, ?, ?, ?) "
                              "ON CONFLICT(name) DO UPDATE SET role = excluded.role, password = excluded.password, disabled = 0",
                              (name, role, password_hash, utcnow().isoformat()))

    def user(self, name: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT name, role, password, disabled FROM desk_users WHERE name = ?", (name,)).fetchone()
        return None if row is None else {"name": row[0], "role": row[1], "password": row[2], "disabled": bool(row[3])}

    def set_disabled(self, name: str, disabled: bool = True) -> None:
        with self.conn:
            if self.conn.execute("UPDATE desk_users SET disabled = ? WHERE name = ?", (int(disabled), name)).rowcount != 1:
                raise DeskError(f"no desk user named {name!r}")

    def set_password(self, name: str, password_hash: str) -> None:
        with self.conn:
            self.conn.execute("UPDATE desk_users SET password = ? WHERE name = ?", (password_hash, name))

    def users(self) -> list[dict[str, Any]]:
        return [{"name": n, "role": r} for n, r in self.conn.execute("SELECT name, role FROM desk_users ORDER BY name")]

    # -- failed sign-ins (the login rate limit) -------------------------------------------
    def login_failures(self, keys: tuple[str, ...], since: float) -> dict[str, tuple[int, float]]:
        """key -> (failed sign-ins after `since`, the oldest of them)."""
        if not keys:
            return {}
        marks = ", ".join("?" * len(keys))
        return {k: (int(n), float(oldest)) for k, n, oldest in self.conn.execute(
            f"SELECT key, COUNT(*), MIN(at) FROM desk_login_failures WHERE key IN ({marks}) AND at > ? GROUP BY key",
            (*keys, since))}

    def add_login_failure(self, keys: tuple[str, ...], at: float, forget_before: float) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM desk_login_failures WHERE at <= ?", (forget_before,))
            self.conn.executemany("INSERT INTO desk_login_failures (key, at) VALUES (?, ?)", [(k, at) for k in keys])

    def clear_login_failures(self, key: str) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM desk_login_failures WHERE key = ?", (key,))

    # -- drafts --------------------------------------------------------------------
    @staticmethod
    def _draft(row: tuple[Any, ...]) -> Draft:
        return Draft(edition=date.fromisoformat(row[0]), version=row[1], status=row[2],
                     briefs=[brief_from_dict(b) for b in json.loads(row[3])], candidates=json.loads(row[4]),
                     stale=json.loads(row[5]), touched=bool(row[6]), run_id=row[7] or "", decided_by=row[8] or "",
                     note=row[9] or "")

    _COLS = "edition, version, status, briefs, candidates, stale, touched, run_id, decided_by, note"

    def draft(self, edition: date) -> Draft | None:
        row = self.conn.execute(f"SELECT {self._COLS} FROM desk_drafts WHERE edition = ?", (edition.isoformat(),)).fetchone()
        return None if row is None else self._draft(row)

    def drafts(self, limit: int = 30) -> list[dict[str, Any]]:
        return [{"edition": e, "version": v, "status": s, "updated": u} for e, v, s, u in self.conn.execute(
            "SELECT edition, version, status, updated FROM desk_drafts ORDER BY edition DESC LIMIT ?", (limit,))]

    def put_draft(self, draft: Draft) -> Draft:
        """A new or rebuilt draft: its version goes on from the old one's, so open pages see a conflict."""
        now = utcnow().isoformat()
        old = self.draft(draft.edition)
        draft.version = (old.version + 1) if old else 1
        with self.conn:
            self.conn.execute(
                "INSERT INTO desk_drafts (edition, version, status, run_id, briefs, candidates, stale, created, updated, "
                "touched) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(edition) DO UPDATE SET "
                "version = excluded.version, status = excluded.status, run_id = excluded.run_id, briefs = excluded.briefs, "
                "candidates = excluded.candidates, stale = excluded.stale, updated = excluded.updated, "
                "touched = excluded.touched, decided_by = NULL, decided = NULL, note = NULL",
                (draft.edition.isoformat(), draft.version, draft.status, draft.run_id, _briefs_json(draft.briefs),
                 json.dumps(draft.candidates, ensure_ascii=False), json.dumps(draft.stale, ensure_ascii=False),
                 now, now, int(draft.touched)))
        return draft

    def save(self, draft: Draft, have: int, user: str, action: str, target: str, before: Any, after: Any,
             decision: dict[str, Any] | None = None) -> Draft:
        """Write an edited draft if it is still at version `have`; audit the change. Raises Conflict."""
        now = utcnow().isoformat()
        with self.conn:
            cur = self.conn.execute(
                "UPDATE desk_drafts SET version = version + 1, briefs = ?, candidates = ?, stale = ?, touched = 1, "
                "updated = ? WHERE edition = ? AND version = ? AND status IN ('draft', 'held')",
                (_briefs_json(draft.briefs), json.dumps(draft.candidates, ensure_ascii=False),
                 json.dumps(draft.stale, ensure_ascii=False), now, draft.edition.isoformat(), have))
            if cur.rowcount != 1:
                raise self._why_not(draft.edition, have)
            draft.version = have + 1
            self._audit(draft.edition, draft.version, user, action, target, before, after, now)
            if decision is not None:
                self.conn.execute(
                    "INSERT INTO desk_decisions (edition, seq, story_id, action, data, user, at) VALUES (?, "
                    "(SELECT COALESCE(MAX(seq), 0) + 1 FROM desk_decisions WHERE edition = ?), ?, ?, ?, ?, ?)",
                    (draft.edition.isoformat(), draft.edition.isoformat(), decision.get("story_id", ""), action,
                     json.dumps(decision, ensure_ascii=False), user, now))
        return draft

    def _why_not(self, edition: date, have: int, reopening: bool = False) -> DeskError:
        row = self.conn.execute("SELECT version, status FROM desk_drafts WHERE edition = ?", (edition.isoformat(),)).fetchone()
        if row is None:
            return DeskError(f"there is no draft of {edition}")
        if reopening and row[1] != "published":
            return DeskError(f"the edition of {edition} is {row[1]}, not published; there is nothing to reopen")
        if not reopening and row[1] not in OPEN:
            return DeskError(f"the draft of {edition} is {row[1]}; it can no longer be changed")
        return Conflict(edition, have, row[0])

    def transition(self, edition: date, have: int | None, frm: tuple[str, ...], to: str, user: str, note: str = "",
                   touched: bool = False) -> bool:
        """Move a draft from one of `frm` to `to` atomically; False when another request got there first.
        `touched`: an editor acted (auto_publish_at leaves the draft alone then)."""
        now = utcnow().isoformat()
        marks = ", ".join("?" * len(frm))
        sql = (f"UPDATE desk_drafts SET status = ?, version = version + 1, updated = ?, decided_by = ?, decided = ?, "
               f"note = ?{', touched = 1' if touched else ''} WHERE edition = ? AND status IN ({marks})")
        args: list[Any] = [to, now, user, now, note, edition.isoformat(), *frm]
        if have is not None:
            sql += " AND version = ?"
            args.append(have)
        with self.conn:
            cur = self.conn.execute(sql, args)
            if cur.rowcount != 1:
                return False
            version = self.conn.execute("SELECT version FROM desk_drafts WHERE edition = ?",
                                        (edition.isoformat(),)).fetchone()[0]
            self._audit(edition, version, user, to, "edition", "", note, now)
        return True

    # -- decisions and audit -------------------------------------------------------------
    def decisions(self, edition: date) -> list[dict[str, Any]]:
        return [json.loads(d) | {"action": a, "user": u} for a, d, u in self.conn.execute(
            "SELECT action, data, user FROM desk_decisions WHERE edition = ? ORDER BY seq", (edition.isoformat(),))]

    def _audit(self, edition: date, version: int, user: str, action: str, target: str, before: Any, after: Any,
               at: str) -> None:
        self.conn.execute(
            "INSERT INTO desk_audit (edition, version, at, user, action, target, before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (edition.isoformat(), version, at, user, action, target, _text(before), _text(after)))

    def audit(self, edition: date, action: str, user: str, target: str = "", before: Any = "", after: Any = "") -> None:
        """Record something that changed no draft text (a rebuild, a publish's outcome)."""
        d = self.draft(edition)
        with self.conn:
            self._audit(edition, d.version if d else 0, user, action, target, before, after, utcnow().isoformat())

    def history(self, edition: date, since_version: int = 0) -> list[dict[str, Any]]:
        cols = ("id", "version", "at", "user", "action", "target", "before", "after")
        return [dict(zip(cols, row, strict=True)) for row in self.conn.execute(
            f"SELECT {', '.join(cols)} FROM desk_audit WHERE edition = ? AND version > ? ORDER BY id DESC",
            (edition.isoformat(), since_version))]


def _briefs_json(briefs: list[Brief]) -> str:
    return json.dumps([b.as_dict() for b in briefs], ensure_ascii=False)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
