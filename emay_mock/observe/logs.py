"""The served process's logging: one line per request to stderr, made cheaply.

At thousands of requests a second the standard set-up spends more on each line than on
the request's SQLite transaction: it walks the stack for the caller's file and line, asks
for the thread, process and process name, and formats the time with strftime. None of
that appears in our format, so the records skip it (the switches the logging HOWTO's
"Optimization" section documents) and the time is formatted once per second.
"""

from __future__ import annotations

import logging
import time

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class LineFormatter(logging.Formatter):
    """FORMAT, with the standard `asctime` (local time, ",mmm") made by strftime once per
    second, and the line put together directly rather than by %-formatting a dict."""

    def __init__(self) -> None:
        super().__init__(FORMAT)
        self._second = -1
        self._text = ""

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info:
            return super().format(record)  # the traceback as the standard formatter writes it
        return f"{self.formatTime(record)} {record.levelname} {record.name}: {record.getMessage()}"

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second = int(record.created)
        if second != self._second:
            self._text = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = second
        return f"{self._text},{int(record.msecs):03d}"


def configure(level: str) -> None:
    """What `logging.basicConfig(level=..., format=FORMAT)` would set up, at a fraction of the cost."""
    logging._srcfile = None  # no stack walk for %(pathname)s, %(lineno)d
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler()
    handler.setFormatter(LineFormatter())
    logging.basicConfig(level=level, handlers=[handler])
