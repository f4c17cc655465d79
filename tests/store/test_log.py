"""The durable log: a loop turn's changes written in one transaction, released after it."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from emay_mock.store.db import Database
from emay_mock.store.log import Log

INSERT = "INSERT INTO meta(key, value) VALUES (?, ?)"
UPDATE = "UPDATE meta SET value = ? WHERE key = ?"
DELETE = "DELETE FROM meta WHERE key = ?"


def rows(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT key, value FROM meta WHERE key LIKE 't%'").fetchall())


async def test_a_turn_s_changes_are_one_transaction_written_at_its_end(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    log = Log(Database(path))
    log.insert(INSERT, ("t1", "a"))
    log.update(UPDATE, "t1", ("b", "t1"))  # inserted and updated in the same turn
    log.update(UPDATE, "t1", ("c", "t1"))  # the last update of a key wins
    log.insert(INSERT, ("t2", "x"))
    log.delete(DELETE, ("t2",))  # inserted then deleted: inserts go first, deletes last
    assert rows(path) == {}  # nothing before the end of the turn
    await log.committed()
    assert rows(path) == {"t1": "c"}
    assert log.groups == 1


async def test_without_a_file_nothing_is_kept_and_nobody_waits() -> None:
    log = Log(Database(None))
    log.insert(INSERT, ("t1", "a"))
    await asyncio.wait_for(log.committed(), 0.01)  # returns at once
    assert log.groups == 0


def test_off_the_event_loop_a_change_is_written_at_once(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    log = Log(Database(path))
    log.insert(INSERT, ("t1", "a"))
    assert rows(path) == {"t1": "a"}


async def test_a_failing_group_is_rolled_back_whole_and_its_waiters_told(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    log = Log(Database(path))
    log.insert(INSERT, ("t1", "a"))
    await log.committed()
    log.insert(INSERT, ("t2", "b"))
    log.insert(INSERT, ("t1", "duplicate key"))  # fails inside the transaction
    try:
        await log.committed()
    except sqlite3.IntegrityError:
        pass
    else:
        raise AssertionError("the waiter was not told")
    assert rows(path) == {"t1": "a"}  # t2, written before the failure, is not there either
