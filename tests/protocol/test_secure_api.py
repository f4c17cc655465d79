"""How each secure endpoint's JSON maps onto the shared send shape, without HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from emay_mock.protocol import secure_api
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.fields import Fields
from emay_mock.protocol.notes import Notes
from emay_mock.protocol.send import SendOrder

WINDOW = {"requestTime": 1, "requestValidPeriod": 60}


def mapped(endpoint: str, **data: Any) -> SendOrder:
    """The send order the endpoint's mapper makes of these JSON fields."""
    return secure_api.SEND_MAPPERS[endpoint]({**WINDOW, **data}, Notes(), 500)


def test_single_maps_its_one_recipient_and_options() -> None:
    when = "2026-12-01 10:00:00"
    o = mapped("sendSingleSMS", mobile="13800000000", content="hi", customSmsId="c", timerTime=when,
              extendedCode="01")  # fmt: skip
    (r,) = o.recipients
    assert (r.mobile, r.content, r.custom_sms_id, r.timer_time, r.extended_code) == (
        "13800000000", "hi", "c", when, "01")  # fmt: skip


def test_batch_shares_content_and_options_and_names_each_item_s_path() -> None:
    smses = [{"mobile": "13800000000", "customSmsId": "a"}, {"mobile": "13800000001"}]
    o = mapped("sendBatchSMS", smses=smses, content="hi", extendedCode="9")
    assert [(r.mobile, r.content, r.custom_sms_id, r.extended_code) for r in o.recipients] == [
        ("13800000000", "hi", "a", "9"), ("13800000001", "hi", None, "9")]  # fmt: skip
    assert o.paths.at("mobile", 1) == "smses[1].mobile"


def test_personality_all_takes_every_option_per_item() -> None:
    item = {
        "mobile": "13800000000",
        "content": "x",
        "customSmsId": "p",
        "timerTime": None,
        "extendedCode": "7",
    }
    (r,) = mapped("sendPersonalityAllSMS", smses=[item]).recipients
    assert (r.content, r.extended_code, r.timer_time) == ("x", "7", None)


def test_a_list_longer_than_the_limit_is_refused_before_its_items_are_read() -> None:
    with pytest.raises(EmayError) as err:
        mapped("sendBatchOnlySMS", mobiles=["x"] * 501, content="hi")
    assert err.value.code is ResultCode.ERROR_MOBILE_NUMBER


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"content": "no placeholder", "url": "https://e.com", "shortLinkRule": "1"}, "content"),
        ({"content": "{#短网址#}", "url": "ftp://e.com", "shortLinkRule": "1"}, "url"),
        ({"content": "{#短网址#}", "url": "https://e.com", "shortLinkRule": "3"}, "shortLinkRule"),
    ],
)
def test_short_link_sends_check_their_own_fields(data: dict[str, str], field: str) -> None:
    with pytest.raises(EmayError) as err:
        mapped("sendShortLinkSMS", smses=[{"mobile": "13800000000"}], **data)
    assert (err.value.code, err.value.field) == (ResultCode.ERROR_PARAMS, field)


def test_template_sends_need_a_template_id_and_carry_variables() -> None:
    with pytest.raises(EmayError) as err:
        mapped("sendTemplateNormalSMS", smses=[{"mobile": "13800000000"}])
    assert err.value.field == "templateId"
    o = mapped(
        "sendTemplateVariableSMS", templateId="1", smses=[{"mobile": "13800000000", "content": {"n": "王"}}]
    )
    assert o.template_id == "1" and o.recipients[0].variables == {"n": "王"}


@pytest.mark.parametrize(("number", "expected"), [(None, 500), (0, 1), (7, 7), (10_000, 500)])
def test_pull_number_is_clamped(number: int | None, expected: int) -> None:
    data = {**WINDOW, **({} if number is None else {"number": number})}
    assert secure_api.pull_number(Fields(data, Notes())) == expected
