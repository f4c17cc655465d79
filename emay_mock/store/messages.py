"""Accepted messages (one row per recipient) and their final reports.

A 20-digit smsId does not fit SQLite's 64-bit INTEGER, so each message has a small
internal `msg_id` (its rowid, in submit order) that queues, pushes and jobs refer to;
the smsId is kept as the string it is on the wire, under a unique index.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from emay_mock.store.db import Database

_COLUMNS = (
    "msg_id, sms_id, app_id, mobile, mobile_norm, content, custom_sms_id, extended_code, endpoint, "
    "template_id, submit_wall, submit_at, timer_time, send_at, segments, planned_state, "
    "report_due, state, report_at, short_url, rules, chaos"
)
_PLACEHOLDERS = ", ".join("?" * 22)


@dataclass(slots=True)
class MessageRow:
    msg_id: int
    sms_id: str
    app_id: str
    mobile: str
    mobile_norm: str
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

    def values(self) -> tuple[Any, ...]:
        return (
            self.msg_id, self.sms_id, self.app_id, self.mobile, self.mobile_norm, self.content,
            self.custom_sms_id, self.extended_code, self.endpoint, self.template_id,
            self.submit_wall, self.submit_at, self.timer_time, self.send_at, self.segments,
            self.planned_state, self.report_due, self.state, self.report_at, self.short_url,
            self.rules, self.chaos,
        )  # fmt: skip


def _row(r: sqlite3.Row) -> MessageRow:
    return MessageRow(*r)


@dataclass
class MessageFilter:
    app_id: str | None = None
    mobile: str | None = None
    sms_id: str | None = None
    custom_sms_id: str | None = None
    state: str | None = None
    text: str | None = None
    before: int | None = None  # smsId cursor: only older messages
    after: int | None = None  # smsId cursor: only newer messages


class Messages:
    def __init__(self, db: Database) -> None:
        self.db = db
        row = db.conn.execute("SELECT MAX(msg_id), MAX(sms_id) FROM messages").fetchone()
        self._next_msg_id = int(row[0] or 0) + 1
        self.last_sms_id = int(row[1] or 0)

    def reserve(self, count: int) -> int:
        """The first of `count` consecutive internal ids for rows about to be inserted."""
        first = self._next_msg_id
        self._next_msg_id += count
        return first

    def insert(self, rows: Sequence[MessageRow]) -> None:
        self.db.conn.executemany(
            f"INSERT INTO messages({_COLUMNS}) VALUES ({_PLACEHOLDERS})", [row.values() for row in rows]
        )

    def by_sms_id(self, sms_id: str) -> MessageRow | None:
        r = self.db.conn.execute(f"SELECT {_COLUMNS} FROM messages WHERE sms_id = ?", (sms_id,)).fetchone()
        return None if r is None else _row(r)

    def many(self, msg_ids: Iterable[int]) -> list[MessageRow]:
        ids = list(msg_ids)
        out: list[MessageRow] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            out += [
                _row(r)
                for r in self.db.conn.execute(
                    f"SELECT {_COLUMNS} FROM messages WHERE msg_id IN ({marks}) ORDER BY msg_id", chunk
                )
            ]
        return out

    def report(self, msg_ids: Sequence[int]) -> list[MessageRow]:
        """Give each of these messages still without a report its planned state, at its due time."""
        conn = self.db.conn
        rows = [row for row in self.many(msg_ids) if row.state is None]
        for row in rows:
            row.state, row.report_at = row.planned_state, row.report_due
        conn.executemany(
            "UPDATE messages SET state = ?, report_at = ? WHERE msg_id = ?",
            [(row.state, row.report_at, row.msg_id) for row in rows],
        )
        return rows

    def unreported(self) -> Iterator[tuple[int, str, int]]:
        """(msg_id, appId, report due) of every message still waiting for its report."""
        for r in self.db.conn.execute(
            "SELECT msg_id, app_id, report_due FROM messages WHERE state IS NULL ORDER BY msg_id"
        ):
            yield int(r[0]), str(r[1]), int(r[2])

    def find(self, f: MessageFilter, limit: int) -> list[MessageRow]:
        where: list[str] = []
        args: list[Any] = []
        for column, value in (
            ("sms_id", f.sms_id),
            ("app_id", f.app_id),
            ("mobile_norm", f.mobile),
            ("custom_sms_id", f.custom_sms_id),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if f.state is not None:
            if f.state == "PENDING":
                where.append("state IS NULL")
            else:
                where.append("state = ?")
                args.append(f.state)
        if f.text is not None:
            where.append("instr(content, ?) > 0")
            args.append(f.text)
        # smsIds are 20-digit strings: compared as text, they compare as numbers.
        if f.before is not None:
            where.append("sms_id < ?")
            args.append(str(f.before).zfill(20))
        if f.after is not None:
            where.append("sms_id > ?")
            args.append(str(f.after).zfill(20))
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        order = "ASC" if f.after is not None else "DESC"
        rows = self.db.conn.execute(
            f"SELECT {_COLUMNS} FROM messages {clause} ORDER BY msg_id {order} LIMIT ?", (*args, limit)
        )
        found = [_row(r) for r in rows]
        return found if order == "DESC" else found[::-1]

    def count(self, app_id: str | None = None) -> int:
        if app_id is None:
            return int(self.db.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0])
        return int(
            self.db.conn.execute("SELECT COUNT(*) FROM messages WHERE app_id = ?", (app_id,)).fetchone()[0]
        )

    def submitted_page(
        self, app_id: str, start_wall: int, end_wall: int, after: tuple[int, int], limit: int
    ) -> list[MessageRow]:
        """Messages submitted in [start, end], in submit order, after the (submit_wall, msg_id) cursor."""
        rows = self.db.conn.execute(
            f"SELECT {_COLUMNS} FROM messages WHERE app_id = ? AND submit_wall BETWEEN ? AND ? "
            "AND (submit_wall, msg_id) > (?, ?) ORDER BY submit_wall, msg_id LIMIT ?",
            (app_id, start_wall, end_wall, after[0], after[1], limit),
        )
        return [_row(r) for r in rows]

    def by_sms_ids(self, sms_ids: Sequence[str]) -> list[MessageRow]:
        out: list[MessageRow] = []
        for start in range(0, len(sms_ids), 500):
            chunk = list(sms_ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            out += [
                _row(r)
                for r in self.db.conn.execute(
                    f"SELECT {_COLUMNS} FROM messages WHERE sms_id IN ({marks}) ORDER BY msg_id", chunk
                )
            ]
        return out
