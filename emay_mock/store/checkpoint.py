"""The checkpoint file beside the database (`<db>-checkpoint`): the messages and the pull
queues as they stood when it was taken, column by column, and how far it goes.

The database stays the durable log and the truth. A checkpoint stands for the rows up to
its highest msg_id and its highest pull_queue seq; a start reads it, then from the
database only what came after (the rows above those ids) and what changed below them
since (the messages named in `touched`, and the queue entries taken from the front). So
it stays a valid base while newer rows are appended, and a restart after a crash reads
it as a restart after a clean stop does (docs/DECISIONS.md#storage-and-restart).

The file is a header (magic, token, checksum, length) and records, each a length and a
`marshal` value (a string a record shares is written once): the first says what the
checkpoint covers and names the columns; then the messages a chunk at a time, then the
queues. It is used only when the database names it (`meta`, key `checkpoint2`: its
token and the ids it covers, set in the transaction that clears `touched` up to where it
was taken), and its checksum and format hold; else the start reads the database and
says why in the log. The stores then check that the rows they hold are as many as the
database's, and read the database whole on any doubt.
"""

from __future__ import annotations

import contextlib
import logging
import marshal
import mmap
import os
import secrets
import struct
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from emay_mock.store.db import Database, names_a_file

log = logging.getLogger("emay_mock.store")

META_KEY = "checkpoint2"  # "<token> <highest msg_id> <highest seq>"
# The key of the checkpoints before the format that stays a base: such a one is not read
# (its file is rewritten by the next checkpoint).
OLD_META_KEY = "checkpoint"
_MAGIC = b"EMAYCKP2"
_HEADER = struct.Struct(">8s32sIQ")  # magic, token, crc32 of the records, their length
_FRAME = struct.Struct(">IB")  # before each record: its length and its kind
_FORMAT = 2
HEAD = ord("h")  # the first record: the format, what it covers, the columns' names
MESSAGES = ord("m")  # a record of message columns
QUEUE = ord("q")  # a record of one queue's entries


def path_for(db: Database) -> Path | None:
    """Beside the database file; none for a database in memory (`--db :memory:`)."""
    if db.path is None or not names_a_file(db.path):
        return None
    return Path(db.path + "-checkpoint")


class Base:
    """A checkpoint read at start: the highest ids it stands for, its queues, and its
    messages' columns, decoded a record at a time as the store builds from them (a
    million messages' columns at once would outlive the start as heap the process never
    gives back). `close` when done."""

    def __init__(self, mapped: mmap.mmap, view: memoryview, msg_id: int, seq: int) -> None:
        self._mapped, self._view = mapped, view
        self.msg_id, self.seq = msg_id, seq
        self.messages: dict[str, Any] = {}
        self.queues: dict[str, Any] = {}
        self._frames: list[tuple[int, int]] = []  # the messages' records: where, how long

    def _chunks(self) -> Iterator[Any]:
        for at, length in self._frames:
            with self._view[at : at + length] as record:
                yield marshal.loads(record)

    def close(self) -> None:
        self._view.release()
        self._mapped.close()


class File:
    """A checkpoint being written, record by record, to `<path>.partial`; then sealed (synced)
    and put in place (the caller then names it in the database)."""

    def __init__(self, path: Path, msg_id: int, seq: int, names: dict[str, Sequence[str]]) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        self.token = secrets.token_hex(16)
        self.msg_id, self.seq = msg_id, seq
        self._crc = 0
        self._length = 0
        self.sealed = False
        self._out: IO[bytes] = open(self.partial, "wb")  # noqa: SIM115  # closed by done() or discard()
        self._out.write(b"\0" * _HEADER.size)
        self.add(HEAD, (_FORMAT, msg_id, seq, {k: list(v) for k, v in names.items()}))

    def add(self, kind: int, record: Any) -> None:
        data = marshal.dumps(record, 4)
        framed = _FRAME.pack(len(data), kind) + data
        self._crc = zlib.crc32(framed, self._crc)
        self._length += len(framed)
        self._out.write(framed)

    def seal(self) -> None:
        """The header written and the file synced (again: nothing). Blocks on the disk: the
        loop runs it in a thread. Raises OSError (a full disk, say)."""
        if self.sealed:
            return
        out = self._out
        out.seek(0)
        out.write(_HEADER.pack(_MAGIC, self.token.encode(), self._crc, self._length))
        out.flush()
        os.fsync(out.fileno())
        out.close()
        self.sealed = True

    def place(self) -> None:
        """Put in place of the last one (then name it in the database)."""
        os.replace(self.partial, self.path)

    def discard(self) -> None:
        self._out.close()
        with contextlib.suppress(FileNotFoundError):
            self.partial.unlink()

    @property
    def meta(self) -> str:
        """What the database records of it."""
        return f"{self.token} {self.msg_id} {self.seq}"


def read(db: Database) -> Base | None:
    """The checkpoint the database names, if its file is whole and of this format; else None."""
    path = path_for(db)
    if path is None or db.conn is None:
        return None
    named = db.meta(META_KEY)
    if named is None:  # none written yet, or invalidated (a reset)
        return None
    try:
        token, msg_id, seq = named.split()
        base, detail = _read(path, token, int(msg_id), int(seq))
    except (OSError, ValueError, EOFError, TypeError, KeyError, IndexError, struct.error) as exc:
        base, detail = None, f"{type(exc).__name__}: {exc}"
    if base is None:
        log.warning("checkpoint %s not used (%s): reading the database", path, detail)
    return base


def _read(path: Path, token: str, msg_id: int, seq: int) -> tuple[Base | None, str]:
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size < _HEADER.size:
            return None, "shorter than its header"
        # Mapped, not read: the records are decoded from the page cache, with no copy first.
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    view = memoryview(mapped)
    base, detail = None, ""
    try:
        base, detail = _decode(view, token, msg_id, seq, mapped)
    finally:
        if base is None:
            view.release()
            mapped.close()
    return base, detail


def _decode(
    view: memoryview, token: str, msg_id: int, seq: int, mapped: mmap.mmap
) -> tuple[Base | None, str]:
    magic, its_token, crc, length = _HEADER.unpack_from(view)
    if magic != _MAGIC:
        return None, "not a checkpoint of this format"
    if its_token.decode(errors="replace") != token:
        return None, "the database names another checkpoint"
    if len(view) - _HEADER.size != length or zlib.crc32(view[_HEADER.size :]) != crc:
        return None, "its checksum does not match"
    base = Base(mapped, view, msg_id, seq)
    queues: dict[tuple[str, str], tuple[list[int], list[int]]] = {}
    names: dict[str, list[str]] = {}
    at = _HEADER.size
    while at < len(view):
        size, kind = _FRAME.unpack_from(view, at)
        at += _FRAME.size
        if kind == MESSAGES:
            base._frames.append((at, size))
        elif kind in (HEAD, QUEUE):
            with view[at : at + size] as data:
                record = marshal.loads(data)
            if kind == HEAD:
                fmt, its_msg_id, its_seq, names = record
                if fmt != _FORMAT or (its_msg_id, its_seq) != (msg_id, seq):
                    base.close()
                    return None, f"format {fmt}, this version reads {_FORMAT}"
            else:
                app_id, kind_, seqs, refs = record
                held = queues.setdefault((app_id, kind_), ([], []))
                held[0].extend(seqs)
                held[1].extend(refs)
        at += size
    if at != len(view) or not names:
        base.close()
        return None, "its records are not whole"
    queue_columns: list[list[Any]] = [[k[0] for k in queues], [k[1] for k in queues]]
    queue_columns += [[v[0] for v in queues.values()], [v[1] for v in queues.values()]]
    base.messages = part(names["messages"], base._chunks())
    base.queues = part(names["queues"], queue_columns)
    return base, ""


def discard(db: Database) -> None:
    """The file of a checkpoint no longer named (or of the format before), and any partial one."""
    path = path_for(db)
    if path is not None:
        for p in (path, path.with_name(path.name + ".partial")):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


def discard_partial(db: Database) -> None:
    path = path_for(db)
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + ".partial").unlink()


def part(names: Sequence[str], columns: Any) -> dict[str, Any]:
    """A store's part: its columns (or, for the messages, chunks of them), named."""
    return {"names": list(names), "columns": columns}


def chunks(saved: Any, names: Sequence[str]) -> Iterable[list[list[Any]]] | None:
    """A part held in chunks of columns (the messages'), if it names these columns (each
    chunk is checked with `columns` as it is taken); else None."""
    if saved is None:
        return None
    if type(saved) is not dict or saved.get("names") != list(names):
        log.warning("a checkpoint part not of the columns %s: read from the database", list(names))
        return None
    held: Iterable[list[list[Any]]] = saved["columns"]
    return held


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
