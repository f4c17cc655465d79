"""`emay-mock serve --db PATH` as a process: a path that is not the mock's file, or cannot become
one, is refused before anything listens (two lines, exit 2) and left byte for byte as it was;
a new path, an empty file and a file from before the identity start."""

from __future__ import annotations

import inspect
import random
import signal
import sqlite3
from pathlib import Path

import aiohttp
import pytest

from emay_mock.store.db import APPLICATION_ID
from tests.e2e.process import run, serve
from tests.store.test_db import application_id, digest, filled, other_program, overwrite_pages


def directory(path: Path) -> Path:
    path.mkdir()
    return path


def random_bytes(path: Path) -> Path:
    path.write_bytes(random.Random(7).randbytes(20_000))
    return path


def text_file(path: Path) -> Path:
    path.write_text("# my notes\nnot a database at all\n", "utf-8")
    return path


def another_programs(path: Path) -> Path:
    other_program(path)
    return path


async def damaged(path: Path) -> Path:
    await filled(path)
    overwrite_pages(path)
    return path


CASES = {
    "a directory": (directory, "it is a directory, not a file", "name a file in it, e.g. --db "),
    "in a missing folder": (lambda p: p.parent / "missing" / "x.db", "missing does not exist",
                            "create it first (mkdir -p "),
    "in a folder nobody can write": (lambda _: Path("/proc/x.db"), "it cannot be created in /proc",
                                     "give a path in a folder this user can write to"),
    "random bytes": (random_bytes, "it is not a SQLite database; it is left as it was", "give a new path"),
    "a text file": (text_file, "it is not a SQLite database; it is left as it was", "give a new path"),
    "another program's SQLite": (another_programs, "a SQLite database of another program (tables: users)",
                                 "give a new path"),
    "a damaged file of the mock": (damaged, "it is damaged: SQLite says database disk image is malformed",
                                   "restore it from a copy"),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
async def test_a_db_path_the_mock_cannot_use_is_refused_before_listening(tmp_path: Path, case: str) -> None:
    make, problem, remedy = CASES[case]
    made = make(tmp_path / "given.db")
    path = await made if inspect.isawaitable(made) else made
    assert isinstance(path, Path)
    before = sorted(tmp_path.rglob("*"))
    hashed = digest(path) if path.is_file() else None
    code, out, err = await run("serve", "--port", "0", "--db", str(path))
    assert code == 2, err
    assert "listening" not in out and "Traceback" not in err
    first, second = err.splitlines()
    assert first.startswith(f"emay-mock: cannot use {path} as the database: ") and problem in first, err
    assert second.startswith(f"  {remedy}") and second.endswith("; nothing was started"), err
    assert sorted(tmp_path.rglob("*")) == before  # nothing made beside it
    if hashed is not None:
        assert digest(path) == hashed


async def stopped(served_process: object) -> None:
    process = served_process
    assert hasattr(process, "send_signal") and hasattr(process, "wait")
    process.send_signal(signal.SIGTERM)
    assert await process.wait() == 0


@pytest.mark.parametrize("start", ["a new path", "an empty file"])
async def test_a_new_path_or_an_empty_file_starts_and_becomes_the_mocks(tmp_path: Path, start: str) -> None:
    path = tmp_path / "state.db"
    if start == "an empty file":
        path.touch()
    async with serve(["--db", str(path)]) as served, aiohttp.ClientSession() as http:
        async with http.get(f"{served.url}/_mock/health") as resp:
            assert resp.status == 200
        await stopped(served.process)
    assert application_id(path) == APPLICATION_ID


async def test_a_file_from_before_the_identity_starts_with_its_messages_and_is_given_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.db"
    sent = await filled(path, 3)
    with sqlite3.connect(path) as conn:  # as emay-mock with schema 2 and no identity left it
        conn.execute("PRAGMA application_id = 0")
    async with serve(["--db", str(path)]) as served, aiohttp.ClientSession() as http:
        async with http.get(f"{served.url}/_mock/messages", params={"appId": "A"}) as resp:
            listed = [m["smsId"] for m in (await resp.json())["messages"]]
        assert sorted(listed) == sorted(sent)
        await stopped(served.process)
    assert application_id(path) == APPLICATION_ID
