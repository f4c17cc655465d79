"""The secure send endpoints over real sockets: success shapes and stored messages."""

from __future__ import annotations

from datetime import datetime, timedelta

import aiohttp
import pytest

from emay_mock.client import EmayClient
from emay_mock.protocol.times import BEIJING, LONG_FORMAT
from emay_mock.server import MockServer
from tests.support.control import messages
from tests.wire.secure_helpers import send_json, window

SEND_KEYS = {"mobile", "smsId", "customSmsId"}


def is_sms_id(value: object) -> bool:
    return isinstance(value, str) and len(value) == 20 and value.isdigit()


async def test_send_single_returns_one_object(client: EmayClient) -> None:
    result = await client.send_single_sms("13800000000", "【测试】验证码 1234", custom_sms_id="order-1")
    assert set(result) == SEND_KEYS
    assert result["mobile"] == "13800000000"
    assert result["customSmsId"] == "order-1"
    assert is_sms_id(result["smsId"])


async def test_send_batch_returns_one_entry_per_recipient_in_order(client: EmayClient) -> None:
    smses: list[dict[str, str | None]] = [
        {"mobile": "13800000001", "customSmsId": "a"},
        {"mobile": "13800000002", "customSmsId": None},
    ]
    result = await client.send_batch_sms(smses, "hello")
    assert [r["mobile"] for r in result] == ["13800000001", "13800000002"]
    assert [r["customSmsId"] for r in result] == ["a", None]
    assert all(set(r) == SEND_KEYS and is_sms_id(r["smsId"]) for r in result)


async def test_sms_ids_are_unique_and_increasing(client: EmayClient) -> None:
    first = await client.send_batch_only_sms([f"1380000{i:04d}" for i in range(300)], "hi")
    second = await client.send_single_sms("13900000000", "hi")
    ids = [int(r["smsId"]) for r in first] + [int(second["smsId"])]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


async def test_send_batch_only_has_no_custom_ids(client: EmayClient) -> None:
    result = await client.send_batch_only_sms(["13800000001", "13800000002"], "hello")
    assert [r["customSmsId"] for r in result] == [None, None]
    assert [r["mobile"] for r in result] == ["13800000001", "13800000002"]


async def test_personality_stores_each_recipients_content(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    result = await client.send_personality_sms(
        [
            {"mobile": "13800000001", "content": "给 A", "customSmsId": "a"},
            {"mobile": "13800000002", "content": "给 B"},
        ]
    )
    stored = {m["smsId"]: m for m in await messages(http, mock)}
    assert [stored[r["smsId"]]["content"] for r in result] == ["给 A", "给 B"]


async def test_personality_all_keeps_each_recipients_timer_and_extended_code(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    later = (datetime.now(BEIJING) + timedelta(hours=2)).replace(microsecond=0)
    result = await client.send_personality_all_sms(
        [
            {
                "mobile": "13800000001",
                "content": "A",
                "timerTime": later.strftime(LONG_FORMAT),
                "extendedCode": "01",
            },
            {"mobile": "13800000002", "content": "B", "customSmsId": "b"},
        ]
    )
    stored = {m["smsId"]: m for m in await messages(http, mock)}
    a, b = (stored[r["smsId"]] for r in result)
    assert a["timerTime"] == later.strftime(LONG_FORMAT) and a["extendedCode"] == "01"
    assert b["timerTime"] is None and b["extendedCode"] is None and b["customSmsId"] == "b"


async def test_message_view_has_every_field_the_interface_names(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    sent = await client.send_single_sms("+8613800000000", "x" * 71, custom_sms_id="c1", extended_code="12")
    (msg,) = await messages(http, mock, smsId=sent["smsId"])
    for name in (
        "smsId",
        "appId",
        "mobile",
        "content",
        "customSmsId",
        "extendedCode",
        "submitTime",
        "timerTime",
        "segments",
        "state",
    ):
        assert name in msg
    assert msg["segments"] == 2
    assert msg["mobile"] == "+8613800000000"
    assert msg["state"] is None
    assert (await messages(http, mock, mobile="13800000000"))[0]["smsId"] == sent["smsId"]
    assert (await messages(http, mock, mobile="+8613800000000"))[0]["smsId"] == sent["smsId"]


async def test_balance_is_charged_in_segments_per_recipient(client: EmayClient) -> None:
    before = await client.get_balance()
    await client.send_batch_only_sms(
        ["13800000001", "13800000002", "13800000003"], "字" * 135
    )  # 3 segments each
    assert await client.get_balance() == before - 9


async def test_all_send_endpoints_accept_official_sdk_style_gzip_and_form_label(client: EmayClient) -> None:
    answer = await send_json(
        client,
        "sendSingleSMS",
        window(mobile="13800000000", content="hi"),
        gzip_on=True,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "remoteSign": "SDK",
            "Charset": "UTF-8",
        },
    )
    assert answer.code == "SUCCESS" and answer.data["mobile"] == "13800000000"


@pytest.mark.parametrize(
    ("content", "segments"),
    [("字" * 70, 1), ("字" * 71, 2), ("x" * 134, 2), ("x" * 135, 3), ("a" * 69 + "😀", 2), ("字" * 500, 8)],
)
async def test_each_recipient_pays_70_then_67_characters_per_segment(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession, content: str, segments: int
) -> None:
    before = await client.get_balance()
    sent = await client.send_batch_only_sms(["13800000001", "13800000002"], content)
    assert await client.get_balance() == before - 2 * segments
    assert [m["segments"] for m in await messages(http, mock)] == [segments, segments]
    assert len(sent) == 2


@pytest.mark.parametrize("mobile", ["+8613800000000", "008613800000000", "8613800000000", " 13800000000 "])
async def test_a_country_prefix_is_accepted_and_echoed(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession, mobile: str
) -> None:
    sent = await client.send_single_sms(mobile, "x")
    assert sent["mobile"] == mobile.strip()
    (stored,) = await messages(http, mock, mobile="13800000000")
    assert stored["smsId"] == sent["smsId"]
