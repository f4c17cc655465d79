"""The push outbox, push batches and every delivery attempt."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from emay_mock.store.db import Database


@dataclass(slots=True)
class Batch:
    batch_id: int
    app_id: str
    kind: str
    url: str
    mode: str
    items: str
    size: int
    status: str
    created_at: int
    next_at: int | None
    attempts: int
    chaos: str | None


@dataclass(slots=True)
class Attempt:
    attempt_id: int
    batch_id: int
    n: int
    scheduled_at: int
    sent_at: int
    http_status: int | None
    error: str | None
    body: str | None
    latency_ms: float
    ok: bool
    manual: bool
    note: str | None = None


_BATCH_COLS = "batch_id, app_id, kind, url, mode, items, size, status, created_at, next_at, attempts, chaos"
_ATTEMPT_COLS = (
    "attempt_id, batch_id, n, scheduled_at, sent_at, http_status, error, body, latency_ms, ok, manual, note"
)


def _attempt(r: sqlite3.Row) -> Attempt:
    a = Attempt(*r)
    a.ok = bool(a.ok)
    a.manual = bool(a.manual)
    return a


class Pushes:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- outbox ---------------------------------------------------------------------------

    def enqueue(self, app_id: str, kind: str, items: Sequence[tuple[int, str, str | None]]) -> None:
        """(ref, item JSON, chaos flags) per item."""
        self.db.conn.executemany(
            "INSERT INTO push_outbox(app_id, kind, ref, item, chaos) VALUES (?, ?, ?, ?, ?)",
            [(app_id, kind, ref, item, chaos) for ref, item, chaos in items],
        )

    def take_outbox(self, app_id: str, kind: str, limit: int) -> list[tuple[int, str, str | None]]:
        conn = self.db.conn
        rows = conn.execute(
            "SELECT seq, ref, item, chaos FROM push_outbox WHERE app_id = ? AND kind = ? "
            "ORDER BY seq LIMIT ?",
            (app_id, kind, limit),
        ).fetchall()
        if rows:
            conn.execute(
                "DELETE FROM push_outbox WHERE app_id = ? AND kind = ? AND seq <= ?",
                (app_id, kind, rows[-1][0]),
            )
        return [(int(r[1]), str(r[2]), r[3]) for r in rows]

    def outbox_has(self, app_id: str, kind: str) -> bool:
        return (
            self.db.conn.execute(
                "SELECT 1 FROM push_outbox WHERE app_id = ? AND kind = ? LIMIT 1", (app_id, kind)
            ).fetchone()
            is not None
        )

    def outbox_keys(self) -> list[tuple[str, str]]:
        rows = self.db.conn.execute("SELECT DISTINCT app_id, kind FROM push_outbox")
        return [(r[0], r[1]) for r in rows]

    def outbox_depth(self, app_id: str | None = None) -> int:
        if app_id is None:
            return int(self.db.conn.execute("SELECT COUNT(*) FROM push_outbox").fetchone()[0])
        return int(
            self.db.conn.execute("SELECT COUNT(*) FROM push_outbox WHERE app_id = ?", (app_id,)).fetchone()[0]
        )

    # -- batches --------------------------------------------------------------------------

    def create_batch(
        self,
        *,
        app_id: str,
        kind: str,
        url: str,
        mode: str,
        items: str,
        refs: Sequence[int],
        created_at: int,
        chaos: str | None = None,
    ) -> int:
        cur = self.db.conn.execute(
            "INSERT INTO push_batches(app_id, kind, url, mode, items, size, status, created_at, "
            "next_at, chaos) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
            (app_id, kind, url, mode, items, len(refs), created_at, created_at, chaos),
        )
        batch_id = int(cur.lastrowid or 0)
        self.db.conn.executemany(
            "INSERT INTO push_members(ref, kind, batch_id) VALUES (?, ?, ?)",
            [(ref, kind, batch_id) for ref in refs],
        )
        return batch_id

    def batch(self, batch_id: int) -> Batch | None:
        r = self.db.conn.execute(
            f"SELECT {_BATCH_COLS} FROM push_batches WHERE batch_id = ?", (batch_id,)
        ).fetchone()
        return None if r is None else Batch(*r)

    def update_batch(self, batch_id: int, **changes: Any) -> None:
        cols = ", ".join(f"{name} = ?" for name in changes)
        self.db.conn.execute(
            f"UPDATE push_batches SET {cols} WHERE batch_id = ?", (*changes.values(), batch_id)
        )

    def batches(
        self,
        *,
        app_id: str | None = None,
        status: str | None = None,
        kind: str | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> list[Batch]:
        where: list[str] = []
        args: list[Any] = []
        for column, value in (("app_id", app_id), ("status", status), ("kind", kind)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if before is not None:
            where.append("batch_id < ?")
            args.append(before)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self.db.conn.execute(
            f"SELECT {_BATCH_COLS} FROM push_batches {clause} ORDER BY batch_id DESC LIMIT ?",
            (*args, limit),
        )
        return [Batch(*r) for r in rows]

    def batches_for(self, kind: str, ref: int) -> list[int]:
        rows = self.db.conn.execute(
            "SELECT batch_id FROM push_members WHERE kind = ? AND ref = ? ORDER BY batch_id",
            (kind, ref),
        )
        return [int(r[0]) for r in rows]

    def status_counts(self) -> dict[str, int]:
        rows = self.db.conn.execute("SELECT status, COUNT(*) FROM push_batches GROUP BY status")
        return {r[0]: int(r[1]) for r in rows}

    # -- attempts -------------------------------------------------------------------------

    def record_attempt(
        self,
        *,
        batch_id: int,
        n: int,
        scheduled_at: int,
        sent_at: int,
        http_status: int | None,
        error: str | None,
        body: str | None,
        latency_ms: float,
        ok: bool,
        manual: bool,
        note: str | None = None,
    ) -> None:
        self.db.conn.execute(
            "INSERT INTO push_attempts(batch_id, n, scheduled_at, sent_at, http_status, error, "
            "body, latency_ms, ok, manual, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (batch_id, n, scheduled_at, sent_at, http_status, error, body, latency_ms, ok, manual, note),
        )

    def attempts(self, batch_id: int) -> list[Attempt]:
        rows = self.db.conn.execute(
            f"SELECT {_ATTEMPT_COLS} FROM push_attempts WHERE batch_id = ? ORDER BY n",
            (batch_id,),
        )
        return [_attempt(r) for r in rows]
