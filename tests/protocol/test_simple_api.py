"""How the signed families' parameters map onto the shared send shape, without HTTP."""

from __future__ import annotations

import pytest

from emay_mock.protocol import simple_api, times
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.fields import Fields
from emay_mock.protocol.notes import Notes

SIGNED = {"appId": "A", "timestamp": "20261130120000", "sign": "x"}
NOW = times.parse("20261130120000", times.COMPACT_FORMAT)


def fields(**params: str) -> Fields:
    return simple_api.fields_of({**SIGNED, **params}, Notes())


def test_send_sms_splits_mobiles_and_notes_stray_commas() -> None:
    f = fields(mobiles="13800000000,,13800000001,", content="hi", extendedCode="1")
    o = simple_api.send_sms(f, 500)
    assert [r.mobile for r in o.recipients] == ["13800000000", "13800000001"]
    assert f.notes.kinds() == ["empty-mobile-item"]
    assert o.timer_format == times.COMPACT_FORMAT


def test_personality_takes_one_parameter_per_recipient_named_by_its_mobile() -> None:
    pairs = [*SIGNED.items(), ("13800000000", "甲"), ("+8613800000001", "乙"), ("customSmsId", "c")]
    o = simple_api.send_personality(pairs, fields(), 500)
    assert [(r.mobile, r.content, r.custom_sms_id) for r in o.recipients] == [
        ("13800000000", "甲", "c"), ("+8613800000001", "乙", "c")]  # fmt: skip
    assert o.paths.at("content", 1) == "+8613800000001"


def test_voice_is_one_mobile_with_a_code() -> None:
    o = simple_api.voice_send(fields(mobile="13800000000", content="1234"))
    assert o.voice and [(r.mobile, r.content) for r in o.recipients] == [("13800000000", "1234")]


def test_retrieve_range_is_inclusive_of_the_end_second_and_takes_sms_ids() -> None:
    start, end, ids = simple_api.retrieve_range(
        fields(startTime="20261130115500", endTime="20261130120000", smsId="1, 2"), NOW, times.BEIJING
    )
    assert end - start == 5 * 60_000 + 999 and ids == ["1", "2"]


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        ("20261130114900", "20261130120000", ResultCode.ERROR_REPORT_TIME),  # more than 10 minutes
        ("20261130120000", "20261130115900", ResultCode.ERROR_REPORT_TIME),  # end before start
        ("20261130120000", "20261130120100", ResultCode.ERROR_REPORT_TIME),  # end after now
        ("2026-11-30", "20261130120000", ResultCode.ERROR_REPORT_TIME),  # not yyyyMMddHHmmss
    ],
)
def test_retrieve_range_refuses_bad_ranges(start: str, end: str, code: ResultCode) -> None:
    with pytest.raises(EmayError) as err:
        simple_api.retrieve_range(fields(startTime=start, endTime=end), NOW, times.BEIJING)
    assert err.value.code is code


def test_retrieve_range_takes_at_most_1000_sms_ids() -> None:
    with pytest.raises(EmayError) as err:
        simple_api.retrieve_range(
            fields(startTime="20261130115500", endTime="20261130120000", smsId=",".join(["1"] * 1001)),
            NOW, times.BEIJING,
        )  # fmt: skip
    assert err.value.code is ResultCode.ERROR_TOO_MUCH_SMSIDS
