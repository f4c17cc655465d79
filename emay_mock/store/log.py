"""The durable log: what changed during one loop turn, written to the file in one transaction.

The stores change memory at once and tell the log the rows that changed. The first change
of a loop turn opens a group and schedules its flush at the end of the turn; the flush
writes every statement of the group with `executemany`, in one transaction (inserts, then
updates, then deletes), and only then wakes the requests waiting on `committed()`. So a
request answered SUCCESS is on disk, and a crash loses at most the changes nobody was told
about; SQLite's atomic commit means a group is in the file whole or not at all.

Without a file every method returns at once and nothing is kept.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

from emay_mock.store.db import Database

log = logging.getLogger("emay_mock.store")

# How often what was committed is copied from the write-ahead log into the database (in a
# thread): the log stays a second's commits long, and a start after a crash replays no more.
WAL_EVERY_S = 1.0

Row = Sequence[Any]


async def in_thread_to_the_end(work: Callable[[], None]) -> None:
    """`work()` in a thread (file I/O the event loop must not wait for), awaited. Cancelled
    (a stop), it still waits for the thread to end before passing the cancellation on, so
    that what stops next never meets the work half done."""
    running = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        await asyncio.shield(running)
    except asyncio.CancelledError:
        await running
        raise


class Log:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.durable = db.durable
        self._inserts: dict[str, list[Row]] = {}
        self._updates: dict[str, dict[Hashable, Row]] = {}
        self._deletes: dict[str, list[Row]] = {}
        self._group: asyncio.Future[None] | None = None
        self.groups = 0  # transactions written so far
        self.rows = 0  # rows written so far
        self.failures = 0  # groups that could not be written

    # -- recording changes --------------------------------------------------------------------

    def insert(self, sql: str, row: Row) -> None:
        if self.durable:
            self._inserts.setdefault(sql, []).append(row)
            self._touch()

    def insert_many(self, sql: str, rows: Iterable[Row]) -> None:
        if self.durable:
            self._inserts.setdefault(sql, []).extend(rows)
            self._touch()

    def update(self, sql: str, key: Hashable, row: Row) -> None:
        """A row's new values; within a group, the last update of a key wins."""
        if self.durable:
            self._updates.setdefault(sql, {})[key] = row
            self._touch()

    def delete(self, sql: str, row: Row) -> None:
        if self.durable:
            self._deletes.setdefault(sql, []).append(row)
            self._touch()

    def delete_many(self, sql: str, rows: Iterable[Row]) -> None:
        if self.durable:
            self._deletes.setdefault(sql, []).extend(rows)
            self._touch()

    def _touch(self) -> None:
        if self._group is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not serving yet (start-up): written at once
            self.flush()
            return
        self._group = loop.create_future()
        loop.call_soon(self.flush)

    # -- writing ------------------------------------------------------------------------------

    def flush(self) -> None:
        """Write what is pending in one transaction, then release whoever waits for it."""
        group, self._group = self._group, None
        inserts, updates, deletes = self._inserts, self._updates, self._deletes
        if not (inserts or updates or deletes):
            _settle(group, None)
            return
        self._inserts, self._updates, self._deletes = {}, {}, {}
        conn = self.db.conn
        assert conn is not None
        try:
            conn.execute("BEGIN")
            for sql, rows in inserts.items():
                conn.executemany(sql, rows)
                self.rows += len(rows)
            for sql, keyed in updates.items():
                conn.executemany(sql, keyed.values())
                self.rows += len(keyed)
            for sql, rows in deletes.items():
                conn.executemany(sql, rows)
                self.rows += len(rows)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log.error("writing to %s failed; this loop turn's changes are not stored: %s", self.db.path, exc)
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self.failures += 1
            _settle(group, exc)
            return
        self.groups += 1
        _settle(group, None)

    async def copy_wal(self) -> None:
        """Every WAL_EVERY_S, if anything was committed since, copy the write-ahead log into
        the database (`Database.copy_wal`), in a thread: the copy syncs the file, which the
        event loop must not wait for. Runs until cancelled; a copy under way ends first."""
        if not self.durable:
            return
        copied = self.groups
        while True:
            await asyncio.sleep(WAL_EVERY_S)
            if self.groups == copied:
                continue
            copied = self.groups
            await in_thread_to_the_end(self.db.copy_wal)

    async def committed(self) -> None:
        """Wait until what this loop turn changed is in the file (at once when nothing is pending)."""
        group = self._group
        if group is not None:
            await asyncio.shield(group)

    def now(self, statements: Iterable[tuple[str, Sequence[Any]]]) -> None:
        """Run statements at once, in one transaction, after what is pending (reset, pruning)."""
        if not self.durable:
            return
        self.flush()
        conn = self.db.conn
        assert conn is not None
        conn.execute("BEGIN")
        try:
            for sql, args in statements:
                conn.execute(sql, args)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def _settle(group: asyncio.Future[None] | None, exc: Exception | None) -> None:
    if group is None or group.done():
        return
    if exc is None:
        group.set_result(None)
    else:
        group.set_exception(exc)
