"""The pull queues behind getReport, getMo and getShortLink: oldest first, each item once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from emay_mock.store.db import Database


class PullQueues:
    def __init__(self, db: Database) -> None:
        self.db = db
        # Depths kept in memory so metrics cost nothing; recounted at start and after a reset.
        self.sizes: Counter[tuple[str, str]] = Counter()
        self.recount()

    def recount(self) -> None:
        rows = self.db.conn.execute("SELECT app_id, kind, COUNT(*) FROM pull_queue GROUP BY app_id, kind")
        self.sizes = Counter({(r[0], r[1]): int(r[2]) for r in rows})

    def append(self, app_id: str, kind: str, refs: Sequence[int]) -> None:
        self.db.conn.executemany(
            "INSERT INTO pull_queue(app_id, kind, ref) VALUES (?, ?, ?)",
            [(app_id, kind, ref) for ref in refs],
        )
        self.sizes[(app_id, kind)] += len(refs)

    def take(self, app_id: str, kind: str, number: int) -> list[int]:
        """Remove and return up to `number` refs, oldest first."""
        conn = self.db.conn
        rows = conn.execute(
            "SELECT seq, ref FROM pull_queue WHERE app_id = ? AND kind = ? ORDER BY seq LIMIT ?",
            (app_id, kind, number),
        ).fetchall()
        if rows:
            conn.execute(
                "DELETE FROM pull_queue WHERE app_id = ? AND kind = ? AND seq <= ?",
                (app_id, kind, rows[-1][0]),
            )
            self.sizes[(app_id, kind)] -= len(rows)
        return [int(r[1]) for r in rows]
