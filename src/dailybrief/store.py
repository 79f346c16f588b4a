"""The store: one SQLite file, numbered migrations applied on open.

Ids come from content hashes, so storing the same item twice is a no-op.
Every run is recorded with its stages, counts, errors and durations.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils

from .errors import StoreError
from .records import Comment, Item, RunReport, Source, SourceResult, StageReport, as_dict
from .redact import scrub, scrub_data

MIGRATIONS: list[str] = [
    # 1: the foundation
    """
    CREATE TABLE sources (
        id TEXT PRIMARY KEY, name TEXT, kind TEXT, url TEXT, tier TEXT, language TEXT,
        etag TEXT, last_modified TEXT,
        last_success TEXT, last_attempt TEXT, consecutive_failures INTEGER DEFAULT 0,
        last_error TEXT, last_latency REAL, last_items INTEGER
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
    CREATE TABLE embeddings (item_id TEXT, model TEXT, vector BLOB, PRIMARY KEY (item_id, model));
    CREATE TABLE stories (
        id TEXT PRIMARY KEY, title TEXT, first_seen TEXT, last_seen TEXT,
        briefed_on TEXT, centroid BLOB
    );
    CREATE TABLE story_items (item_id TEXT PRIMARY KEY, story_id TEXT, day TEXT);
    CREATE INDEX story_items_story ON story_items(story_id);
    CREATE TABLE runs (
        id TEXT PRIMARY KEY, edition TEXT, started TEXT, finished TEXT, status TEXT,
        failures TEXT, outputs TEXT
    );
    CREATE TABLE run_stages (
        run_id TEXT, seq INTEGER, name TEXT, seconds REAL, counts TEXT, errors TEXT, ok INTEGER,
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
        error TEXT, latency REAL, items INTEGER, new_items INTEGER,
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
    CREATE TABLE signatures (item_id TEXT PRIMARY KEY, sig BLOB);
    CREATE INDEX story_items_day ON story_items(day);
    CREATE TABLE briefings (story_id TEXT, day TEXT, PRIMARY KEY (story_id, day));
    INSERT OR IGNORE INTO briefings (story_id, day) SELECT id, briefed_on FROM stories WHERE briefed_on IS NOT NULL;
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
        edition TEXT, seq INTEGER, story_id TEXT, action TEXT, data TEXT, user TEXT, at TEXT,
        PRIMARY KEY (edition, seq)
    );
    CREATE TABLE desk_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, edition TEXT, version INTEGER, at TEXT, user TEXT, action TEXT,
        target TEXT, before TEXT, after TEXT
    );
    CREATE INDEX desk_audit_edition ON desk_audit(edition, id);
    """,
]

IN_CHUNK = 500  # ids in one IN list: under SQLite's bound on the parameters of a statement
STALE_HEARTBEAT = timedelta(hours=12)  # a "running" run silent this long is dead even if its PID was reused

_ITEM_COLUMNS = (
    "id", "source_id", "source_name", "tier", "url", "canonical_url", "title", "summary", "text",
    "language", "author", "published", "fetched", "points", "comment_count", "score",
    "comments_url", "comments", "content_hash", "duplicate_of", "thread_url",
)


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _alive(pid: int) -> bool:
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


class Store:
    """The SQLite store. Open it with ``Store.open(path)``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.db = sqlite_utils.Database(conn)

    @classmethod
    def open(cls, path: str | Path) -> Store:
        path = Path(path)
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
        store = cls(conn)
        store.migrate()
        return store

    def close(self) -> None:
        self.conn.close()

    # -- migrations -------------------------------------------------------
    @property
    def version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> int:
        current = self.version
        if current > len(MIGRATIONS):
            raise StoreError(
                f"the database is at schema version {current}, newer than this dailybrief "
                f"({len(MIGRATIONS)}); upgrade dailybrief or point DAILYBRIEF_DB elsewhere"
            )
        for number, sql in enumerate(MIGRATIONS[current:], start=current + 1):
            try:
                with self.conn:
                    self.conn.executescript(f"BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {number}; COMMIT;")
            except sqlite3.Error as exc:
                if self.conn.in_transaction:
                    self.conn.rollback()
                if self.version >= number:  # another process opening the same new database applied it first
                    continue
                raise StoreError(f"migration {number} failed: {exc}") from exc
        return self.version

    # -- sources ----------------------------------------------------------
    def upsert_sources(self, sources: Iterable[Source]) -> None:
        rows = [
            {"id": s.id, "name": s.name, "kind": s.kind, "url": s.url, "tier": s.tier, "language": s.language}
            for s in sources
        ]
        if rows:
            self.db.table("sources").upsert_all(rows, pk="id")

    def source_state(self, source_id: str) -> dict[str, Any]:
        row = self.conn.execute(
            "SELECT etag, last_modified, consecutive_failures, http_cache FROM sources WHERE id = ?", (source_id,)
        ).fetchone()
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
        with self.conn:
            if result.error:
                self.conn.execute(
                    "UPDATE sources SET last_attempt=?, last_error=?, last_latency=?, last_status=?, "
                    "consecutive_failures = COALESCE(consecutive_failures, 0) + 1 WHERE id=?",
                    (now, scrub(result.error), result.seconds, result.status, sid),
                )
            else:
                self.conn.execute(
                    "UPDATE sources SET last_attempt=?, last_success=?, last_error=NULL, last_latency=?, "
                    "consecutive_failures=0, last_items=?, last_status=?, etag=COALESCE(?, etag), "
                    "last_modified=COALESCE(?, last_modified), http_cache=COALESCE(?, http_cache) WHERE id=?",
                    (now, now, result.seconds, len(result.items), result.status, etag, last_modified,
                     json.dumps(cache) if cache is not None else None, sid),
                )
            if run_id:
                self.conn.execute(
                    "INSERT OR REPLACE INTO source_runs (run_id, source_id, at, ok, status, not_modified, error, "
                    "latency, items, new_items) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (run_id, sid, now, int(not result.error), result.status, int(result.not_modified),
                     scrub(result.error) or None, result.seconds, len(result.items), new_items),
                )
        return int(self.source_state(sid).get("consecutive_failures", 0))

    def set_new_items(self, run_id: str, counts: dict[str, int]) -> None:
        """How many of each source's items were new in a run (known only once they are stored)."""
        with self.conn:
            self.conn.executemany("UPDATE source_runs SET new_items=? WHERE run_id=? AND source_id=?",
                                  [(n, run_id, sid) for sid, n in counts.items()])

    def source_history(self, source_id: str, limit: int = 7) -> list[dict[str, Any]]:
        """A source's last runs, newest first: ok, status, latency, items, new items, error."""
        return list(self.db.query(
            "SELECT * FROM source_runs WHERE source_id=? ORDER BY at DESC LIMIT ?", (source_id, limit)))

    def known_urls(self, source_id: str) -> set[str]:
        """Canonical URLs of a source's items already stored with their full text."""
        return {r[0] for r in self.conn.execute(
            "SELECT canonical_url FROM items WHERE source_id=? AND text != ''", (source_id,))}

    def set_text(self, item_id: str, text: str) -> None:
        """An item's full text, fetched after the fact (a story's lead item that came without a summary)."""
        with self.conn:
            self.conn.execute("UPDATE items SET text=? WHERE id=?", (text, item_id))

    def set_comments(self, item_id: str, comments: list[Comment]) -> None:
        with self.conn:
            self.conn.execute("UPDATE items SET comments=? WHERE id=?",
                              (json.dumps(as_dict(comments), ensure_ascii=False), item_id))

    def sources(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM sources ORDER BY tier, name"))

    # -- items ------------------------------------------------------------
    def _item_row(self, item: Item) -> dict[str, Any]:
        row = {k: getattr(item, k) for k in _ITEM_COLUMNS if k != "comments"}
        row["published"] = _iso(item.published)
        row["fetched"] = _iso(item.fetched)
        row["comments"] = json.dumps(as_dict(item.comments), ensure_ascii=False)
        return row

    def add_items(self, items: Iterable[Item]) -> list[Item]:
        """Insert items not seen before; return the ones that were new.

        Existing items keep their row, but fresher engagement figures and
        comments are written over the old ones.
        """
        new: list[Item] = []
        with self.conn:
            for item in items:
                row = self._item_row(item)
                cur = self.conn.execute(
                    f"INSERT OR IGNORE INTO items ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    tuple(row.values()),
                )
                if cur.rowcount:
                    new.append(item)
                else:
                    self.conn.execute(
                        "UPDATE items SET points=COALESCE(?, points), comment_count=COALESCE(?, comment_count), "
                        "score=COALESCE(?, score), comments=CASE WHEN ? != '[]' THEN ? ELSE comments END "
                        "WHERE id=?",
                        (item.points, item.comment_count, item.score, row["comments"], row["comments"], item.id),
                    )
        return new

    def find_by_hash(self, content_hash: str, exclude_id: str) -> str | None:
        row = self.conn.execute(
            "SELECT id FROM items WHERE content_hash=? AND id != ? AND duplicate_of IS NULL "
            "ORDER BY published, id LIMIT 1",
            (content_hash, exclude_id),
        ).fetchone()
        return row[0] if row else None

    def mark_duplicate(self, item_id: str, of: str) -> None:
        with self.conn:
            self.conn.execute("UPDATE items SET duplicate_of=? WHERE id=?", (of, item_id))

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
        sql = (
            "SELECT * FROM items WHERE COALESCE(published, fetched) > ? AND COALESCE(published, fetched) <= ?"
            + ("" if include_duplicates else " AND duplicate_of IS NULL")
            + " ORDER BY COALESCE(published, fetched), id"
        )
        s = start.astimezone(timezone.utc).isoformat()
        e = end.astimezone(timezone.utc).isoformat()
        return [self._to_item(r) for r in self.db.query(sql, (s, e))]

    def items(self, ids: Iterable[str]) -> list[Item]:
        ids = list(ids)
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        return [self._to_item(r) for r in self.db.query(f"SELECT * FROM items WHERE id IN ({marks})", ids)]

    def count(self, table: str) -> int:
        return int(self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def _rows_in(self, sql: str, ids: Sequence[str], before: tuple[Any, ...] = (),
                 after: tuple[Any, ...] = ()) -> Iterator[Any]:
        """The rows of `sql`, whose ``{marks}`` is the IN list of `ids` (between the `before` and `after`
        parameters), asked for IN_CHUNK ids at a time: SQLite bounds the parameters of one statement."""
        for start in range(0, len(ids), IN_CHUNK):
            chunk = ids[start : start + IN_CHUNK]
            yield from self.conn.execute(sql.format(marks=", ".join("?" * len(chunk))), (*before, *chunk, *after))

    # -- embeddings ---------------------------------------------------------
    def embeddings(self, ids: list[str], model: str) -> dict[str, np.ndarray]:
        return {item_id: np.frombuffer(blob, dtype=np.float32) for item_id, blob in self._rows_in(
            "SELECT item_id, vector FROM embeddings WHERE model=? AND item_id IN ({marks})", ids, (model,))}

    def put_embeddings(self, vectors: dict[str, np.ndarray], model: str) -> None:
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO embeddings (item_id, model, vector) VALUES (?, ?, ?)",
                [(k, model, np.asarray(v, dtype=np.float32).tobytes()) for k, v in vectors.items()],
            )

    # -- near-duplicate signatures ------------------------------------------------
    def signatures(self, ids: list[str]) -> dict[str, np.ndarray]:
        return {item_id: np.frombuffer(blob, dtype=np.uint32) for item_id, blob in self._rows_in(
            "SELECT item_id, sig FROM signatures WHERE item_id IN ({marks})", ids)}

    def put_signatures(self, sigs: dict[str, np.ndarray]) -> None:
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO signatures (item_id, sig) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.uint32).tobytes()) for k, v in sigs.items()],
            )

    # -- stories ----------------------------------------------------------
    def forget_day(self, day: date) -> None:
        """Drop the stories first seen on a day, so re-clustering it starts clean."""
        d = day.isoformat()
        with self.conn:
            self.conn.execute("DELETE FROM story_items WHERE day=?", (d,))
            self.conn.execute(
                "DELETE FROM stories WHERE first_seen=? AND id NOT IN (SELECT story_id FROM story_items)", (d,)
            )
            self.conn.execute(
                "UPDATE stories SET last_seen=(SELECT MAX(day) FROM story_items WHERE story_id=stories.id) "
                "WHERE last_seen >= ?", (d,)
            )

    def open_stories(self, before: date, lookback_days: int) -> list[dict[str, Any]]:
        """Stories with items on the `lookback_days` days before `before`: the ones new items may join."""
        lo = date.fromordinal(before.toordinal() - lookback_days).isoformat()
        return list(self.db.query(
            "SELECT s.id, s.title, s.first_seen, MAX(si.day) AS last_seen, "
            "(SELECT MAX(b.day) FROM briefings b WHERE b.story_id = s.id AND b.day < ?) AS briefed_on "
            "FROM stories s JOIN story_items si ON si.story_id = s.id WHERE si.day < ? GROUP BY s.id "
            "HAVING MAX(si.day) >= ? ORDER BY s.id",
            (before.isoformat(), before.isoformat(), lo),
        ))

    def story_members(self, story_ids: list[str], before: date) -> list[tuple[str, str, str]]:
        """(item_id, story_id, day) of the stories' items put in them before `before`."""
        return list(self._rows_in(
            "SELECT item_id, story_id, day FROM story_items WHERE story_id IN ({marks}) AND day < ? "
            "ORDER BY story_id, day, item_id", story_ids, after=(before.isoformat(),)))

    def day_stories(self, day: date) -> list[dict[str, Any]]:
        """(story_id, item_id, first_seen, briefed_on before `day`) of what clustering filed under `day`."""
        return list(self.db.query(
            "SELECT si.story_id, si.item_id, s.first_seen, "
            "(SELECT MAX(b.day) FROM briefings b WHERE b.story_id = s.id AND b.day < ?) AS briefed_on "
            "FROM story_items si JOIN stories s ON s.id = si.story_id WHERE si.day = ? ORDER BY si.story_id, si.item_id",
            (day.isoformat(), day.isoformat())))

    def edition_files(self, day: date) -> dict[str, str]:
        """language -> where the edition's brief*.json was written."""
        return {r[0]: r[1] for r in self.conn.execute(
            "SELECT language, path FROM editions WHERE edition = ?", (day.isoformat(),))}

    def clustered_days(self, lo: date, hi: date) -> set[date]:
        """Days in [lo, hi) whose items have been clustered."""
        return {date.fromisoformat(r[0]) for r in self.conn.execute(
            "SELECT DISTINCT day FROM story_items WHERE day >= ? AND day < ?", (lo.isoformat(), hi.isoformat()))}

    def save_story(self, story_id: str, title: str, first_seen: date, last_seen: date,
                   centroid: np.ndarray, item_ids: list[str], day: date) -> None:
        with self.conn:
            self.conn.execute(
                "INSERT INTO stories (id, title, first_seen, last_seen, centroid) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET last_seen=MAX(last_seen, excluded.last_seen), "
                "centroid=excluded.centroid",
                (story_id, title, first_seen.isoformat(), last_seen.isoformat(),
                 np.asarray(centroid, dtype=np.float32).tobytes()),
            )
            self.conn.executemany(
                "INSERT OR REPLACE INTO story_items (item_id, story_id, day) VALUES (?, ?, ?)",
                [(i, story_id, day.isoformat()) for i in item_ids],
            )

    def story_day_counts(self, story_ids: Iterable[str], start: date, end: date) -> dict[str, dict[date, int]]:
        """Items filed under each story per day, for the days start..end (inclusive)."""
        ids = list(dict.fromkeys(story_ids))
        out: dict[str, dict[date, int]] = {sid: {} for sid in ids}
        for story_id, day, n in self._rows_in(
                "SELECT story_id, day, COUNT(*) FROM story_items WHERE story_id IN ({marks}) "
                "AND day >= ? AND day <= ? GROUP BY story_id, day", ids, after=(start.isoformat(), end.isoformat())):
            out[story_id][date.fromisoformat(day)] = int(n)
        return out

    def mark_briefed(self, story_ids: Iterable[str], day: date) -> None:
        story_ids = list(story_ids)
        with self.conn:
            self.conn.executemany(
                "UPDATE stories SET briefed_on=? WHERE id=? AND (briefed_on IS NULL OR briefed_on <= ?)",
                [(day.isoformat(), sid, day.isoformat()) for sid in story_ids],
            )
            self.conn.executemany("INSERT OR IGNORE INTO briefings (story_id, day) VALUES (?, ?)",
                                  [(sid, day.isoformat()) for sid in story_ids])

    # -- runs -------------------------------------------------------------
    def save_run(self, run: RunReport) -> None:
        """Record a run (secrets blanked out); while it runs, each save is also its heartbeat."""
        run.failures[:] = [scrub(f) for f in run.failures]
        for stage in run.stages:
            stage.errors[:] = [scrub(e) for e in stage.errors]
        with self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO runs (id, edition, started, finished, status, failures, outputs, pid, heartbeat) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run.id, run.edition.isoformat(), run.started.isoformat(), _iso(run.finished), run.status,
                 json.dumps(run.failures, ensure_ascii=False), json.dumps(scrub_data(run.outputs), ensure_ascii=False),
                 os.getpid(), utcnow().isoformat()),
            )
            self.conn.execute("DELETE FROM run_stages WHERE run_id=?", (run.id,))
            self.conn.executemany(
                "INSERT INTO run_stages (run_id, seq, name, seconds, counts, errors, ok) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(run.id, i, s.name, s.seconds, json.dumps(s.counts), json.dumps(s.errors, ensure_ascii=False),
                  int(s.ok)) for i, s in enumerate(run.stages)],
            )

    def heartbeat(self, run_id: str) -> None:
        with self.conn:
            self.conn.execute("UPDATE runs SET heartbeat=? WHERE id=? AND status='running'",
                              (utcnow().isoformat(), run_id))

    def mark_orphans(self, now: datetime | None = None) -> list[str]:
        """Runs left ``running`` by a process that is gone (``kill -9``, a power cut), marked ``interrupted``.

        A run is orphaned when its process no longer exists, or when it has not beaten for
        STALE_HEARTBEAT (its PID now belongs to something else). Call it holding the run lock.
        Returns a line per run marked, for the summary."""
        now = now or utcnow()
        marked = []
        for r in list(self.db.query("SELECT id, edition, pid, heartbeat, started, failures FROM runs "
                                    "WHERE status='running'")):
            beat = _dt(r["heartbeat"]) or _dt(r["started"])
            pid = r["pid"]
            if pid == os.getpid() and beat is not None and now - beat < STALE_HEARTBEAT:
                continue  # this process's own run
            if pid and _alive(pid) and beat is not None and now - beat < STALE_HEARTBEAT:
                continue
            note = (f"interrupted: its process{f' (pid {pid})' if pid else ''} ended without finishing it "
                    f"(killed or crashed); last sign of life {str(r['heartbeat'] or r['started'])[:19]}")
            failures = [*json.loads(r["failures"] or "[]"), note]
            with self.conn:
                self.conn.execute("UPDATE runs SET status='interrupted', finished=?, failures=? WHERE id=?",
                                  (r["heartbeat"] or r["started"], json.dumps(failures, ensure_ascii=False), r["id"]))
            marked.append(f"run {r['id']} of edition {r['edition']} was {note}")
        return marked

    def runs(self, limit: int = 20) -> list[RunReport]:
        out = []
        for r in self.db.query("SELECT * FROM runs ORDER BY started DESC LIMIT ?", (limit,)):
            stages = [
                StageReport(name=s["name"], seconds=s["seconds"], counts=json.loads(s["counts"]),
                            errors=json.loads(s["errors"]), ok=bool(s["ok"]))
                for s in self.db.query("SELECT * FROM run_stages WHERE run_id=? ORDER BY seq", (r["id"],))
            ]
            out.append(RunReport(
                id=r["id"], edition=date.fromisoformat(r["edition"]), started=datetime.fromisoformat(r["started"]),
                stages=stages, failures=json.loads(r["failures"] or "[]"), outputs=json.loads(r["outputs"] or "{}"),
                status=r["status"], finished=_dt(r["finished"]),
            ))
        return out

    def record_edition(self, edition: date, language: str, run_id: str, path: str, digest: str) -> None:
        with self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO editions (edition, language, run_id, path, digest, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (edition.isoformat(), language, run_id, path, digest, utcnow().isoformat()),
            )

    def edition_days(self, lo: date, hi: date) -> set[date]:
        """Edition dates in [lo, hi) that were written."""
        return {date.fromisoformat(r[0]) for r in self.conn.execute(
            "SELECT DISTINCT edition FROM editions WHERE edition >= ? AND edition < ?", (lo.isoformat(), hi.isoformat()))}

    def first_edition(self) -> date | None:
        row = self.conn.execute("SELECT MIN(edition) FROM editions").fetchone()
        return date.fromisoformat(row[0]) if row and row[0] else None

    # -- delivery log ----------------------------------------------------------
    def delivery(self, edition: date, target: str) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM deliveries WHERE edition=? AND target=?", (edition.isoformat(), target)))
        return rows[0] if rows else None

    def start_delivery(self, edition: date, target: str, kind: str, digest: str) -> None:
        """Mark a delivery as under way before anything is sent (so a crash mid-send is visible)."""
        now = utcnow().isoformat()
        with self.conn:
            self.conn.execute(
                "INSERT INTO deliveries (edition, target, kind, status, digest, attempts, first_attempt, last_attempt) "
                "VALUES (?, ?, ?, 'sending', ?, 1, ?, ?) ON CONFLICT(edition, target) DO UPDATE SET "
                "kind=excluded.kind, status='sending', digest=excluded.digest, attempts=attempts + 1, "
                "last_attempt=excluded.last_attempt, error=NULL",
                (edition.isoformat(), target, kind, digest, now, now),
            )

    def finish_delivery(self, edition: date, target: str, *, ok: bool, detail: str = "", error: str = "",
                        status: str = "") -> None:
        """End a delivery: delivered, failed, or (``status="interrupted"``) sent but never answered,
        which is not sent again without --force."""
        now = utcnow().isoformat()
        with self.conn:
            self.conn.execute(
                "UPDATE deliveries SET status=?, delivered=CASE WHEN ? THEN ? ELSE delivered END, "
                "detail=CASE WHEN ? THEN ? ELSE detail END, error=? WHERE edition=? AND target=?",
                (status or ("delivered" if ok else "failed"), ok, now, ok, scrub(detail), scrub(error) or None,
                 edition.isoformat(), target),
            )

    def deliveries(self, edition: date | None = None, limit: int = 200) -> list[dict[str, Any]]:
        if edition is None:
            return list(self.db.query("SELECT * FROM deliveries ORDER BY edition DESC, target LIMIT ?", (limit,)))
        return list(self.db.query("SELECT * FROM deliveries WHERE edition=? ORDER BY target", (edition.isoformat(),)))

    def record_alert(self, run_id: str, target: str, edition: date, subject: str, *, ok: bool, error: str = "") -> None:
        with self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO alerts (run_id, target, edition, status, sent, subject, error) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run_id, target, edition.isoformat(), "sent" if ok else "failed", utcnow().isoformat(), scrub(subject),
                 scrub(error) or None),
            )

    def alert_sent(self, run_id: str, target: str) -> bool:
        return self.conn.execute("SELECT 1 FROM alerts WHERE run_id=? AND target=? AND status='sent'",
                                 (run_id, target)).fetchone() is not None

    # -- model responses ------------------------------------------------------
    def cached_response(self, key: str) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT response, prompt_tokens, completion_tokens FROM llm_cache WHERE key=?", (key,)
        ).fetchone()
        return {"response": row[0], "prompt_tokens": row[1], "completion_tokens": row[2]} if row else None

    def put_response(self, key: str, model: str, request: str, response: str,
                     prompt_tokens: int, completion_tokens: int) -> None:
        with self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO llm_cache (key, model, request, response, prompt_tokens, completion_tokens, "
                "created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, model, request, response, prompt_tokens, completion_tokens, utcnow().isoformat()),
            )

    def iter_rows(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[dict[str, Any]]:
        yield from self.db.query(sql, params)
