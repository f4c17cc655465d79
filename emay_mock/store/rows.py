"""The message row, and the table, the insert and the checkpoint columns it makes.

A message's stored columns are the fields of `MessageRow` in their order, typed by their
annotations; a field marked `MEMORY` lives in memory only. So a new column is one field
here: the schema, the insert, the start-up read and the checkpoint follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import Field, dataclass, field, fields
from typing import Any

MEMORY = {"memory": True}  # not a column: held in memory only
# A column stored as NULL when it equals the column it names, and read back as that one:
# most messages' normalised mobile is the mobile itself, and one string serves both.
_SAME_AS = "same_as"
_SQL_TYPES = {"int": "INTEGER", "str": "TEXT", "float": "REAL", "bool": "INTEGER"}


@dataclass(slots=True, eq=False)
class MessageRow:
    msg_id: int
    sms_id: str
    app_id: str
    mobile: str
    mobile_norm: str = field(metadata={_SAME_AS: "mobile"})
    content: str
    custom_sms_id: str | None
    extended_code: str | None
    endpoint: str
    template_id: str | None
    submit_wall: int
    submit_at: int
    timer_time: int | None
    send_at: int
    segments: int
    planned_state: str
    report_due: int
    state: str | None = None
    report_at: int | None = None
    short_url: str | None = None
    rules: str | None = None
    chaos: str | None = None  # scenario push chaos for this message's report: duplicate, reverse
    # The push batches that carried its report, how many of its pushes are not final yet
    # (it is kept until they are), and whether retention removed it.
    batches: tuple[int, ...] = field(default=(), metadata=MEMORY)
    hold: int = field(default=0, metadata=MEMORY)
    gone: bool = field(default=False, metadata=MEMORY)


class Table:
    """A row type's SQLite table: one column per stored field, the first the primary key."""

    def __init__(self, name: str, row: type[Any]) -> None:
        stored: list[Field[Any]] = [f for f in fields(row) if not f.metadata.get("memory")]
        self.name = name
        self.columns = tuple(f.name for f in stored)
        key = self.columns[0]
        # The key is `INTEGER PRIMARY KEY`, SQLite's own row id.
        defs = [f"{f.name} " + ("INTEGER PRIMARY KEY" if f.name == key else _sql_type(f)) for f in stored]
        self.create = f"CREATE TABLE IF NOT EXISTS {name} (\n    " + ",\n    ".join(defs) + "\n);"
        listed = ", ".join(self.columns)
        self.insert = f"INSERT INTO {name}({listed}) VALUES ({', '.join('?' * len(stored))})"
        self.select_from = f"SELECT {listed} FROM {name}"
        self.select = f"{self.select_from} ORDER BY {key}"
        self.delete = f"DELETE FROM {name} WHERE {key} = ?"
        # A row's stored values, in column order. Written as source from the row type's own
        # field names and compiled, as dataclasses writes an __init__: a batch's rows then
        # cost one call each, where a loop over the columns costs several.
        parts = [
            f"None if r.{f.name} == r.{f.metadata[_SAME_AS]} else r.{f.name}" if _SAME_AS in f.metadata
            else f"r.{f.name}"
            for f in stored
        ]  # fmt: skip
        self.values: Callable[[Any], tuple[Any, ...]] = eval(f"lambda r: ({', '.join(parts)},)")


def _sql_type(f: Field[Any]) -> str:
    annotation = str(f.type)  # a string: `from __future__ import annotations`
    parts = [part.strip() for part in annotation.split("|")]
    nullable = "None" in parts or _SAME_AS in f.metadata
    base = next(p for p in parts if p != "None")
    return _SQL_TYPES[base] + ("" if nullable else " NOT NULL")


MESSAGES = Table("messages", MessageRow)
