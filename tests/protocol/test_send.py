"""The order of checks on a whole send request, and repeats inside it."""

from __future__ import annotations

import time

import pytest

from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.notes import Notes
from emay_mock.protocol.rules import Rules
from emay_mock.protocol.send import Recipient, SendOrder, validate
from emay_mock.protocol.times import LONG_FORMAT

NOW = int(time.time() * 1000)


def order(*recipients: Recipient) -> SendOrder:
    return SendOrder("sendBatchSMS", list(recipients), LONG_FORMAT)


def refusal_code(o: SendOrder) -> ResultCode:
    with pytest.raises(EmayError) as err:
        validate(o, Rules(), NOW, Notes())
    return err.value.code


def test_no_mobile_at_all_is_mobile_empty() -> None:
    assert refusal_code(order()) is ResultCode.ERROR_MOBILE_EMPTY
    assert refusal_code(order(Recipient(None, "x"), Recipient("", "x"))) is ResultCode.ERROR_MOBILE_EMPTY


def test_a_blank_among_numbers_is_mobile_error() -> None:
    assert (
        refusal_code(order(Recipient("13800000000", "x"), Recipient("", "x")))
        is ResultCode.ERROR_MOBILE_ERROR
    )


def test_more_than_500_is_mobile_number_before_any_number_is_checked() -> None:
    many = [Recipient("bad", "x")] * 501
    assert refusal_code(order(*many)) is ResultCode.ERROR_MOBILE_NUMBER


def test_mobile_errors_come_before_content_errors() -> None:
    assert refusal_code(order(Recipient("123", ""))) is ResultCode.ERROR_MOBILE_ERROR
    assert refusal_code(order(Recipient("13800000000", ""))) is ResultCode.ERROR_CONTENT_EMPTY


def test_content_before_timer_before_custom_id_before_extended_code() -> None:
    bad_all = Recipient("13800000000", "x" * 501, "y" * 33, "garbage", "abc")
    assert refusal_code(order(bad_all)) is ResultCode.ERROR_LONG_CONTENT
    assert (
        refusal_code(order(Recipient("13800000000", "ok", "y" * 33, "garbage", "abc")))
        is ResultCode.ERROR_SMS_TIME
    )
    assert (
        refusal_code(order(Recipient("13800000000", "ok", "y" * 33, None, "abc")))
        is ResultCode.ERROR_CUSTOM_SMSID
    )
    assert (
        refusal_code(order(Recipient("13800000000", "ok", None, None, "abc")))
        is ResultCode.ERROR_EXTENDED_CODE
    )


def test_repeats_are_accepted_and_marked_after_the_first() -> None:
    sent = order(
        Recipient("13800000000", "a"), Recipient("+8613800000000", "a"), Recipient("13900000000", "a")
    )
    assert validate(sent, Rules(), NOW, Notes()) == 3
    planned = sent.recipients
    assert [p.repeat for p in planned] == [False, True, False]
    assert [p.mobile for p in planned] == ["13800000000", "+8613800000000", "13900000000"]
    assert {p.mobile_norm for p in planned} == {"13800000000", "13900000000"}


def test_segments_are_per_recipient_content() -> None:
    sent = order(Recipient("13800000000", "a" * 71), Recipient("13900000000", "b"))
    assert validate(sent, Rules(), NOW, Notes()) == 3  # what the order costs
    assert [p.segments for p in sent.recipients] == [2, 1]
