"""What `serve` keeps out of the cyclic garbage collector's sight, and when.

A running mock holds objects that live until retention removes them (messages, queue
items, journal entries). The collector would walk them again and again, so what survives
is frozen (`gc.freeze()` moves lists: it costs nothing) and a collection walks only what
is younger than the last freeze. Freezing every tenth of a second, rather than every
second, keeps the collector's pauses short enough to stay out of sendSingleSMS's tail
(docs/DECISIONS.md#memory).

Freezing never stops an object from being freed when its last reference goes, but a
reference cycle that is still uncollected garbage when it is frozen is kept for good. The
request path makes none. A failed push does: aiohttp and asyncio leave a refused
connection's exception, traceback and frames in a cycle. So after pushes have failed, the
next freeze first collects what is not frozen yet, and while they go on failing, freezes
come once a second rather than ten times, so that few failures are caught in flight by one.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

FREEZE_EVERY_S = 0.1
# While pushes keep failing, one tick in this many freezes (once a second).
FAILING_EVERY = 10


class Freezer:
    """Counts in ticks of FREEZE_EVERY_S."""

    def __init__(self, failures: Callable[[], int]) -> None:
        """`failures`: how many pushes have failed so far (only its changes matter)."""
        self._failures = failures
        self._seen = failures()
        self._tick = 0
        never = -(10**9)
        self._failed_at = never  # the last tick that saw new failures
        self._collected_at = never
        self._frozen_at = never

    def tick(self) -> None:
        self._tick += 1
        failures = self._failures()
        if failures != self._seen:
            self._seen, self._failed_at = failures, self._tick
        failing = self._tick - self._failed_at <= FAILING_EVERY  # a failure within a second
        if failing and self._tick - self._frozen_at < FAILING_EVERY:
            return
        if self._failed_at > self._collected_at:
            gc.collect()  # what is not frozen: at most a second's survivors
            self._collected_at = self._tick
        self._frozen_at = self._tick
        gc.freeze()

    def run(self, loop: asyncio.AbstractEventLoop) -> None:
        """Tick now and every FREEZE_EVERY_S on the loop, for as long as it runs."""
        self.tick()
        loop.call_later(FREEZE_EVERY_S, self.run, loop)
