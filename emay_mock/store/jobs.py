"""Work due later, ordered by due time on the scheduler's clock."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from emay_mock.store.db import Database

# json.dumps with non-default options builds a new JSONEncoder on every call.
_ENCODER = json.JSONEncoder(separators=(",", ":"))


@dataclass(slots=True)
class Job:
    job_id: int
    due: int
    kind: str
    app_id: str | None
    payload: dict[str, Any]


class Jobs:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, due: int, kind: str, app_id: str | None, payload: dict[str, Any]) -> int:
        cur = self.db.conn.execute(
            "INSERT INTO jobs(due, kind, app_id, payload) VALUES (?, ?, ?, ?)",
            (due, kind, app_id, _ENCODER.encode(payload)),
        )
        return int(cur.lastrowid or 0)

    def due(self, now: int, limit: int) -> list[Job]:
        rows = self.db.conn.execute(
            "SELECT job_id, due, kind, app_id, payload FROM jobs "
            "WHERE leased = 0 AND due <= ? ORDER BY due, job_id LIMIT ?",
            (now, limit),
        )
        return [Job(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    def next_due(self) -> int | None:
        r = self.db.conn.execute("SELECT MIN(due) FROM jobs WHERE leased = 0").fetchone()
        return None if r[0] is None else int(r[0])

    def lease(self, job_id: int) -> None:
        self.db.conn.execute("UPDATE jobs SET leased = 1 WHERE job_id = ?", (job_id,))

    def release_all(self) -> int:
        """After a restart nothing is running: leased jobs were cut short and run again."""
        return self.db.conn.execute("UPDATE jobs SET leased = 0 WHERE leased = 1").rowcount

    def delete(self, job_id: int) -> None:
        self.db.conn.execute("DELETE FROM jobs WHERE job_id = ?", (job_id,))

    def delete_app(self, app_id: str) -> None:
        self.db.conn.execute("DELETE FROM jobs WHERE app_id = ?", (app_id,))

    def pending(self, app_id: str | None = None) -> int:
        if app_id is None:
            return int(self.db.conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])
        return int(
            self.db.conn.execute("SELECT COUNT(*) FROM jobs WHERE app_id = ?", (app_id,)).fetchone()[0]
        )

    def list(self, limit: int = 100) -> list[Job]:
        rows = self.db.conn.execute(
            "SELECT job_id, due, kind, app_id, payload FROM jobs ORDER BY due, job_id LIMIT ?",
            (limit,),
        )
        return [Job(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]
