"""Diagnoses: the mistakes independent clients make, sent over the wire, and the likely cause the
mock names for each in the journal, the contract report and the request's log line, while the
wire answer stays the Emay code it always was."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from emay_mock.client import EmayClient, SimpleClient
from emay_mock.protocol import diagnose, envelope
from emay_mock.protocol.times import BEIJING, COMPACT_FORMAT, LONG_FORMAT
from emay_mock.server import MockServer
from emay_mock.settings import Settings
from tests.conftest import APP_ID, SECRET, MockFactory, account
from tests.support.control import get_json
from tests.wire.secure_helpers import now_ms, send_json, window
from tests.wire.simple_helpers import signed

UTC_TEXT = "looks like UTC; the platform uses Beijing time (Asia/Shanghai)"
HOUR_MS = 3_600_000


@pytest.fixture(autouse=True)
def request_lines(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="emay_mock.requests")
    return caplog


async def seen_everywhere(
    http: aiohttp.ClientSession, mock: MockServer, caplog: pytest.LogCaptureFixture, kind: str, text: str,
    app_id: str = APP_ID, times: int = 1,
) -> dict[str, Any]:  # fmt: skip
    """The last request's diagnosis, as the journal, the contract report and the log line show it;
    the report counts it `times` times, with the first as its example."""
    (entry,) = (await get_json(http, mock, "/_mock/journal", appId=app_id, limit="1"))["entries"]
    found = [n["diagnosis"] for n in entry["notes"] if "diagnosis" in n]
    if entry["reason"] is not None:
        found.append(entry["reason"]["diagnosis"])
        assert entry["reason"]["reason"].endswith(f"; diagnosis: {text}")
    assert found == [{"kind": kind, "text": text}]
    report = await get_json(http, mock, "/_mock/contract", appId=app_id)
    diagnoses = {d["kind"]: d for d in report["diagnoses"]}
    assert diagnoses[kind]["count"] == times
    if times == 1:
        assert diagnoses[kind]["example"]["journalId"] == entry["id"]
    assert diagnoses[kind]["example"]["text"] == text
    lines = [r.getMessage() for r in caplog.records if r.name == "emay_mock.requests"]
    assert lines[-1].split(" ")[:2] == [entry["family"], f"/{entry['endpoint']}"]
    assert lines[-1].endswith(f"diagnosis: {text}"), lines[-1]
    return dict(entry)


def no_diagnosis_anywhere(mock: MockServer) -> None:
    entry = mock.journal.query(limit=1)[0]
    assert entry.reason is None or "diagnosis" not in entry.reason
    assert all(n.diagnosis is None for n in entry.notes.items)


# -- clocks --------------------------------------------------------------------------------------


def beijing(delta: timedelta) -> str:
    return (datetime.now(BEIJING) + delta).strftime(COMPACT_FORMAT)


@pytest.mark.parametrize("path", ["/simpleinter/getBalance", "/voice/getBalance", "/report/retrieveReport"])
async def test_a_timestamp_in_utc_is_diagnosed(
    mock: MockServer, http: aiohttp.ClientSession, request_lines: pytest.LogCaptureFixture, path: str
) -> None:
    utc_now = datetime.now(UTC).strftime(COMPACT_FORMAT)  # a client on a UTC server, unaware of zones
    params = signed(timestamp=utc_now, startTime=beijing(-timedelta(minutes=5)), endTime=beijing(timedelta()))
    async with SimpleClient(mock.url, APP_ID, SECRET) as simple:
        answer = await simple.request(path, params)
    assert answer.status == 200 and answer.code == "ERROR_TIMESTAMP"  # retrieveReport: the body text
    entry = await seen_everywhere(http, mock, request_lines, "wrong-time-zone", UTC_TEXT)
    assert entry["reason"]["detail"]["skewSeconds"] == pytest.approx(-8 * 3600, abs=5)


async def test_a_timestamp_eight_hours_ahead_is_diagnosed_too(
    mock: MockServer, http: aiohttp.ClientSession, request_lines: pytest.LogCaptureFixture
) -> None:
    async with SimpleClient(mock.url, APP_ID, SECRET) as simple:
        answer = await simple.request(
            "/simpleinter/getBalance", signed(timestamp=beijing(timedelta(hours=8)))
        )
    assert answer.code == "ERROR_TIMESTAMP"
    text = "8 hours ahead: the UTC offset looks added twice; the platform uses Beijing time (Asia/Shanghai)"
    await seen_everywhere(http, mock, request_lines, "wrong-time-zone", text)


@pytest.mark.parametrize("skew", [timedelta(hours=2), timedelta(hours=-7), timedelta(hours=-8, minutes=-11)])
async def test_any_other_skew_gets_no_diagnosis(mock: MockServer, skew: timedelta) -> None:
    async with SimpleClient(mock.url, APP_ID, SECRET) as simple:
        answer = await simple.request("/simpleinter/getBalance", signed(timestamp=beijing(skew)))
    assert answer.code == "ERROR_TIMESTAMP"
    no_diagnosis_anywhere(mock)


async def test_a_timer_time_in_utc_is_diagnosed(
    mock: MockServer, client: EmayClient, http: aiohttp.ClientSession, request_lines: pytest.LogCaptureFixture
) -> None:
    timer = datetime.now(UTC).strftime(LONG_FORMAT)  # "send now", written in UTC
    answer = await send_json(
        client, "sendSingleSMS", window(mobile="13800000000", content="x", timerTime=timer)
    )
    assert answer.code == "ERROR_SMS_TIME"
    await seen_everywhere(http, mock, request_lines, "wrong-time-zone", UTC_TEXT)
    async with SimpleClient(mock.url, APP_ID, SECRET) as simple:
        compact = datetime.now(UTC).strftime(COMPACT_FORMAT)
        sent = await simple.call(
            "/simpleinter/sendSMS", {"mobiles": "13800000000", "content": "x", "timerTime": compact}
        )
    assert sent.code == "ERROR_SMS_TIME"
    await seen_everywhere(http, mock, request_lines, "wrong-time-zone", UTC_TEXT, times=2)
    assert mock.platform.messages.count() == 0


async def test_a_request_time_eight_hours_behind_is_diagnosed(
    mock: MockServer, client: EmayClient, http: aiohttp.ClientSession, request_lines: pytest.LogCaptureFixture
) -> None:
    late = {"requestTime": now_ms() - 8 * HOUR_MS, "requestValidPeriod": 60}  # datetime.utcnow().timestamp()
    assert (await send_json(client, "getBalance", late)).code == "ERROR_REQUEST_NO_VALID"
    text = (
        "8 hours behind: looks like a UTC wall-clock time read as Beijing time (Asia/Shanghai); "
        "requestTime is epoch milliseconds (System.currentTimeMillis()), which no time zone changes"
    )
    await seen_everywhere(http, mock, request_lines, "wrong-time-zone", text)


async def test_a_request_time_eight_hours_ahead_is_a_diagnosed_deviation(
    make_mock: MockFactory, http: aiohttp.ClientSession, request_lines: pytest.LogCaptureFixture
) -> None:
    mock = await make_mock([account(), account("EUCP-STRICT", strict=True)])
    early = {"requestTime": now_ms() + 8 * HOUR_MS, "requestValidPeriod": 60}
    text = (
        "8 hours ahead: looks like a wall-clock time in Beijing time (Asia/Shanghai) read as UTC; "
        "requestTime is epoch milliseconds (System.currentTimeMillis()), which no time zone changes"
    )
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        assert (await send_json(client, "getBalance", early)).code == "SUCCESS"
    entry = await seen_everywhere(http, mock, request_lines, "wrong-time-zone", text)
    assert [n["kind"] for n in entry["notes"]] == ["requestTime-in-future"]
    async with EmayClient(mock.url, "EUCP-STRICT", SECRET) as client:
        assert (await send_json(client, "getBalance", dict(early))).code == "ERROR_PARAMS"
    await seen_everywhere(http, mock, request_lines, "wrong-time-zone", text, app_id="EUCP-STRICT")


async def test_dotnet_ticks_are_diagnosed(
    mock: MockServer, client: EmayClient, http: aiohttp.ClientSession, request_lines: pytest.LogCaptureFixture
) -> None:
    ticks = {"requestTime": 638_700_000_000_000_000, "requestValidPeriod": 30}
    assert (await send_json(client, "getBalance", ticks)).code == "SUCCESS"
    await seen_everywhere(http, mock, request_lines, "dotnet-ticks", "it looks like .NET ticks, not epoch ms")


# -- the envelope --------------------------------------------------------------------------------


@pytest.mark.parametrize("gzip_on", [True, False])
@pytest.mark.parametrize(
    ("form", "encode"),
    [("base64", base64.b64encode), ("hex", lambda raw: raw.hex().encode()),
     ("base64", lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"="))],
)  # fmt: skip
async def test_ciphertext_sent_as_text_is_diagnosed(
    mock: MockServer, client: EmayClient, http: aiohttp.ClientSession,
    request_lines: pytest.LogCaptureFixture, gzip_on: bool, form: str, encode: Any,
) -> None:  # fmt: skip
    raw = envelope.encode_request(window(), client.key, gzip_on=gzip_on)
    client.gzip = gzip_on
    answer = await client.post("getBalance", encode(raw))
    assert answer.code == "ERROR_ENCRYPTION" and answer.body == b""
    text = f"looks like {form} of the ciphertext ({len(raw)} bytes); send the raw bytes"
    await seen_everywhere(http, mock, request_lines, "ciphertext-as-text", text)


@pytest.mark.parametrize(
    ("secret", "client_key", "text"),
    [
        ("0123456789ABCDEF01234567", b"0123456789ABCDEF", "cut to 16 bytes"),
        ("0123456789ABCDEF0123456789ABCDEF", b"0123456789ABCDEF", "cut to 16 bytes"),
        ("0123456789ABCDEF0123456789ABCDEF", b"0123456789ABCDEF01234567", "cut to 24 bytes"),
        ("0123456789ABCDEF", b"0123456789ABCDEF".ljust(32, b"\0"), "zero-padded to 32 bytes"),
    ],
)
@pytest.mark.parametrize("gzip_on", [True, False])
async def test_a_key_cut_or_padded_by_the_client_is_diagnosed(
    make_mock: MockFactory, http: aiohttp.ClientSession, request_lines: pytest.LogCaptureFixture,
    secret: str, client_key: bytes, text: str, gzip_on: bool,
) -> None:  # fmt: skip
    mock = await make_mock([account(secret=secret)])
    async with EmayClient(mock.url, APP_ID, secret, gzip=gzip_on) as client:
        body = envelope.encode_request(window(), client_key, gzip_on=gzip_on)
        answer = await client.post("getBalance", body)
        assert answer.code == "ERROR_ENCRYPTION"
        expected = (
            f"it decrypts with the secretKey {text}: the client cut or padded the key; "
            f"use the raw secretKey ({len(secret)} bytes) as the AES key"
        )
        await seen_everywhere(http, mock, request_lines, "key-cut-or-padded", expected)
        assert (await client.get_balance()) > 0  # the raw secretKey works


async def test_a_wrong_key_or_garbage_gets_no_diagnosis(mock: MockServer, client: EmayClient) -> None:
    for body in (
        envelope.encode_request(window(), b"F" * 16, gzip_on=True),
        base64.b64encode(envelope.encode_request(window(), b"F" * 16, gzip_on=True)[:20]),  # 20 bytes
        bytes(range(40)),
        b"hello, not ciphertext",
    ):
        assert (await client.post("getBalance", body)).code == "ERROR_ENCRYPTION"
        no_diagnosis_anywhere(mock)


async def test_a_request_that_decrypts_never_runs_the_envelope_diagnoses(
    client: EmayClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object) -> None:
        raise AssertionError("diagnosed a request that decrypted")

    monkeypatch.setattr(diagnose, "ciphertext", fail)
    assert await client.get_balance() > 0
    await client.send_single_sms("13800000000", "x")


# -- templates -----------------------------------------------------------------------------------


async def test_a_variable_template_sent_as_normal_is_diagnosed(
    mock: MockServer, client: EmayClient, http: aiohttp.ClientSession, request_lines: pytest.LogCaptureFixture
) -> None:
    template_id = await client.create_template("【亿美】您的验证码是{#code#}")
    answer = await client.call(
        "sendTemplateNormalSMS", {"templateId": template_id, "smses": [{"mobile": "13800000000"}]}
    )
    assert answer.code == "ERROR_PARAMS"
    text = "this template has variables; use sendTemplateVariableSMS"
    await seen_everywhere(http, mock, request_lines, "variable-template-as-normal", text)
    missing = await client.call(
        "sendTemplateVariableSMS",
        {"templateId": template_id, "smses": [{"mobile": "13800000000", "content": {"other": "1"}}]},
    )
    assert missing.code == "ERROR_PARAMS"  # the right endpoint, a missing value: nothing to diagnose
    entry = mock.journal.query(limit=1)[0]
    assert entry.reason is not None and "diagnosis" not in entry.reason


TEMPLATE_CAUTION = (
    "the mock approved it at once (server.templateReviewSeconds); the real platform reviews templates by "
    "hand first, so the client must handle a pending template (queryTemplateSMS status 0, ERROR_PARAMS "
    "on a send)"
)


async def test_a_template_used_seconds_after_its_creation_is_a_caution(
    mock: MockServer, client: EmayClient, http: aiohttp.ClientSession, request_lines: pytest.LogCaptureFixture
) -> None:
    template_id = await client.create_template("【亿美】您的订单已发货")
    await mock.platform.scheduler.advance(5)
    (sent,) = await client.send_template_normal_sms(template_id, [{"mobile": "13800000000"}])
    assert sent["smsId"]
    entry = await seen_everywhere(http, mock, request_lines, "template-not-reviewed-yet", TEMPLATE_CAUTION)
    (note,) = entry["notes"]
    assert note["kind"] == "template-instant-review" and not note["deviation"]
    assert note["message"].startswith(f"template {template_id} used 5 s after its creation")
    lines = [r.getMessage() for r in request_lines.records if r.name == "emay_mock.requests"]
    assert " SUCCESS " in lines[-1] and " note: template " in lines[-1]
    report = await get_json(http, mock, "/_mock/contract", appId=APP_ID)
    assert report["clean"] is True
    assert report["summary"] == "no deviations; 1 caution: template-instant-review"

    await mock.platform.scheduler.advance(60)  # a minute later: a real review could have happened
    await client.send_template_normal_sms(template_id, [{"mobile": "13800000000"}])
    assert not mock.journal.query(limit=1)[0].notes.items


async def test_a_template_that_went_through_a_review_delay_is_no_caution(make_mock: MockFactory) -> None:
    mock = await make_mock(settings=Settings(template_review_s=5))
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        template_id = await client.create_template("【亿美】您的订单已发货")
        await mock.platform.scheduler.advance(5)
        await client.send_template_normal_sms(template_id, [{"mobile": "13800000000"}])
    assert not mock.journal.query(limit=1)[0].notes.items
