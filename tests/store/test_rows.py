"""A message's columns follow from its row type: the table, the insert, the read and the
checkpoint all take a new field without another edit."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, fields
from pathlib import Path

from emay_mock.store.db import Database
from emay_mock.store.rows import MEMORY, MESSAGES, MessageRow, Table
from emay_mock.store.state import Store


@dataclass(slots=True)
class Thing:
    key: int
    name: str
    alias: str = field(metadata={"same_as": "name"})
    note: str | None = None
    seen: bool = field(default=False, metadata=MEMORY)


def test_a_row_type_makes_its_table_insert_and_read() -> None:
    table = Table("things", Thing)
    assert table.columns == ("key", "name", "alias", "note")
    conn = sqlite3.connect(":memory:")
    conn.execute(table.create)
    conn.execute(table.insert, table.values(Thing(1, "a", "a")))
    conn.execute(table.insert, table.values(Thing(2, "b", "c", "x", seen=True)))
    # A `same_as` column equal to its twin is stored as NULL; a memory field not at all.
    assert conn.execute(table.select).fetchall() == [(1, "a", None, None), (2, "b", "c", "x")]
    declared = {row[1]: (row[2], row[3], row[5]) for row in conn.execute("PRAGMA table_info(things)")}
    assert declared == {
        "key": ("INTEGER", 0, 1),
        "name": ("TEXT", 1, 0),
        "alias": ("TEXT", 0, 0),
        "note": ("TEXT", 0, 0),
    }


def test_the_messages_table_the_insert_and_the_checkpoint_are_the_row_type_s_fields(tmp_path: Path) -> None:
    stored = tuple(f.name for f in fields(MessageRow) if not f.metadata.get("memory"))
    assert MESSAGES.columns == stored and {"batches", "hold", "gone"}.isdisjoint(stored)
    db = Database(tmp_path / "state.db")
    assert db.conn is not None
    assert tuple(row[1] for row in db.conn.execute("PRAGMA table_info(messages)")) == stored
    db.close()
    part = Store().messages.to_checkpoint()
    assert tuple(part["names"]) == stored
