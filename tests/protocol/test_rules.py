"""Field rules shared by every send endpoint (docs/protocol.md#field-rules)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from emay_mock.protocol import rules, times
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.notes import Deviation, Notes

R = rules.Rules()


@pytest.mark.parametrize(
    "raw", ["13800000000", "+8613800000000", "008613800000000", "8613800000000", " 13800000000 "]
)
def test_mobile_accepts_bare_and_prefixed(raw: str) -> None:
    notes = Notes()
    assert rules.normalize_mobile(raw, R, notes, "mobile") == "13800000000"
    prefixed = raw.strip() != "13800000000"
    assert (Deviation.MOBILE_PREFIX.value in notes.kinds()) is prefixed


@pytest.mark.parametrize(
    "raw", ["1380000000", "138000000000", "23800000000", "1380000000a", "+1 5551234", ""]
)
def test_mobile_refuses_malformed(raw: str) -> None:
    with pytest.raises(EmayError) as err:
        rules.normalize_mobile(raw, R, Notes(), "smses[2].mobile")
    assert err.value.code is ResultCode.ERROR_MOBILE_ERROR
    assert err.value.field == "smses[2].mobile"


def test_mobile_pattern_is_configurable() -> None:
    custom = rules.Rules(mobile_pattern=re.compile(r"\d{8}"))
    assert rules.normalize_mobile("12345678", custom, Notes(), "m") == "12345678"


def test_strict_notes_turn_a_prefix_into_error_params() -> None:
    with pytest.raises(EmayError) as err:
        rules.normalize_mobile("+8613800000000", R, Notes(strict=True), "mobile")
    assert err.value.code is ResultCode.ERROR_PARAMS
    assert "strict" in err.value.reason


@pytest.mark.parametrize(
    ("length", "expected"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4), (500, 8)]
)
def test_segments_70_then_67(length: int, expected: int) -> None:
    assert rules.segments("字" * length) == expected


def test_emoji_count_as_two_units_like_carriers() -> None:
    assert rules.content_units("😀") == 2
    assert rules.segments("a" * 69 + "😀") == 2


def test_content_empty_and_too_long() -> None:
    with pytest.raises(EmayError) as err:
        rules.check_content("", R, "content")
    assert err.value.code is ResultCode.ERROR_CONTENT_EMPTY
    assert rules.check_content("x" * 500, R, "content")
    with pytest.raises(EmayError) as err:
        rules.check_content("x" * 501, R, "content")
    assert err.value.code is ResultCode.ERROR_LONG_CONTENT
    assert err.value.detail == {"expected": 500, "got": 501}


def _at(delta: timedelta) -> tuple[str, int]:
    now = datetime.now(times.BEIJING)
    return (now + delta).strftime(times.LONG_FORMAT), int(now.timestamp() * 1000)


def test_timer_time_window() -> None:
    text, now = _at(timedelta(hours=1))
    assert rules.parse_timer(text, times.LONG_FORMAT, now, R, "timerTime") is not None
    assert rules.parse_timer(None, times.LONG_FORMAT, now, R, "timerTime") is None
    assert rules.parse_timer("  ", times.LONG_FORMAT, now, R, "timerTime") is None
    text, now = _at(timedelta(seconds=-30))  # inside the 60 s grace
    assert rules.parse_timer(text, times.LONG_FORMAT, now, R, "timerTime") is not None
    for delta in (timedelta(minutes=-5), timedelta(days=91)):
        text, now = _at(delta)
        with pytest.raises(EmayError) as err:
            rules.parse_timer(text, times.LONG_FORMAT, now, R, "timerTime")
        assert err.value.code is ResultCode.ERROR_SMS_TIME


@pytest.mark.parametrize("text", ["2026-13-01 00:00:00", "tomorrow", "20261201120000", "2026-12-01"])
def test_timer_time_format_is_exact(text: str) -> None:
    with pytest.raises(EmayError) as err:
        rules.parse_timer(text, times.LONG_FORMAT, 0, R, "timerTime")
    assert err.value.code is ResultCode.ERROR_SMS_TIME


def test_timer_time_compact_format_for_the_simple_family() -> None:
    at = datetime.now(times.BEIJING) + timedelta(hours=2)
    ms = rules.parse_timer(
        at.strftime(times.COMPACT_FORMAT),
        times.COMPACT_FORMAT,
        int(at.timestamp() * 1000) - 7_200_000,
        R,
        "t",
    )
    assert ms is not None and abs(ms - int(at.timestamp() * 1000)) < 1000


def test_custom_sms_id_and_extended_code_limits() -> None:
    assert rules.check_custom_sms_id("x" * 32, R, "customSmsId") == "x" * 32
    with pytest.raises(EmayError) as err:
        rules.check_custom_sms_id("x" * 33, R, "customSmsId")
    assert err.value.code is ResultCode.ERROR_CUSTOM_SMSID
    assert rules.check_extended_code("123456789012", R, "extendedCode") == "123456789012"
    for bad in ("1234567890123", "12a", "１２", "-1"):
        with pytest.raises(EmayError) as err:
            rules.check_extended_code(bad, R, "extendedCode")
        assert err.value.code is ResultCode.ERROR_EXTENDED_CODE


@pytest.mark.parametrize("raw", ["１３８００００００００", "1３800000000", "+８６13800000000"])
def test_full_width_digits_are_not_digits(raw: str) -> None:
    with pytest.raises(EmayError) as err:
        rules.normalize_mobile(raw, R, Notes(), "mobile")
    assert err.value.code is ResultCode.ERROR_MOBILE_ERROR
