"""MO messages (replies from phones), in memory per account, with their rows in the file.

They are kept in mo_id order (ids only increase), whole and per account and per mobile, so
a listing by account or mobile, and its cursors, look only at the MO they name.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from emay_mock.store.db import Database
from emay_mock.store.log import Log

_COLS = "mo_id, app_id, mobile, content, extended_code, mo_at, reply_to, source"
INSERT = f"INSERT INTO mo({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


@dataclass(slots=True, eq=False)
class MoRow:
    mo_id: int
    app_id: str
    mobile: str
    content: str
    extended_code: str | None
    mo_at: int
    reply_to: str | None
    source: str
    # In memory only, as for messages: MO are never removed by retention, and their pushes
    # are not waited for.
    batches: tuple[int, ...] = ()
    hold: int = 0
    gone: bool = False


def _mo_id(row: MoRow) -> int:
    return row.mo_id


class MoStore:
    def __init__(self, db: Database, log: Log) -> None:
        self.log = log
        self._rows: dict[int, MoRow] = {}  # in mo_id order
        self._all: list[MoRow] = []  # the same, for bisection
        self._apps: dict[str, list[MoRow]] = {}
        self._mobiles: dict[str, list[MoRow]] = {}
        self._replies: dict[str, list[MoRow]] = {}
        self._last = 0
        for values in db.rows(f"SELECT {_COLS} FROM mo ORDER BY mo_id"):
            self._add(MoRow(*values))

    def _add(self, row: MoRow) -> None:
        self._rows[row.mo_id] = row
        self._all.append(row)
        self._apps.setdefault(row.app_id, []).append(row)
        self._mobiles.setdefault(row.mobile, []).append(row)
        self._last = max(self._last, row.mo_id)
        if row.reply_to is not None:
            self._replies.setdefault(row.reply_to, []).append(row)

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
        row = MoRow(self._last + 1, app_id, mobile, content, extended_code, mo_at, reply_to, source)
        self._add(row)
        self.log.insert(INSERT, (row.mo_id, app_id, mobile, content, extended_code, mo_at, reply_to, source))
        return row

    def get(self, mo_id: int) -> MoRow | None:
        return self._rows.get(mo_id)

    def replies_to(self, sms_id: str) -> list[MoRow]:
        return list(self._replies.get(sms_id, ()))

    def find(
        self,
        *,
        app_id: str | None = None,
        mobile: str | None = None,
        after: int | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> list[MoRow]:
        """Newest first; `before` and `after` are mo_id cursors."""
        if mobile is not None:
            rows = self._mobiles.get(mobile, [])
        elif app_id is not None:
            rows = self._apps.get(app_id, [])
        else:
            rows = self._all
        lo = 0 if after is None else bisect_right(rows, after, key=_mo_id)
        hi = len(rows) if before is None else bisect_left(rows, before, key=_mo_id)
        out: list[MoRow] = []
        for i in range(hi - 1, lo - 1, -1):
            row = rows[i]
            if app_id is not None and row.app_id != app_id:
                continue
            out.append(row)
            if len(out) >= limit:
                break
        return out

    def forget(self, app_id: str | None) -> Sequence[MoRow]:
        gone = [row for row in self._rows.values() if app_id is None or row.app_id == app_id]
        if gone:
            self._all = [row for row in self._all if not (app_id is None or row.app_id == app_id)]
            self._apps = {a: rows for a, rows in self._apps.items() if not (app_id is None or a == app_id)}
            mobiles: dict[str, list[MoRow]] = {}
            for row in self._all:
                mobiles.setdefault(row.mobile, []).append(row)
            self._mobiles = mobiles
        for row in gone:
            del self._rows[row.mo_id]
            if row.reply_to is not None:
                replies = self._replies.get(row.reply_to, [])
                if row in replies:
                    replies.remove(row)
                if not replies:
                    self._replies.pop(row.reply_to, None)
        return gone
