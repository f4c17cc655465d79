"""SMS templates and their review status."""

from __future__ import annotations

from dataclasses import dataclass

from emay_mock.store.db import Database

_COLS = "template_id, app_id, content, status, created_at, reviewed_at, deleted"


@dataclass(slots=True)
class TemplateRow:
    template_id: str
    app_id: str
    content: str
    status: int  # 0 pending review, 1 approved, 2 rejected
    created_at: int
    reviewed_at: int | None
    deleted: int


class TemplateStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, row: TemplateRow) -> None:
        self.db.conn.execute(
            f"INSERT INTO templates({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                row.template_id,
                row.app_id,
                row.content,
                row.status,
                row.created_at,
                row.reviewed_at,
                row.deleted,
            ),
        )

    def get(self, template_id: str) -> TemplateRow | None:
        r = self.db.conn.execute(
            f"SELECT {_COLS} FROM templates WHERE template_id = ?", (template_id,)
        ).fetchone()
        return None if r is None else TemplateRow(*r)

    def set_status(self, template_id: str, status: int, at: int) -> None:
        self.db.conn.execute(
            "UPDATE templates SET status = ?, reviewed_at = ? WHERE template_id = ?",
            (status, at, template_id),
        )

    def delete(self, template_id: str) -> None:
        self.db.conn.execute("UPDATE templates SET deleted = 1 WHERE template_id = ?", (template_id,))

    def last_id(self) -> int:
        r = self.db.conn.execute("SELECT MAX(template_id) FROM templates").fetchone()
        return int(r[0] or 0)

    def list(self, app_id: str | None, limit: int = 100) -> list[TemplateRow]:
        if app_id is None:
            rows = self.db.conn.execute(
                f"SELECT {_COLS} FROM templates ORDER BY template_id DESC LIMIT ?", (limit,)
            )
        else:
            rows = self.db.conn.execute(
                f"SELECT {_COLS} FROM templates WHERE app_id = ? ORDER BY template_id DESC LIMIT ?",
                (app_id, limit),
            )
        return [TemplateRow(*r) for r in rows]
