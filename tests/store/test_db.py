"""The database file carries the mock's identity; a path that is not the mock's file (or cannot
become one) is refused with what is wrong and what to do, and left byte for byte as it was."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from emay_mock.protocol.send import Recipient, SendOrder
from emay_mock.protocol.times import LONG_FORMAT
from emay_mock.settings import AccountSpec
from emay_mock.store import log as store_log
from emay_mock.store.db import APPLICATION_ID, Database, Refused
from emay_mock.store.state import Store
from tests.store.test_state import started, submit


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def application_id(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA application_id").fetchone()[0])


async def filled(path: Path, messages: int = 2000) -> list[str]:
    """A mock's file holding `messages` messages, as a kill -9 leaves it (no checkpoint)."""
    p = await started(path)
    p.accounts.put(AccountSpec("A", "0123456789ABCDEF", balance=messages))
    sent: list[str] = []
    for first in range(0, messages, 500):
        batch = [Recipient(f"138{i:08d}", f"m{i}") for i in range(first, min(first + 500, messages))]
        sent += await submit(p, SendOrder("sendBatchOnlySMS", batch, LONG_FORMAT))
    await p.stop()
    p.store.log.flush()
    p.store.db.close()
    return sent


def overwrite_pages(path: Path) -> None:
    """Random bytes over every seventh page after the first two: the header still says SQLite."""
    data = bytearray(path.read_bytes())
    size = 4096
    rng = random.Random(25)
    for page in range(2, len(data) // size, 7):
        data[page * size : (page + 1) * size] = rng.randbytes(size)
    path.write_bytes(bytes(data))


def other_program(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO users(name) VALUES ('someone else''s data')")
    sqlite3.connect(path).close()


def other_program_marked(path: Path) -> None:
    """Another program's file that names itself, with tables the mock also has."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA application_id = 305419896")
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', '2')")


REFUSED: dict[str, tuple[Callable[[Path], object], str, str]] = {
    "random bytes": (lambda p: p.write_bytes(random.Random(1).randbytes(5000)), "it is not a SQLite database",
                     "give a new path"),
    "a text file": (lambda p: p.write_text("name,phone\nli,13800000000\n"), "it is not a SQLite database",
                    "give a new path"),
    "shorter than a SQLite header": (lambda p: p.write_bytes(b"SQLite format 3\x00"),
                                     "it is not a SQLite database", "give a new path"),
    "another program's": (other_program, "a SQLite database of another program (tables: users)",
                          "give a new path"),
    "another program's, naming itself": (other_program_marked, "another program (application_id 0x12345678)",
                                         "give a new path"),
}  # fmt: skip


@pytest.mark.parametrize("case", REFUSED)
def test_a_file_that_is_not_the_mocks_is_refused_and_left_as_it_was(tmp_path: Path, case: str) -> None:
    make, problem, remedy = REFUSED[case]
    path = tmp_path / "given.db"
    make(path)
    before = digest(path)
    with pytest.raises(Refused) as refused:
        Store(path)
    first, second = str(refused.value).splitlines()
    assert first.startswith(f"cannot use {path} as the database: ") and problem in first
    assert second.strip().startswith(remedy)
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["given.db"]  # no -wal, -shm or checkpoint


async def test_a_damaged_file_of_the_mock_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    await filled(path)
    overwrite_pages(path)
    before = digest(path)
    with pytest.raises(
        Refused, match="it is damaged: SQLite says database disk image is malformed"
    ) as refused:
        Store(path)
    assert "restore it from a copy" in str(refused.value)
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.db"]


async def test_a_file_of_an_older_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    await filled(path, 3)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    before = digest(path)
    with pytest.raises(Refused, match="its schema is version 1, this emay-mock reads 2"):
        Store(path)
    assert digest(path) == before


def test_a_directory_a_missing_folder_or_an_uncreatable_file_is_refused(tmp_path: Path) -> None:
    cases = [
        (tmp_path, "it is a directory, not a file", f"--db {tmp_path / 'emay.db'}"),
        (tmp_path / "missing" / "x.db", f"the folder {tmp_path / 'missing'} does not exist", "mkdir -p"),
        (Path("/proc/x.db"), "it cannot be created in /proc", "a folder this user can write to"),
    ]
    for path, problem, remedy in cases:
        with pytest.raises(Refused) as refused:
            Database(path)
        assert problem in str(refused.value) and remedy in str(refused.value)
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("start", ["new", "empty file", "empty SQLite database"])
def test_a_new_path_or_an_empty_file_gets_the_schema_and_the_identity(tmp_path: Path, start: str) -> None:
    path = tmp_path / "state.db"
    if start == "empty file":
        path.touch()
    elif start == "empty SQLite database":
        sqlite3.connect(path).execute("VACUUM").connection.close()
        assert path.stat().st_size > 0
    Store(path).close()
    assert application_id(path) == APPLICATION_ID == int.from_bytes(b"EMAY", "big")
    Store(path).close()  # and it is the mock's from then on


async def test_a_file_from_before_the_identity_is_read_and_given_it(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    sent = await filled(path, 3)
    with sqlite3.connect(path) as conn:  # as an emay-mock of schema 2 without the identity left it
        conn.execute("PRAGMA application_id = 0")
    assert application_id(path) == 0
    store = Store(path)
    assert [m.sms_id for m in store.messages.all()] == sent
    store.close()
    assert application_id(path) == APPLICATION_ID


def _in_database_file(path: Path) -> int:
    """The messages the database file itself holds, its write-ahead log left unread. Read
    while a copy may be writing it: a torn read is read again."""
    for _ in range(100):
        conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
        try:
            (count,) = conn.execute("SELECT count(*) FROM messages").fetchone()
            return int(count)
        except sqlite3.OperationalError as exc:  # not even the schema is copied yet
            assert "no such table" in str(exc)
            return 0
        except sqlite3.DatabaseError:  # "malformed": pages of a copy under way
            time.sleep(0.01)
        finally:
            conn.close()
    raise AssertionError(f"{path} never read whole")


async def test_commits_reach_the_database_file_from_a_thread_never_inside_a_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit runs on the event loop: it never copies the write-ahead log into the file
    (that copy syncs the disk). The store's background work copies it, in a thread, within
    WAL_EVERY_S of a commit; then the log is written again from its beginning."""
    monkeypatch.setattr(store_log, "WAL_EVERY_S", 0.05)
    path = tmp_path / "state.db"
    p = await started(path)
    try:
        assert p.store.db.conn is not None
        assert p.store.db.conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        p.accounts.put(AccountSpec("A", "0123456789ABCDEF", balance=10_000))
        wal = Path(f"{path}-wal")
        batch = [Recipient(f"138{i:08d}", f"m{i}") for i in range(500)]
        await submit(p, SendOrder("sendBatchOnlySMS", batch, LONG_FORMAT))
        await p.store.committed()
        for _ in range(100):
            if _in_database_file(path) == 500:
                break
            await asyncio.sleep(0.05)
        assert _in_database_file(path) == 500
        size = wal.stat().st_size
        for _ in range(3):  # as much again, three times: written over the copied log, not after it
            await submit(p, SendOrder("sendBatchOnlySMS", batch, LONG_FORMAT))
            await p.store.committed()
            await asyncio.sleep(0.2)
        assert wal.stat().st_size <= size * 1.5
        assert _in_database_file(path) == 2000
    finally:
        await p.stop()
        p.store.db.close()
    assert not wal.exists()  # a clean stop leaves the file whole, with no log beside it


def test_a_copy_of_the_write_ahead_log_that_fails_is_said_once_until_one_succeeds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The operator hears that the WAL grows (a copy that cannot open the file), once, not
    once a second; a copy that succeeds again ends the streak."""
    db = Database(tmp_path / "state.db")
    path = db.path
    try:
        db.path = str(tmp_path / "gone" / "state.db")  # what the copier's connection cannot open
        with caplog.at_level(logging.DEBUG, logger="emay_mock.store"):
            db.copy_wal()
            db.copy_wal()
            db.path = path
            db.copy_wal()  # a copy that succeeds
            assert db._copier is not None
            db._copier.close()  # and then one that fails again (its connection gone)
            db.copy_wal()
        said = [(r.levelno, r.getMessage()) for r in caplog.records if "write-ahead log" in r.getMessage()]
        assert [level for level, _ in said] == [logging.WARNING, logging.DEBUG, logging.WARNING]
        assert "was not copied into it" in said[0][1] and "unable to open" in said[0][1]
        assert "closed database" in said[2][1]
    finally:
        db.path = path
        db.close()
