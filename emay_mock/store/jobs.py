"""Durable one-off jobs: the rows behind the scheduler's pending work, read back at start."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from emay_mock.store.db import Database
from emay_mock.store.log import Log

# json.dumps with non-default options builds a new JSONEncoder on every call.
_ENCODER = json.JSONEncoder(separators=(",", ":"))
INSERT = "INSERT INTO jobs(job_id, due, kind, app_id, payload) VALUES (?, ?, ?, ?, ?)"
DELETE = "DELETE FROM jobs WHERE job_id = ?"


@dataclass(slots=True)
class Job:
    job_id: int
    due: int
    kind: str
    app_id: str | None
    payload: dict[str, Any]


class Jobs:
    def __init__(self, db: Database, log: Log) -> None:
        self.log = log
        self._loaded = [
            Job(r[0], r[1], r[2], r[3], json.loads(r[4]))
            for r in db.rows("SELECT job_id, due, kind, app_id, payload FROM jobs ORDER BY job_id")
        ]
        self._last = max((job.job_id for job in self._loaded), default=0)

    def add(self, due: int, kind: str, app_id: str | None, payload: dict[str, Any]) -> Job:
        self._last += 1
        job = Job(self._last, due, kind, app_id, payload)
        if self.log.durable:
            self.log.insert(INSERT, (job.job_id, due, kind, app_id, _ENCODER.encode(payload)))
        return job

    def loaded(self) -> list[Job]:
        """The jobs the file held at start (pending, or running when the last process stopped)."""
        jobs, self._loaded = self._loaded, []
        return jobs

    def done(self, job: Job) -> None:
        self.log.delete(DELETE, (job.job_id,))
