"""Identifiers as Emay shapes them: 20-digit smsIds and 18-digit templateIds, increasing."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from emay_mock.protocol.times import BEIJING


@lru_cache(maxsize=64)
def _second_stamp(second: int) -> int:
    """yyyyMMddHHmmss in Beijing as a number; formatted once per second, not once per id."""
    return int(datetime.fromtimestamp(second, BEIJING).strftime("%Y%m%d%H%M%S"))


class IdSequence:
    """`digits`-long numeric ids: a Beijing timestamp prefix, then a counter; never repeats.

    The prefix makes ids read like the real platform's (yyyyMMddHHmmss…); taking the max
    with the last id keeps them strictly increasing whatever the clock does.
    """

    def __init__(self, digits: int, last: int = 0) -> None:
        if digits < 17:
            raise ValueError("ids need at least 17 digits")
        self.digits = digits
        self._suffix = 10 ** (digits - 17)
        self._limit = 10**digits
        self.last = last
        self._ms = -1  # the millisecond whose smallest id `_floor` is: found once per millisecond
        self._floor = 0

    def take(self, count: int, wall_ms: int) -> int:
        """Reserve `count` consecutive ids; returns the first."""
        if wall_ms != self._ms:
            self._floor = (_second_stamp(wall_ms // 1000) * 1000 + wall_ms % 1000) * self._suffix
            self._ms = wall_ms
        first = self.last + 1
        if first < self._floor:
            first = self._floor
        if first + count > self._limit:
            raise OverflowError("id space exhausted")
        self.last = first + count - 1
        return first
