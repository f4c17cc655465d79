"""Basic auth on the control API and the UI (--control-auth): 401 without it, the Emay
endpoints, the short links and the health check open as before."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import aiohttp
import pytest

from emay_mock.client import EmayClient, SimpleClient
from emay_mock.config import Config
from emay_mock.control_auth import Credentials, parse_credentials
from emay_mock.server import MockServer
from emay_mock.testing.handle import EmayMockHandle
from tests.conftest import APP_ID, SECRET, account
from tests.support.control import message_row

CREDENTIALS = parse_credentials("admin:s3cret:with-colon")
GOOD = {"Authorization": CREDENTIALS.header()}


def basic(text: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(text.encode()).decode()}


@pytest.fixture
async def guarded() -> AsyncIterator[MockServer]:
    mock = MockServer(Config(accounts=[account()], source="tests", control_auth=CREDENTIALS))
    await mock.listen("127.0.0.1", 0)
    yield mock
    await mock.close()


async def test_the_control_api_and_the_ui_ask_for_the_credentials(
    guarded: MockServer, http: aiohttp.ClientSession
) -> None:
    for path in ("/_mock/messages", "/_mock/ui/", "/_mock/ui/ui.js", "/_mock/events", "/_mock/accounts"):
        async with http.get(f"{guarded.url}{path}") as resp:
            assert resp.status == 401, path
            assert resp.headers["WWW-Authenticate"] == 'Basic realm="emay-mock"'
            assert "s3cret" not in await resp.text()
    async with http.get(f"{guarded.url}/_mock/messages", headers=GOOD) as resp:
        assert resp.status == 200 and (await resp.json())["messages"] == []
    async with http.get(f"{guarded.url}/_mock/ui/", headers=GOOD) as resp:
        assert resp.status == 200 and resp.content_type == "text/html"
    async with http.post(f"{guarded.url}/_mock/accounts/{APP_ID}/balance", json={"set": 0}) as resp:
        assert resp.status == 401
    async with http.post(f"{guarded.url}/_mock/reset", headers=GOOD) as resp:
        assert resp.status == 200


@pytest.mark.parametrize(
    "headers",
    [
        basic("admin:wrong"),
        basic("Admin:s3cret:with-colon"),
        basic("admin:s3cret"),  # the password holds a colon: all of it counts
        basic("admin"),
        {"Authorization": "Bearer " + base64.b64encode(b"admin:s3cret:with-colon").decode()},
        {"Authorization": "Basic not-base64!"},
        {"Authorization": "Basic"},
    ],
)
async def test_wrong_or_malformed_credentials_are_401(
    guarded: MockServer, http: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    async with http.get(f"{guarded.url}/_mock/messages", headers=headers) as resp:
        assert resp.status == 401


async def test_the_emay_endpoints_short_links_and_health_stay_open(
    guarded: MockServer, http: aiohttp.ClientSession
) -> None:
    async with EmayClient(guarded.url, APP_ID, SECRET) as client:
        answer = await client.call(
            "sendSingleSMS", {"mobile": "13800000000", "content": "no password needed"}
        )
        assert answer.code == "SUCCESS"
        (linked,) = await client.send_short_link_sms(
            [{"mobile": "13800000001"}], "看 {#短网址#}", "https://e.cn"
        )
    async with SimpleClient(guarded.url, APP_ID, SECRET) as simple:
        assert await simple.get_balance() >= 0
    short_url = message_row(guarded, linked["smsId"]).short_url
    assert short_url is not None
    async with http.get(short_url, allow_redirects=False) as resp:
        assert resp.status == 302
    async with http.get(f"{guarded.url}/_mock/health") as resp:
        assert resp.status == 200
    async with http.get(f"{guarded.url}/", allow_redirects=False) as resp:
        assert resp.status == 302  # to the UI, which then asks


async def test_the_handle_sends_the_credentials(guarded: MockServer) -> None:
    handle = EmayMockHandle(guarded.url, {"appId": APP_ID, "secretKey": SECRET}, control_auth=CREDENTIALS)
    try:
        sent = await handle.client.send_single_sms("13800000000", "x")
        assert [m["smsId"] for m in await handle.messages()] == [sent["smsId"]]
        assert await handle.set_balance(7) == 7
    finally:
        await handle.aclose()


def test_credentials_never_show_the_password() -> None:
    assert "s3cret" not in repr(CREDENTIALS) and "s3cret" not in str(CREDENTIALS)
    assert Credentials("admin", "s3cret:with-colon") == CREDENTIALS
    for bad in ("admin", "admin:", ":pw", ""):
        with pytest.raises(ValueError) as err:
            parse_credentials(bad)
        assert "USER:PASSWORD" in str(err.value)
