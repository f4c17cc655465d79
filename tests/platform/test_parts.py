"""The platform built from its parts, on a clock the test holds, with no server and no HTTP:
what the composition root builds, driven directly."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from emay_mock.delivery.clock import Clock
from emay_mock.observe.journal import Entry
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.notes import Notes
from emay_mock.protocol.send import Recipient, SendOrder
from emay_mock.protocol.times import LONG_FORMAT, format_long
from emay_mock.scenarios.engine import ScenarioBook
from emay_mock.scenarios.loader import parse
from emay_mock.scenarios.outcomes import FaultNow
from emay_mock.server import Parts
from emay_mock.settings import AccountSpec, Settings
from emay_mock.store.state import Store

START = 1_796_000_000_000  # a fixed wall-clock time, in ms


class HeldTime:
    """A wall clock and a monotonic clock that move only when the test says."""

    def __init__(self) -> None:
        self.wall_s = START / 1000
        self.mono_s = 1_000.0

    def wall(self) -> float:
        return self.wall_s

    def mono(self) -> float:
        return self.mono_s

    def clock(self) -> Clock:
        return Clock(wall=self.wall, monotonic=self.mono)


def _parts(time: HeldTime, scenario: str | None = None, **settings: object) -> Parts:
    book = ScenarioBook()
    if scenario is not None:
        book.load(parse(scenario, "test"))
    parts = Parts(Store(), time.clock(), Settings(**settings), scenarios=book)  # type: ignore[arg-type]
    parts.accounts.put(AccountSpec("A", "0123456789ABCDEF", balance=10))
    return parts


@pytest.fixture
def time() -> HeldTime:
    return HeldTime()


@pytest.fixture
async def parts(time: HeldTime) -> AsyncIterator[Parts]:
    parts = _parts(time)
    await parts.start()
    yield parts
    await parts.stop()


def _entry(endpoint: str = "sendBatchOnlySMS") -> Entry:
    return Entry("secure", endpoint, "POST", None, START, "A")


def _order(*recipients: Recipient) -> SendOrder:
    return SendOrder("sendBatchOnlySMS", list(recipients), LONG_FORMAT)


async def test_a_report_falls_due_on_the_scheduler_s_clock_not_in_real_time(parts: Parts) -> None:
    rows, early = parts.platform.submit(parts.accounts["A"], _entry(), _order(Recipient("13800000001", "x")))
    assert not early and [row.state for row in rows] == [None]
    assert parts.platform.sending.pull_reports(parts.accounts["A"], 10) == []
    assert await parts.advance(1) == 1  # the report bucket, at once
    (report,) = parts.platform.sending.pull_reports(parts.accounts["A"], 10)
    assert report["state"] == "DELIVRD" and report["smsId"] == rows[0].sms_id
    # The report carries the time it was due: one second after the send, on the test's clock.
    assert report["receiveTime"] == format_long(rows[0].submit_at + 1000, parts.settings.rules.tz)


async def test_a_timer_is_kept_at_its_distance_and_reached_by_advancing(parts: Parts, time: HeldTime) -> None:
    in_ten_minutes = format_long(START + 600_000, parts.settings.rules.tz)
    order = _order(Recipient("13800000001", "x", timer_time=in_ten_minutes))
    (row,), _ = parts.platform.submit(parts.accounts["A"], _entry(), order)
    assert row.timer_time == START + 600_000 and row.send_at == row.submit_at + 600_000
    await parts.advance(600)
    assert row.state is None  # sent now; its report comes a second later
    await parts.advance(1)
    assert row.state == "DELIVRD" and row.report_at == row.submit_at + 601_000


async def test_the_window_is_judged_by_the_request_s_arrival(parts: Parts) -> None:
    gate, account = parts.platform.gate, parts.accounts["A"]
    fresh = {"requestTime": START - 1_000, "requestValidPeriod": 60}
    gate.check_window(account, Notes(), fresh, b"a", "sendSingleSMS", START, submits=True)
    with pytest.raises(EmayError) as expired:
        gate.check_window(account, Notes(), fresh, b"b", "sendSingleSMS", START + 60_000, submits=True)
    assert expired.value.code is ResultCode.ERROR_REQUEST_NO_VALID
    with pytest.raises(EmayError) as replayed:
        gate.check_window(account, Notes(), fresh, b"a", "sendSingleSMS", START + 1, submits=True)
    assert replayed.value.detail == {"rule": "replay"}
    ahead = Notes()
    early = {"requestTime": START + 3_600_000, "requestValidPeriod": 60}
    gate.check_window(account, ahead, early, b"c", "getBalance", START, submits=False)
    assert ahead.kinds() == ["requestTime-in-future"]


async def test_a_refused_send_changes_nothing(parts: Parts) -> None:
    order = _order(*(Recipient(f"1380000000{i}", "字" * 71) for i in range(6)))  # 12 segments, balance 10
    with pytest.raises(EmayError) as refused:
        parts.platform.submit(parts.accounts["A"], _entry(), order)
    assert refused.value.code is ResultCode.ERROR_BALANCE
    assert parts.accounts["A"].balance == 10 and parts.store.messages.count() == 0
    assert parts.scheduler.pending() == 0


async def test_a_scripted_code_refuses_and_the_entry_names_the_rule(time: HeldTime) -> None:
    parts = _parts(
        time,
        "rules:\n  - name: broke\n    match: {endpoint: sendBatchOnlySMS}\n    then: {code: ERROR_BALANCE}\n",
    )
    entry = _entry()
    with pytest.raises(EmayError) as refused:
        parts.platform.submit(parts.accounts["A"], entry, _order(Recipient("13800000001", "x")))
    assert refused.value.code is ResultCode.ERROR_BALANCE
    assert [fired["rule"] for fired in entry.rules] == ["scenario/broke"]
    assert parts.store.messages.count() == 0


async def test_a_latency_scripted_before_the_work_is_left_to_the_caller_and_the_work_resumes(
    time: HeldTime,
) -> None:
    """The platform never waits: it raises the fault, and the send happens when resumed."""
    scenario = (
        "rules:\n  - match: {endpoint: sendBatchOnlySMS}\n    then: {fault: {kind: latency, latency: 2}}\n"
    )
    parts = _parts(time, scenario)
    entry = _entry()
    with pytest.raises(FaultNow) as fault:
        parts.platform.submit(parts.accounts["A"], entry, _order(Recipient("13800000001", "x")))
    assert fault.value.fault.latency_ms == 2000 and fault.value.resume is not None
    assert parts.store.messages.count() == 0  # nothing happened yet
    rows, _ = fault.value.resume()
    assert parts.store.messages.count() == 1 and entry.sms_id_first == int(rows[0].sms_id)


async def test_a_message_s_whole_story_is_one_read(time: HeldTime) -> None:
    """The read model's story: the row, the MO that replied to it, the clicks on its link."""
    scenario = "rules:\n  - match: {content: 'TD'}\n    then: {reply: {content: '退订', delay: 3}}\n"
    parts = _parts(time, scenario)
    await parts.start()
    try:
        (row,), _ = parts.platform.submit(
            parts.accounts["A"], _entry(), _order(Recipient("13800000001", "回TD退订"))
        )
        await parts.advance(5)  # the report at 1 s, the reply 3 s after it
        story = parts.read.story(row.sms_id)
        assert story is not None and story.message is row and story.message.state == "DELIVRD"
        assert [(mo.content, mo.reply_to) for mo in story.replies] == [("退订", row.sms_id)]
        assert story.pushes == [] and story.clicks == []  # no callback, no short link
        assert parts.read.story("1") is None
    finally:
        await parts.stop()


async def test_retention_prunes_by_age_on_the_scheduler_s_clock_and_says_so(time: HeldTime) -> None:
    pruned: list[tuple[int, str]] = []
    parts = Parts(
        Store(), time.clock(), Settings(max_age_hours=1), on_pruned=lambda n, why: pruned.append((n, why))
    )
    parts.accounts.put(AccountSpec("A", "0123456789ABCDEF", balance=10))
    await parts.start()
    try:
        parts.platform.submit(parts.accounts["A"], _entry(), _order(Recipient("13800000001", "x")))
        await parts.advance(1800)
        assert parts.store.messages.count() == 1 and pruned == []
        await parts.advance(1801)
        assert parts.store.messages.count() == 0
        assert pruned == [(1, "older than maxAgeHours 1")]
        assert parts.read.figures().pruned == 1
    finally:
        await parts.stop()
