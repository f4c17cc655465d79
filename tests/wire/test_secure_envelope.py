"""The secure envelope on the wire: gzip × charset, the exact `result` header, Content-Types,
and the lenient reading real clients rely on (all noted in the journal)."""

from __future__ import annotations

import gzip
import json

import aiohttp
import pytest

from emay_mock.client import EmayClient
from emay_mock.protocol import envelope
from emay_mock.server import MockServer
from emay_mock.store.messages import MessageFilter
from tests.conftest import MockFactory, account
from tests.support.control import message_row
from tests.support.raw import post_request, raw_http
from tests.wire.secure_helpers import send_json, window


@pytest.mark.parametrize("gzip_on", [True, False])
@pytest.mark.parametrize("charset", ["UTF-8", "GBK"])
async def test_response_is_gzipped_and_encoded_exactly_as_the_request(
    client: EmayClient, gzip_on: bool, charset: str
) -> None:
    content = "【亿美】您的验证码是 8642，五分钟内有效"
    answer = await send_json(
        client, "sendSingleSMS", window(mobile="13800000000", content=content, customSmsId="编号1"),
        gzip_on=gzip_on, charset=charset,
    )  # fmt: skip
    assert answer.code == "SUCCESS"
    plain = envelope.aes_decrypt(client.key, answer.body)
    assert plain.startswith(b"\x1f\x8b") is gzip_on
    text = (gzip.decompress(plain) if gzip_on else plain).decode(charset)
    assert json.loads(text)["customSmsId"] == "编号1"
    if charset == "GBK":
        assert "编号1".encode("gbk") in (gzip.decompress(plain) if gzip_on else plain)


@pytest.mark.parametrize("charset", ["UTF-8", "GBK", "GB2312", "GB18030"])
async def test_stored_content_is_the_decoded_text_whatever_the_charset(
    client: EmayClient, mock: MockServer, charset: str
) -> None:
    content = "【测试】你好，世界"
    answer = await send_json(
        client,
        "sendSingleSMS",
        window(mobile="13800000000", content=content, customSmsId="订单"),
        charset=charset,
    )
    assert answer.code == "SUCCESS"
    assert message_row(mock, answer.data["smsId"]).content == content
    # The answer comes back in the request's charset: "订单" as that charset's bytes.
    plain = envelope.aes_decrypt(client.key, answer.body)
    assert '"customSmsId":"订单"'.encode(charset) in plain


async def test_result_header_is_exactly_lower_case_on_the_wire(client: EmayClient, mock: MockServer) -> None:
    host = mock.url.removeprefix("http://")
    ok = post_request("/inter/getBalance", host, client.headers(), client.envelope({}))
    raw = await raw_http(mock.url, ok)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"\r\nresult: SUCCESS" in head
    bad = post_request("/inter/getBalance", host, {"appId": "NOPE"}, b"")
    raw = await raw_http(mock.url, bad)
    head, body = raw.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"\r\nresult: ERROR_APPID" in head
    assert body == b""


@pytest.mark.parametrize(
    "content_type",
    [None, "application/x-www-form-urlencoded", "application/octet-stream", "application/json", "text/plain"],
)
async def test_the_raw_body_is_read_whatever_the_content_type(
    client: EmayClient, mock: MockServer, content_type: str | None
) -> None:
    host = mock.url.removeprefix("http://")
    headers = client.headers()
    if content_type:
        headers["Content-Type"] = content_type
    body = client.envelope({"mobile": "13800000000", "content": "a=b&c=d"})
    raw = await raw_http(mock.url, post_request("/inter/sendSingleSMS", host, headers, body))
    assert b"\r\nresult: SUCCESS" in raw.split(b"\r\n\r\n")[0]
    assert mock.platform.messages.count() == 1
    noted = "content-type" in mock.journal.query(limit=1)[0].notes.kinds()
    assert noted is (content_type in ("application/json", "text/plain"))


async def test_absent_null_and_empty_optionals_are_alike(client: EmayClient, mock: MockServer) -> None:
    variants: list[dict[str, str | None]] = [
        {},
        {"customSmsId": None, "timerTime": None, "extendedCode": None},
        {"customSmsId": "", "timerTime": "", "extendedCode": ""},
    ]
    for extra in variants:
        answer = await send_json(client, "sendSingleSMS", window(mobile="13800000000", content="x", **extra))
        assert answer.code == "SUCCESS"
        assert answer.data["customSmsId"] is None
    stored = mock.platform.messages.find(MessageFilter(), 10)
    assert all(m.timer_time is None and m.extended_code is None for m in stored)
    kinds = [e.notes.kinds() for e in mock.journal.query(limit=3)][::-1]
    assert kinds[0] == []
    assert kinds[1].count("null-field") == 3
    assert kinds[2].count("empty-optional") == 3


async def test_numbers_as_strings_and_float_request_time_are_accepted(
    client: EmayClient, mock: MockServer
) -> None:
    payload = window(mobile=13800000000, content="x", extendedCode=12)
    payload["requestTime"] = float(payload["requestTime"])
    payload["requestValidPeriod"] = "30"
    answer = await send_json(client, "sendSingleSMS", payload)
    assert answer.code == "SUCCESS"
    assert answer.data["mobile"] == "13800000000"
    kinds = mock.journal.query(limit=1)[0].notes.kinds()
    assert {"requestTime-as-float", "envelope-number-as-string", "string-as-number"} <= set(kinds)


async def test_dotnet_ticks_request_time_is_accepted_and_flagged(
    client: EmayClient, mock: MockServer
) -> None:
    ticks = 638_700_000_000_000_000
    answer = await send_json(client, "getBalance", {"requestTime": ticks, "requestValidPeriod": 30})
    assert answer.code == "SUCCESS"
    (note,) = [n for n in mock.journal.query(limit=1)[0].notes.items if n.kind == "requestTime-in-future"]
    assert ".NET ticks" in note.message


async def test_unknown_fields_are_accepted_and_noted(client: EmayClient, mock: MockServer) -> None:
    answer = await send_json(
        client, "sendSingleSMS", window(mobile="13800000000", content="x", mobiles="oops")
    )
    assert answer.code == "SUCCESS"
    assert "unknown-field" in mock.journal.query(limit=1)[0].notes.kinds()


async def test_strict_account_refuses_what_others_only_note(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock([account(strict=True)])
    async with EmayClient(mock.url, "EUCP-EMY-SMS1-TEST1", "0123456789ABCDEF") as client:
        answer = await send_json(client, "sendSingleSMS", window(mobile="+8613800000000", content="x"))
        assert answer.code == "ERROR_PARAMS"
        reason = mock.journal.query(limit=1)[0].reason
        assert reason is not None and reason["detail"]["rule"] == "mobile-country-prefix"
        ok = await send_json(
            client, "sendSingleSMS", window(mobile="13800000000", content="x", customSmsId=None)
        )
        assert ok.code == "SUCCESS"  # null optionals are in the vendor's own examples


@pytest.mark.parametrize(("platform", "euro"), [("Java", b"\xa2\xe3"), ("Windows", b"\x80")])
async def test_a_gbk_body_with_a_euro_sign_is_accepted_as_the_clients_platform_writes_it(
    client: EmayClient, mock: MockServer, platform: str, euro: bytes
) -> None:
    # The v1 Java demo's bytes (`encode: GBK`, String.getBytes("GBK")), made by hand: Python's
    # gbk codec cannot write € at all.
    fields = window(mobile="13800000000", content="【测试】€9.9 特价", customSmsId="€1")
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    plain = euro.join(part.encode("gbk") for part in text.split("€"))
    body = envelope.aes_encrypt(client.key, gzip.compress(plain))
    client.charset = "GBK"  # to read the answer
    answer = await client.post("sendSingleSMS", body, {"appId": client.app_id, "encode": "GBK", "gzip": "on"})
    assert answer.code == "SUCCESS", platform
    assert message_row(mock, answer.data["smsId"]).content == "【测试】€9.9 特价"
    # The answer in GBK as Java reads it: € as A2 E3.
    answered = gzip.decompress(envelope.aes_decrypt(client.key, answer.body))
    assert b'"customSmsId":"\xa2\xe31"' in answered and answer.data["customSmsId"] == "€1"
