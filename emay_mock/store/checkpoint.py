"""The messages and the pull queues as they were at a clean stop, in one file beside the
database (`<db>-checkpoint`).

The database stays the durable log and the truth: it is written as things change, and a
restart after a crash reads it back row by row. At a clean stop, with everything
committed, the largest tables are also written here column by column (`marshal`: a string
a batch shares is written once); the next start reads them in a fraction of the time
(docs/benchmarks.md, figure 8). It is trusted only when all of these hold:

- the database names it: its token is in `meta`, set after the file is complete and
  synced, and removed the moment a start has read it (before anything can be written),
  so a crash at any point after that start leaves a database the checkpoint no longer
  matches, and it is not used;
- its checksum and format are what this version writes;
- the database's tables it stands for hold as many rows, up to the same highest id.

Anything else and the start reads the database, as it would without a checkpoint, and
says why in the log; a part whose columns are not what its store expects is read from
the database alone (the database holds everything, so any part may come from either).
"""

from __future__ import annotations

import contextlib
import logging
import marshal
import os
import secrets
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from emay_mock.store.db import META_UPSERT, Database

log = logging.getLogger("emay_mock.store")

META_KEY = "checkpoint"
_MAGIC = b"EMAYCKP1"
_HEADER = struct.Struct(">8s32sIQ")  # magic, token, crc32 of the payload, payload length
_FORMAT = 1


def path_for(db: Database) -> Path | None:
    """Beside the database file; none for a database in memory (`--db :memory:`)."""
    if db.path is None or db.path == ":memory:" or db.path.startswith("file:"):
        return None
    return Path(db.path + "-checkpoint")


# The tables a checkpoint stands for: their rows are what it holds.
TABLES = ("messages", "pull_queue")


def _shape(db: Database) -> list[tuple[str, int, int | None]]:
    """Each table's row count and highest row id: what a checkpoint must agree with."""
    conn = db.conn
    assert conn is not None
    shape = []
    for table in TABLES:
        (count,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        (highest,) = conn.execute(f"SELECT max(rowid) FROM {table}").fetchone()
        shape.append((table, count, highest))
    return shape


def write(db: Database, sections: dict[str, Any]) -> None:
    """Write the sections (marshal-able values) and name the file in the database: call it
    last, with everything committed."""
    path = path_for(db)
    conn = db.conn
    if path is None or conn is None:
        return
    token = secrets.token_hex(16).encode()
    payload = marshal.dumps((_FORMAT, _shape(db), sections), 4)
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "wb") as out:
            out.write(_HEADER.pack(_MAGIC, token, zlib.crc32(payload), len(payload)))
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except OSError as exc:  # a full disk, say: the next start reads the database instead
        log.warning("no checkpoint written to %s (%s): the next start reads the database", path, exc)
        _discard(path)
        return
    conn.execute(META_UPSERT, (META_KEY, token.decode()))


def read(db: Database) -> dict[str, Any] | None:
    """The sections, when the database names this checkpoint and agrees with it; else None.

    Either way, once the start has read everything, `release` has the database stop naming
    it and removes the file: it describes no state after this start."""
    path = path_for(db)
    if path is None or db.conn is None:
        return None
    token = db.meta(META_KEY)
    if token is None:  # none written, or one a start read before (then a crash): stale
        return None
    try:
        sections, detail = _read(path, token)
        if sections is not None:
            shape = _shape(db)
            if shape != detail:
                sections, detail = None, f"the database holds {shape}, the checkpoint stands for {detail}"
    except (OSError, ValueError, EOFError, TypeError) as exc:
        sections, detail = None, f"{type(exc).__name__}: {exc}"
    if sections is None:
        log.warning("checkpoint %s not used (%s): reading the database", path, detail)
    return sections


def release(db: Database) -> None:
    """After the start's read: the database names no checkpoint, and the file goes (before
    anything else is written, so a crash from here on leaves the database alone)."""
    path = path_for(db)
    if path is None or db.conn is None:
        return
    if db.meta(META_KEY) is not None:
        db.conn.execute("DELETE FROM meta WHERE key = ?", (META_KEY,))
    _discard(path)


def _read(path: Path, token: str) -> tuple[dict[str, Any] | None, Any]:
    """The sections and the shape of the tables they stand for; or None and why not."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < _HEADER.size:
        return None, "shorter than its header"
    magic, its_token, crc, length = _HEADER.unpack_from(data)
    payload = memoryview(data)[_HEADER.size :]
    if magic != _MAGIC:
        return None, "not a checkpoint of this format"
    if its_token.decode(errors="replace") != token:
        return None, "the database names another checkpoint"
    if len(payload) != length or zlib.crc32(payload) != crc:
        return None, "its checksum does not match"
    fmt, shape, sections = marshal.loads(payload)
    if fmt != _FORMAT or type(sections) is not dict:
        return None, f"format {fmt}, this version reads {_FORMAT}"
    return sections, [tuple(t) for t in shape]


def _discard(path: Path) -> None:
    """Remove the file once read or found stale: it describes no state after this start."""
    for p in (path, path.with_name(path.name + ".partial")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def part(names: Sequence[str], columns: list[list[Any]]) -> dict[str, Any]:
    """A store's part: its columns, named."""
    return {"names": list(names), "columns": columns}


def columns(saved: Any, names: Sequence[str]) -> list[list[Any]] | None:
    """A part's columns, if they are the ones named, whole and of one length; else None (the
    store then reads the database, which holds the same)."""
    if saved is None:
        return None
    if type(saved) is not dict or saved.get("names") != list(names):
        log.warning("a checkpoint part not of the columns %s: read from the database", list(names))
        return None
    cols = saved.get("columns")
    if type(cols) is not list or len(cols) != len(names) or any(type(c) is not list for c in cols):
        return None
    if len({len(c) for c in cols}) > 1:
        return None
    return cols
