"""The served process's log lines: the standard format, gathered on the event loop, none lost."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import sys
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from emay_mock.observe.logs import FORMAT, GatheringHandler, LineFormatter, configure


def _record(level: int, msg: str, *args: object, exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            info = sys.exc_info()
    return logging.LogRecord("emay_mock.requests", level, __file__, 1, msg, args, info)


def test_line_formatter_writes_what_the_standard_formatter_writes_after_the_time() -> None:
    standard, lean = logging.Formatter(FORMAT), LineFormatter()
    for record in (
        _record(
            logging.INFO, "%s /%s appId=%s %s %.1fms%s", "secure", "sendSingleSMS", "A", "SUCCESS", 1.25, ""
        ),
        _record(logging.WARNING, "refused: %r", "中文"),
        _record(logging.ERROR, "job %s failed", 7, exc=True),
    ):
        line = lean.format(record)
        assert line[: len(STAMP)] == lean.stamp(record.created)
        assert line[len(STAMP) :] == standard.format(record)[len("2026-12-08 10:42:31,099") :]


STAMP = "2026-12-08 10:42:31,099+08:00"


def test_the_time_is_beijing_time_with_its_offset_whatever_the_machines_zone() -> None:
    # 2026-12-08 02:42:31.0995 UTC; the machine's own zone (TZ) plays no part.
    created = datetime(2026, 12, 8, 2, 42, 31, 99_500, tzinfo=UTC).timestamp()
    assert LineFormatter().stamp(created) == STAMP
    assert LineFormatter(ZoneInfo("UTC")).stamp(created) == "2026-12-08 02:42:31,099+00:00"
    record = _record(logging.INFO, "hello")
    record.created = created
    assert LineFormatter().format(record) == f"{STAMP} INFO emay_mock.requests: hello"


def _handler() -> tuple[GatheringHandler, io.StringIO]:
    stream = io.StringIO()
    handler = GatheringHandler(stream)
    handler.setFormatter(LineFormatter())
    return handler, stream


async def test_lines_logged_on_the_loop_are_written_together_in_order_and_an_error_at_once() -> None:
    handler, stream = _handler()
    handler.handle(_record(logging.INFO, "first"))
    handler.handle(_record(logging.WARNING, "second"))
    assert stream.getvalue() == ""  # gathered: no write per line
    handler.handle(_record(logging.ERROR, "third"))
    lines = [line.split(": ", 1)[1] for line in stream.getvalue().splitlines()]
    assert lines == ["first", "second", "third"]


async def test_the_timer_writes_gathered_lines_without_another_log_call() -> None:
    handler, stream = _handler()
    handler.handle(_record(logging.INFO, "alone"))
    assert stream.getvalue() == ""
    for _ in range(100):  # the loop timer fires 0.1 s later; wait for it by its effect
        await asyncio.sleep(0.05)
        if stream.getvalue():
            break
    assert stream.getvalue().endswith("emay_mock.requests: alone\n")


def test_lines_logged_off_the_loop_are_written_at_once_and_flush_writes_the_rest() -> None:
    handler, stream = _handler()
    handler.handle(_record(logging.INFO, "at start-up"))
    assert stream.getvalue().endswith("at start-up\n")
    handler._lines.append("pending")  # what logging.shutdown() finds at exit
    handler.flush()
    assert stream.getvalue().endswith("pending\n")


async def test_a_request_line_added_without_a_record_reads_as_the_standard_line() -> None:
    handler, stream = _handler()
    handler.add(
        "INFO emay_mock.requests", "secure /sendSingleSMS appId=A SUCCESS 0.4ms", int(time.time() * 1000)
    )
    handler.handle(_record(logging.INFO, "secure /sendSingleSMS appId=A SUCCESS 0.4ms"))
    handler.flush()
    fast, standard = stream.getvalue().splitlines()
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\+08:00"
    assert re.fullmatch(f"{stamp} INFO emay_mock.requests: secure /sendSingleSMS appId=A SUCCESS 0.4ms", fast)
    assert fast[len(STAMP) :] == standard[len(STAMP) :]  # the same after the time


def test_only_this_module_s_own_set_up_takes_the_fast_path() -> None:
    """`configure` hands out its handler, for request lines to go straight to, only when it is
    the root's one handler; beside any other (a test's capture, say), lines go through logging."""
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    try:
        root.handlers = []
        installed = configure("INFO")
        assert installed is not None and root.handlers == [installed]
        root.handlers = [logging.StreamHandler(io.StringIO())]
        assert configure("INFO") is None
    finally:
        root.handlers = saved
        root.setLevel(level)
