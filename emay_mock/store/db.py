"""The SQLite connection, its schema and its transactions.

Everything the platform holds lives here so that `--db FILE` makes all of it survive a
crash with no second code path. All access happens on the event loop's thread; each
statement is an indexed lookup or a bounded batch, so no call blocks the loop for long.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path
from types import TracebackType

log = logging.getLogger("emay_mock.store")

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    app_id TEXT PRIMARY KEY, spec TEXT NOT NULL, balance INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    msg_id INTEGER PRIMARY KEY,
    sms_id TEXT NOT NULL UNIQUE,
    app_id TEXT NOT NULL,
    mobile TEXT NOT NULL,
    mobile_norm TEXT NOT NULL,
    content TEXT NOT NULL,
    custom_sms_id TEXT,
    extended_code TEXT,
    endpoint TEXT NOT NULL,
    template_id TEXT,
    submit_wall INTEGER NOT NULL,
    submit_at INTEGER NOT NULL,
    timer_time INTEGER,
    send_at INTEGER NOT NULL,
    segments INTEGER NOT NULL,
    planned_state TEXT NOT NULL,
    report_due INTEGER NOT NULL,
    state TEXT,
    report_at INTEGER,
    short_url TEXT,
    rules TEXT,
    chaos TEXT
);
CREATE INDEX IF NOT EXISTS messages_app ON messages(app_id, msg_id);
CREATE INDEX IF NOT EXISTS messages_mobile ON messages(mobile_norm, msg_id);
CREATE INDEX IF NOT EXISTS messages_custom ON messages(custom_sms_id)
    WHERE custom_sms_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_submit ON messages(app_id, submit_wall, msg_id);
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
CREATE INDEX IF NOT EXISTS mo_app ON mo(app_id, mo_id);
CREATE INDEX IF NOT EXISTS mo_mobile ON mo(mobile, mo_id);
CREATE INDEX IF NOT EXISTS mo_reply ON mo(reply_to) WHERE reply_to IS NOT NULL;
CREATE TABLE IF NOT EXISTS pull_queue (
    seq INTEGER PRIMARY KEY,
    app_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    ref INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS pull_queue_app ON pull_queue(app_id, kind, seq);
CREATE TABLE IF NOT EXISTS jobs (
    job_id INTEGER PRIMARY KEY,
    due INTEGER NOT NULL,
    kind TEXT NOT NULL,
    app_id TEXT,
    payload TEXT NOT NULL,
    leased INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs(leased, due, job_id);
CREATE TABLE IF NOT EXISTS push_outbox (
    seq INTEGER PRIMARY KEY,
    app_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    ref INTEGER NOT NULL,
    item TEXT NOT NULL,
    chaos TEXT
);
CREATE INDEX IF NOT EXISTS push_outbox_app ON push_outbox(app_id, kind, seq);
CREATE TABLE IF NOT EXISTS push_batches (
    batch_id INTEGER PRIMARY KEY,
    app_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    mode TEXT NOT NULL,
    items TEXT NOT NULL,
    size INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    next_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    chaos TEXT
);
CREATE INDEX IF NOT EXISTS push_batches_app ON push_batches(app_id, batch_id);
CREATE INDEX IF NOT EXISTS push_batches_status ON push_batches(status, batch_id);
CREATE TABLE IF NOT EXISTS push_members (
    ref INTEGER NOT NULL,
    kind TEXT NOT NULL,
    batch_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS push_members_ref ON push_members(kind, ref);
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
CREATE INDEX IF NOT EXISTS push_attempts_batch ON push_attempts(batch_id, n);
CREATE TABLE IF NOT EXISTS templates (
    template_id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    content TEXT NOT NULL,
    status INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    reviewed_at INTEGER,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS templates_app ON templates(app_id, template_id);
CREATE TABLE IF NOT EXISTS short_links (
    code TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    long_url TEXT NOT NULL,
    short_url TEXT NOT NULL,
    rule TEXT NOT NULL,
    mobile TEXT,
    sms_id INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS short_links_sms ON short_links(sms_id);
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
CREATE INDEX IF NOT EXISTS clicks_app ON clicks(app_id, click_id);
"""


class Database:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = str(path) if path else ":memory:"
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        if self.path != ":memory:":
            # WAL + NORMAL: each commit is in the log before the call returns, so a killed
            # process loses nothing; only a power cut could lose the last commits.
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA temp_store=MEMORY")
        self.conn.executescript(SCHEMA)
        self._depth = 0
        self._tx = Transaction(self)
        self._group: asyncio.Future[None] | None = None  # the loop turn's open transaction
        self.groups = 0  # group commits so far
        version = self.meta("schema_version")
        if version is None:
            self.set_meta("schema_version", str(SCHEMA_VERSION))
        elif int(version) != SCHEMA_VERSION:
            raise RuntimeError(
                f"{self.path}: database schema {version}, this emay-mock needs {SCHEMA_VERSION}"
            )

    @property
    def durable(self) -> bool:
        return self.path != ":memory:"

    def tx(self) -> Transaction:
        """One atomic unit; nested uses join the outer one (see Transaction)."""
        return self._tx

    def _open_group(self) -> None:
        if not self.durable:
            return  # nothing to make durable: each unit commits alone, at memory speed
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not on the event loop: the unit commits alone
        self.conn.execute("BEGIN")
        self._group = loop.create_future()
        loop.call_soon(self._commit_group)

    def _commit_group(self) -> None:
        group, self._group = self._group, None
        if group is None:
            return
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log.error("group commit failed, the turn's changes are lost: %s", exc)
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if not group.done():
                group.set_exception(exc)
            return
        self.groups += 1
        if not group.done():
            group.set_result(None)

    async def committed(self) -> None:
        """Wait until what this loop turn changed is committed (at once if nothing is pending)."""
        group = self._group
        if group is not None:
            await asyncio.shield(group)

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    _ACCOUNT_TABLES = (
        "messages", "mo", "pull_queue", "jobs", "push_outbox", "push_batches", "templates",
        "short_links", "clicks",
    )  # fmt: skip

    def forget(self, app_id: str | None) -> None:
        """Delete what an account (every account, when None) holds, except the account itself."""
        conn = self.conn
        if app_id is None:
            for table in (*self._ACCOUNT_TABLES, "push_members", "push_attempts"):
                conn.execute(f"DELETE FROM {table}")
            return
        for table in ("push_attempts", "push_members"):
            conn.execute(
                f"DELETE FROM {table} WHERE batch_id IN (SELECT batch_id FROM push_batches WHERE app_id = ?)",
                (app_id,),
            )
        for table in self._ACCOUNT_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE app_id = ?", (app_id,))

    def clock_anchor(self) -> tuple[int, int] | None:
        """(scheduler ms, wall ms) when the scheduler's clock was last saved."""
        anchor = self.meta("clock_anchor")
        if anchor is None:
            return None
        sched_ms, wall_ms = (int(x) for x in anchor.split(","))
        return sched_ms, wall_ms

    def save_clock_anchor(self, sched_ms: int, wall_ms: int) -> None:
        self.set_meta("clock_anchor", f"{sched_ms},{wall_ms}")

    def close(self) -> None:
        self._commit_group()
        self.conn.close()


class Transaction:
    """`with db.tx():` one atomic unit of work; nested uses join the outer one.

    With a file, on the event loop, the units of one loop turn share one transaction (a group commit):
    the first opens it and schedules its COMMIT for the end of the turn, and each unit is a
    SAVEPOINT inside it, so a failing unit still rolls back alone. `await db.committed()`
    waits for that COMMIT: a request's answer is released only once what it changed is
    stored. Off the loop (start-up, tools), each unit commits on its own.

    A class rather than a generator context manager: it is entered a few times per request,
    and contextlib's machinery cost more than the statements.
    """

    __slots__ = ("db",)

    def __init__(self, db: Database) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        db = self.db
        if not db._depth:
            if db._group is None:
                db._open_group()
            db.conn.execute("SAVEPOINT unit" if db._group is not None else "BEGIN")
        db._depth += 1
        return db.conn

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        db = self.db
        db._depth -= 1
        if db._depth:
            return  # a nested use: the outer one commits or rolls back
        if db._group is None:
            db.conn.execute("COMMIT" if kind is None else "ROLLBACK")
        elif kind is None:
            db.conn.execute("RELEASE unit")
        else:
            db.conn.execute("ROLLBACK TO unit")
            db.conn.execute("RELEASE unit")
