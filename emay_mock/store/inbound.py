"""MO messages (replies from phones)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from emay_mock.store.db import Database

_COLS = "mo_id, app_id, mobile, content, extended_code, mo_at, reply_to, source"


@dataclass(slots=True)
class MoRow:
    mo_id: int
    app_id: str
    mobile: str
    content: str
    extended_code: str | None
    mo_at: int
    reply_to: str | None
    source: str


class MoStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(
        self,
        *,
        app_id: str,
        mobile: str,
        content: str,
        extended_code: str | None,
        mo_at: int,
        reply_to: str | None,
        source: str,
    ) -> MoRow:
        cur = self.db.conn.execute(
            "INSERT INTO mo(app_id, mobile, content, extended_code, mo_at, reply_to, source) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (app_id, mobile, content, extended_code, mo_at, reply_to, source),
        )
        return MoRow(int(cur.lastrowid or 0), app_id, mobile, content, extended_code, mo_at,
                     reply_to, source)  # fmt: skip

    def many(self, ids: Sequence[int]) -> list[MoRow]:
        out: list[MoRow] = []
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            out += [
                MoRow(*r)
                for r in self.db.conn.execute(
                    f"SELECT {_COLS} FROM mo WHERE mo_id IN ({marks}) ORDER BY mo_id", chunk
                )
            ]
        return out

    def replies_to(self, sms_id: str) -> list[MoRow]:
        rows = self.db.conn.execute(f"SELECT {_COLS} FROM mo WHERE reply_to = ? ORDER BY mo_id", (sms_id,))
        return [MoRow(*r) for r in rows]

    def find(
        self,
        *,
        app_id: str | None = None,
        mobile: str | None = None,
        after: int | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> list[MoRow]:
        where: list[str] = []
        args: list[Any] = []
        if before is not None:
            where.append("mo_id < ?")
            args.append(before)
        if app_id is not None:
            where.append("app_id = ?")
            args.append(app_id)
        if mobile is not None:
            where.append("mobile = ?")
            args.append(mobile)
        if after is not None:
            where.append("mo_id > ?")
            args.append(after)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self.db.conn.execute(
            f"SELECT {_COLS} FROM mo {clause} ORDER BY mo_id DESC LIMIT ?", (*args, limit)
        )
        return [MoRow(*r) for r in rows]
