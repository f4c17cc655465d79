"""Emay's two time formats, in the platform's zone (Beijing unless configured)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
LONG_FORMAT = "%Y-%m-%d %H:%M:%S"  # yyyy-MM-dd HH:mm:ss: secure timerTime, report and MO times
COMPACT_FORMAT = "%Y%m%d%H%M%S"  # yyyyMMddHHmmss: simple timestamp and timerTime


# Both formats stop at the second, and a batch of reports shares a handful of seconds: each
# second is formatted once (strftime with a zone costs microseconds, a report needs two).
@lru_cache(maxsize=4096)
def _format_second(second: int, tz: ZoneInfo, fmt: str) -> str:
    return datetime.fromtimestamp(second, tz).strftime(fmt)


def format_long(ms: int, tz: ZoneInfo = BEIJING) -> str:
    return _format_second(ms // 1000, tz, LONG_FORMAT)


def format_compact(ms: int, tz: ZoneInfo = BEIJING) -> str:
    return _format_second(ms // 1000, tz, COMPACT_FORMAT)


def parse(text: str, fmt: str, tz: ZoneInfo = BEIJING) -> int:
    """Epoch milliseconds of a local time string; ValueError if it does not fit `fmt` exactly."""
    if fmt == COMPACT_FORMAT and (len(text) != 14 or not text.isdigit()):
        raise ValueError(f"{text!r} is not 14 digits")
    moment = datetime.strptime(text, fmt).replace(tzinfo=tz)
    return int(moment.timestamp() * 1000)
