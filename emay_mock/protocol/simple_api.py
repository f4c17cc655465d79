"""How the simple, voice and retrieveReport families' parameters (§2.2, §2.4) map onto the
shared shapes. Parameters are text: they come from the query string, a form body, or both."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from emay_mock.protocol import times
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.fields import Fields
from emay_mock.protocol.notes import Deviation, Notes
from emay_mock.protocol.send import FieldPaths, Recipient, SendOrder

SIGN_PARAMS = ("appId", "timestamp", "sign")
OPTIONS = ("timerTime", "customSmsId", "extendedCode")
_MOBILE_NAME = re.compile(r"^\+?\d+$", re.ASCII)


def send_sms(f: Fields, limit: int) -> SendOrder:
    """/simpleinter/sendSMS: `mobiles` comma-separated, one content, shared options."""
    f = Fields(f.data, f.notes, known=("mobiles", "content", *OPTIONS, *SIGN_PARAMS), textual=True)
    raw = f.text("mobiles", optional=False) or ""
    pieces = [m.strip() for m in raw.split(",")]
    mobiles = [m for m in pieces if m]
    if mobiles and len(mobiles) != len(pieces):
        f.notes.deviate(
            Deviation.EMPTY_MOBILE_ITEM, "mobiles has empty entries (stray commas)", field_name="mobiles"
        )
    if len(mobiles) > limit:
        raise EmayError(
            ResultCode.ERROR_MOBILE_NUMBER,
            f"mobiles has {len(mobiles)} numbers, the limit is {limit}",
            field="mobiles",
            expected=limit,
            got=len(mobiles),
        )
    content = f.text("content", optional=False)
    timer, custom, ext = f.text("timerTime"), f.text("customSmsId"), f.text("extendedCode")
    recipients = [Recipient(m, content, custom, timer, ext) for m in mobiles]
    return SendOrder("sendSMS", recipients, times.COMPACT_FORMAT, FieldPaths(mobile="mobiles[{i}]"))


def send_personality(pairs: list[tuple[str, str]], f: Fields, limit: int) -> SendOrder:
    """/simpleinter/sendPersonalitySMS: one parameter per recipient, named by its mobile."""
    recipients_raw = [(name, value) for name, value in pairs if _MOBILE_NAME.match(name)]
    others = {name: value for name, value in pairs if not _MOBILE_NAME.match(name)}
    f = Fields(others, f.notes, known=(*OPTIONS, *SIGN_PARAMS), textual=True)
    if len(recipients_raw) > limit:
        raise EmayError(
            ResultCode.ERROR_MOBILE_NUMBER,
            f"{len(recipients_raw)} recipient parameters, the limit is {limit}",
            expected=limit,
            got=len(recipients_raw),
        )
    timer, custom, ext = f.text("timerTime"), f.text("customSmsId"), f.text("extendedCode")
    recipients = [Recipient(name, value, custom, timer, ext) for name, value in recipients_raw]
    names = tuple(name for name, _ in recipients_raw)
    paths = FieldPaths(mobile="{name}", content="{name}", names=names)
    return SendOrder("sendPersonalitySMS", recipients, times.COMPACT_FORMAT, paths)


def voice_send(f: Fields) -> SendOrder:
    """/voice/sendSMS: one mobile, a 4-8 digit code as content."""
    f = Fields(f.data, f.notes, known=("mobile", "content", "customSmsId", "extendedCode", *SIGN_PARAMS),
               textual=True)  # fmt: skip
    recipient = Recipient(
        f.text("mobile", optional=False),
        f.text("content", optional=False),
        f.text("customSmsId"),
        None,
        f.text("extendedCode"),
    )
    return SendOrder("sendSMS", [recipient], times.COMPACT_FORMAT, voice=True)


def pull_number(f: Fields, default: int = 500, maximum: int = 500) -> int:
    f = Fields(f.data, f.notes, known=("number", *SIGN_PARAMS), textual=True)
    number = f.integer("number")
    return default if number is None else min(max(number, 1), maximum)


def no_params(f: Fields) -> None:
    Fields(f.data, f.notes, known=SIGN_PARAMS, textual=True)


# -- /report/retrieveReport (§2.4) --------------------------------------------------------

MAX_SPAN_MS = 10 * 60 * 1000
MAX_AGE_MS = 30 * 86_400_000
MAX_SMS_IDS = 1000


def retrieve_range(f: Fields, wall_now_ms: int, tz: ZoneInfo) -> tuple[int, int, list[str] | None]:
    """(start ms, end ms inclusive, smsIds or None), or ERROR_REPORT_TIME / ERROR_TOO_MUCH_SMSIDS."""
    f = Fields(f.data, f.notes, known=("startTime", "endTime", "smsId", *SIGN_PARAMS), textual=True)
    bounds: list[int] = []
    for name in ("startTime", "endTime"):
        raw = f.text(name, optional=False)
        try:
            bounds.append(times.parse(raw or "", times.COMPACT_FORMAT, tz))
        except ValueError:
            raise EmayError(
                ResultCode.ERROR_REPORT_TIME, f"{name} {raw!r} is not yyyyMMddHHmmss", field=name
            ) from None
    start, end = bounds
    now_text = times.format_compact(wall_now_ms, tz)
    if start < wall_now_ms - MAX_AGE_MS:
        raise EmayError(ResultCode.ERROR_REPORT_TIME, "startTime is more than 30 days ago", field="startTime")
    if end > wall_now_ms:
        raise EmayError(ResultCode.ERROR_REPORT_TIME, f"endTime is after now ({now_text})", field="endTime")
    if end <= start:
        raise EmayError(ResultCode.ERROR_REPORT_TIME, "endTime must be after startTime", field="endTime")
    if end - start > MAX_SPAN_MS:
        raise EmayError(
            ResultCode.ERROR_REPORT_TIME,
            f"startTime to endTime is {(end - start) // 1000} s, at most 600 s are allowed",
            field="endTime",
        )
    raw_ids = f.text("smsId")
    sms_ids = None
    if raw_ids is not None:
        sms_ids = [s.strip() for s in raw_ids.split(",") if s.strip()]
        if len(sms_ids) > MAX_SMS_IDS:
            raise EmayError(
                ResultCode.ERROR_TOO_MUCH_SMSIDS,
                f"{len(sms_ids)} smsIds, at most {MAX_SMS_IDS} are allowed",
                field="smsId",
                expected=MAX_SMS_IDS,
                got=len(sms_ids),
            )
        bad = next((s for s in sms_ids if not (s.isascii() and s.isdigit())), None)
        if bad is not None:
            raise EmayError(ResultCode.ERROR_PARAMS, f"smsId {bad[:40]!r} is not numeric", field="smsId")
    return start, end + 999, sms_ids


def fields_of(params: dict[str, str], notes: Notes) -> Fields:
    return Fields(params, notes, textual=True)
