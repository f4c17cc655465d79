"""Figure 10: the slowest sendSingleSMS while the store grows to 400,000 messages.

A send must not pay for the size of what is stored. A Python dict that outgrows its table
moves every key to a bigger one in one step, in the call that adds the key: with one dict
per index, the send that took the store past 349,525 messages waited 27 ms here, and each
doubling doubles that (docs/benchmarks.md#index-shards). The real handler of an
in-process mock is called with fresh bodies, the collector frozen as `serve` freezes it,
and each call is timed alone: no HTTP, no other process, so what it shows is the
handler's own worst case, steady from run to run.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import statistics
import time

from bench import bodies
from bench.handler import WARM_UP, BenchRequest, send_all, start_handler
from bench.harness import Context
from bench.report import Figure
from emay_mock.freezing import Freezer

SENDS = 400_000
TARGET_MS = 5.0
SLOW_MS = 2.0
YIELD_EVERY = 100  # the event loop runs its timers (the freezer, the reports) between groups


class _Collections:
    """How long the cyclic collector has run so far, in ms (gc.callbacks)."""

    def __init__(self) -> None:
        self.ms = 0.0
        self._since = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._since = time.perf_counter()
        else:
            self.ms += (time.perf_counter() - self._since) * 1000


async def _slowest(sends: int) -> tuple[list[float], list[tuple[int, float, float]]]:
    mock, handler = await start_handler()
    Freezer(lambda: mock.push.failed).run(asyncio.get_running_loop())
    try:
        # Made as they are sent, so the bench's own objects stay few (400,000 requests held
        # at once would be the larger part of what the collector walks).
        calls = (BenchRequest(b) for b in bodies.generate(bodies.single, WARM_UP + sends))
        await send_all(handler, itertools.islice(calls, WARM_UP))
        times: list[float] = []
        slow: list[tuple[int, float, float]] = []  # which send, its ms, the collector's ms in it
        clock = time.perf_counter
        collections = _Collections()
        gc.callbacks.append(collections)
        for i, request in enumerate(calls):
            before = collections.ms
            started = clock()
            answer = await handler(request)
            took = (clock() - started) * 1000
            times.append(took)
            if answer.headers.get("result") != "SUCCESS":
                raise RuntimeError(f"send {i} was refused: {answer.headers.get('result')}")
            if took > SLOW_MS:
                slow.append((WARM_UP + i, round(took, 1), round(collections.ms - before, 1)))
            if i % YIELD_EVERY == 0:
                await asyncio.sleep(0)
        return times, slow
    finally:
        gc.callbacks[:] = [c for c in gc.callbacks if not isinstance(c, _Collections)]
        await mock.stop()


def growth(ctx: Context) -> list[Figure]:
    sends = ctx.n(SENDS, least=20_000)
    times, slow = asyncio.run(_slowest(sends))
    worst = max(times)
    figure = Figure(
        "10", f"slowest sendSingleSMS while {sends:,} messages are stored (handler, in process)",
        worst, "ms", f"< {TARGET_MS:g} ms", worst < TARGET_MS,
        reference=statistics.median(times), reference_name="median send",
        details={"sends": sends, f"over_{SLOW_MS:g}_ms": slow[:40], "over_count": len(slow)},
    )  # fmt: skip
    return [figure]
