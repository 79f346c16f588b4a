"""The desk's tables (store migrations 8 and 11): users, drafts with optimistic versions, decisions, audit log.

A draft is one edition's briefs (every language) and its ranked candidates, as JSON; with [[editions]] each
edition has its own drafts, decisions and audit log (the Desk works on the store scoped to it). Every change
is a compare-and-set on ``version``: an editor whose page shows an older version gets a Conflict,
never a silent overwrite of someone else's change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.engine import Connection

from ..errors import DailybriefError
from ..records import Brief, brief_from_dict
from ..store import Store, sql, utcnow

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
    """The desk's view of the store (SQLite or PostgreSQL: the same :named SQL on both): the drafts, decisions and
    audit log of the store's edition (``Store.scoped``; [[editions]]), the users every edition's desk shares."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.edition_name = store.edition_name

    def _rows(self, query: str, **params: Any) -> list[dict[str, Any]]:
        return list(self.store.iter_rows(query, params))

    def _first(self, query: str, **params: Any) -> dict[str, Any] | None:
        rows = self._rows(query, **params)
        return rows[0] if rows else None

    def _write(self, query: str, **params: Any) -> int:
        with self.store.transaction() as c:
            return int(c.execute(sql(query), params).rowcount or 0)

    # -- users -------------------------------------------------------------------
    def add_user(self, name: str, role: str, password_hash: str) -> None:
        if role not in ROLES:
            raise DeskError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
        if not name or not name.isprintable() or len(name) > 64:
            raise DeskError("a user name is 1 to 64 printable characters")
        self._write("INSERT INTO desk_users (name, role, password, created) VALUES (:n, :r, :p, :t) "
                    "ON CONFLICT (name) DO UPDATE SET role = excluded.role, password = excluded.password, disabled = 0",
                    n=name, r=role, p=password_hash, t=utcnow().isoformat())

    def user(self, name: str) -> dict[str, Any] | None:
        row = self._first("SELECT name, role, password, disabled FROM desk_users WHERE name = :n", n=name)
        return None if row is None else row | {"disabled": bool(row["disabled"])}

    def set_disabled(self, name: str, disabled: bool = True) -> None:
        if self._write("UPDATE desk_users SET disabled = :d WHERE name = :n", d=int(disabled), n=name) != 1:
            raise DeskError(f"no desk user named {name!r}")

    def set_password(self, name: str, password_hash: str) -> None:
        self._write("UPDATE desk_users SET password = :p WHERE name = :n", p=password_hash, n=name)

    def users(self) -> list[dict[str, Any]]:
        return self._rows("SELECT name, role FROM desk_users ORDER BY name")

    # -- failed sign-ins (the login rate limit) -------------------------------------------
    def login_failures(self, keys: tuple[str, ...], since: float) -> dict[str, tuple[int, float]]:
        """key -> (failed sign-ins after `since`, the oldest of them)."""
        if not keys:
            return {}
        with self.store.transaction() as c:
            rows = c.execute(sql("SELECT key, COUNT(*) AS n, MIN(at) AS oldest FROM desk_login_failures "
                                 "WHERE key IN :keys AND at > :since GROUP BY key", keys=True),
                             {"keys": list(keys), "since": since}).mappings().all()
        return {r["key"]: (int(r["n"]), float(r["oldest"])) for r in rows}

    def add_login_failure(self, keys: tuple[str, ...], at: float, forget_before: float) -> None:
        with self.store.transaction() as c:
            c.execute(sql("DELETE FROM desk_login_failures WHERE at <= :t"), {"t": forget_before})
            if keys:
                c.execute(sql("INSERT INTO desk_login_failures (key, at) VALUES (:k, :at)"),
                          [{"k": k, "at": at} for k in keys])

    def clear_login_failures(self, key: str) -> None:
        self._write("DELETE FROM desk_login_failures WHERE key = :k", k=key)

    # -- drafts --------------------------------------------------------------------
    @staticmethod
    def _draft(row: dict[str, Any]) -> Draft:
        return Draft(edition=date.fromisoformat(row["edition"]), version=row["version"], status=row["status"],
                     briefs=[brief_from_dict(b) for b in json.loads(row["briefs"])],
                     candidates=json.loads(row["candidates"]), stale=json.loads(row["stale"]),
                     touched=bool(row["touched"]), run_id=row["run_id"] or "", decided_by=row["decided_by"] or "",
                     note=row["note"] or "")

    _COLS = "edition, version, status, briefs, candidates, stale, touched, run_id, decided_by, note"

    def draft(self, edition: date) -> Draft | None:
        row = self._first(f"SELECT {self._COLS} FROM desk_drafts WHERE edition_name = :ed AND edition = :e",
                          e=edition.isoformat(), ed=self.edition_name)
        return None if row is None else self._draft(row)

    def drafts(self, limit: int = 30) -> list[dict[str, Any]]:
        return self._rows("SELECT edition, version, status, updated FROM desk_drafts WHERE edition_name = :ed "
                          "ORDER BY edition DESC LIMIT :n", n=limit, ed=self.edition_name)

    def put_draft(self, draft: Draft) -> Draft:
        """A new or rebuilt draft: its version goes on from the old one's, so open pages see a conflict."""
        now = utcnow().isoformat()
        old = self.draft(draft.edition)
        draft.version = (old.version + 1) if old else 1
        self._write(
            "INSERT INTO desk_drafts (edition_name, edition, version, status, run_id, briefs, candidates, stale, created, "
            "updated, touched) VALUES (:ed, :e, :v, :s, :r, :b, :c, :st, :now, :now, :t) ON CONFLICT (edition_name, "
            "edition) DO UPDATE SET "
            "version = excluded.version, status = excluded.status, run_id = excluded.run_id, briefs = excluded.briefs, "
            "candidates = excluded.candidates, stale = excluded.stale, updated = excluded.updated, "
            "touched = excluded.touched, decided_by = NULL, decided = NULL, note = NULL",
            e=draft.edition.isoformat(), v=draft.version, s=draft.status, r=draft.run_id, b=_briefs_json(draft.briefs),
            c=json.dumps(draft.candidates, ensure_ascii=False), st=json.dumps(draft.stale, ensure_ascii=False),
            now=now, t=int(draft.touched), ed=self.edition_name)
        return draft

    def save(self, draft: Draft, have: int, user: str, action: str, target: str, before: Any, after: Any,
             decision: dict[str, Any] | None = None) -> Draft:
        """Write an edited draft if it is still at version `have`; audit the change. Raises Conflict."""
        now = utcnow().isoformat()
        edition = draft.edition.isoformat()
        with self.store.transaction() as c:
            cur = c.execute(sql(
                "UPDATE desk_drafts SET version = version + 1, briefs = :b, candidates = :c, stale = :st, touched = 1, "
                "updated = :now WHERE edition_name = :ed AND edition = :e AND version = :have AND status IN ('draft', "
                "'held')"),
                {"b": _briefs_json(draft.briefs), "c": json.dumps(draft.candidates, ensure_ascii=False),
                 "st": json.dumps(draft.stale, ensure_ascii=False), "now": now, "e": edition, "have": have,
                 "ed": self.edition_name})
            changed = cur.rowcount == 1
            if changed:
                self._audit(c, draft.edition, have + 1, user, action, target, before, after, now)
            if changed and decision is not None:
                c.execute(sql(
                    'INSERT INTO desk_decisions (edition_name, edition, seq, story_id, action, data, "user", at) VALUES '
                    "(:ed, :e, (SELECT COALESCE(MAX(seq), 0) + 1 FROM desk_decisions WHERE edition_name = :ed AND "
                    "edition = :e), :sid, :a, :d, :u, :now)"),
                    {"e": edition, "sid": decision.get("story_id", ""), "a": action,
                     "d": json.dumps(decision, ensure_ascii=False), "u": user, "now": now, "ed": self.edition_name})
        if not changed:
            raise self._why_not(draft.edition, have)
        draft.version = have + 1
        return draft

    def _why_not(self, edition: date, have: int, reopening: bool = False) -> DeskError:
        row = self._first("SELECT version, status FROM desk_drafts WHERE edition_name = :ed AND edition = :e",
                          e=edition.isoformat(), ed=self.edition_name)
        if row is None:
            return DeskError(f"there is no draft of {edition}")
        if reopening and row["status"] != "published":
            return DeskError(f"the edition of {edition} is {row['status']}, not published; there is nothing to reopen")
        if not reopening and row["status"] not in OPEN:
            return DeskError(f"the draft of {edition} is {row['status']}; it can no longer be changed")
        return Conflict(edition, have, row["version"])

    def transition(self, edition: date, have: int | None, frm: tuple[str, ...], to: str, user: str, note: str = "",
                   touched: bool = False) -> bool:
        """Move a draft from one of `frm` to `to` atomically; False when another request got there first.
        `touched`: an editor acted (auto_publish_at leaves the draft alone then)."""
        now = utcnow().isoformat()
        query = (f"UPDATE desk_drafts SET status = :to, version = version + 1, updated = :now, decided_by = :u, "
                 f"decided = :now, note = :note{', touched = 1' if touched else ''} WHERE edition_name = :ed AND edition = :e "
                 "AND status IN :frm")
        params: dict[str, Any] = {"to": to, "now": now, "u": user, "note": note, "e": edition.isoformat(), "frm": list(frm),
                                  "ed": self.edition_name}
        if have is not None:
            query += " AND version = :have"
            params["have"] = have
        with self.store.transaction() as c:
            if c.execute(sql(query, frm=True), params).rowcount != 1:
                return False
            version = c.execute(sql("SELECT version FROM desk_drafts WHERE edition_name = :ed AND edition = :e"),
                                {"ed": self.edition_name, "e": params["e"]}).scalar_one()
            self._audit(c, edition, version, user, to, "edition", "", note, now)
        return True

    # -- decisions and audit -------------------------------------------------------------
    def decisions(self, edition: date) -> list[dict[str, Any]]:
        return [json.loads(r["data"]) | {"action": r["action"], "user": r["user"]} for r in self._rows(
            'SELECT action, data, "user" FROM desk_decisions WHERE edition_name = :ed AND edition = :e ORDER BY seq',
            e=edition.isoformat(), ed=self.edition_name)]

    def _audit(self, c: Connection, edition: date, version: int, user: str, action: str, target: str, before: Any,
               after: Any, at: str) -> None:
        c.execute(sql('INSERT INTO desk_audit (edition_name, edition, version, at, "user", action, target, before, '
                      "after) VALUES (:ed, :e, :v, :at, :u, :a, :t, :b, :af)"),
                  {"e": edition.isoformat(), "v": version, "at": at, "u": user, "a": action, "t": target,
                   "b": _text(before), "af": _text(after), "ed": self.edition_name})

    def audit(self, edition: date, action: str, user: str, target: str = "", before: Any = "", after: Any = "") -> None:
        """Record something that changed no draft text (a rebuild, a publish's outcome)."""
        d = self.draft(edition)
        with self.store.transaction() as c:
            self._audit(c, edition, d.version if d else 0, user, action, target, before, after, utcnow().isoformat())

    def history(self, edition: date, since_version: int = 0) -> list[dict[str, Any]]:
        return self._rows('SELECT id, version, at, "user", action, target, before, after FROM desk_audit '
                          "WHERE edition_name = :ed AND edition = :e AND version > :v ORDER BY id DESC",
                          e=edition.isoformat(), v=since_version, ed=self.edition_name)


def _briefs_json(briefs: list[Brief]) -> str:
    return json.dumps([b.as_dict() for b in briefs], ensure_ascii=False)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
