"""The simple family (/simpleinter/*) over real sockets: GET, form POST and query-only POST,
signs and timestamps, every result code, and text arriving intact."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from emay_mock.client import SimpleClient
from emay_mock.server import MockServer
from tests.conftest import APP_ID, SECRET, MockFactory, account
from tests.support.control import last_reason, message_row
from tests.wire.simple_helpers import signed, stamp

STYLES = ["form", "query", "get"]


async def post_form(
    http: aiohttp.ClientSession, mock: MockServer, path: str, params: dict[str, str]
) -> dict[str, Any]:
    """POST the parameters as a form: HTTP 200 and a JSON answer, which is returned."""
    async with http.post(f"{mock.url}{path}", data=params) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("application/json")
        return dict(await resp.json())


@pytest.mark.parametrize("style", STYLES)
async def test_send_sms_in_every_style(mock: MockServer, http: aiohttp.ClientSession, style: str) -> None:
    async with SimpleClient(mock.url, APP_ID, SECRET, style=style) as client:
        data = await client.send_sms(
            ["13800000001", "13800000002"], "【测试】a&b=c+d 中文 100%", custom_sms_id="c9"
        )
    assert [d["mobile"] for d in data] == ["13800000001", "13800000002"]
    assert all(set(d) == {"mobile", "smsId", "customSmsId"} and len(d["smsId"]) == 20 for d in data)
    assert [d["customSmsId"] for d in data] == ["c9", "c9"]
    async with http.get(f"{mock.url}/_mock/messages", params={"smsId": data[0]["smsId"]}) as resp:
        (message,) = (await resp.json())["messages"]
    assert message["content"] == "【测试】a&b=c+d 中文 100%"
    assert message["endpoint"] == "/simpleinter/sendSMS"


async def test_raw_body_envelope_and_error_shape(mock: MockServer, http: aiohttp.ClientSession) -> None:
    ok = await post_form(http, mock, "/simpleinter/getBalance", signed())
    assert ok == {"code": "SUCCESS", "data": {"balance": 100_000}}
    bad = await post_form(http, mock, "/simpleinter/getBalance", signed(secret="wrong-secret-123"))
    assert bad == {"code": "ERROR_SIGN"}


async def test_personality_names_each_recipient_by_its_mobile(
    mock: MockServer, http: aiohttp.ClientSession
) -> None:
    async with SimpleClient(mock.url, APP_ID, SECRET) as client:
        data = await client.send_personality_sms({"13800000001": "天气不错 1啊", "13800000002": "a=b&c"})
    texts = []
    for d in data:
        async with http.get(f"{mock.url}/_mock/messages", params={"smsId": d["smsId"]}) as resp:
            texts.append((await resp.json())["messages"][0]["content"])
    assert texts == ["天气不错 1啊", "a=b&c"]
    bad = await post_form(http, mock, "/simpleinter/sendPersonalitySMS", signed(**{"1380000": "x"}))
    assert bad["code"] == "ERROR_MOBILE_ERROR" and last_reason(mock)["field"] == "1380000"
    empty = await post_form(http, mock, "/simpleinter/sendPersonalitySMS", signed())
    assert empty["code"] == "ERROR_MOBILE_EMPTY"


async def test_pulls_and_balance(mock: MockServer, http: aiohttp.ClientSession) -> None:
    async with SimpleClient(mock.url, APP_ID, SECRET, style="get") as client:
        sent = await client.send_sms(["13800000001"], "x" * 71)
        await mock.platform.scheduler.advance(1)
        (report,) = await client.get_report()
        assert report["smsId"] == sent[0]["smsId"] and report["state"] == "DELIVRD"
        assert set(report) == {
            "mobile",
            "smsId",
            "customSmsId",
            "state",
            "desc",
            "receiveTime",
            "submitTime",
            "extendedCode",
        }
        async with http.post(
            f"{mock.url}/_mock/mo", json={"appId": APP_ID, "mobile": "13800000001", "content": "TD"}
        ):
            pass
        (mo,) = await client.get_mo(10)
        assert mo["content"] == "TD"
        assert await client.get_balance() == 100_000 - 2


async def test_timer_time_is_compact_in_this_family(mock: MockServer) -> None:
    async with SimpleClient(mock.url, APP_ID, SECRET) as client:
        (sent,) = await client.send_sms(["13800000001"], "x", timer_time=stamp(timedelta(hours=1)))
        await mock.platform.scheduler.advance(1)
        assert await client.get_report() == []
        await mock.platform.scheduler.advance(3600)
        assert [r["smsId"] for r in await client.get_report()] == [sent["smsId"]]
        answer = await client.call(
            "/simpleinter/sendSMS",
            {"mobiles": "13800000001", "content": "x", "timerTime": "2026-01-01 10:00:00"},
        )
        assert answer.code == "ERROR_SMS_TIME"


async def test_upper_case_sign_is_accepted_and_noted(mock: MockServer, http: aiohttp.ClientSession) -> None:
    params = signed()
    params["sign"] = params["sign"].upper()
    assert (await post_form(http, mock, "/simpleinter/getBalance", params))["code"] == "SUCCESS"
    assert "sign-upper-case" in mock.journal.query(limit=1)[0].notes.kinds()


@pytest.mark.parametrize(
    ("timestamp", "why"),
    [("2026112512", "not yyyyMMddHHmmss"), ("20261325120000", "not yyyyMMddHHmmss"), (None, "missing")],
)
async def test_malformed_timestamp(
    mock: MockServer, http: aiohttp.ClientSession, timestamp: str | None, why: str
) -> None:
    params = signed()
    if timestamp is None:
        del params["timestamp"]
    else:
        params["timestamp"] = timestamp
    assert (await post_form(http, mock, "/simpleinter/getBalance", params))["code"] == "ERROR_TIMESTAMP"
    assert why in last_reason(mock)["reason"]


async def test_timestamp_too_far_from_now_and_reported_skew(
    mock: MockServer, http: aiohttp.ClientSession
) -> None:
    params = signed(timestamp=stamp(timedelta(minutes=-11)))
    assert (await post_form(http, mock, "/simpleinter/getBalance", params))["code"] == "ERROR_TIMESTAMP"
    assert -661 < last_reason(mock)["detail"]["skewSeconds"] < -659
    params = signed(timestamp=stamp(timedelta(minutes=9)))
    assert (await post_form(http, mock, "/simpleinter/getBalance", params))["code"] == "SUCCESS"


async def test_wrong_sign_shows_the_expected_one_to_the_operator(
    mock: MockServer, http: aiohttp.ClientSession
) -> None:
    params = signed(secret="FEDCBA9876543210")
    assert (await post_form(http, mock, "/simpleinter/getBalance", params))["code"] == "ERROR_SIGN"
    detail = last_reason(mock)["detail"]
    assert detail["expected"] == signed(timestamp=params["timestamp"])["sign"]
    assert detail["got"] == params["sign"]
    assert SECRET not in str(mock.journal.query(limit=1)[0].as_dict())


async def test_timestamp_is_checked_before_sign(mock: MockServer, http: aiohttp.ClientSession) -> None:
    params = signed(timestamp="bad", secret="wrong")
    assert (await post_form(http, mock, "/simpleinter/getBalance", params))["code"] == "ERROR_TIMESTAMP"


async def test_gate_codes(make_mock: MockFactory, http: aiohttp.ClientSession) -> None:
    mock = await make_mock(
        [
            account(),
            account("EUCP-FENCED", allowedIps=["10.0.0.1"]),
            account("EUCP-SLOW", maxRequestsPerSecond=1),
        ]
    )
    assert (await post_form(http, mock, "/simpleinter/getBalance", signed(app_id="EUCP-NONE")))[
        "code"
    ] == "ERROR_APPID"
    assert (await post_form(http, mock, "/simpleinter/getBalance", {}))["code"] == "ERROR_APPID"
    assert (await post_form(http, mock, "/simpleinter/getBalance", signed(app_id="EUCP-FENCED")))[
        "code"
    ] == "ERROR_CLIENT_IP"
    assert (await post_form(http, mock, "/simpleinter/getBalance", signed(app_id="EUCP-SLOW")))[
        "code"
    ] == "SUCCESS"
    assert (await post_form(http, mock, "/simpleinter/getBalance", signed(app_id="EUCP-SLOW")))[
        "code"
    ] == "ERROR_OVER_SPEED"


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"content": "x"}, "ERROR_MOBILE_EMPTY", "mobile"),
        ({"mobiles": "", "content": "x"}, "ERROR_MOBILE_EMPTY", "mobile"),
        (
            {"mobiles": ",".join(f"1380000{i:04d}" for i in range(501)), "content": "x"},
            "ERROR_MOBILE_NUMBER",
            "mobiles",
        ),
        ({"mobiles": "13800000000,12345", "content": "x"}, "ERROR_MOBILE_ERROR", "mobiles[1]"),
        ({"mobiles": "13800000000"}, "ERROR_CONTENT_EMPTY", "content"),
        ({"mobiles": "13800000000", "content": "x" * 501}, "ERROR_LONG_CONTENT", "content"),
        (
            {"mobiles": "13800000000", "content": "x", "timerTime": "20200101000000"},
            "ERROR_SMS_TIME",
            "timerTime",
        ),
        (
            {"mobiles": "13800000000", "content": "x", "customSmsId": "c" * 33},
            "ERROR_CUSTOM_SMSID",
            "customSmsId",
        ),
        (
            {"mobiles": "13800000000", "content": "x", "extendedCode": "x1"},
            "ERROR_EXTENDED_CODE",
            "extendedCode",
        ),
    ],
)
async def test_send_field_rules(
    mock: MockServer, http: aiohttp.ClientSession, params: dict[str, str], code: str, field: str
) -> None:
    assert (await post_form(http, mock, "/simpleinter/sendSMS", signed(**params)))["code"] == code
    assert last_reason(mock).get("field") == field


async def test_balance_and_billing_match_the_secure_family(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock([account(balance=3)])
    refused = await post_form(
        http, mock, "/simpleinter/sendSMS", signed(mobiles="13800000001,13800000002", content="字" * 71)
    )
    assert refused["code"] == "ERROR_BALANCE"
    ok = await post_form(http, mock, "/simpleinter/sendSMS", signed(mobiles="13800000001", content="字" * 71))
    assert ok["code"] == "SUCCESS"
    assert (await post_form(http, mock, "/simpleinter/getBalance", signed()))["data"] == {"balance": 1}


async def test_pull_number_is_clamped_and_checked(mock: MockServer, http: aiohttp.ClientSession) -> None:
    assert (await post_form(http, mock, "/simpleinter/getReport", signed(number="0")))["code"] == "SUCCESS"
    assert (await post_form(http, mock, "/simpleinter/getReport", signed(number="lots")))[
        "code"
    ] == "ERROR_PARAMS"


async def test_query_and_body_are_merged_with_the_body_winning(
    mock: MockServer, http: aiohttp.ClientSession
) -> None:
    params = signed(mobiles="13800000001", content="from body")
    async with http.post(
        f"{mock.url}/simpleinter/sendSMS", params={"content": "from query"}, data=params
    ) as resp:
        body = await resp.json()
    assert body["code"] == "SUCCESS"
    assert message_row(mock, body["data"][0]["smsId"]).content == "from body"
    assert "param-in-query-and-body" in mock.journal.query(limit=1)[0].notes.kinds()


async def test_a_body_without_content_type_is_still_read_as_a_form(
    mock: MockServer, http: aiohttp.ClientSession
) -> None:
    from urllib.parse import urlencode

    body = urlencode(signed(mobiles="13800000001", content="go client")).encode()
    async with http.post(f"{mock.url}/simpleinter/sendSMS", data=body, headers={"Content-Type": ""}) as resp:
        assert (await resp.json())["code"] == "SUCCESS"


@pytest.mark.parametrize("path", ["/simpleinter/getReport", "/simpleinter/getMo", "/voice/getReport"])
async def test_every_signed_pull_refuses_a_number_that_is_not_one(
    mock: MockServer, http: aiohttp.ClientSession, path: str
) -> None:
    assert await post_form(http, mock, path, signed(number="lots")) == {"code": "ERROR_PARAMS"}
    assert last_reason(mock)["field"] == "number"
    assert (await post_form(http, mock, path, signed(number="-3")))["code"] == "SUCCESS"  # clamped to 1


async def test_the_check_order_of_7_1(make_mock: MockFactory, http: aiohttp.ClientSession) -> None:
    """appId -> client IP -> rate -> timestamp -> sign -> service -> fields -> balance: each
    request below breaks two stages, and the earlier one decides."""
    mock = await make_mock(
        [
            account(balance=0, voice=False, retrieveReport=False),
            account("EUCP-FENCED", allowedIps=["10.0.0.1"]),
            account("EUCP-SLOW", maxRequestsPerSecond=1),
        ]
    )
    bad_stamp = {"timestamp": "20200101000000"}
    bad_fields = {"mobiles": "123", "content": "x"}

    async def code(path: str, params: dict[str, str]) -> str:
        async with http.post(f"{mock.url}{path}", data=params) as resp:
            text = await resp.text()
        return text if path.startswith("/report/") else str(json.loads(text)["code"])

    send = "/simpleinter/sendSMS"
    assert await code(send, {**signed(app_id="EUCP-NONE", secret="x" * 16), **bad_stamp}) == "ERROR_APPID"
    assert await code(send, {**signed(app_id="EUCP-FENCED"), **bad_stamp}) == "ERROR_CLIENT_IP"
    assert await code(send, signed(app_id="EUCP-SLOW", **bad_fields)) == "ERROR_MOBILE_ERROR"
    assert await code(send, {**signed(app_id="EUCP-SLOW"), **bad_stamp}) == "ERROR_OVER_SPEED"
    assert await code(send, {**signed(secret="x" * 16), **bad_stamp}) == "ERROR_TIMESTAMP"
    assert await code(send, signed(secret="x" * 16, **bad_fields)) == "ERROR_SIGN"
    assert await code(send, signed(**bad_fields)) == "ERROR_MOBILE_ERROR"  # fields before balance
    assert await code(send, signed(mobiles="13800000000", content="x")) == "ERROR_BALANCE"
    voice = {"mobile": "1", "content": "x"}
    assert await code("/voice/sendSMS", signed(secret="x" * 16, **voice)) == "ERROR_SIGN"
    assert await code("/voice/sendSMS", signed(**voice)) == "ERROR_NO_VOICE_SERVICE"
    broken_range = {"startTime": "x", "endTime": "y"}
    assert await code("/report/retrieveReport", signed(secret="x" * 16, **broken_range)) == "ERROR_SIGN"
    assert await code("/report/retrieveReport", signed(**broken_range)) == "ERROR_NO_RETRIEVE_SERVICE"
