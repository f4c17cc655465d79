"""Short links issued by sendShortLinkSMS, and the clicks on them, in memory and in the file."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter

from emay_mock.store.db import Database
from emay_mock.store.generations import Generations
from emay_mock.store.log import Log
from emay_mock.store.order import InOrder

_LINK_COLS = "code, app_id, long_url, short_url, rule, mobile, sms_id, created_at"
_CLICK_COLS = (
    "click_id, app_id, code, mobile, access_at, equipment, browser, long_link, access_address, "
    "user_agent, source"
)
INSERT_LINK = f"INSERT INTO short_links({_LINK_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
INSERT_CLICK = f"INSERT INTO clicks({_CLICK_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
DELETE_LINK = "DELETE FROM short_links WHERE code = ?"
DELETE_CLICK = "DELETE FROM clicks WHERE click_id = ?"
_seq = attrgetter("seq")


@dataclass(slots=True, eq=False)
class LinkRow:
    code: str
    app_id: str
    long_url: str
    short_url: str
    rule: str
    mobile: str | None
    sms_id: str | None
    created_at: int
    users: int = 0  # in memory only: messages that carry it (retention removes it with the last)
    seq: int = 0  # in memory only: its place in creation order, the console's cursor
    gone: bool = False  # in memory only: removed (retention, a reset)


@dataclass(slots=True, eq=False)
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
    gone: bool = False  # in memory only: its link was removed by retention

    def values(self) -> tuple[object, ...]:
        return (self.click_id, self.app_id, self.code, self.mobile, self.access_at, self.equipment,
                self.browser, self.long_link, self.access_address, self.user_agent, self.source)  # fmt: skip


class LinkStore:
    def __init__(self, db: Database, log: Log) -> None:
        self.log = log
        self._codes: Generations[str, LinkRow] = Generations()  # by code, stamped by seq
        self._order: InOrder[LinkRow] = InOrder()  # creation order (seq order): the console's pages
        self._clicks: dict[int, ClickRow] = {}
        self._by_code: dict[str, list[ClickRow]] = {}
        self._last_click = 0
        self._last_seq = 0
        for values in db.rows(f"SELECT {_LINK_COLS} FROM short_links ORDER BY rowid"):
            self._place(LinkRow(*values))
        for values in db.rows(f"SELECT {_CLICK_COLS} FROM clicks ORDER BY click_id"):
            self._add(ClickRow(*values))

    def _add(self, click: ClickRow) -> None:
        self._clicks[click.click_id] = click
        self._by_code.setdefault(click.code, []).append(click)
        self._last_click = max(self._last_click, click.click_id)

    def _place(self, link: LinkRow) -> None:
        self._last_seq += 1
        link.seq = self._last_seq
        self._codes.add(link.code, link, link.seq)
        self._order.rows.append(link)

    def insert(self, rows: Sequence[LinkRow]) -> None:
        for row in rows:
            self._place(row)
        self.log.insert_many(
            INSERT_LINK,
            [
                (r.code, r.app_id, r.long_url, r.short_url, r.rule, r.mobile, r.sms_id, r.created_at)
                for r in rows
            ],
        )

    def get(self, code: str) -> LinkRow | None:
        return self._codes.get(code)

    def add_click(self, click: ClickRow) -> ClickRow:
        click.click_id = self._last_click + 1
        self._add(click)
        self.log.insert(INSERT_CLICK, click.values())
        return click

    def links(self, app_id: str | None, before: int | None = None, limit: int = 100) -> list[LinkRow]:
        """Newest first; `before` a link's seq: only older ones."""
        out: list[LinkRow] = []
        order, start = self._order.rows, self._order.start
        end = len(order) if before is None else bisect_left(order, before, start, key=_seq)
        for i in range(end - 1, start - 1, -1):
            link = order[i]
            if link.gone or (app_id is not None and link.app_id != app_id):
                continue
            out.append(link)
            if len(out) >= limit:
                break
        return out

    def click_count(self, code: str) -> int:
        return len(self._by_code.get(code, ()))

    def click(self, click_id: int) -> ClickRow | None:
        return self._clicks.get(click_id)

    def clicks_of(self, code: str, limit: int = 100) -> list[ClickRow]:
        """Newest first."""
        return self._by_code.get(code, [])[::-1][:limit]

    def remove(self, codes: Iterable[str]) -> None:
        """Links (and their clicks) whose messages retention removed."""
        for code in codes:
            link = self._codes.get(code)
            if link is None:
                continue
            self._codes.discard(code, link.seq)
            link.gone = True
            self._order.removed()
            self.log.delete(DELETE_LINK, (code,))
            for click in self._by_code.pop(code, []):
                click.gone = True
                del self._clicks[click.click_id]
                self.log.delete(DELETE_CLICK, (click.click_id,))

    def forget(self, app_id: str | None) -> None:
        codes = self._codes
        for held in list(codes.dicts):
            for code in [c for c, link in held.items() if app_id is None or link.app_id == app_id]:
                held.pop(code).gone = True
            codes.emptied(held)
        self._order.compact()
        for click in [c for c in self._clicks.values() if app_id is None or c.app_id == app_id]:
            click.gone = True
            del self._clicks[click.click_id]
            clicks = self._by_code.get(click.code)
            if clicks is not None:
                clicks.remove(click)
                if not clicks:
                    del self._by_code[click.code]
