"""The order of checks on a secure request (docs/protocol.md#check-order): the first failing stage decides."""

from __future__ import annotations

import os

from emay_mock.client import EmayClient
from emay_mock.protocol import envelope
from emay_mock.settings import Settings
from tests.conftest import APP_ID, SECRET, MockFactory, account
from tests.wire.secure_helpers import now_ms, send_json, window

GARBAGE = os.urandom(33)


async def test_app_id_then_ip_then_rate_before_the_body_is_read(make_mock: MockFactory) -> None:
    mock = await make_mock(
        [
            account(),
            account("EUCP-FENCED", allowedIps=["10.9.9.9"]),
            account("EUCP-SLOW", maxRequestsPerSecond=1),
        ]
    )
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        assert (await client.post("sendSingleSMS", GARBAGE, {"appId": "EUCP-NOBODY"})).code == "ERROR_APPID"
        assert (
            await client.post("sendSingleSMS", GARBAGE, {"appId": "EUCP-FENCED"})
        ).code == "ERROR_CLIENT_IP"
        slow = {"appId": "EUCP-SLOW"}
        assert (await client.post("sendSingleSMS", GARBAGE, slow)).code == "ERROR_ENCRYPTION"
        assert (await client.post("sendSingleSMS", GARBAGE, slow)).code == "ERROR_OVER_SPEED"


async def test_decryption_before_charset_before_window_before_fields(make_mock: MockFactory) -> None:
    mock = await make_mock([account(balance=0)])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        headers = {"appId": APP_ID, "encode": "NO-SUCH-CHARSET"}
        assert (await client.post("sendSingleSMS", GARBAGE, headers)).code == "ERROR_ENCRYPTION"
        expired_bad_fields = {"requestTime": now_ms() - 100_000, "requestValidPeriod": 1, "mobile": "x"}
        body = envelope.encode_request(expired_bad_fields, client.key, gzip_on=False)
        assert (await client.post("sendSingleSMS", body, headers)).code == "ERROR_PARAMS"  # the charset
        assert (await send_json(client, "sendSingleSMS", expired_bad_fields)).code == "ERROR_REQUEST_NO_VALID"
        bad_fields_no_balance = window(mobile="x", content="hi")
        assert (await send_json(client, "sendSingleSMS", bad_fields_no_balance)).code == "ERROR_MOBILE_ERROR"
        assert (
            await send_json(client, "sendSingleSMS", window(mobile="13800000000", content="hi"))
        ).code == ("ERROR_BALANCE")


async def test_a_body_over_the_cap_is_refused_with_a_code_not_a_413(make_mock: MockFactory) -> None:
    mock = await make_mock(settings=Settings(max_body_bytes=64 * 1024))
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        answer = await client.post("sendSingleSMS", os.urandom(128 * 1024))
        assert (answer.status, answer.code, answer.body) == (200, "ERROR_PARAMS", b"")
        reason = mock.journal.query(limit=1)[0].reason
        assert reason is not None and "65536-byte limit" in reason["reason"]
        assert (await client.call("getBalance")).code == "SUCCESS"  # and it keeps serving
