"""The SQLite file behind `--db`: its schema, and where the clock was left.

The platform's state lives in memory (see `store.state`); the file is its durable log,
written in groups by `store.log.Log` and read back whole at start. Tables therefore have
no secondary indexes (but one that deleting a batch's attempts needs): nothing queries
them but the start-up read, which scans each once.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from emay_mock.store.rows import MESSAGES

log = logging.getLogger("emay_mock.store")

SCHEMA_VERSION = 2
# The SQLite header's application_id of the mock's files ("EMAY"): `file(1)` and the mock
# itself tell them from other programs' databases by it.
APPLICATION_ID = int.from_bytes(b"EMAY", "big")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    app_id TEXT PRIMARY KEY, spec TEXT NOT NULL, balance INTEGER NOT NULL
);
{messages}
CREATE TABLE IF NOT EXISTS mo (
    mo_id INTEGER PRIMARY KEY,
    app_id TEXT NOT NULL,
    mobile TEXT NOT NULL,
    content TEXT NOT NULL,
    extended_code TEXT,
    mo_at INTEGER NOT NULL,
    reply_to TEXT,
    source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pull_queue (
    seq INTEGER PRIMARY KEY,
    app_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    ref INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    job_id INTEGER PRIMARY KEY,
    due INTEGER NOT NULL,
    kind TEXT NOT NULL,
    app_id TEXT,
    payload TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS push_outbox (
    seq INTEGER PRIMARY KEY,
    app_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    ref INTEGER NOT NULL,
    item TEXT NOT NULL,
    chaos TEXT
);
CREATE TABLE IF NOT EXISTS push_batches (
    batch_id INTEGER PRIMARY KEY,
    app_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    mode TEXT NOT NULL,
    items TEXT NOT NULL,
    refs TEXT NOT NULL,  -- the ids of the messages (or MO) it carries, comma-separated
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    next_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    chaos TEXT
);
CREATE TABLE IF NOT EXISTS push_attempts (
    attempt_id INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL,
    n INTEGER NOT NULL,
    scheduled_at INTEGER NOT NULL,
    sent_at INTEGER NOT NULL,
    http_status INTEGER,
    error TEXT,
    body TEXT,
    latency_ms REAL NOT NULL,
    ok INTEGER NOT NULL,
    manual INTEGER NOT NULL DEFAULT 0,
    note TEXT
);
CREATE INDEX IF NOT EXISTS push_attempts_batch ON push_attempts(batch_id);
-- The messages a checkpoint stands for that changed or went since it was taken: a start
-- from it reads them again (store.checkpoint).
CREATE TABLE IF NOT EXISTS touched (n INTEGER PRIMARY KEY, msg_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS templates (
    template_id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    content TEXT NOT NULL,
    status INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    reviewed_at INTEGER,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS short_links (
    code TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    long_url TEXT NOT NULL,
    short_url TEXT NOT NULL,
    rule TEXT NOT NULL,
    mobile TEXT,
    sms_id TEXT,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS clicks (
    click_id INTEGER PRIMARY KEY,
    app_id TEXT NOT NULL,
    code TEXT NOT NULL,
    mobile TEXT,
    access_at INTEGER NOT NULL,
    equipment TEXT NOT NULL,
    browser TEXT NOT NULL,
    long_link TEXT NOT NULL,
    access_address TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    source TEXT NOT NULL
);
""".replace("{messages}", MESSAGES.create)

# Every table of the mock's file.
TABLES = frozenset(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", SCHEMA))
# The tables that hold an account's data (reset and pruning delete from them).
ACCOUNT_TABLES = (
    "messages", "mo", "pull_queue", "jobs", "push_outbox", "push_batches", "templates", "short_links",
    "clicks",
)  # fmt: skip


class Refused(Exception):
    """A database path the mock will not use, and why: two lines, the path and what is wrong,
    then what to do. The file is left as it was."""

    def __init__(self, path: str, problem: str, remedy: str) -> None:
        super().__init__(f"cannot use {path} as the database: {problem}\n  {remedy}")


class Database:
    """The file (None: no file at all, nothing is ever written).

    A path is checked before anything is written to it (`Refused` says why not): a new or
    empty file gets the schema and the mock's identity; an existing file must be SQLite,
    readable, and the mock's own (its `application_id`, or, for a file from before it had
    one, a `meta` table with its schema version: `adopt` then marks it as the mock's)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = str(path) if path else None
        self.conn: sqlite3.Connection | None = None
        self._copier: sqlite3.Connection | None = None  # `copy_wal`'s own connection
        self._copying = threading.Lock()
        self._copy_failed = False  # the last copy failed (said once, until one succeeds)
        self._unmarked = False  # the mock's file from before the identity: marked by adopt()
        if self.path is None:
            return
        existing = _existing(self.path)
        mark_now = not existing
        if existing:
            found = _identify(self.path)
            mark_now, self._unmarked = found == "empty", found == "unmarked"
        conn = None
        try:
            if existing:  # never created anew: it was there a moment ago
                conn = sqlite3.connect(_uri(self.path, "rw"), uri=True, isolation_level=None,
                                       check_same_thread=False)  # fmt: skip
            else:
                conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            # WAL + NORMAL: a commit is in the log before the call returns, so a killed process
            # loses nothing committed; only a power cut could lose the last commits.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            # No copying of the WAL into the database inside a commit: that copy syncs the
            # file, and a commit runs on the event loop. `copy_wal` does it in a thread.
            conn.execute("PRAGMA wal_autocheckpoint=0")
            if mark_now:
                conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            conn.executescript(SCHEMA)
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise Refused(self.path, f"SQLite cannot open it ({exc})", _WRITABLE) from None
        self.conn = conn
        version = self.meta("schema_version")
        if version is None:
            self._set_meta("schema_version", str(SCHEMA_VERSION))

    def adopt(self) -> None:
        """Mark the mock's file from before the identity as the mock's: called once it has
        been read whole, so that a file found damaged on the way is left as it was."""
        if self._unmarked and self.conn is not None:
            self.conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            self._unmarked = False

    def refuse_damaged(self, exc: sqlite3.DatabaseError) -> Refused:
        """The file could not be read back: close it (nothing was written) and say so."""
        assert self.path is not None
        self.close()
        return Refused(self.path, f"it is damaged: SQLite says {exc!s}", _DAMAGED)

    @property
    def durable(self) -> bool:
        return self.conn is not None

    def rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[Any]:
        """The rows of a start-up read, streamed (nothing without a file)."""
        if self.conn is None:
            return iter(())
        return iter(self.conn.execute(sql, params))

    def meta(self, key: str) -> str | None:
        if self.conn is None:
            return None
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        assert self.conn is not None
        self.conn.execute(META_UPSERT, (key, value))

    def clock_anchor(self) -> tuple[int, int] | None:
        """(scheduler ms, wall ms) when the scheduler's clock was last saved."""
        anchor = self.meta("clock_anchor")
        if anchor is None:
            return None
        sched_ms, wall_ms = (int(x) for x in anchor.split(","))
        return sched_ms, wall_ms

    def copy_wal(self) -> None:
        """Copy what the write-ahead log holds into the database file and sync it (an SQLite
        checkpoint, PASSIVE: it never waits for, nor blocks, the commits going on beside it),
        so that the log starts again from its beginning at the next commit. Run in a thread,
        on a connection of its own."""
        if self.conn is None or self.path is None or not names_a_file(self.path):
            return
        with self._copying:
            try:
                if self._copier is None:
                    self._copier = sqlite3.connect(_uri(self.path, "rw"), uri=True, isolation_level=None,
                                                   check_same_thread=False)  # fmt: skip
                self._copier.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                self._copy_failed = False
            except sqlite3.Error as exc:  # the next round tries again; the log grows meanwhile
                level = logging.DEBUG if self._copy_failed else logging.WARNING  # once a streak
                log.log(level, "the write-ahead log of %s was not copied into it (%s)", self.path, exc)
                self._copy_failed = True

    def close(self) -> None:
        with self._copying:  # a copy in its thread ends first
            if self._copier is not None:
                self._copier.close()
                self._copier = None
        if self.conn is not None:
            self.conn.close()  # the last connection: SQLite copies the rest and removes the log
            self.conn = None


META_UPSERT = (
    "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
)


_SQLITE_MAGIC = b"SQLite format 3\x00"
_HEADER_SIZE = 100
_NEW = "give a new path (a missing or empty file) for the mock's own database"
_WRITABLE = (
    "give a path in a folder this user can write to (SQLite also writes FILE-wal and FILE-shm beside it)"
)
_DAMAGED = "restore it from a copy, or " + _NEW
_LEFT = "it is left as it was"


def _uri(path: str, mode: str) -> str:
    return f"file:{quote(os.path.abspath(path))}?mode={mode}"


def names_a_file(path: str) -> bool:
    """Whether a `--db` path is a file's (not `:memory:`, nor a URI SQLite opens itself)."""
    return path != ":memory:" and not path.startswith("file:")


def _existing(path: str) -> bool:
    """Whether the path is a file holding something (False: a new or empty file, created
    here); refused if it is nothing SQLite can be given."""
    if not names_a_file(path):
        return False
    target = Path(path)
    folder = target.parent
    if target.is_dir():
        raise Refused(
            path, "it is a directory, not a file", f"name a file in it, e.g. --db {target / 'emay.db'}"
        )
    if not folder.is_dir():
        why = "does not exist" if not folder.exists() else "is not a folder"
        raise Refused(
            path,
            f"the folder {folder} {why}",
            f"create it first (mkdir -p {folder}), or give a path in an existing folder",
        )
    if not target.exists():
        try:  # made empty here: SQLite then gives it the schema (an unwritable folder says so now)
            target.touch(exist_ok=False)
        except OSError as exc:
            raise Refused(
                path, f"it cannot be created in {folder} ({exc.strerror or exc})", _WRITABLE
            ) from None
        return False
    if not target.is_file():
        raise Refused(path, "it is not a regular file", _NEW)
    try:
        with open(target, "rb") as f:
            header = f.read(_HEADER_SIZE)
        with open(target, "r+b"):
            pass
    except OSError as exc:
        raise Refused(path, f"it cannot be read and written ({exc.strerror or exc})",
                      "let this user read and write it, or " + _NEW) from None  # fmt: skip
    if not header:
        return False
    if not os.access(folder, os.W_OK):
        raise Refused(path, f"the folder {folder} is not writable", _WRITABLE)
    if len(header) < _HEADER_SIZE or not header.startswith(_SQLITE_MAGIC):
        raise Refused(path, f"it is not a SQLite database; {_LEFT}", _NEW)
    return True


def _identify(path: str) -> str:
    """Refuse a SQLite file that is not the mock's; else say what it is: "ours", "unmarked"
    (the mock's from before the identity) or "empty" (no table at all). Read through a
    read-only connection: nothing is written."""
    # Without a -wal beside it the file is the whole database: read as immutable, SQLite makes
    # no -wal or -shm for it (a read-only connection would, and leave them).
    mode = "ro" if Path(path + "-wal").exists() else "ro&immutable=1"
    try:
        probe = sqlite3.connect(_uri(path, mode), uri=True)
    except sqlite3.Error as exc:
        raise Refused(path, f"SQLite cannot open it ({exc}); {_LEFT}", _NEW) from None
    try:
        (app_id,) = probe.execute("PRAGMA application_id").fetchone()
        tables = {name for (name,) in probe.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = None
        if "meta" in tables and app_id in (0, APPLICATION_ID):
            row = probe.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = None if row is None else str(row[0])
    except sqlite3.DatabaseError as exc:
        raise Refused(path, f"it is damaged: SQLite says {exc}; {_LEFT}", _DAMAGED) from None
    finally:
        probe.close()
    ours = app_id == APPLICATION_ID or (app_id == 0 and version is not None and tables <= TABLES)
    if not ours:
        if app_id == 0 and not tables:
            return "empty"  # a SQLite database with nothing in it to keep
        named = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        whose = f"application_id {app_id:#x}" if app_id else f"tables: {named or 'none'}"
        raise Refused(
            path, f"it is a SQLite database of another program ({whose}), not the mock's; {_LEFT}", _NEW
        )
    if version is not None and version != str(SCHEMA_VERSION):
        problem = f"its schema is version {version}, this emay-mock reads {SCHEMA_VERSION}; {_LEFT}"
        raise Refused(path, problem, f"use the emay-mock that wrote it, or {_NEW}")
    return "unmarked" if app_id == 0 else "ours"
