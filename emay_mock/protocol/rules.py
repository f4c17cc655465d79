"""The field rules (docs/protocol.md#field-rules), written once for every send endpoint of every family."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from emay_mock.protocol import diagnose, times
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.notes import Deviation, Notes

_PREFIX = re.compile(r"^(?:\+86|0086|86)(?=\d{11}$)", re.ASCII)
SINGLE_SEGMENT_UNITS = 70
MULTI_SEGMENT_UNITS = 67


@dataclass(frozen=True)
class Rules:
    """The server-configurable limits; the defaults are the spec's."""

    mobile_pattern: re.Pattern[str] = field(default_factory=lambda: re.compile(r"1\d{10}", re.ASCII))
    max_recipients: int = 500
    max_content_units: int = 500
    max_custom_sms_id: int = 32
    max_extended_code: int = 12
    timer_grace_s: int = 60
    timer_horizon_days: int = 90
    tz: ZoneInfo = times.BEIJING


def strip_prefix(text: str) -> str:
    """The number without its +86 / 0086 / 86 country prefix."""
    return _PREFIX.sub("", text.strip())


def normalize_mobile(raw: str, rules: Rules, notes: Notes, where: str) -> str:
    """The bare number the platform indexes by; ERROR_MOBILE_ERROR when it is not one."""
    text = raw.strip()
    bare = strip_prefix(text)
    if bare != text:
        notes.deviate(Deviation.MOBILE_PREFIX, f"{where} {raw!r} carries a country prefix", field_name=where)
    if not rules.mobile_pattern.fullmatch(bare):
        raise EmayError(
            ResultCode.ERROR_MOBILE_ERROR,
            f"{where} {raw[:40]!r} is not a mobile number",
            field=where,
            expected=f"^{rules.mobile_pattern.pattern}$ after an optional +86/0086/86 prefix",
        )
    return bare


# A character beyond U+FFFF (a lone surrogate, which JSON allows, is not one of them).
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def content_units(text: str) -> int:
    """Length as carriers count it: UTF-16 code units (an emoji counts twice)."""
    if text.isascii() or _ASTRAL.search(text) is None:  # one unit a character
        return len(text)
    # Each character is 2 bytes in UTF-16 but for one beyond U+FFFF (4); a lone surrogate
    # (JSON allows "\ud800") passes as 2 bytes, one unit, as it counted before.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def segments(text: str, units: int | None = None) -> int:
    if units is None:
        units = content_units(text)
    if units <= SINGLE_SEGMENT_UNITS:
        return 1
    return -(-units // MULTI_SEGMENT_UNITS)


def check_content(text: str | None, rules: Rules, where: str) -> str:
    if text is None or text == "":
        raise EmayError(ResultCode.ERROR_CONTENT_EMPTY, f"{where} is empty", field=where)
    units = content_units(text)
    if units > rules.max_content_units:
        raise EmayError(
            ResultCode.ERROR_LONG_CONTENT,
            f"{where} is {units} characters long, the limit is {rules.max_content_units}",
            field=where,
            expected=rules.max_content_units,
            got=units,
        )
    return text


_VOICE_CODE = re.compile(r"\d{4,8}", re.ASCII)


def check_voice_content(text: str | None, where: str) -> str:
    """A voice verification code: 4 to 8 digits (docs/protocol.md#voice-rules)."""
    if text is None or text == "":
        raise EmayError(ResultCode.ERROR_CONTENT_EMPTY, f"{where} is empty", field=where)
    if not _VOICE_CODE.fullmatch(text):
        raise EmayError(
            ResultCode.ERROR_VOICE_CONTENT,
            f"{where} {text[:40]!r} is not a verification code of 4 to 8 digits",
            field=where,
            expected="4-8 digits",
        )
    return text


def parse_timer(raw: str | None, fmt: str, wall_now_ms: int, rules: Rules, where: str) -> int | None:
    """The scheduled send time in epoch ms, or None for "now"; ERROR_SMS_TIME when out of range."""
    if raw is None or raw.strip() == "":
        return None
    try:
        at = times.parse(raw.strip(), fmt, rules.tz)
    except ValueError:
        shown = "yyyy-MM-dd HH:mm:ss" if fmt == times.LONG_FORMAT else "yyyyMMddHHmmss"
        raise EmayError(
            ResultCode.ERROR_SMS_TIME,
            f"{where} {raw[:40]!r} is not {shown}",
            field=where,
            expected=shown,
        ) from None
    earliest = wall_now_ms - rules.timer_grace_s * 1000
    latest = wall_now_ms + rules.timer_horizon_days * 86_400_000
    if at < earliest:
        grace_ms = rules.timer_grace_s * 1000
        raise EmayError(
            ResultCode.ERROR_SMS_TIME,
            f"{where} {raw} is {(wall_now_ms - at) / 1000:.0f} s in the past "
            f"(now {times.format_long(wall_now_ms, rules.tz)}, grace {rules.timer_grace_s} s)",
            field=where,
            diagnosis=diagnose.local_time(at - wall_now_ms, grace_ms, rules.tz, wall_now_ms),
        )
    if at > latest:
        raise EmayError(
            ResultCode.ERROR_SMS_TIME,
            f"{where} {raw} is more than {rules.timer_horizon_days} days ahead",
            field=where,
        )
    return at


def custom_sms_id_fits(value: str | None, rules: Rules) -> bool:
    """The test of check_custom_sms_id, for a caller that spells out `where` only on failure."""
    return value is None or len(value) <= rules.max_custom_sms_id


def check_custom_sms_id(value: str | None, rules: Rules, where: str) -> str | None:
    if value is not None and not custom_sms_id_fits(value, rules):
        raise EmayError(
            ResultCode.ERROR_CUSTOM_SMSID,
            f"{where} is {len(value)} characters, the limit is {rules.max_custom_sms_id}",
            field=where,
            expected=rules.max_custom_sms_id,
            got=len(value),
        )
    return value


def check_extended_code(value: str | None, rules: Rules, where: str) -> str | None:
    if value is None:
        return None
    if not value.isascii() or not value.isdigit():
        raise EmayError(
            ResultCode.ERROR_EXTENDED_CODE,
            f"{where} {value[:40]!r} is not all digits",
            field=where,
        )
    if len(value) > rules.max_extended_code:
        raise EmayError(
            ResultCode.ERROR_EXTENDED_CODE,
            f"{where} has {len(value)} digits, the limit is {rules.max_extended_code}",
            field=where,
            expected=rules.max_extended_code,
            got=len(value),
        )
    return value
