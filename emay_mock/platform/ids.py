"""Identifiers as Emay shapes them: 20-digit smsIds and 18-digit templateIds, increasing."""

from __future__ import annotations

from datetime import datetime

from emay_mock.protocol.times import BEIJING


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
        self.last = last

    def take(self, count: int, wall_ms: int) -> int:
        """Reserve `count` consecutive ids; returns the first."""
        stamp = datetime.fromtimestamp(wall_ms / 1000, BEIJING)
        base = int(stamp.strftime("%Y%m%d%H%M%S") + f"{stamp.microsecond // 1000:03d}")
        first: int = max(self.last + 1, base * self._suffix)
        if first >= 10**self.digits:
            raise OverflowError("id space exhausted")
        self.last = first + count - 1
        return first
