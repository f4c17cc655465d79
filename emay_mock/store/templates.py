"""SMS templates and their review status, in memory, each written whole to the file when it changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple, dataclass

from emay_mock.store.db import Database
from emay_mock.store.log import Log

_COLS = "template_id, app_id, content, status, created_at, reviewed_at, deleted"
UPSERT = f"INSERT OR REPLACE INTO templates({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)"


def _order(template_id: str) -> tuple[int, str]:
    return len(template_id), template_id  # digits of equal length compare as text as numbers


@dataclass(slots=True, eq=False)
class TemplateRow:
    template_id: str
    app_id: str
    content: str
    status: int  # 0 pending review, 1 approved, 2 rejected
    created_at: int
    reviewed_at: int | None
    deleted: int


class TemplateStore:
    def __init__(self, db: Database, log: Log) -> None:
        self.log = log
        self._rows: dict[str, TemplateRow] = {}  # in creation order
        for values in db.rows(f"SELECT {_COLS} FROM templates ORDER BY template_id"):
            row = TemplateRow(*values)
            self._rows[row.template_id] = row

    def _write(self, row: TemplateRow) -> None:
        self.log.update(UPSERT, row.template_id, astuple(row))

    def insert(self, row: TemplateRow) -> None:
        self._rows[row.template_id] = row
        self._write(row)

    def get(self, template_id: str) -> TemplateRow | None:
        return self._rows.get(template_id)

    def set_status(self, template_id: str, status: int, at: int) -> None:
        row = self._rows[template_id]
        row.status, row.reviewed_at = status, at
        self._write(row)

    def delete(self, template_id: str) -> None:
        row = self._rows[template_id]
        row.deleted = 1
        self._write(row)

    def last_id(self) -> int:
        return max((int(t) for t in self._rows), default=0)

    def list(
        self,
        app_id: str | None,
        limit: int = 100,
        *,
        before: str | None = None,
        keep: Callable[[TemplateRow], bool] | None = None,
    ) -> list[TemplateRow]:
        """Newest first; `before` a templateId (they only increase): only older ones."""
        out: list[TemplateRow] = []
        for row in reversed(self._rows.values()):
            if before is not None and _order(row.template_id) >= _order(before):
                continue
            if (app_id is not None and row.app_id != app_id) or (keep is not None and not keep(row)):
                continue
            out.append(row)
            if len(out) >= limit:
                break
        return out

    def forget(self, app_id: str | None) -> None:
        for template_id in [t for t, r in self._rows.items() if app_id is None or r.app_id == app_id]:
            del self._rows[template_id]
