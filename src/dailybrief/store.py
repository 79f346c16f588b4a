"""The store: SQLite (one file, the default) or PostgreSQL, numbered migrations applied on open.

    Store.open("path/to/dailybrief.db")            SQLite: one machine, nothing to install
    Store.open("postgresql://user@host/dbname")    PostgreSQL: many workers and schedulers on one store

Both run through SQLAlchemy Core: every query below is one text of SQL with named parameters that
both engines accept (``ON CONFLICT`` upserts, no engine-only functions), so there is one code path
and one schema history. Vectors are ``BYTEA`` (float32 bytes) and similarity is numpy's.

Ids come from content hashes, so storing the same item twice is a no-op; every write that many
workers may race on is one atomic statement against a unique key (no read-modify-write).
Every run is recorded with its stages, counts, errors and durations.
"""

from __future__ import annotations

import copy
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import NullPool, StaticPool

from .errors import BusyError, StoreError
from .ids import split_story_id
from .records import DEFAULT_EDITION, Comment, Item, RunReport, Source, SourceResult, StageReport, as_dict
from .redact import register, scrub, scrub_data

# Migrations are portable SQL, applied in order on both engines. Type names both accept with the
# same meaning: TEXT, INTEGER, DOUBLE PRECISION (SQLite: REAL), BYTEA (SQLite stores the bytes as a
# blob). The one spelling the engines do not share, an auto-numbered key, is written {auto_id}.
MIGRATIONS: list[str] = [
    # 1: the foundation
    """
    CREATE TABLE sources (
        id TEXT PRIMARY KEY, name TEXT, kind TEXT, url TEXT, tier TEXT, language TEXT,
        etag TEXT, last_modified TEXT,
        last_success TEXT, last_attempt TEXT, consecutive_failures INTEGER DEFAULT 0,
        last_error TEXT, last_latency DOUBLE PRECISION, last_items INTEGER
    );
    CREATE TABLE items (
        id TEXT PRIMARY KEY, source_id TEXT, source_name TEXT, tier TEXT,
        url TEXT, canonical_url TEXT, title TEXT, summary TEXT, text TEXT, language TEXT,
        author TEXT, published TEXT, fetched TEXT,
        points INTEGER, comment_count INTEGER, score INTEGER,
        comments_url TEXT, comments TEXT, content_hash TEXT, duplicate_of TEXT
    );
    CREATE INDEX items_canonical ON items(canonical_url);
    CREATE INDEX items_hash ON items(content_hash);
    CREATE INDEX items_published ON items(published);
    CREATE TABLE embeddings (item_id TEXT, model TEXT, vector BYTEA, PRIMARY KEY (item_id, model));
    CREATE TABLE stories (
        id TEXT PRIMARY KEY, title TEXT, first_seen TEXT, last_seen TEXT,
        briefed_on TEXT, centroid BYTEA
    );
    CREATE TABLE story_items (item_id TEXT PRIMARY KEY, story_id TEXT, day TEXT);
    CREATE INDEX story_items_story ON story_items(story_id);
    CREATE TABLE runs (
        id TEXT PRIMARY KEY, edition TEXT, started TEXT, finished TEXT, status TEXT,
        failures TEXT, outputs TEXT
    );
    CREATE TABLE run_stages (
        run_id TEXT, seq INTEGER, name TEXT, seconds DOUBLE PRECISION, counts TEXT, errors TEXT, ok INTEGER,
        PRIMARY KEY (run_id, seq)
    );
    CREATE TABLE editions (
        edition TEXT, language TEXT, run_id TEXT, path TEXT, digest TEXT, created TEXT,
        PRIMARY KEY (edition, language)
    );
    """,
    # 2: the delivery log (each edition once per publish target) and the alerts sent
    """
    CREATE TABLE deliveries (
        edition TEXT, target TEXT, kind TEXT, status TEXT, digest TEXT, attempts INTEGER DEFAULT 0,
        first_attempt TEXT, last_attempt TEXT, delivered TEXT, detail TEXT, error TEXT,
        PRIMARY KEY (edition, target)
    );
    CREATE TABLE alerts (
        run_id TEXT, target TEXT, edition TEXT, status TEXT, sent TEXT, subject TEXT, error TEXT,
        PRIMARY KEY (run_id, target)
    );
    """,
    # 3: ingestion: validators per URL for conditional GET, and each source's history run by run
    """
    ALTER TABLE sources ADD COLUMN http_cache TEXT;
    ALTER TABLE sources ADD COLUMN last_status INTEGER;
    CREATE TABLE source_runs (
        run_id TEXT, source_id TEXT, at TEXT, ok INTEGER, status INTEGER, not_modified INTEGER,
        error TEXT, latency DOUBLE PRECISION, items INTEGER, new_items INTEGER,
        PRIMARY KEY (run_id, source_id)
    );
    CREATE INDEX source_runs_source ON source_runs(source_id, at);
    """,
    # 4: model responses, keyed by a hash of the prompt, so a rerun costs no tokens
    """
    CREATE TABLE llm_cache (
        key TEXT PRIMARY KEY, model TEXT, request TEXT, response TEXT,
        prompt_tokens INTEGER, completion_tokens INTEGER, created TEXT
    );
    """,
    # 5: stories across days: each item's MinHash signature, computed once; every edition a story was in
    """
    CREATE TABLE signatures (item_id TEXT PRIMARY KEY, sig BYTEA);
    CREATE INDEX story_items_day ON story_items(day);
    CREATE TABLE briefings (story_id TEXT, day TEXT, PRIMARY KEY (story_id, day));
    INSERT INTO briefings (story_id, day) SELECT id, briefed_on FROM stories WHERE briefed_on IS NOT NULL
    ON CONFLICT DO NOTHING;
    """,
    # 6: a community post about an article keeps its discussion's page, which its reference links to
    """
    ALTER TABLE items ADD COLUMN thread_url TEXT NOT NULL DEFAULT '';
    """,
    # 7: a run's process and its last sign of life, so the next run can tell a killed run from a running one
    """
    ALTER TABLE runs ADD COLUMN pid INTEGER;
    ALTER TABLE runs ADD COLUMN heartbeat TEXT;
    """,
    # 8: the editor's desk (desk/): its users, each edition's draft with an optimistic version, the editors'
    # decisions on stories (kept across a rebuilt draft), and the audit log of every change
    """
    CREATE TABLE desk_users (
        name TEXT PRIMARY KEY, role TEXT NOT NULL, password TEXT NOT NULL, created TEXT, disabled INTEGER DEFAULT 0
    );
    CREATE TABLE desk_drafts (
        edition TEXT PRIMARY KEY, version INTEGER NOT NULL DEFAULT 1, status TEXT NOT NULL, run_id TEXT,
        briefs TEXT NOT NULL, candidates TEXT NOT NULL, stale TEXT NOT NULL DEFAULT '[]',
        created TEXT, updated TEXT, touched INTEGER NOT NULL DEFAULT 0, decided_by TEXT, decided TEXT, note TEXT
    );
    CREATE TABLE desk_decisions (
        edition TEXT, seq INTEGER, story_id TEXT, action TEXT, data TEXT, "user" TEXT, at TEXT,
        PRIMARY KEY (edition, seq)
    );
    CREATE TABLE desk_audit (
        id {auto_id}, edition TEXT, version INTEGER, at TEXT, "user" TEXT, action TEXT,
        target TEXT, before TEXT, after TEXT
    );
    CREATE INDEX desk_audit_edition ON desk_audit(edition, id);
    """,
    # 9: the editors' corrections to stories (the desk's merge and split), which clustering a day again keeps;
    # and the desk's failed sign-ins, so its rate limit holds across restarts and processes
    """
    CREATE TABLE story_moves (
        item_id TEXT PRIMARY KEY, story_id TEXT NOT NULL, action TEXT NOT NULL, by_name TEXT, at TEXT
    );
    CREATE INDEX story_moves_story ON story_moves(story_id);
    CREATE TABLE desk_login_failures (key TEXT NOT NULL, at DOUBLE PRECISION NOT NULL);
    CREATE INDEX desk_login_failures_key ON desk_login_failures(key, at);
    """,
    # 10: several editions from one store ([[editions]]): what is an edition's own (its runs, written editions,
    # deliveries, stories and the editors' moves) is keyed by its name as well; items, embeddings and sources stay
    # shared. What was there is the default edition's. (A key changes: each table is rebuilt, on both engines.)
    f"""
    ALTER TABLE runs ADD COLUMN edition_name TEXT NOT NULL DEFAULT '{DEFAULT_EDITION}';
    CREATE TABLE editions_v10 (
        edition_name TEXT NOT NULL DEFAULT '{DEFAULT_EDITION}',
        edition TEXT, language TEXT, run_id TEXT, path TEXT, digest TEXT, created TEXT,
        PRIMARY KEY (edition_name, edition, language)
    );
    INSERT INTO editions_v10 (edition, language, run_id, path, digest, created)
    SELECT edition, language, run_id, path, digest, created FROM editions;
    DROP TABLE editions;
    ALTER TABLE editions_v10 RENAME TO editions;
    CREATE TABLE deliveries_v10 (
        edition_name TEXT NOT NULL DEFAULT '{DEFAULT_EDITION}',
        edition TEXT, target TEXT, kind TEXT, status TEXT, digest TEXT, attempts INTEGER DEFAULT 0,
        first_attempt TEXT, last_attempt TEXT, delivered TEXT, detail TEXT, error TEXT,
        PRIMARY KEY (edition_name, edition, target)
    );
    INSERT INTO deliveries_v10 (edition, target, kind, status, digest, attempts, first_attempt, last_attempt,
        delivered, detail, error)
    SELECT edition, target, kind, status, digest, attempts, first_attempt, last_attempt, delivered, detail, error
    FROM deliveries;
    DROP TABLE deliveries;
    ALTER TABLE deliveries_v10 RENAME TO deliveries;
    CREATE TABLE stories_v10 (
        edition_name TEXT NOT NULL DEFAULT '{DEFAULT_EDITION}',
        id TEXT, title TEXT, first_seen TEXT, last_seen TEXT, briefed_on TEXT, centroid BYTEA,
        PRIMARY KEY (edition_name, id)
    );
    INSERT INTO stories_v10 (id, title, first_seen, last_seen, briefed_on, centroid)
    SELECT id, title, first_seen, last_seen, briefed_on, centroid FROM stories;
    DROP TABLE stories;
    ALTER TABLE stories_v10 RENAME TO stories;
    CREATE TABLE story_items_v10 (
        edition_name TEXT NOT NULL DEFAULT '{DEFAULT_EDITION}',
        item_id TEXT, story_id TEXT, day TEXT,
        PRIMARY KEY (edition_name, item_id)
    );
    INSERT INTO story_items_v10 (item_id, story_id, day) SELECT item_id, story_id, day FROM story_items;
    DROP TABLE story_items;
    ALTER TABLE story_items_v10 RENAME TO story_items;
    CREATE INDEX story_items_story ON story_items(edition_name, story_id);
    CREATE INDEX story_items_day ON story_items(edition_name, day);
    CREATE TABLE briefings_v10 (
        edition_name TEXT NOT NULL DEFAULT '{DEFAULT_EDITION}',
        story_id TEXT, day TEXT,
        PRIMARY KEY (edition_name, story_id, day)
    );
    INSERT INTO briefings_v10 (story_id, day) SELECT story_id, day FROM briefings;
    DROP TABLE briefings;
    ALTER TABLE briefings_v10 RENAME TO briefings;
    CREATE TABLE story_moves_v10 (
        edition_name TEXT NOT NULL DEFAULT '{DEFAULT_EDITION}',
        item_id TEXT, story_id TEXT NOT NULL, action TEXT NOT NULL, by_name TEXT, at TEXT,
        PRIMARY KEY (edition_name, item_id)
    );
    INSERT INTO story_moves_v10 (item_id, story_id, action, by_name, at)
    SELECT item_id, story_id, action, by_name, at FROM story_moves;
    DROP TABLE story_moves;
    ALTER TABLE story_moves_v10 RENAME TO story_moves;
    CREATE INDEX story_moves_story ON story_moves(edition_name, story_id);
    """,
    # 11: the editor's desk per edition: each edition's drafts, the editors' decisions and the audit log are keyed
    # by its name too (the desk's users and failed sign-ins stay shared). What was there is the default edition's.
    f"""
    CREATE TABLE desk_drafts_v11 (
        edition_name TEXT NOT NULL DEFAULT '{DEFAULT_EDITION}',
        edition TEXT, version INTEGER NOT NULL DEFAULT 1, status TEXT NOT NULL, run_id TEXT,
        briefs TEXT NOT NULL, candidates TEXT NOT NULL, stale TEXT NOT NULL DEFAULT '[]',
        created TEXT, updated TEXT, touched INTEGER NOT NULL DEFAULT 0, decided_by TEXT, decided TEXT, note TEXT,
        PRIMARY KEY (edition_name, edition)
    );
    INSERT INTO desk_drafts_v11 (edition, version, status, run_id, briefs, candidates, stale, created, updated, touched,
        decided_by, decided, note)
    SELECT edition, version, status, run_id, briefs, candidates, stale, created, updated, touched, decided_by, decided,
        note FROM desk_drafts;
    DROP TABLE desk_drafts;
    ALTER TABLE desk_drafts_v11 RENAME TO desk_drafts;
    CREATE TABLE desk_decisions_v11 (
        edition_name TEXT NOT NULL DEFAULT '{DEFAULT_EDITION}',
        edition TEXT, seq INTEGER, story_id TEXT, action TEXT, data TEXT, "user" TEXT, at TEXT,
        PRIMARY KEY (edition_name, edition, seq)
    );
    INSERT INTO desk_decisions_v11 (edition, seq, story_id, action, data, "user", at)
    SELECT edition, seq, story_id, action, data, "user", at FROM desk_decisions;
    DROP TABLE desk_decisions;
    ALTER TABLE desk_decisions_v11 RENAME TO desk_decisions;
    ALTER TABLE desk_audit ADD COLUMN edition_name TEXT NOT NULL DEFAULT '{DEFAULT_EDITION}';
    DROP INDEX desk_audit_edition;
    CREATE INDEX desk_audit_edition ON desk_audit(edition_name, edition, id);
    """,
    # 12: an item's place in a ranked listing (a front page, a hot list): how it stands there, when it has no figures
    """
    ALTER TABLE items ADD COLUMN position INTEGER;
    """,
]

AUTO_ID = {"sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT", "postgresql": "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"}

# Every table, in the order a copy fills them (`dailybrief store migrate`), with its key columns.
TABLES: dict[str, tuple[str, ...]] = {
    "sources": ("id",), "items": ("id",), "embeddings": ("item_id", "model"), "signatures": ("item_id",),
    "stories": ("edition_name", "id"), "story_items": ("edition_name", "item_id"),
    "briefings": ("edition_name", "story_id", "day"), "runs": ("id",), "run_stages": ("run_id", "seq"),
    "source_runs": ("run_id", "source_id"), "editions": ("edition_name", "edition", "language"),
    "deliveries": ("edition_name", "edition", "target"), "alerts": ("run_id", "target"), "llm_cache": ("key",),
    "desk_users": ("name",), "desk_drafts": ("edition_name", "edition"), "desk_decisions": ("edition_name", "edition", "seq"),
    "desk_audit": ("id",),
    "story_moves": ("edition_name", "item_id"),
}
# Not copied: desk_login_failures, the desk's recent failed sign-ins (kept minutes, for its rate limit).

STALE_HEARTBEAT = timedelta(hours=12)  # a "running" run silent this long is dead even if its PID was reused
IN_CHUNK = 500  # ids in one IN list: under SQLite's bound on the parameters of a statement
LOCK_CLASS = 0x64627266  # "dbrf": the first half of every advisory-lock key dailybrief takes
RUN_LOCK, MIGRATION_LOCK = 1, 2  # the second half
DAY_LOCK = 1 << 24  # ... plus a date's ordinal: one day's stories are re-filed by one transaction at a time

_ITEM_COLUMNS = (
    "id", "source_id", "source_name", "tier", "url", "canonical_url", "title", "summary", "text",
    "language", "author", "published", "fetched", "points", "comment_count", "score",
    "comments_url", "comments", "content_hash", "duplicate_of", "thread_url", "position",
)


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def process_alive(pid: int) -> bool:
    """Whether a process of this machine with that id runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    except OSError:
        return False
    return True


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def is_postgres(where: str | Path) -> bool:
    """Whether a store location (DAILYBRIEF_DB, [storage]) names a PostgreSQL server rather than a file."""
    return isinstance(where, str) and where.split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres")


def shown(where: str | Path) -> str:
    """A store location fit for a message: a URL's password is never shown."""
    if not is_postgres(where):
        return str(where)
    try:
        return make_url(str(where)).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        return "the PostgreSQL URL (unreadable: write postgresql://user:password@host:port/dbname)"


def bare_url(url: str) -> str:
    """A PostgreSQL URL without its password (fit for [storage].url, which keeps secrets out)."""
    try:
        return make_url(url)._replace(password=None).render_as_string(hide_password=False)
    except (sa.exc.ArgumentError, ValueError):
        return shown(url)


def _pg_engine(url: str, application_name: str = "dailybrief") -> Engine:
    """An engine on the psycopg 3 driver, one connection per Store (NullPool: nothing kept open behind it)."""
    try:
        u = make_url(url)
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise StoreError(f"{shown(url)}: not a database URL; write postgresql://user:password@host:port/dbname") from exc
    register(u.password if isinstance(u.password, str) else None)
    register(url)
    # NullPool closes a returned connection, so no rollback first (reset_on_return): a server already gone
    # at exit then costs no logged traceback.
    return sa.create_engine(u.set(drivername="postgresql+psycopg"), poolclass=NullPool, pool_reset_on_return=None,
                            connect_args={"application_name": application_name[:63], "connect_timeout": 10})


def sql(query: str, **expanding: bool) -> sa.TextClause:
    """A query with :named parameters, as both engines run it; `name=True` expands :name from a list."""
    clause = sa.text(query)
    return clause.bindparams(*(sa.bindparam(name, expanding=True) for name in expanding)) if expanding else clause


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), IN_CHUNK):
        yield list(ids[start : start + IN_CHUNK])


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


class Store:
    """The store on either engine. Open it with ``Store.open(path or postgresql:// URL)``.

    Items, embeddings and sources are shared by every edition; what is one edition's own (its runs, written
    editions, deliveries, stories and the editors' moves) is read and written for ``edition_name``, the default
    edition's unless the store was ``scoped`` to another."""

    edition_name: str = DEFAULT_EDITION
    _owner: bool = True  # False for a scoped view: it shares the connection, which only its owner closes
    _of: Store | None = None  # a scoped view's owner

    def __init__(self, conn: sqlite3.Connection | Engine, where: str | Path = "") -> None:
        if isinstance(conn, sqlite3.Connection):
            raw = conn
            conn = sa.create_engine("sqlite://", creator=lambda: raw, poolclass=StaticPool)
        self.engine = conn
        self.dialect = conn.dialect.name  # "sqlite" or "postgresql"
        self.where = where or ("PostgreSQL" if self.dialect == "postgresql" else "the database")
        try:
            self._c: Connection = conn.connect()
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(self._explain("cannot connect to", exc)) from exc

    @classmethod
    def open(cls, where: str | Path) -> Store:
        if is_postgres(where):
            store = cls(_pg_engine(str(where), f"dailybrief pid {os.getpid()}"), where)
        else:
            path = Path(where)
            try:
                if str(path) != ":memory:":
                    path.parent.mkdir(parents=True, exist_ok=True)
                # Wait for other processes' locks from the first statement on: switching to WAL
                # needs a lock too, and another process may be migrating the new file right now.
                conn = sqlite3.connect(str(path), timeout=30)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            except (sqlite3.Error, OSError) as exc:
                raise StoreError(
                    f"cannot open the database at {path}: {exc}. "
                    "Set DAILYBRIEF_DB or [storage].path to a writable file."
                ) from exc
            store = cls(conn, path)
        store.migrate()
        return store

    def _explain(self, doing: str, exc: BaseException) -> str:
        """An engine error as a message: the cause, never a password, and what to check."""
        cause = scrub(str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        fix = ("check that the server runs, the URL's user, password and database, and that this user may "
               "create tables (DAILYBRIEF_DB or [storage].url)" if self.dialect == "postgresql"
               else "set DAILYBRIEF_DB or [storage].path to a writable file")
        return f"{doing} {shown(self.where)}: {cause}; {fix}"

    @property
    def conn(self) -> sqlite3.Connection:
        """The raw SQLite connection (SQLite's own pragmas, and tests that look inside the file)."""
        if self.dialect != "sqlite":
            raise StoreError(f"{shown(self.where)} is PostgreSQL, not a SQLite file; use the store's methods")
        raw = self._c.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        return raw

    def scoped(self, edition: str) -> Store:
        """This store as edition `edition` sees it: the same connection, that edition's runs, stories and deliveries."""
        view = copy.copy(self)
        view.edition_name, view._owner = edition, False
        view._of = self if self._owner else self._of  # the owner lives (its __del__ would close the connection)
        return view

    def as_edition(self, edition: str) -> Store:
        """This store if it is edition `edition`'s already, else a view scoped to it (``scoped``)."""
        return self if self.edition_name == edition else self.scoped(edition)

    def close(self) -> None:
        if not self._owner:
            return
        self._c.close()
        self.engine.dispose()

    def __del__(self) -> None:
        # A store dropped without close() (as a bare sqlite3 connection could be) returns its connection
        # quietly, instead of the pool's garbage-collector warning.
        if not self._owner:
            return
        c = getattr(self, "_c", None)
        if c is not None and not c.closed:
            with suppress(Exception):  # interpreter shutdown: nothing left to tell
                c.close()

    # -- the one way in ----------------------------------------------------------
    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        if self._c.in_transaction():
            self._c.commit()
        with self._c.begin():
            yield self._c

    def transaction(self) -> AbstractContextManager[Connection]:
        """One transaction for the stage packages' own tables (the desk's): run `sql(...)` texts on it."""
        return self._tx()

    def _rows(self, query: str | sa.TextClause, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        with self._tx() as c:
            return [dict(r) for r in c.execute(sql(query) if isinstance(query, str) else query, params or {}).mappings()]

    def _one(self, query: str, params: Mapping[str, Any] | None = None) -> Any:
        with self._tx() as c:
            return c.execute(sql(query), params or {}).first()

    def _write(self, query: str | sa.TextClause, rows: Mapping[str, Any] | list[dict[str, Any]]) -> int:
        """One statement, for one row (returns the rows it changed) or many (in one transaction)."""
        if isinstance(rows, list) and not rows:
            return 0
        with self._tx() as c:
            return int(c.execute(sql(query) if isinstance(query, str) else query, rows).rowcount or 0)

    # -- migrations -------------------------------------------------------
    @property
    def version(self) -> int:
        if self.dialect == "sqlite":
            return int(self.conn.execute("PRAGMA user_version").fetchone()[0])
        row = self._one("SELECT to_regclass('dailybrief_schema') IS NOT NULL")
        return int(self._one("SELECT version FROM dailybrief_schema")[0]) if row and row[0] else 0

    def _check_version(self, current: int) -> None:
        if current > len(MIGRATIONS):
            raise StoreError(
                f"the database is at schema version {current}, newer than this dailybrief "
                f"({len(MIGRATIONS)}); upgrade dailybrief or point DAILYBRIEF_DB elsewhere"
            )

    def migration(self, number: int) -> str:
        """Migration `number` (from 1) as this engine runs it."""
        return MIGRATIONS[number - 1].replace("{auto_id}", AUTO_ID[self.dialect])

    def migrate(self) -> int:
        return self._migrate_sqlite() if self.dialect == "sqlite" else self._migrate_postgres()

    def _migrate_sqlite(self) -> int:
        current = self.version
        self._check_version(current)
        conn = self.conn
        for number in range(current + 1, len(MIGRATIONS) + 1):
            try:
                conn.execute("BEGIN IMMEDIATE")  # the write lock, then the version under it: a migration that
                if self.version >= number:  # another process applied first is not applied again (nor undone)
                    conn.rollback()
                    continue
                for statement in self.migration(number).split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")
                conn.commit()
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.rollback()
                if self.version >= number:  # another process opening the same new database applied it first
                    continue
                raise StoreError(f"migration {number} failed: {exc}") from exc
        return self.version

    def _migrate_postgres(self) -> int:
        """Each pending migration in its own transaction with its version (PostgreSQL's DDL is
        transactional), under an advisory lock, so workers opening a new database at once apply it once."""
        try:
            with self._tx() as c:
                c.execute(sql("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": LOCK_CLASS, "b": MIGRATION_LOCK})
                c.execute(sql("CREATE TABLE IF NOT EXISTS dailybrief_schema (version INTEGER NOT NULL)"))
                c.execute(sql("INSERT INTO dailybrief_schema (version) SELECT 0 WHERE NOT EXISTS "
                               "(SELECT 1 FROM dailybrief_schema)"))
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(self._explain("cannot prepare", exc)) from exc
        while True:  # bounded: each pass applies one migration or returns
            number = 0
            try:
                with self._tx() as c:
                    c.execute(sql("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": LOCK_CLASS, "b": MIGRATION_LOCK})
                    current = int(c.execute(sql("SELECT version FROM dailybrief_schema")).scalar_one())
                    self._check_version(current)
                    if current == len(MIGRATIONS):
                        return current
                    number = current + 1
                    for statement in self.migration(number).split(";"):
                        if statement.strip():
                            c.exec_driver_sql(statement)
                    c.execute(sql("UPDATE dailybrief_schema SET version = :v"), {"v": number})
            except sa.exc.SQLAlchemyError as exc:
                raise StoreError(self._explain(f"migration {number} failed on", exc)) from exc

    # -- sources ----------------------------------------------------------
    def upsert_sources(self, sources: Iterable[Source]) -> None:
        rows = sorted(({"id": s.id, "name": s.name, "kind": s.kind, "url": s.url, "tier": s.tier, "language": s.language}
                       for s in sources), key=lambda r: r["id"])
        self._write("INSERT INTO sources (id, name, kind, url, tier, language) VALUES (:id, :name, :kind, :url, :tier, "
                    ":language) ON CONFLICT (id) DO UPDATE SET name=excluded.name, kind=excluded.kind, url=excluded.url, "
                    "tier=excluded.tier, language=excluded.language", rows)

    def source_state(self, source_id: str) -> dict[str, Any]:
        row = self._one("SELECT etag, last_modified, consecutive_failures, http_cache FROM sources WHERE id = :id",
                        {"id": source_id})
        if not row:
            return {}
        try:
            cache = json.loads(row[3]) if row[3] else {}
        except json.JSONDecodeError:
            cache = {}
        return {"etag": row[0], "last_modified": row[1], "consecutive_failures": row[2] or 0, "cache": cache}

    def record_fetch(self, result: SourceResult, etag: str | None = None, last_modified: str | None = None,
                     cache: dict[str, dict[str, str]] | None = None, run_id: str | None = None,
                     new_items: int | None = None) -> int:
        """Update a source's health after a fetch (and its history, given the run); returns its consecutive failures."""
        now = utcnow().isoformat()
        sid = result.source.id
        with self._tx() as c:
            if result.error:
                c.execute(sql(
                    "UPDATE sources SET last_attempt=:now, last_error=:error, last_latency=:latency, last_status=:status, "
                    "consecutive_failures = COALESCE(consecutive_failures, 0) + 1 WHERE id=:id"),
                    {"now": now, "error": scrub(result.error), "latency": result.seconds, "status": result.status, "id": sid},
                )
            else:
                c.execute(sql(
                    "UPDATE sources SET last_attempt=:now, last_success=:now, last_error=NULL, last_latency=:latency, "
                    "consecutive_failures=0, last_items=:items, last_status=:status, etag=COALESCE(:etag, etag), "
                    "last_modified=COALESCE(:lm, last_modified), http_cache=COALESCE(:cache, http_cache) WHERE id=:id"),
                    {"now": now, "latency": result.seconds, "items": len(result.items), "status": result.status,
                     "etag": etag, "lm": last_modified, "cache": json.dumps(cache) if cache is not None else None, "id": sid},
                )
            if run_id:
                c.execute(sql(
                    "INSERT INTO source_runs (run_id, source_id, at, ok, status, not_modified, error, latency, items, "
                    "new_items) VALUES (:run, :sid, :at, :ok, :status, :nm, :error, :latency, :items, :new) "
                    "ON CONFLICT (run_id, source_id) DO UPDATE SET at=excluded.at, ok=excluded.ok, status=excluded.status, "
                    "not_modified=excluded.not_modified, error=excluded.error, latency=excluded.latency, "
                    "items=excluded.items, new_items=excluded.new_items"),
                    {"run": run_id, "sid": sid, "at": now, "ok": int(not result.error), "status": result.status,
                     "nm": int(result.not_modified), "error": scrub(result.error) or None, "latency": result.seconds,
                     "items": len(result.items), "new": new_items},
                )
        return int(self.source_state(sid).get("consecutive_failures", 0))

    def set_new_items(self, run_id: str, counts: dict[str, int]) -> None:
        """How many of each source's items were new in a run (known only once they are stored)."""
        self._write("UPDATE source_runs SET new_items=:n WHERE run_id=:run AND source_id=:sid",
                    [{"n": n, "run": run_id, "sid": sid} for sid, n in sorted(counts.items())])

    def source_history(self, source_id: str, limit: int = 7) -> list[dict[str, Any]]:
        """A source's last runs, newest first: ok, status, latency, items, new items, error."""
        return self._rows("SELECT * FROM source_runs WHERE source_id=:sid ORDER BY at DESC LIMIT :n",
                          {"sid": source_id, "n": limit})

    def known_urls(self, source_id: str) -> set[str]:
        """Canonical URLs of a source's items already stored with their full text."""
        return {r["canonical_url"] for r in self._rows(
            "SELECT canonical_url FROM items WHERE source_id=:sid AND text != ''", {"sid": source_id})}

    def set_text(self, item_id: str, text: str) -> None:
        """An item's full text, fetched after the fact (a story's lead item that came without a summary)."""
        self._write("UPDATE items SET text=:text WHERE id=:id", {"text": text, "id": item_id})

    def set_comments(self, item_id: str, comments: list[Comment]) -> None:
        self._write("UPDATE items SET comments=:c WHERE id=:id",
                    {"c": json.dumps(as_dict(comments), ensure_ascii=False), "id": item_id})

    def sources(self) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM sources ORDER BY tier, name")

    # -- items ------------------------------------------------------------
    def _item_row(self, item: Item) -> dict[str, Any]:
        row = {k: getattr(item, k) for k in _ITEM_COLUMNS if k != "comments"}
        row["published"] = _iso(item.published)
        row["fetched"] = _iso(item.fetched)
        row["comments"] = json.dumps(as_dict(item.comments), ensure_ascii=False)
        return row

    _REFRESH_ITEM = sql(
        "UPDATE items SET points=COALESCE(:points, points), comment_count=COALESCE(:comment_count, comment_count), "
        "score=COALESCE(:score, score), comments=CASE WHEN :comments != '[]' THEN :comments ELSE comments END, "
        "position=CASE WHEN position IS NULL OR :position < position THEN :position ELSE position END WHERE id=:id")
    _ROWS_PER_INSERT = 500  # rows per executemany; SQLAlchemy sends them as multi-row VALUES (insertmanyvalues)
    _ITEMS = sa.table("items", *(sa.column(k) for k in _ITEM_COLUMNS))

    def _insert_new_items(self) -> Any:
        """INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id, from SQLAlchemy's own construct for this
        engine (the two share its spelling), so an executemany of it returns the ids it inserted."""
        make = pg_dialect.insert if self.dialect == "postgresql" else sqlite_dialect.insert
        return make(self._ITEMS).on_conflict_do_nothing(index_elements=["id"]).returning(self._ITEMS.c.id)

    def add_items(self, items: Iterable[Item]) -> list[Item]:
        """Insert items not seen before; return the ones that were new.

        Existing items keep their row, but fresher engagement figures and
        comments are written over the old ones, and a ranked listing's place
        is the best the item reached (its lowest position). Each batch is an
        ``INSERT ... ON CONFLICT DO NOTHING RETURNING id``: the ids it returns are
        the rows this call inserted, so workers storing the same item at once
        insert it once and exactly one of them counts it as new.
        """
        given = list(items)
        first: dict[str, Item] = {}
        for item in given:
            first.setdefault(item.id, item)  # an item given twice: its first copy, as one row at a time did
        batch = sorted(first.values(), key=lambda i: i.id)  # one key order: concurrent batches never deadlock
        inserted: set[str] = set()
        with self._tx() as c:
            for start in range(0, len(batch), self._ROWS_PER_INSERT):
                rows = [self._item_row(i) for i in batch[start : start + self._ROWS_PER_INSERT]]
                inserted.update(c.execute(self._insert_new_items(), rows).scalars())
            known = [self._item_row(i) for i in batch if i.id not in inserted]
            if known:
                c.execute(self._REFRESH_ITEM, known)
        new, seen = [], set()
        for item in given:  # in the order given, each once
            if item.id in inserted and item.id not in seen:
                new.append(item)
                seen.add(item.id)
        return new

    def ids_by_hash(self, content_hashes: Iterable[str]) -> dict[str, list[str]]:
        """content hash -> the ids of the items (not marked duplicates) that have it, earliest published first."""
        query = sql("SELECT id, content_hash FROM items WHERE content_hash IN :h AND duplicate_of IS NULL "
                    "ORDER BY published, id", h=True)
        out: dict[str, list[str]] = {}
        for chunk in _chunks(sorted(set(content_hashes))):
            for row in self._rows(query, {"h": chunk}):
                out.setdefault(row["content_hash"], []).append(row["id"])
        return out

    def copies_by_source(self, ids: Iterable[str]) -> dict[str, list[str]]:
        """For each of these items that other feeds carried too (their copies, marked duplicates): those feeds'
        source ids."""
        query = sql("SELECT DISTINCT duplicate_of, source_id FROM items WHERE duplicate_of IN :ids "
                     "ORDER BY duplicate_of, source_id", ids=True)
        out: dict[str, list[str]] = {}
        for chunk in _chunks(list(ids)):
            for row in self._rows(query, {"ids": chunk}):
                out.setdefault(row["duplicate_of"], []).append(row["source_id"])
        return out

    def copy_positions(self, ids: Iterable[str]) -> dict[str, dict[str, int]]:
        """For each of these items that ranked listings carried as copies (marked duplicates): each such listing's
        site (source name) and the best place a copy holds there."""
        query = sql("SELECT duplicate_of, source_name, MIN(position) AS best FROM items WHERE duplicate_of IN :ids "
                    "AND position IS NOT NULL GROUP BY duplicate_of, source_name ORDER BY duplicate_of, source_name",
                    ids=True)
        out: dict[str, dict[str, int]] = {}
        for chunk in _chunks(list(ids)):
            for row in self._rows(query, {"ids": chunk}):
                out.setdefault(row["duplicate_of"], {})[row["source_name"]] = int(row["best"])
        return out

    def mark_duplicates(self, copies: Mapping[str, str]) -> None:
        """Mark each item (key) a copy of another (value), in one transaction."""
        self._write("UPDATE items SET duplicate_of=:of WHERE id=:id", [{"of": of, "id": i} for i, of in copies.items()])

    @staticmethod
    def _to_item(row: dict[str, Any]) -> Item:
        data = dict(row)
        comments = [
            Comment(**{**c, "published": _dt(c.get("published"))}) for c in json.loads(data.pop("comments") or "[]")
        ]
        data["published"] = _dt(data["published"])
        data["fetched"] = _dt(data["fetched"])
        return Item(**data, comments=comments)

    def items_between(self, start: datetime, end: datetime, *, include_duplicates: bool = False) -> list[Item]:
        """Items published in (start, end]; items without a date count by fetch time."""
        query = (
            "SELECT * FROM items WHERE COALESCE(published, fetched) > :s AND COALESCE(published, fetched) <= :e"
            + ("" if include_duplicates else " AND duplicate_of IS NULL")
            + " ORDER BY COALESCE(published, fetched), id"
        )
        s = start.astimezone(timezone.utc).isoformat()
        e = end.astimezone(timezone.utc).isoformat()
        return [self._to_item(r) for r in self._rows(query, {"s": s, "e": e})]

    def items(self, ids: Iterable[str]) -> list[Item]:
        query = sql("SELECT * FROM items WHERE id IN :ids", ids=True)
        return [self._to_item(r) for chunk in _chunks(list(ids)) for r in self._rows(query, {"ids": chunk})]

    def count(self, table: str) -> int:
        return int(self._one(f"SELECT COUNT(*) FROM {table}")[0])

    # -- embeddings and near-duplicate signatures ----------------------------------
    def _vectors(self, query: str, ids: list[str], dtype: type, **params: Any) -> dict[str, np.ndarray]:
        clause = sql(query, ids=True)
        return {r["item_id"]: np.frombuffer(bytes(r["blob"]), dtype=dtype)
                for chunk in _chunks(ids) for r in self._rows(clause, {"ids": chunk, **params})}

    def embeddings(self, ids: list[str], model: str) -> dict[str, np.ndarray]:
        return self._vectors("SELECT item_id, vector AS blob FROM embeddings WHERE model=:model AND item_id IN :ids",
                             ids, np.float32, model=model)

    def put_embeddings(self, vectors: dict[str, np.ndarray], model: str) -> None:
        self._write("INSERT INTO embeddings (item_id, model, vector) VALUES (:id, :model, :v) "
                    "ON CONFLICT (item_id, model) DO UPDATE SET vector=excluded.vector",
                    [{"id": k, "model": model, "v": np.asarray(v, dtype=np.float32).tobytes()}
                     for k, v in sorted(vectors.items())])

    def signatures(self, ids: list[str]) -> dict[str, np.ndarray]:
        return self._vectors("SELECT item_id, sig AS blob FROM signatures WHERE item_id IN :ids", ids, np.uint32)

    def put_signatures(self, sigs: dict[str, np.ndarray]) -> None:
        self._write("INSERT INTO signatures (item_id, sig) VALUES (:id, :sig) "
                    "ON CONFLICT (item_id) DO UPDATE SET sig=excluded.sig",
                    [{"id": k, "sig": np.asarray(v, dtype=np.uint32).tobytes()} for k, v in sorted(sigs.items())])

    # -- stories ----------------------------------------------------------
    def forget_day(self, day: date) -> None:
        """Drop the stories first seen on a day, so re-clustering it starts clean."""
        with self._tx() as c:
            self._forget_day(c, day)

    def _forget_day(self, c: Connection, day: date) -> None:
        d = {"d": day.isoformat(), "ed": self.edition_name}
        c.execute(sql("DELETE FROM story_items WHERE edition_name=:ed AND day=:d"), d)
        c.execute(sql("DELETE FROM stories WHERE edition_name=:ed AND first_seen=:d AND NOT EXISTS "
                       "(SELECT 1 FROM story_items si WHERE si.edition_name = :ed AND si.story_id = stories.id)"), d)
        c.execute(sql("UPDATE stories SET last_seen=(SELECT MAX(day) FROM story_items WHERE edition_name=:ed AND "
                       "story_id=stories.id) WHERE edition_name=:ed AND last_seen >= :d"), d)

    def open_stories(self, before: date, lookback_days: int) -> list[dict[str, Any]]:
        """Stories with items on the `lookback_days` days before `before`: the ones new items may join."""
        lo = date.fromordinal(before.toordinal() - lookback_days).isoformat()
        return self._rows(
            "SELECT s.id, s.title, s.first_seen, MAX(si.day) AS last_seen, "
            "(SELECT MAX(b.day) FROM briefings b WHERE b.edition_name = :ed AND b.story_id = s.id AND b.day < :before) "
            "AS briefed_on FROM stories s JOIN story_items si ON si.edition_name = s.edition_name AND si.story_id = s.id "
            "WHERE s.edition_name = :ed AND si.day < :before GROUP BY s.id, s.title, s.first_seen "
            "HAVING MAX(si.day) >= :lo ORDER BY s.id",
            {"before": before.isoformat(), "lo": lo, "ed": self.edition_name})

    def story_members(self, story_ids: list[str], before: date) -> list[tuple[str, str, str]]:
        """(item_id, story_id, day) of the stories' items put in them before `before`."""
        query = sql("SELECT item_id, story_id, day FROM story_items WHERE edition_name = :ed AND story_id IN :ids "
                     "AND day < :before ORDER BY story_id, day, item_id", ids=True)
        return [(r["item_id"], r["story_id"], r["day"]) for chunk in _chunks(story_ids)
                for r in self._rows(query, {"ids": chunk, "before": before.isoformat(), "ed": self.edition_name})]

    def day_stories(self, day: date) -> list[dict[str, Any]]:
        """(story_id, item_id, first_seen, briefed_on before `day`) of what clustering filed under `day`."""
        return self._rows(
            "SELECT si.story_id, si.item_id, s.first_seen, "
            "(SELECT MAX(b.day) FROM briefings b WHERE b.edition_name = :ed AND b.story_id = s.id AND b.day < :d) "
            "AS briefed_on FROM story_items si JOIN stories s ON s.edition_name = si.edition_name AND s.id = si.story_id "
            "WHERE si.edition_name = :ed AND si.day = :d ORDER BY si.story_id, si.item_id",
            {"d": day.isoformat(), "ed": self.edition_name})

    def edition_files(self, day: date) -> dict[str, str]:
        """language -> where the edition's brief*.json was written."""
        return {r["language"]: r["path"] for r in self._rows(
            "SELECT language, path FROM editions WHERE edition_name = :ed AND edition = :d",
            {"d": day.isoformat(), "ed": self.edition_name})}

    def clustered_days(self, lo: date, hi: date) -> set[date]:
        """Days in [lo, hi) whose items have been clustered."""
        return {date.fromisoformat(r["day"]) for r in self._rows(
            "SELECT DISTINCT day FROM story_items WHERE edition_name = :ed AND day >= :lo AND day < :hi",
            {"lo": lo.isoformat(), "hi": hi.isoformat(), "ed": self.edition_name})}

    def save_story(self, story_id: str, title: str, first_seen: date, last_seen: date,
                   centroid: np.ndarray, item_ids: list[str], day: date) -> None:
        """A story and its items, in one transaction; each item is in one story (its key), so two
        workers filing the same item leave one membership, never two."""
        with self._tx() as c:
            self._save_stories(c, [StoryRow(story_id, title, first_seen, last_seen, centroid, item_ids)], day)

    def replace_day(self, day: date, stories: list[StoryRow]) -> None:
        """A day's clustering as one transaction: what was filed under `day` is dropped and `stories`
        filed instead, so a reader (or a second worker clustering the same day) never sees half a day,
        and the day costs one commit rather than one per story."""
        with self._tx() as c:
            if self.dialect == "postgresql":  # SQLite's write lock serialises these already
                c.execute(sql("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": LOCK_CLASS, "b": DAY_LOCK + day.toordinal()})
            self._forget_day(c, day)
            self._save_stories(c, stories, day)

    def _save_stories(self, c: Connection, stories: list[StoryRow], day: date) -> None:
        rows = sorted(stories, key=lambda r: r.id)  # one key order: concurrent writers never deadlock
        if not rows:
            return
        ed = self.edition_name
        c.execute(sql(
            "INSERT INTO stories (edition_name, id, title, first_seen, last_seen, centroid) VALUES (:ed, :id, :title, "
            ":first, :last, :c) ON CONFLICT (edition_name, id) DO UPDATE SET last_seen=CASE WHEN excluded.last_seen > "
            "stories.last_seen THEN excluded.last_seen ELSE stories.last_seen END, centroid=excluded.centroid"),
            [{"ed": ed, "id": r.id, "title": r.title, "first": r.first_seen.isoformat(), "last": r.last_seen.isoformat(),
              "c": np.asarray(r.centroid, dtype=np.float32).tobytes()} for r in rows],
        )
        members = sorted((i, r.id) for r in rows for i in r.item_ids)
        if members:
            c.execute(sql("INSERT INTO story_items (edition_name, item_id, story_id, day) VALUES (:ed, :item, :story, "
                           ":day) ON CONFLICT (edition_name, item_id) DO UPDATE SET story_id=excluded.story_id, "
                           "day=excluded.day"),
                      [{"ed": ed, "item": i, "story": sid, "day": day.isoformat()} for i, sid in members])

    def story_day_counts(self, story_ids: Iterable[str], start: date, end: date) -> dict[str, dict[date, int]]:
        """Items filed under each story per day, for the days start..end (inclusive)."""
        ids = list(dict.fromkeys(story_ids))
        out: dict[str, dict[date, int]] = {sid: {} for sid in ids}
        query = sql("SELECT story_id, day, COUNT(*) AS n FROM story_items WHERE edition_name = :ed AND story_id IN :ids "
                     "AND day >= :lo AND day <= :hi GROUP BY story_id, day", ids=True)
        for chunk in _chunks(ids):
            for r in self._rows(query, {"ids": chunk, "lo": start.isoformat(), "hi": end.isoformat(),
                                        "ed": self.edition_name}):
                out[r["story_id"]][date.fromisoformat(r["day"])] = int(r["n"])
        return out

    def mark_briefed(self, story_ids: Iterable[str], day: date) -> None:
        rows = [{"d": day.isoformat(), "id": sid, "ed": self.edition_name} for sid in sorted(set(story_ids))]
        if not rows:
            return
        with self._tx() as c:
            c.execute(sql("UPDATE stories SET briefed_on=:d WHERE edition_name=:ed AND id=:id AND "
                           "(briefed_on IS NULL OR briefed_on <= :d)"), rows)
            c.execute(sql("INSERT INTO briefings (edition_name, story_id, day) VALUES (:ed, :id, :d) "
                           "ON CONFLICT DO NOTHING"), rows)

    # -- the editors' corrections to stories ------------------------------------
    def story_moves(self, item_ids: Iterable[str]) -> dict[str, str]:
        """item_id -> the story an editor put it in, for those of `item_ids` an editor moved."""
        query = sql("SELECT item_id, story_id FROM story_moves WHERE edition_name = :ed AND item_id IN :ids", ids=True)
        return {r["item_id"]: r["story_id"] for chunk in _chunks(list(dict.fromkeys(item_ids)))
                for r in self._rows(query, {"ids": chunk, "ed": self.edition_name})}

    def story_item_ids(self, story_id: str) -> list[str]:
        return [r["item_id"] for r in self._rows(
            "SELECT item_id FROM story_items WHERE edition_name = :ed AND story_id = :s ORDER BY item_id",
            {"s": story_id, "ed": self.edition_name})]

    def _record_moves(self, c: Connection, item_ids: list[str], story_id: str, action: str, by: str) -> None:
        if not item_ids:
            return
        now = utcnow().isoformat()
        c.execute(sql("INSERT INTO story_moves (edition_name, item_id, story_id, action, by_name, at) VALUES (:ed, :i, "
                       ":s, :a, :b, :t) ON CONFLICT (edition_name, item_id) DO UPDATE SET story_id = excluded.story_id, "
                       "action = excluded.action, by_name = excluded.by_name, at = excluded.at"),
                  [{"ed": self.edition_name, "i": i, "s": story_id, "a": action, "b": by, "t": now} for i in item_ids])

    def merge_stories(self, story_id: str, into: str, by: str) -> list[str]:
        """Every item of story `story_id` joins story `into`, for good: the items an editor moved stay where they
        were put when their day is clustered again, and later days' items continue `into`. The items moved."""
        if story_id == into:
            raise StoreError("a story cannot be merged into itself")
        rows = {r["id"]: (r["first_seen"], r["last_seen"]) for r in self._rows(
            "SELECT id, first_seen, last_seen FROM stories WHERE edition_name = :ed AND id IN (:a, :b)",
            {"a": story_id, "b": into, "ed": self.edition_name})}
        if into not in rows:
            raise StoreError(f"there is no story {into} to merge into; cluster its day first")
        moved = self.story_item_ids(story_id)
        both = {"into": into, "sid": story_id, "ed": self.edition_name}
        with self._tx() as c:
            self._record_moves(c, moved, into, "merge", by)
            c.execute(sql("UPDATE story_moves SET story_id = :into WHERE edition_name = :ed AND story_id = :sid"), both)
            c.execute(sql("UPDATE story_items SET story_id = :into WHERE edition_name = :ed AND story_id = :sid"), both)
            c.execute(sql("INSERT INTO briefings (edition_name, story_id, day) SELECT CAST(:ed AS TEXT), "
                           "CAST(:into AS TEXT), day FROM briefings WHERE edition_name = :ed AND story_id = :sid "
                           "ON CONFLICT DO NOTHING"), both)
            c.execute(sql("DELETE FROM briefings WHERE edition_name = :ed AND story_id = :sid"), both)
            if story_id in rows:
                first = min(rows[story_id][0], rows[into][0])
                last = max(rows[story_id][1] or "", rows[into][1] or "") or None
                c.execute(sql("UPDATE stories SET first_seen = :f, last_seen = :l WHERE edition_name = :ed AND id = :into"),
                          {"f": first, "l": last, "into": into, "ed": self.edition_name})
                c.execute(sql("DELETE FROM stories WHERE edition_name = :ed AND id = :sid"), both)
        return moved

    def split_item(self, item_id: str, story_id: str, by: str) -> str:
        """Take an item out of its story into a story of its own, for good (see merge_stories); the new story's id."""
        row = self._one("SELECT si.story_id, si.day, i.title FROM story_items si JOIN items i ON i.id = si.item_id "
                        "WHERE si.edition_name = :ed AND si.item_id = :i", {"i": item_id, "ed": self.edition_name})
        if row is None or row[0] != story_id:
            raise StoreError(f"item {item_id} is not in story {story_id}; reload the page")
        if len(self.story_item_ids(story_id)) < 2:
            raise StoreError("the story has no other item; there is nothing to split it from")
        new = split_story_id(item_id)
        with self._tx() as c:
            c.execute(sql("INSERT INTO stories (edition_name, id, title, first_seen, last_seen) VALUES (:ed, :id, :t, "
                           ":d, :d) ON CONFLICT (edition_name, id) DO NOTHING"),
                      {"id": new, "t": row[2], "d": row[1], "ed": self.edition_name})
            c.execute(sql("UPDATE story_items SET story_id = :new WHERE edition_name = :ed AND item_id = :i"),
                      {"new": new, "i": item_id, "ed": self.edition_name})
            self._record_moves(c, [item_id], new, "split", by)
        return new

    # -- runs -------------------------------------------------------------
    def save_run(self, run: RunReport) -> None:
        """Record a run (secrets blanked out); while it runs, each save is also its heartbeat."""
        run.failures[:] = [scrub(f) for f in run.failures]
        for stage in run.stages:
            stage.errors[:] = [scrub(e) for e in stage.errors]
        cols = ("id", "edition", "edition_name", "started", "finished", "status", "failures", "outputs", "pid",
                "heartbeat")
        with self._tx() as c:
            c.execute(sql(
                f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join(':' + k for k in cols)}) ON CONFLICT (id) "
                f"DO UPDATE SET {', '.join(f'{k}=excluded.{k}' for k in cols[1:])}"),
                {"id": run.id, "edition": run.edition.isoformat(), "edition_name": run.name,
                 "started": run.started.isoformat(),
                 "finished": _iso(run.finished), "status": run.status,
                 "failures": json.dumps(run.failures, ensure_ascii=False),
                 "outputs": json.dumps(scrub_data(run.outputs), ensure_ascii=False),
                 "pid": os.getpid(), "heartbeat": utcnow().isoformat()},
            )
            c.execute(sql("DELETE FROM run_stages WHERE run_id=:id"), {"id": run.id})
            if run.stages:
                c.execute(sql("INSERT INTO run_stages (run_id, seq, name, seconds, counts, errors, ok) "
                               "VALUES (:run, :seq, :name, :seconds, :counts, :errors, :ok)"),
                          [{"run": run.id, "seq": i, "name": s.name, "seconds": s.seconds, "counts": json.dumps(s.counts),
                            "errors": json.dumps(s.errors, ensure_ascii=False), "ok": int(s.ok)}
                           for i, s in enumerate(run.stages)])

    def heartbeat(self, run_id: str) -> None:
        self._write("UPDATE runs SET heartbeat=:now WHERE id=:id AND status='running'",
                    {"now": utcnow().isoformat(), "id": run_id})

    def mark_orphans(self, now: datetime | None = None) -> list[str]:
        """Runs left ``running`` by a process that is gone (``kill -9``, a power cut), marked ``interrupted``.

        A run is orphaned when its process no longer exists, or when it has not beaten for
        STALE_HEARTBEAT (its PID now belongs to something else). Call it holding the run lock.
        Returns a line per run marked, for the summary."""
        now = now or utcnow()
        marked = []
        for r in self._rows("SELECT id, edition, edition_name, pid, heartbeat, started, failures FROM runs "
                            "WHERE status='running'"):
            beat = _dt(r["heartbeat"]) or _dt(r["started"])
            pid = r["pid"]
            if pid == os.getpid() and beat is not None and now - beat < STALE_HEARTBEAT:
                continue  # this process's own run
            if pid and process_alive(pid) and beat is not None and now - beat < STALE_HEARTBEAT:
                continue
            note = (f"interrupted: its process{f' (pid {pid})' if pid else ''} ended without finishing it "
                    f"(killed or crashed); last sign of life {str(r['heartbeat'] or r['started'])[:19]}")
            failures = [*json.loads(r["failures"] or "[]"), note]
            self._write("UPDATE runs SET status='interrupted', finished=:f, failures=:failures WHERE id=:id AND status='running'",
                        {"f": r["heartbeat"] or r["started"], "failures": json.dumps(failures, ensure_ascii=False),
                         "id": r["id"]})
            marked.append(f"run {r['id']} of edition {edition_label(r['edition_name'], r['edition'])} was {note}")
        return marked

    def runs(self, limit: int = 20) -> list[RunReport]:
        out = []
        for r in self._rows("SELECT * FROM runs ORDER BY started DESC LIMIT :n", {"n": limit}):
            stages = [
                StageReport(name=s["name"], seconds=s["seconds"], counts=json.loads(s["counts"]),
                            errors=json.loads(s["errors"]), ok=bool(s["ok"]))
                for s in self._rows("SELECT * FROM run_stages WHERE run_id=:id ORDER BY seq", {"id": r["id"]})
            ]
            out.append(RunReport(
                id=r["id"], edition=date.fromisoformat(r["edition"]), started=datetime.fromisoformat(r["started"]),
                stages=stages, failures=json.loads(r["failures"] or "[]"), outputs=json.loads(r["outputs"] or "{}"),
                status=r["status"], finished=_dt(r["finished"]), name=r["edition_name"],
            ))
        return out

    def record_edition(self, edition: date, language: str, run_id: str, path: str, digest: str) -> None:
        self._write(
            "INSERT INTO editions (edition_name, edition, language, run_id, path, digest, created) VALUES (:ed, :e, "
            ":lang, :run, :path, :digest, :created) ON CONFLICT (edition_name, edition, language) DO UPDATE SET "
            "run_id=excluded.run_id, path=excluded.path, digest=excluded.digest, created=excluded.created",
            {"e": edition.isoformat(), "lang": language, "run": run_id, "path": path, "digest": digest,
             "created": utcnow().isoformat(), "ed": self.edition_name})

    def edition_days(self, lo: date, hi: date) -> set[date]:
        """Edition dates in [lo, hi) that were written."""
        return {date.fromisoformat(r["edition"]) for r in self._rows(
            "SELECT DISTINCT edition FROM editions WHERE edition_name = :ed AND edition >= :lo AND edition < :hi",
            {"lo": lo.isoformat(), "hi": hi.isoformat(), "ed": self.edition_name})}

    def quiet_days(self, lo: date, hi: date) -> set[date]:
        """Edition dates in [lo, hi) whose latest run found nothing to brief (status "empty"): nothing was missed."""
        rows = self._rows(
            "SELECT edition, status FROM runs WHERE edition_name = :ed AND edition >= :lo AND edition < :hi "
            "AND finished IS NOT NULL ORDER BY started",
            {"lo": lo.isoformat(), "hi": hi.isoformat(), "ed": self.edition_name})
        latest = {r["edition"]: r["status"] for r in rows}
        return {date.fromisoformat(d) for d, status in latest.items() if status == "empty"}

    def first_edition(self) -> date | None:
        row = self._one("SELECT MIN(edition) FROM editions WHERE edition_name = :ed", {"ed": self.edition_name})
        return date.fromisoformat(row[0]) if row and row[0] else None

    # -- delivery log ----------------------------------------------------------
    def delivery(self, edition: date, target: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM deliveries WHERE edition_name=:ed AND edition=:e AND target=:t",
                          {"e": edition.isoformat(), "t": target, "ed": self.edition_name})
        return rows[0] if rows else None

    def start_delivery(self, edition: date, target: str, kind: str, digest: str) -> None:
        """Mark a delivery as under way before anything is sent (so a crash mid-send is visible)."""
        now = utcnow().isoformat()
        self._write(
            "INSERT INTO deliveries (edition_name, edition, target, kind, status, digest, attempts, first_attempt, "
            "last_attempt) VALUES (:ed, :e, :t, :kind, 'sending', :digest, 1, :now, :now) ON CONFLICT (edition_name, "
            "edition, target) DO UPDATE SET kind=excluded.kind, status='sending', digest=excluded.digest, "
            "attempts=deliveries.attempts + 1, last_attempt=excluded.last_attempt, error=NULL",
            {"e": edition.isoformat(), "t": target, "kind": kind, "digest": digest, "now": now, "ed": self.edition_name})

    def finish_delivery(self, edition: date, target: str, *, ok: bool, detail: str = "", error: str = "",
                        status: str = "") -> None:
        """End a delivery: delivered, failed, or (``status="interrupted"``) sent but never answered,
        which is not sent again without --force."""
        self._write(
            "UPDATE deliveries SET status=:status, delivered=CASE WHEN :ok = 1 THEN :now ELSE delivered END, "
            "detail=CASE WHEN :ok = 1 THEN :detail ELSE detail END, error=:error WHERE edition_name=:ed AND "
            "edition=:e AND target=:t",
            {"status": status or ("delivered" if ok else "failed"), "ok": int(ok), "now": utcnow().isoformat(),
             "detail": scrub(detail), "error": scrub(error) or None, "e": edition.isoformat(), "t": target,
             "ed": self.edition_name})

    def deliveries(self, edition: date | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """The delivery log of this store's edition (of one date, or the latest `limit` rows)."""
        if edition is None:
            return self._rows("SELECT * FROM deliveries WHERE edition_name=:ed ORDER BY edition DESC, target LIMIT :n",
                              {"n": limit, "ed": self.edition_name})
        return self._rows("SELECT * FROM deliveries WHERE edition_name=:ed AND edition=:e ORDER BY target",
                          {"e": edition.isoformat(), "ed": self.edition_name})

    def record_alert(self, run_id: str, target: str, edition: date, subject: str, *, ok: bool, error: str = "") -> None:
        self._write(
            "INSERT INTO alerts (run_id, target, edition, status, sent, subject, error) VALUES (:run, :t, :e, :status, "
            ":sent, :subject, :error) ON CONFLICT (run_id, target) DO UPDATE SET edition=excluded.edition, "
            "status=excluded.status, sent=excluded.sent, subject=excluded.subject, error=excluded.error",
            {"run": run_id, "t": target, "e": edition.isoformat(), "status": "sent" if ok else "failed",
             "sent": utcnow().isoformat(), "subject": scrub(subject), "error": scrub(error) or None})

    def alert_sent(self, run_id: str, target: str) -> bool:
        return self._one("SELECT 1 FROM alerts WHERE run_id=:run AND target=:t AND status='sent'",
                         {"run": run_id, "t": target}) is not None

    # -- model responses ------------------------------------------------------
    def cached_response(self, key: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT response, prompt_tokens, completion_tokens FROM llm_cache WHERE key=:k", {"k": key})
        return rows[0] if rows else None

    def put_response(self, key: str, model: str, request: str, response: str,
                     prompt_tokens: int, completion_tokens: int) -> None:
        self._write(
            "INSERT INTO llm_cache (key, model, request, response, prompt_tokens, completion_tokens, created) "
            "VALUES (:k, :model, :request, :response, :pt, :ct, :created) ON CONFLICT (key) DO UPDATE SET "
            "model=excluded.model, request=excluded.request, response=excluded.response, "
            "prompt_tokens=excluded.prompt_tokens, completion_tokens=excluded.completion_tokens, created=excluded.created",
            {"k": key, "model": model, "request": request, "response": response, "pt": prompt_tokens,
             "ct": completion_tokens, "created": utcnow().isoformat()})

    def iter_rows(self, query: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Rows of a query with :named parameters (the same text runs on both engines)."""
        yield from self._rows(query, params)

    # -- copying a store ------------------------------------------------------------
    def copy_to(self, dest: Store, batch: int = 2000) -> list[TableCopy]:
        """Copy every row of every table into `dest` (``dailybrief store migrate``). Rows already there
        are kept (same key: ``ON CONFLICT DO NOTHING``), so a rerun copies only what is missing; raises
        StoreError when `dest` ends with fewer rows of a table than this store has."""
        if self.version != dest.version:
            raise StoreError(f"{shown(self.where)} is at schema version {self.version} and {shown(dest.where)} at "
                             f"{dest.version}: open both with this dailybrief first")
        out = []
        for table, key in TABLES.items():
            before = dest.count(table)
            with self._tx() as src:
                result = src.execute(sql(f"SELECT * FROM {table} ORDER BY {_quoted(key)}"))
                cols = list(result.keys())
                insert = sql(f"INSERT INTO {table} ({_quoted(cols)}) VALUES ({', '.join(f':c{i}' for i in range(len(cols)))}) "
                              "ON CONFLICT DO NOTHING")
                while rows := result.fetchmany(batch):  # bounded: the cursor ends
                    dest._write(insert, [{f"c{i}": v for i, v in enumerate(r)} for r in rows])
            dest._after_copy(table)
            out.append(TableCopy(table, self.count(table), dest.count(table) - before, dest.count(table)))
        short = [c for c in out if c.dest < c.source]
        if short:
            raise StoreError("the copy is short: " + "; ".join(f"{c.table} has {c.dest} of {c.source} rows" for c in short))
        return out

    def _after_copy(self, table: str) -> None:
        """PostgreSQL: an auto-numbered key ({auto_id}) counts on from the highest copied one."""
        if self.dialect != "postgresql":
            return
        for r in self._rows("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                            "AND table_name = :t AND is_identity = 'YES'", {"t": table}):
            col = r["column_name"]
            self._one(f"SELECT setval(pg_get_serial_sequence('{table}', '{col}'), "
                      f"GREATEST((SELECT MAX({col}) FROM {table}), 1))")


def edition_label(name: str, day: date | str) -> str:
    """How a message names one edition: its date, after its name unless it is the default edition."""
    return f"{day}" if name == DEFAULT_EDITION else f"{name} {day}"


@dataclass(frozen=True)
class StoryRow:
    """A story as clustering files it under a day: the items it gained that day."""
    id: str
    title: str
    first_seen: date
    last_seen: date
    centroid: np.ndarray
    item_ids: list[str]


@dataclass(frozen=True)
class TableCopy:
    table: str
    source: int  # rows in the SQLite store
    copied: int  # rows this copy added
    dest: int  # rows in the destination now


@contextmanager
def advisory_lock(url: str, what: str) -> Iterator[None]:
    """The run lock of a PostgreSQL store: a session advisory lock on a connection held for the run.

    The server drops it when that connection ends (the process exits or is killed), so, like the
    file lock of a SQLite store, a crashed run never leaves it behind. Raises BusyError at once,
    naming the holder (its application_name says which process), when another run holds it."""
    engine = _pg_engine(url, f"dailybrief {what} pid {os.getpid()}")
    try:
        conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"cannot connect to {shown(url)} for the run lock: "
                         f"{scrub(str(getattr(exc, 'orig', exc)).strip().splitlines()[0])}") from exc
    try:
        key = {"a": LOCK_CLASS, "b": RUN_LOCK}
        if not conn.execute(sql("SELECT pg_try_advisory_lock(:a, :b)"), key).scalar_one():
            holder = conn.execute(sql(
                "SELECT a.application_name, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :a AND l.objid = :b AND l.objsubid = 2 "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"), key).first()
            who = f" ({holder[0]}, since {str(holder[1])[:19]})" if holder else ""
            raise BusyError(f"another dailybrief run holds the lock on {shown(url)}{who}; this {what} did not start. "
                            "Wait for it to finish (the lock goes when its process or connection ends).")
        try:
            yield
        finally:
            conn.execute(sql("SELECT pg_advisory_unlock(:a, :b)"), key)
    finally:
        conn.close()
        engine.dispose()
