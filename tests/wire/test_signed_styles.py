"""The md5-signed families in the three ways real clients send parameters, byte for byte.

Each request is written by hand on a bare socket, URL-encoded as PHP's http_build_query
and Java's URLEncoder do (space as "+", "+" as "%2B") or as rawurlencode does (space as
"%20"), and sent as a form POST, a POST with everything in the query string and an empty
body, or a GET. Content with &, =, + and Chinese text must arrive intact.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import aiohttp
import pytest

from emay_mock.protocol.times import BEIJING, COMPACT_FORMAT
from emay_mock.server import MockServer
from tests.conftest import APP_ID
from tests.support.control import message
from tests.support.raw import raw_http
from tests.wire.simple_helpers import signed

TRICKY = "【测试】a&b=c+d e%20 100% 中文？#"
ENCODERS: dict[str, Callable[..., str]] = {"plus": quote_plus, "percent": quote}


def build(style: str, path: str, host: str, params: dict[str, str], encoder: Callable[..., str]) -> bytes:
    encoded = urlencode(params, quote_via=encoder)
    head = ["Host: " + host, "Connection: close"]
    body = b""
    if style == "get":
        line = f"GET {path}?{encoded} HTTP/1.1"
    elif style == "query":
        line = f"POST {path}?{encoded} HTTP/1.1"
    else:
        line = f"POST {path} HTTP/1.1"
        body = encoded.encode("ascii")
        head.append("Content-Type: application/x-www-form-urlencoded; charset=UTF-8")
    if style != "get":
        head.append(f"Content-Length: {len(body)}")
    return (line + "\r\n" + "\r\n".join(head) + "\r\n\r\n").encode("ascii") + body


async def exchange(mock: MockServer, style: str, path: str, params: dict[str, str], encoder: str) -> str:
    host = mock.url.removeprefix("http://")
    request = build(style, path, host, params, ENCODERS[encoder])
    raw = await raw_http(mock.url, request)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), head
    return body.decode("utf-8")


async def content_of(http: aiohttp.ClientSession, mock: MockServer, sms_id: str) -> str:
    return str((await message(http, mock, sms_id))["content"])


@pytest.mark.parametrize("encoder", ENCODERS)
@pytest.mark.parametrize("style", ["form", "query", "get"])
async def test_every_signed_endpoint_in_every_style(
    mock: MockServer, http: aiohttp.ClientSession, style: str, encoder: str
) -> None:
    async def ok(path: str, **params: str) -> Any:
        text = await exchange(mock, style, path, signed(**params), encoder)
        if path.startswith("/report/"):
            assert text == "SUCCESS", (path, text)
            return None
        body = json.loads(text)
        assert body["code"] == "SUCCESS", (path, body)
        return body["data"]

    sent = await ok(
        "/simpleinter/sendSMS", mobiles="13800000001,13800000002", content=TRICKY, customSmsId="a&b"
    )
    assert [s["customSmsId"] for s in sent] == ["a&b", "a&b"]
    assert await content_of(http, mock, sent[0]["smsId"]) == TRICKY

    personal = await ok(
        "/simpleinter/sendPersonalitySMS", **{"13800000003": TRICKY, "13800000004": "天气=好+1"}
    )
    texts = [await content_of(http, mock, p["smsId"]) for p in personal]
    assert texts == [TRICKY, "天气=好+1"]

    voice = await ok("/voice/sendSMS", mobile="13800000005", content="824913", customSmsId="v+1")
    assert voice["customSmsId"] == "v+1"

    await mock.platform.scheduler.advance(1)
    async with http.post(
        f"{mock.url}/_mock/mo", json={"appId": APP_ID, "mobile": "13800000001", "content": "回复 TD"}
    ):
        pass
    assert len(await ok("/simpleinter/getReport", number="10")) == 4
    assert [m["content"] for m in await ok("/simpleinter/getMo")] == ["回复 TD"]
    assert len(await ok("/voice/getReport")) == 1
    assert await ok("/simpleinter/getBalance") == {"balance": 100_000 - 5}
    assert await ok("/voice/getBalance") == {"balance": 100_000 - 5}
    now = datetime.now(BEIJING)
    await ok(
        "/report/retrieveReport",
        startTime=(now - timedelta(minutes=5)).strftime(COMPACT_FORMAT),
        endTime=now.strftime(COMPACT_FORMAT),
    )
