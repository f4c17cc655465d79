"""Durable one-off jobs: the rows behind the scheduler's pending work, read back at start."""

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

    def all(self) -> list[Job]:
        rows = self.db.conn.execute("SELECT job_id, due, kind, app_id, payload FROM jobs ORDER BY job_id")
        return [Job(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    def delete(self, job_id: int) -> None:
        self.db.conn.execute("DELETE FROM jobs WHERE job_id = ?", (job_id,))
