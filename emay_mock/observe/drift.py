"""Where the real platform's answers differ from the mock's (shadow mode): the comparison,
by shape, and the drift report it fills (`GET /_mock/drift`).

Values that must differ (smsIds, balances, times) are compared by their shape: the type
and, for text, its format (digits and how many, a time pattern, empty, other text)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from emay_mock.observe.journal import Entry

_LONG_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_DIGITS = re.compile(r"-?\d+")
_MAX_ENTRIES = 1000  # distinct drifts kept per server; a drift seen again only counts
_MAX_DIFFERENCES = 50


class Loose:
    """In the mock's side of a comparison: any value of these shapes will do (a field whose
    value is the customer's, such as an MO's content, or one that may be absent)."""

    __slots__ = ("label", "shapes")

    def __init__(self, label: str, *shapes: str) -> None:
        self.label = label
        self.shapes = shapes

    def accepts(self, value: Any) -> bool:
        found = shape(value)
        return any(found == s or (s == "text" and found.endswith("text")) for s in self.shapes)


ANY_TEXT = Loose("<any text>", "text")
TEXT_OR_NULL = Loose("<text or null>", "text", "null")


def shown(value: Any) -> Any:
    """The mock's side as JSON: what a `Loose` stands for, by its label."""
    if isinstance(value, Loose):
        return value.label
    if isinstance(value, dict):
        return {k: shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shown(v) for v in value]
    return value


def shape(value: Any) -> str:
    """A value's type, and for text its format: what two answers must share."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        if value == "":
            return "empty text"
        if _DIGITS.fullmatch(value):  # a sign is a value, not a format: "-1" is a status as "1" is
            return f"{len(value.lstrip('-'))}-digit text"
        if _LONG_TIME.fullmatch(value):
            return "time text yyyy-MM-dd HH:mm:ss"
        return "text"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, Loose):
        return value.label
    return type(value).__name__


def differences(mine: Any, theirs: Any, *, items: bool = False, at: str = "") -> list[str]:
    """How `theirs` (the upstream's answer) differs from `mine` (the mock's) by shape.

    `items`: a pull, whose arrays are compared item by item against the mock's first item
    (the queues differ; each item's shape must not)."""
    out: list[str] = []
    _compare(mine, theirs, items, at or "answer", out)
    return out[:_MAX_DIFFERENCES]


def _compare(mine: Any, theirs: Any, items: bool, at: str, out: list[str]) -> None:
    if isinstance(mine, Loose):
        if not mine.accepts(theirs):
            out.append(f"{at}: mock {mine.label.strip('<>')}, upstream {shape(theirs)}")
        return
    mine_shape, their_shape = shape(mine), shape(theirs)
    if mine_shape != their_shape:
        out.append(f"{at}: mock {mine_shape}, upstream {their_shape}")
        return
    if isinstance(mine, dict):
        for key in mine.keys() - theirs.keys():
            out.append(f"{at}.{key}: mock has it, upstream does not")
        for key in theirs.keys() - mine.keys():
            out.append(f"{at}.{key}: upstream has it, mock does not")
        for key in sorted(mine.keys() & theirs.keys()):
            _compare(mine[key], theirs[key], items, f"{at}.{key}", out)
    elif isinstance(mine, list):
        if items:
            if mine:
                for i, item in enumerate(theirs):
                    _compare(mine[0], item, items, f"{at}[{i}]", out)
            return
        if len(mine) != len(theirs):
            out.append(f"{at}: mock {len(mine)} items, upstream {len(theirs)}")
        for i, (one, other) in enumerate(zip(mine, theirs, strict=False)):
            _compare(one, other, items, f"{at}[{i}]", out)


@dataclass
class Drift:
    """One way an endpoint's answers differ, as first seen, and how often since."""

    app_id: str | None
    family: str
    endpoint: str
    differences: tuple[str, ...]
    mock: dict[str, Any]  # {"result", "answer"} the mock would have given
    upstream: dict[str, Any]  # {"result", "answer"} the upstream gave
    first: Entry
    last: Entry
    count: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "appId": self.app_id,
            "family": self.family,
            "endpoint": self.endpoint,
            "differences": list(self.differences),
            "mock": self.mock,
            "upstream": self.upstream,
            "count": self.count,
            "journalId": self.last.id,
            "firstJournalId": self.first.id,
            "firstTime": self.first.at,
            "lastTime": self.last.at,
        }


class DriftBook:
    """The drift report, and the counts the metrics show of upstream traffic."""

    def __init__(self) -> None:
        self._drifts: dict[tuple[Any, ...], Drift] = {}
        self.dropped = 0  # drifts not kept: the report was full
        self.counts: Counter[tuple[str, str]] = Counter()  # (appId, endpoint): exchanges that drifted
        self.exchanges: Counter[tuple[str, str]] = Counter()  # (mode, outcome)

    def exchange(self, mode: str, outcome: str) -> None:
        self.exchanges[(mode, outcome)] += 1

    def add(
        self,
        entry: Entry,
        found: list[str],
        mock: dict[str, Any],
        upstream: dict[str, Any],
    ) -> None:
        self.counts[(entry.app_id or "", entry.endpoint)] += 1
        key = (entry.app_id, entry.family, entry.endpoint, tuple(found))
        drift = self._drifts.get(key)
        if drift is not None:
            drift.count += 1
            drift.last = entry
            return
        if len(self._drifts) >= _MAX_ENTRIES:
            self.dropped += 1
            return
        self._drifts[key] = Drift(
            entry.app_id, entry.family, entry.endpoint, tuple(found), mock, upstream, entry, entry
        )

    def report(self, app_id: str | None = None) -> list[Drift]:
        """Newest first."""
        found = [d for d in self._drifts.values() if app_id is None or d.app_id == app_id]
        return sorted(found, key=lambda d: d.last.id, reverse=True)

    def forget(self, app_id: str | None = None) -> None:
        if app_id is None:
            self._drifts.clear()
            self.counts.clear()
            return
        self._drifts = {k: d for k, d in self._drifts.items() if d.app_id != app_id}
        for key in [k for k in self.counts if k[0] == app_id]:
            del self.counts[key]
