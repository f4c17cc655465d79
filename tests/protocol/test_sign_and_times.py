"""The simple family's md5 sign and timestamp, and the two time formats, in Beijing time."""

from __future__ import annotations

import hashlib
from zoneinfo import ZoneInfo

import pytest

from emay_mock.protocol import sign, times
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.notes import Notes

NOW = times.parse("20261130120000", times.COMPACT_FORMAT)


def test_the_sign_is_md5_of_app_id_key_and_timestamp_in_lower_case_hex() -> None:
    expected = hashlib.md5(b"A0123456789ABCDEF20261130120000").hexdigest()
    assert sign.make_sign("A", "0123456789ABCDEF", "20261130120000") == expected


def test_an_upper_case_sign_is_accepted_and_noted_a_wrong_one_names_the_expected() -> None:
    good = sign.make_sign("A", "K" * 16, "20261130120000")
    notes = Notes()
    sign.check_sign("A", "K" * 16, "20261130120000", good.upper(), notes)
    assert notes.kinds() == ["sign-upper-case"]
    with pytest.raises(EmayError) as err:
        sign.check_sign("A", "K" * 16, "20261130120000", "0" * 32, Notes())
    assert err.value.code is ResultCode.ERROR_SIGN and err.value.detail["expected"] == good


@pytest.mark.parametrize(
    ("stamp", "ok"), [("20261130120500", True), ("20261130121001", False), ("2026113012", False)]
)
def test_the_timestamp_is_14_digits_within_the_skew(stamp: str, ok: bool) -> None:
    if ok:
        assert sign.check_timestamp(stamp, NOW, 600, times.BEIJING) == 300_000
    else:
        with pytest.raises(EmayError) as err:
            sign.check_timestamp(stamp, NOW, 600, times.BEIJING)
        assert err.value.code is ResultCode.ERROR_TIMESTAMP


def test_times_are_read_and_written_in_the_zone_both_ways() -> None:
    ms = times.parse("2026-11-30 12:00:00", times.LONG_FORMAT)
    assert ms == NOW and ms % 1000 == 0
    assert times.format_long(ms + 999) == "2026-11-30 12:00:00"  # a second's ms are dropped
    assert times.format_compact(ms) == "20261130120000"
    assert times.format_long(ms, ZoneInfo("UTC")) == "2026-11-30 04:00:00"  # Beijing is UTC+8
    with pytest.raises(ValueError):
        times.parse("2026-11-30T12:00:00", times.LONG_FORMAT)
