"""Short links issued by sendShortLinkSMS, and the clicks on them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from emay_mock.store.db import Database

_LINK_COLS = "code, app_id, long_url, short_url, rule, mobile, sms_id, created_at"
_CLICK_COLS = (
    "click_id, app_id, code, mobile, access_at, equipment, browser, long_link, access_address, "
    "user_agent, source"
)


@dataclass(slots=True)
class LinkRow:
    code: str
    app_id: str
    long_url: str
    short_url: str
    rule: str
    mobile: str | None
    sms_id: str | None
    created_at: int


@dataclass(slots=True)
class ClickRow:
    click_id: int
    app_id: str
    code: str
    mobile: str | None
    access_at: int
    equipment: str
    browser: str
    long_link: str
    access_address: str
    user_agent: str
    source: str


class LinkStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, rows: Sequence[LinkRow]) -> None:
        self.db.conn.executemany(
            f"INSERT INTO short_links({_LINK_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (r.code, r.app_id, r.long_url, r.short_url, r.rule, r.mobile, r.sms_id, r.created_at)
                for r in rows
            ],
        )

    def get(self, code: str) -> LinkRow | None:
        r = self.db.conn.execute(f"SELECT {_LINK_COLS} FROM short_links WHERE code = ?", (code,)).fetchone()
        return None if r is None else LinkRow(*r)

    def add_click(self, click: ClickRow) -> ClickRow:
        cur = self.db.conn.execute(
            f"INSERT INTO clicks({_CLICK_COLS}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (click.app_id, click.code, click.mobile, click.access_at, click.equipment, click.browser,
             click.long_link, click.access_address, click.user_agent, click.source),
        )  # fmt: skip
        click.click_id = int(cur.lastrowid or 0)
        return click

    def clicks(self, ids: Sequence[int]) -> list[ClickRow]:
        out: list[ClickRow] = []
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            out += [
                ClickRow(*r)
                for r in self.db.conn.execute(
                    f"SELECT {_CLICK_COLS} FROM clicks WHERE click_id IN ({marks}) ORDER BY click_id", chunk
                )
            ]
        return out

    def clicks_of(self, code: str, limit: int = 100) -> list[ClickRow]:
        rows = self.db.conn.execute(
            f"SELECT {_CLICK_COLS} FROM clicks WHERE code = ? ORDER BY click_id DESC LIMIT ?", (code, limit)
        )
        return [ClickRow(*r) for r in rows]
