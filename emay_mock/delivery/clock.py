"""Two clocks: the wall clock for protocol checks, and the scheduler's clock a test can move.

The scheduler's clock runs from an anchor at `speed` times real time (monotonic, so a
wall-clock jump does not move it) and only ever moves forward. While `advance` runs due
work it is pinned to each job's due time, so that work sees the exact time it was due.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Clock:
    def __init__(
        self,
        *,
        speed: float = 1.0,
        start_ms: int | None = None,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.speed = speed
        self._wall = wall
        self._mono = monotonic
        self._anchor_ms = start_ms if start_ms is not None else int(wall() * 1000)
        self._anchor_mono = monotonic()
        self._pinned: int | None = None

    def wall_ms(self) -> int:
        """Real time, for the protocol's checks (validity window, timestamps, timerTime)."""
        return int(self._wall() * 1000)

    def now_ms(self) -> int:
        """The scheduler's time."""
        if self._pinned is not None:
            return self._pinned
        return self._anchor_ms + int((self._mono() - self._anchor_mono) * 1000 * self.speed)

    @property
    def offset_ms(self) -> int:
        """How far the scheduler's clock is ahead of the wall clock."""
        return self.now_ms() - self.wall_ms()

    @property
    def pinned(self) -> bool:
        return self._pinned is not None

    def pin(self, at_ms: int) -> None:
        self._pinned = max(at_ms, self.now_ms())

    def release(self) -> None:
        """Run freely again from the pinned time."""
        if self._pinned is not None:
            self._anchor_ms = self._pinned
            self._anchor_mono = self._mono()
            self._pinned = None

    def real_delay(self, due_ms: int) -> float:
        """Seconds of real time until the scheduler's clock reaches `due_ms`."""
        return max(0.0, (due_ms - self.now_ms()) / 1000 / self.speed)

    def scaled(self, real_seconds: float) -> int:
        """A real-time span expressed on the scheduler's clock, in ms."""
        return int(real_seconds * 1000 * self.speed)
