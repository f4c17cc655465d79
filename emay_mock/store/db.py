"""The SQLite file behind `--db`: its schema, and where the clock was left.

The platform's state lives in memory (see `store.state`); the file is its durable log,
written in groups by `store.log.Log` and read back whole at start. Tables therefore have
no secondary indexes (but one that deleting a batch's attempts needs): nothing queries
them but the start-up read, which scans each once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from emay_mock.store.rows import MESSAGES

SCHEMA_VERSION = 2

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

# The tables that hold an account's data (reset and pruning delete from them).
ACCOUNT_TABLES = (
    "messages", "mo", "pull_queue", "jobs", "push_outbox", "push_batches", "templates", "short_links",
    "clicks",
)  # fmt: skip


class Database:
    """The file (None: no file at all, nothing is ever written)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = str(path) if path else None
        self.conn: sqlite3.Connection | None = None
        if self.path is None:
            return
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        # WAL + NORMAL: a commit is in the log before the call returns, so a killed process
        # loses nothing committed; only a power cut could lose the last commits.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(SCHEMA)
        self.conn = conn
        version = self.meta("schema_version")
        if version is None:
            self._set_meta("schema_version", str(SCHEMA_VERSION))
        elif int(version) != SCHEMA_VERSION:
            raise RuntimeError(
                f"{self.path}: database schema {version}, this emay-mock needs {SCHEMA_VERSION}; "
                "start with a new file"
            )

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

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


META_UPSERT = (
    "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
)
