"""Every result code the secure send/pull endpoints can return, each for its spec reason.

Each refusal is HTTP 200 with an empty body and the code in `result`, and the journal
records why (which field, which rule).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import aiohttp
import pytest

from emay_mock.client import EmayClient, SecureAnswer
from emay_mock.protocol import envelope
from emay_mock.server import MockServer
from tests.conftest import APP_ID, SECRET, MockFactory, account
from tests.support.control import last_reason
from tests.wire.secure_helpers import now_ms, send_json, window


def refused(answer: SecureAnswer, code: str) -> None:
    assert answer.status == 200
    assert answer.code == code
    assert answer.body == b""


async def test_unknown_or_missing_app_id(client: EmayClient, mock: MockServer) -> None:
    body = client.envelope({"mobile": "13800000000", "content": "x"})
    refused(await client.post("sendSingleSMS", body, {"appId": "EUCP-NOPE"}), "ERROR_APPID")
    assert "EUCP-NOPE" in last_reason(mock)["reason"]
    refused(await client.post("sendSingleSMS", body, {}), "ERROR_APPID")
    assert last_reason(mock)["reason"] == "appId is missing"


async def test_client_ip_outside_allowed_ips(make_mock: MockFactory) -> None:
    mock = await make_mock(
        [account(allowedIps=["10.0.0.0/8"]), account("EUCP-OPEN", allowedIps=["127.0.0.1"])]
    )
    async with (
        EmayClient(mock.url, APP_ID, SECRET) as blocked,
        EmayClient(mock.url, "EUCP-OPEN", SECRET) as ok,
    ):
        refused(await blocked.call("getBalance"), "ERROR_CLIENT_IP")
        assert last_reason(mock)["detail"] == {"expected": ["10.0.0.0/8"], "got": "127.0.0.1"}
        assert (await ok.call("getBalance")).code == "SUCCESS"


async def test_over_speed_past_the_per_second_limit(make_mock: MockFactory) -> None:
    mock = await make_mock([account(maxRequestsPerSecond=3)])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        codes = [(await client.call("getBalance", {"x": i})).code for i in range(5)]
        assert codes == ["SUCCESS"] * 3 + ["ERROR_OVER_SPEED"] * 2
        await asyncio.sleep(1.05)
        assert (await client.call("getBalance")).code == "SUCCESS"


async def test_wrong_key_is_error_encryption(mock: MockServer) -> None:
    async with EmayClient(mock.url, APP_ID, "FEDCBA9876543210") as wrong:
        refused(await wrong.call("getBalance"), "ERROR_ENCRYPTION")
    # A wrong key decrypts to noise: nearly always bad padding, but one body in about 256
    # (the body differs each run: requestTime) pads by chance, and then it is not gzip.
    reason = last_reason(mock)["reason"]
    assert "padding" in reason or "the decrypted body is not gzip" in reason, reason


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"\x00" * 17, "not a multiple of 16"),
        (b"", "empty body"),
        (b"not encrypted at all!", "not a multiple of 16"),
    ],
)
async def test_bodies_that_are_not_ciphertext(
    client: EmayClient, mock: MockServer, body: bytes, why: str
) -> None:
    refused(await client.post("sendSingleSMS", body), "ERROR_ENCRYPTION")
    assert why in last_reason(mock)["reason"]


async def test_random_bytes_are_refused_with_a_documented_code(client: EmayClient) -> None:
    for _ in range(30):
        answer = await client.post("sendSingleSMS", os.urandom(16 * (1 + os.urandom(1)[0] % 8)))
        assert answer.status == 200
        assert answer.code in ("ERROR_ENCRYPTION", "ERROR_PARAMS")


async def test_json_that_is_not_an_object(client: EmayClient, mock: MockServer) -> None:
    body = envelope.encode_request([1, 2, 3], client.key, gzip_on=True)
    refused(await client.post("sendSingleSMS", body), "ERROR_PARAMS")
    assert "must be an object" in last_reason(mock)["reason"]


async def test_unknown_encode_charset(client: EmayClient, mock: MockServer) -> None:
    body = client.envelope({})
    refused(
        await client.post("getBalance", body, {**client.headers(), "encode": "KLINGON-8"}), "ERROR_PARAMS"
    )
    assert last_reason(mock)["field"] == "encode"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"requestValidPeriod": 60}, "requestTime"),
        ({"requestTime": 1}, "requestValidPeriod"),
        ({"requestTime": "soon", "requestValidPeriod": 60}, "requestTime"),
        ({"requestTime": None, "requestValidPeriod": 60}, "requestTime"),
    ],
)
async def test_missing_or_malformed_window_is_error_params(
    client: EmayClient, mock: MockServer, payload: dict[str, Any], field: str
) -> None:
    refused(await send_json(client, "getBalance", payload), "ERROR_PARAMS")
    assert last_reason(mock)["field"] == field


async def test_expired_window_is_request_no_valid(client: EmayClient, mock: MockServer) -> None:
    answer = await send_json(
        client, "getBalance", {"requestTime": now_ms() - 31_000, "requestValidPeriod": 30}
    )
    refused(answer, "ERROR_REQUEST_NO_VALID")
    assert last_reason(mock)["detail"]["skewSeconds"] < -30


async def test_replayed_ciphertext_is_request_no_valid(client: EmayClient) -> None:
    body = client.envelope({"mobile": "13800000000", "content": "once"})
    assert (await client.post("sendSingleSMS", body)).code == "SUCCESS"
    refused(await client.post("sendSingleSMS", body), "ERROR_REQUEST_NO_VALID")


async def test_identical_polls_are_not_replays(client: EmayClient) -> None:
    body = client.envelope({"number": 10})
    assert [(await client.post("getReport", body)).code for _ in range(3)] == ["SUCCESS"] * 3


async def test_replay_protection_can_be_turned_off(make_mock: MockFactory) -> None:
    from emay_mock.settings import Settings

    mock = await make_mock(settings=Settings(replay_protection=False))
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        body = client.envelope({"mobile": "13800000000", "content": "twice"})
        codes = [(await client.post("sendSingleSMS", body)).code for _ in range(2)]
        assert codes == ["SUCCESS", "SUCCESS"]


@pytest.mark.parametrize(
    ("endpoint", "payload", "code", "field"),
    [
        ("sendSingleSMS", {"content": "x"}, "ERROR_MOBILE_EMPTY", "mobile"),
        ("sendSingleSMS", {"mobile": "", "content": "x"}, "ERROR_MOBILE_EMPTY", "mobile"),
        ("sendBatchSMS", {"smses": [], "content": "x"}, "ERROR_MOBILE_EMPTY", "mobile"),
        ("sendBatchOnlySMS", {"content": "x"}, "ERROR_MOBILE_EMPTY", "mobile"),
        ("sendSingleSMS", {"mobile": "1380000000", "content": "x"}, "ERROR_MOBILE_ERROR", "mobile"),
        (
            "sendBatchOnlySMS",
            {"mobiles": ["13800000000", "x"], "content": "x"},
            "ERROR_MOBILE_ERROR",
            "mobiles[1]",
        ),
        (
            "sendBatchSMS",
            {"smses": [{"mobile": "13800000000"}, {"mobile": "2"}], "content": "x"},
            "ERROR_MOBILE_ERROR",
            "smses[1].mobile",
        ),
        ("sendSingleSMS", {"mobile": "13800000000"}, "ERROR_CONTENT_EMPTY", "content"),
        (
            "sendPersonalitySMS",
            {"smses": [{"mobile": "13800000000", "content": ""}]},
            "ERROR_CONTENT_EMPTY",
            "smses[0].content",
        ),
        ("sendSingleSMS", {"mobile": "13800000000", "content": "x" * 501}, "ERROR_LONG_CONTENT", "content"),
        (
            "sendSingleSMS",
            {"mobile": "13800000000", "content": "x", "timerTime": "2020-01-01 00:00:00"},
            "ERROR_SMS_TIME",
            "timerTime",
        ),
        (
            "sendSingleSMS",
            {"mobile": "13800000000", "content": "x", "timerTime": "12/01/2026"},
            "ERROR_SMS_TIME",
            "timerTime",
        ),
        (
            "sendSingleSMS",
            {"mobile": "13800000000", "content": "x", "customSmsId": "c" * 33},
            "ERROR_CUSTOM_SMSID",
            "customSmsId",
        ),
        (
            "sendSingleSMS",
            {"mobile": "13800000000", "content": "x", "extendedCode": "12ab"},
            "ERROR_EXTENDED_CODE",
            "extendedCode",
        ),
        (
            "sendSingleSMS",
            {"mobile": "13800000000", "content": "x", "extendedCode": "1" * 13},
            "ERROR_EXTENDED_CODE",
            "extendedCode",
        ),
        ("sendBatchSMS", {"smses": "13800000000", "content": "x"}, "ERROR_PARAMS", "smses"),
        ("sendBatchSMS", {"smses": [["13800000000"]], "content": "x"}, "ERROR_PARAMS", "smses[0]"),
        ("sendSingleSMS", {"mobile": "13800000000", "content": ["x"]}, "ERROR_PARAMS", "content"),
        ("getReport", {"number": "many"}, "ERROR_PARAMS", "number"),
    ],
)
async def test_field_rules(
    client: EmayClient, mock: MockServer, endpoint: str, payload: dict[str, Any], code: str, field: str
) -> None:
    refused(await send_json(client, endpoint, window(**payload)), code)
    assert last_reason(mock).get("field") == field


@pytest.mark.parametrize(
    ("endpoint", "payload"),
    [
        ("sendBatchOnlySMS", {"mobiles": [f"1380000{i:04d}" for i in range(501)]}),
        ("sendBatchSMS", {"smses": [{"mobile": f"1380000{i:04d}"} for i in range(501)]}),
        (
            "sendPersonalitySMS",
            {"smses": [{"mobile": f"1380000{i:04d}", "content": "x"} for i in range(501)]},
        ),
        (
            "sendPersonalityAllSMS",
            {"smses": [{"mobile": f"1380000{i:04d}", "content": "x"} for i in range(501)]},
        ),
    ],
)
async def test_more_than_500_recipients_is_mobile_number(
    client: EmayClient, endpoint: str, payload: dict[str, Any]
) -> None:
    refused(await send_json(client, endpoint, window(content="x", **payload)), "ERROR_MOBILE_NUMBER")


async def test_exactly_500_recipients_is_accepted(client: EmayClient) -> None:
    result = await client.send_batch_only_sms([f"1380000{i:04d}" for i in range(500)], "x")
    assert len(result) == 500


async def test_balance_refuses_the_whole_request_and_charges_nothing(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock([account(balance=5)])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        # 3 recipients x 2 segments = 6 > 5: refused whole, though two of them would fit.
        answer = await client.call(
            "sendBatchOnlySMS",
            {"mobiles": ["13800000001", "13800000002", "13800000003"], "content": "字" * 71},
        )
        refused(answer, "ERROR_BALANCE")
        assert last_reason(mock)["detail"] == {"expected": 6, "got": 5}
        assert await client.get_balance() == 5
        async with http.get(f"{mock.url}/_mock/messages") as resp:
            assert (await resp.json())["messages"] == []
        await client.send_single_sms("13800000001", "字" * 140)  # 3 segments
        assert await client.get_balance() == 2
