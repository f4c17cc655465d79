"""What `serve` freezes out of the cyclic collector's sight: every tick's survivors, but never
the reference cycles failed pushes leave, which freezing would keep for good."""

from __future__ import annotations

import asyncio
import gc
import socket
from collections.abc import Iterator

import pytest

from emay_mock.client import EmayClient
from emay_mock.freezing import FAILING_EVERY, Freezer
from tests.conftest import APP_ID, SECRET, MockFactory, account


@pytest.fixture
def collector() -> Iterator[None]:
    """The collector off (cycles stay until someone collects), and unfrozen afterwards."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.enable()
        gc.collect()


class Marker:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


def frozen_garbage(kinds: tuple[type, ...]) -> int:
    """How many objects of these kinds freezing kept that nothing refers to any more."""
    gc.unfreeze()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        return sum(isinstance(o, kinds) for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_without_failures_every_tick_freezes_and_collects_nothing(collector: None) -> None:
    freezer = Freezer(lambda: 0)
    Marker()
    before = gc.get_freeze_count()
    freezer.tick()
    assert gc.get_freeze_count() > before  # frozen as they were: no collection first
    assert frozen_garbage((Marker,)) == 1  # which is why failed pushes need one


def test_after_a_failure_freezes_wait_a_second_and_collect_first(collector: None) -> None:
    failures = [0]
    freezer = Freezer(lambda: failures[0])
    freezer.tick()
    failures[0] += 1
    Marker()
    counts = []
    for _ in range(FAILING_EVERY):
        counts.append(gc.get_freeze_count())
        freezer.tick()
    assert len(set(counts)) == 1  # no freeze for a second after the last one
    assert gc.get_freeze_count() > counts[-1]  # then one, after a collection
    assert frozen_garbage((Marker,)) == 0
    for _ in range(FAILING_EVERY):
        freezer.tick()  # a second without failures
    Marker()
    freezer.tick()  # then every tick freezes again, without collecting
    assert frozen_garbage((Marker,)) == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("counted", [True, False], ids=["failures counted", "failures ignored"])
async def test_refused_pushes_leave_no_frozen_cycles(
    make_mock: MockFactory, collector: None, counted: bool
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/report"
    mock = await make_mock([account(push={"reportUrl": url, "retrySchedule": [0.05], "timeoutSeconds": 1})])
    push = mock.push
    freezer = Freezer((lambda: push.failed) if counted else (lambda: 0))
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        for i in range(5):
            await client.send_single_sms(f"1380000000{i}", "x")
    await mock.advance(2)
    for _ in range(200):  # every attempt refused, the retries too
        if push.dead:
            break
        await asyncio.sleep(0.02)
    assert push.failed >= 2 and push.dead >= 1
    for _ in range(FAILING_EVERY + 1):
        freezer.tick()
    refused = frozen_garbage((ConnectionRefusedError,))
    assert refused == 0 if counted else refused > 0
