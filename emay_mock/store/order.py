"""Rows kept in the order they came, for listings and cursors by bisection; a removed row is
marked `gone`, skipped, and compacted away."""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar


class _Removable(Protocol):
    gone: bool


R = TypeVar("R", bound=_Removable)


class InOrder(Generic[R]):
    """Rows in arrival order. Removing is marking a row gone and calling `removed()`: the
    gone rows at the front are dropped from the list once they are many, and all gone rows
    once they are a fifth of it, so neither the list nor a walk of it grows with them."""

    __slots__ = ("gone", "rows", "start")

    def __init__(self) -> None:
        self.rows: list[R] = []
        self.start = 0  # rows before it were all removed
        self.gone = 0  # removed rows at or after start

    def __len__(self) -> int:
        return len(self.rows) - self.start - self.gone

    def removed(self) -> None:
        self.gone += 1
        rows = self.rows
        while self.start < len(rows) and rows[self.start].gone:
            self.start += 1
            self.gone -= 1
        if self.gone > 1000 and self.gone * 4 > len(self):
            self.compact()
        elif self.start > 1000 and self.start * 2 > len(rows):
            del rows[: self.start]
            self.start = 0

    def compact(self) -> None:
        """Drop every gone row now (rows may have been marked gone without `removed()`)."""
        self.rows = [r for r in self.rows[self.start :] if not r.gone]
        self.start = self.gone = 0
