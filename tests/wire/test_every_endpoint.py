"""The gate of every one of the 24 endpoints: each answers the codes its family shares,
in its own wire form, and never an HTTP error."""

from __future__ import annotations

import json
import os

import aiohttp
import pytest

from emay_mock.client import EmayClient
from emay_mock.protocol import envelope
from emay_mock.server import MockServer
from tests.conftest import APP_ID, SECRET, MockFactory, account
from tests.wire.secure_helpers import now_ms
from tests.wire.simple_helpers import signed

SECURE = [
    "sendSingleSMS", "sendBatchSMS", "sendBatchOnlySMS", "sendPersonalitySMS", "sendPersonalityAllSMS",
    "createTemplateSMS", "deleteTemplateSMS", "queryTemplateSMS", "sendTemplateNormalSMS",
    "sendTemplateVariableSMS", "sendShortLinkSMS", "getReport", "getMo", "getShortLink", "getBalance",
]  # fmt: skip
SIGNED = [
    "/simpleinter/sendSMS", "/simpleinter/sendPersonalitySMS", "/simpleinter/getReport",
    "/simpleinter/getMo", "/simpleinter/getBalance", "/report/retrieveReport", "/voice/sendSMS",
    "/voice/getReport", "/voice/getBalance",
]  # fmt: skip


def test_there_are_24_endpoints() -> None:
    assert len(SECURE) + len(SIGNED) == 24


@pytest.fixture
async def gated(make_mock: MockFactory) -> MockServer:
    return await make_mock(
        [
            account(),
            account("EUCP-FENCED", allowedIps=["10.0.0.1"]),
            account("EUCP-SLOW", maxRequestsPerSecond=1),
        ]
    )


@pytest.mark.parametrize("endpoint", SECURE)
async def test_secure_gate(gated: MockServer, endpoint: str) -> None:
    async with EmayClient(gated.url, APP_ID, SECRET) as client:
        expired = envelope.encode_request(
            {"requestTime": now_ms() - 61_000, "requestValidPeriod": 60}, client.key, gzip_on=True
        )
        no_window = envelope.encode_request({}, client.key, gzip_on=True)
        cases = [
            ({"appId": "EUCP-NONE"}, client.envelope({}), "ERROR_APPID"),
            ({"appId": "EUCP-FENCED"}, client.envelope({}), "ERROR_CLIENT_IP"),
            (client.headers(), os.urandom(31), "ERROR_ENCRYPTION"),
            (client.headers(), no_window, "ERROR_PARAMS"),
            (client.headers(), expired, "ERROR_REQUEST_NO_VALID"),
        ]
        for headers, body, code in cases:
            answer = await client.post(endpoint, body, headers)
            assert (answer.status, answer.code, answer.body) == (200, code, b""), (endpoint, code)
        slow = {"appId": "EUCP-SLOW"}
        await client.post(endpoint, b"", slow)
        assert (await client.post(endpoint, b"", slow)).code == "ERROR_OVER_SPEED"


@pytest.mark.parametrize("path", SIGNED)
async def test_signed_gate(gated: MockServer, http: aiohttp.ClientSession, path: str) -> None:
    def code_of(text: str) -> str:
        return text if path.startswith("/report/") else json.loads(text)["code"]

    cases = [
        (signed(app_id="EUCP-NONE"), "ERROR_APPID"),
        (signed(app_id="EUCP-FENCED"), "ERROR_CLIENT_IP"),
        ({**signed(), "timestamp": "20200101000000"}, "ERROR_TIMESTAMP"),
        (signed(secret="S" * 16), "ERROR_SIGN"),
    ]
    for params, code in cases:
        for method in ("GET", "POST"):
            url = f"{gated.url}{path}"
            sent = http.get(url, params=params) if method == "GET" else http.post(url, data=params)
            async with sent as resp:
                assert resp.status == 200
                assert code_of(await resp.text()) == code, (path, method, code)
    async with http.post(f"{gated.url}{path}", data=signed(app_id="EUCP-SLOW")):
        pass
    async with http.post(f"{gated.url}{path}", data=signed(app_id="EUCP-SLOW")) as resp:
        assert code_of(await resp.text()) == "ERROR_OVER_SPEED"
