"""What the real platform accepted for the accounts that forward to it (passthrough, shadow):
its messages with its own smsIds, the reports and MO its pulls returned. In memory and
bounded; the control API and the UI show them beside the mock's own."""

from __future__ import annotations

import itertools
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from emay_mock.protocol.codes import ReportState
from emay_mock.protocol.rules import strip_prefix
from emay_mock.store.inbound import MoRow
from emay_mock.store.messages import MessageFilter
from emay_mock.store.rows import MessageRow

MAX_HELD = 100_000  # messages, and MO, kept: the oldest go first
_STATES = frozenset(s.value for s in ReportState)
UPSTREAM_STATE = "UPSTREAM"  # a forwarded message's planned state: the platform decides it


@dataclass(frozen=True, slots=True)
class Accepted:
    """One recipient of a send the platform accepted, as the request and its answer give it."""

    mobile: str
    sms_id: str
    content: str
    custom_sms_id: str | None = None
    extended_code: str | None = None
    template_id: str | None = None


def _digits(sms_id: str) -> int | None:
    return int(sms_id) if sms_id.isascii() and sms_id.isdigit() else None


class Forwarded:
    def __init__(self, max_held: int = MAX_HELD) -> None:
        self._messages: deque[MessageRow] = deque(maxlen=max_held)
        self._by_sms_id: dict[str, MessageRow] = {}
        self._counts: Counter[str] = Counter()  # messages held, per appId
        self._mo: deque[MoRow] = deque(maxlen=max_held)
        # Negative ids: never one of the mock's own messages or MO.
        self._ids = itertools.count(-1, -1)

    def __bool__(self) -> bool:
        return bool(self._messages or self._mo)

    def accepted(
        self, app_id: str, endpoint: str, items: Iterable[Accepted], wall_ms: int, now_ms: int
    ) -> None:
        for item in items:
            if len(self._messages) == self._messages.maxlen:
                oldest = self._messages[0]
                self._by_sms_id.pop(oldest.sms_id, None)
                self._counts[oldest.app_id] -= 1
            row = MessageRow(
                next(self._ids), item.sms_id, app_id, item.mobile, strip_prefix(item.mobile), item.content,
                item.custom_sms_id, item.extended_code, endpoint, item.template_id, wall_ms, now_ms, None,
                now_ms, 0, UPSTREAM_STATE, now_ms,
            )  # fmt: skip
            self._messages.append(row)
            self._by_sms_id[item.sms_id] = row
            self._counts[app_id] += 1

    def reported(self, items: Iterable[Any], now_ms: int) -> int:
        """Reports a forwarded pull returned: each known message takes its state."""
        found = 0
        for item in items:
            if not isinstance(item, dict):
                continue
            row = self._by_sms_id.get(str(item.get("smsId")))
            state = item.get("state")
            if row is not None and state in _STATES:
                row.state, row.report_at = state, now_ms
                found += 1
        return found

    def replied(self, app_id: str, items: Iterable[Any], now_ms: int) -> None:
        """MO a forwarded pull returned."""
        for item in items:
            if not isinstance(item, dict):
                continue
            code = item.get("extendedCode")
            self._mo.append(
                MoRow(
                    next(self._ids),
                    app_id,
                    str(item.get("mobile") or ""),
                    str(item.get("content") or ""),
                    None if code is None else str(code),
                    now_ms,
                    None,
                    "upstream",
                )
            )

    def count(self, app_id: str) -> int:
        return self._counts.get(app_id, 0)

    def message(self, sms_id: str) -> MessageRow | None:
        return self._by_sms_id.get(sms_id)

    def messages(self, f: MessageFilter, limit: int) -> list[MessageRow]:
        """Newest first (with `after`: the oldest newer ones, in the order the store gives them)."""
        out: list[MessageRow] = []
        rows = self._messages if f.after is not None else reversed(self._messages)
        mobile = None if f.mobile is None else strip_prefix(f.mobile)
        for row in rows:
            if f.app_id is not None and row.app_id != f.app_id:
                continue
            if f.sms_id is not None and row.sms_id != f.sms_id:
                continue
            if f.custom_sms_id is not None and row.custom_sms_id != f.custom_sms_id:
                continue
            if mobile is not None and row.mobile_norm != mobile:
                continue
            if f.state is not None and row.state != (None if f.state == "PENDING" else f.state):
                continue
            if f.text is not None and f.text not in row.content:
                continue
            number = _digits(row.sms_id)
            if f.before is not None and (number is None or number >= f.before):
                continue
            if f.after is not None and (number is None or number <= f.after):
                continue
            out.append(row)
            if len(out) >= limit:
                break
        return out

    def mo(self, app_id: str | None, mobile: str | None, limit: int) -> list[MoRow]:
        out: list[MoRow] = []
        for row in reversed(self._mo):
            if (app_id is None or row.app_id == app_id) and (mobile is None or row.mobile == mobile):
                out.append(row)
                if len(out) >= limit:
                    break
        return out

    def forget(self, app_id: str | None = None) -> None:
        if app_id is None:
            self._messages.clear()
            self._by_sms_id.clear()
            self._counts.clear()
            self._mo.clear()
            return
        self._counts.pop(app_id, None)
        kept = [row for row in self._messages if row.app_id != app_id]
        self._messages.clear()
        self._messages.extend(kept)
        self._by_sms_id = {row.sms_id: row for row in kept}
        mo = [row for row in self._mo if row.app_id != app_id]
        self._mo.clear()
        self._mo.extend(mo)
