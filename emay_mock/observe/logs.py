"""The served process's logging: one line per request to stderr, made cheaply.

At thousands of requests a second the standard set-up spends more on each line than on
the request's SQLite transaction: it walks the stack for the caller's file and line, asks
for the thread, process and process name, and formats the time with strftime. None of
that appears in our format, so the records skip it (the switches the logging HOWTO's
"Optimization" section documents) and the time is formatted once per second. The time is
the platform's (Beijing unless `server.timezone` says otherwise), as the UI and the control
API show it, and carries its offset: `2026-12-08 10:42:31,099+08:00`. Lines are
written together by a timer on the event loop, at most FLUSH_AFTER_S after the first of
them, rather than one write system call per request; errors, and lines logged off the
event loop, are written at once, and everything is written at exit.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from emay_mock.protocol.times import BEIJING

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FLUSH_AFTER_S = 0.1
_MILLIS = tuple(f"{ms:03d}" for ms in range(1000))  # ",mmm" as %03d writes it, looked up


class LineFormatter(logging.Formatter):
    """FORMAT, with `asctime` in the platform's zone and with its offset
    (`2026-12-08 10:42:31,099+08:00`) made once per second, and the line put together
    directly rather than by %-formatting a dict."""

    def __init__(self, tz: ZoneInfo = BEIJING) -> None:
        super().__init__(FORMAT)
        self.tz = tz
        self._second = -1
        self._text = ""
        self._zone = ""
        self._ms = -1  # the millisecond `_stamp` is of: a line of the same one reuses it
        self._stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info:
            return super().format(record)  # the traceback as the standard formatter writes it
        return f"{self.formatTime(record)} {record.levelname} {record.name}: {record.getMessage()}"

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return self.stamp(record.created)

    def stamp(self, created: float) -> str:
        """`created` (seconds since the epoch) as `formatTime` writes it, to the millisecond;
        made once a millisecond (`_ms`, `_stamp`)."""
        ms = int(created * 1000)
        if ms == self._ms:
            return self._stamp
        second, millis = divmod(ms, 1000)
        if second != self._second:
            moment = datetime.fromtimestamp(second, self.tz)
            self._text = moment.strftime(self.default_time_format)
            offset = moment.strftime("%z")  # +0800
            self._zone = f"{offset[:3]}:{offset[3:]}"
            self._second = second
        self._ms = ms
        self._stamp = f"{self._text},{_MILLIS[millis]}{self._zone}"
        return self._stamp


class GatheringHandler(logging.StreamHandler[TextIO]):
    """A StreamHandler that gathers the lines logged on the event loop and writes them
    together on a timer.

    `flush()` writes what is gathered; logging.shutdown() calls it at exit (also after
    SIGTERM or Ctrl-C, which end `serve` normally), so no line is lost but to a kill -9.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self._lines.append(line)  # under the handler's lock (Handler.handle)
        if record.levelno >= logging.ERROR:
            self.flush()
        elif len(self._lines) == 1:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # not on the event loop (start-up, an executor thread)
                self.flush()
                return
            loop.call_later(FLUSH_AFTER_S, self.flush)

    def add(self, head: str, message: str, at_ms: int) -> None:
        """A line as the formatter would make it, without a LogRecord (the request lines' fast
        path, on `configure`'s handler): `head` is the level's and the logger's names
        ("INFO emay_mock.requests"), `at_ms` when it happened, in ms since the epoch."""
        formatter: LineFormatter = self.formatter  # type: ignore[assignment]  # `configure`'s
        # The stamp of the same millisecond as the last line's, as `stamp` keeps it, or a new one.
        stamp = formatter._stamp if at_ms == formatter._ms else formatter.stamp(at_ms / 1000)
        line = f"{stamp} {head}: {message}"
        with self.lock:  # type: ignore[union-attr]  # created by Handler.__init__
            lines = self._lines
            lines.append(line)
        if len(lines) == 1:
            try:
                asyncio.get_running_loop().call_later(FLUSH_AFTER_S, self.flush)
            except RuntimeError:
                self.flush()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]  # created by Handler.__init__
            lines, self._lines = self._lines, []
            try:
                if lines:
                    self.stream.write("\n".join(lines) + self.terminator)
                super().flush()
            except (OSError, ValueError):
                pass  # the stream is gone (a closed pipe or file): nothing left to write to


def _latency(ms: float) -> str:
    return f"{ms:.1f}ms"


# A request's latency as its log line writes it (`12.3ms`): looked up up to 100 ms.
LATENCIES = tuple(_latency(tenths / 10) for tenths in range(1000))


def latency(ms: float) -> str:
    """A latency to a tenth of a millisecond (`12.3ms`), looked up in the common case."""
    tenths = round(ms * 10)
    return LATENCIES[tenths] if 0 <= tenths < 1000 else _latency(ms)


def configure(level: str, tz: ZoneInfo = BEIJING) -> GatheringHandler | None:
    """What `logging.basicConfig(level=..., format=FORMAT)` would set up, at a fraction of the
    cost, with times in `tz` (the platform's zone) and their offset. Returns the handler when
    it is the root's only one (basicConfig leaves a logging set-up that is there alone)."""
    logging._srcfile = None  # no stack walk for %(pathname)s, %(lineno)d
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = GatheringHandler()
    handler.setFormatter(LineFormatter(tz))
    logging.basicConfig(level=level, handlers=[handler])
    return handler if logging.root.handlers == [handler] else None
