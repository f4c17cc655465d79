"""/voice/* and /report/retrieveReport over real sockets."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest

from emay_mock.client import EmayClient, SimpleClient
from emay_mock.protocol.times import BEIJING, COMPACT_FORMAT
from emay_mock.server import MockServer
from emay_mock.testing.receiver import Receiver
from tests.conftest import APP_ID, SECRET, MockFactory, account
from tests.support.control import last_reason
from tests.wire.simple_helpers import signed


def compact(moment: datetime) -> str:
    return moment.strftime(COMPACT_FORMAT)


def now() -> datetime:
    return datetime.now(BEIJING).replace(microsecond=0)


async def post_text(http: aiohttp.ClientSession, mock: MockServer, params: dict[str, str]) -> str:
    async with http.post(f"{mock.url}/report/retrieveReport", data=params) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
        return await resp.text()


# -- voice --------------------------------------------------------------------------------------


async def test_voice_send_report_and_balance(mock: MockServer) -> None:
    async with SimpleClient(mock.url, APP_ID, SECRET) as voice, EmayClient(mock.url, APP_ID, SECRET) as sms:
        sent = await voice.voice_send_sms("13800000000", "824913", custom_sms_id="v1")
        assert set(sent) == {"mobile", "smsId", "customSmsId"} and sent["customSmsId"] == "v1"
        await mock.platform.scheduler.advance(1)
        assert await sms.get_report() == []  # voice reports are not SMS reports
        (report,) = await voice.voice_get_report()
        assert report["smsId"] == sent["smsId"] and report["state"] == "DELIVRD"
        assert await voice.voice_get_balance() == 100_000 - 1


@pytest.mark.parametrize("code", ["abc1", "123", "123456789", "12 34", "１２３４"])
async def test_voice_content_must_be_4_to_8_digits(mock: MockServer, code: str) -> None:
    async with SimpleClient(mock.url, APP_ID, SECRET) as voice:
        answer = await voice.call("/voice/sendSMS", {"mobile": "13800000000", "content": code})
    assert answer.code == "ERROR_VOICE_CONTENT"


async def test_voice_refusals(make_mock: MockFactory) -> None:
    mock = await make_mock([account(), account("EUCP-NOVOICE", voice=False)])
    async with SimpleClient(mock.url, "EUCP-NOVOICE", SECRET) as no_voice:
        for path in ("/voice/sendSMS", "/voice/getReport", "/voice/getBalance"):
            assert (
                await no_voice.call(path, {"mobile": "13800000000", "content": "1234"})
            ).code == "ERROR_NO_VOICE_SERVICE"
    async with SimpleClient(mock.url, APP_ID, SECRET) as voice:
        for params, code in (
            ({"content": "1234"}, "ERROR_MOBILE_EMPTY"),
            ({"mobile": "123", "content": "1234"}, "ERROR_MOBILE_ERROR"),
            ({"mobile": "13800000000"}, "ERROR_CONTENT_EMPTY"),
            ({"mobile": "13800000000", "content": "1234", "customSmsId": "x" * 33}, "ERROR_CUSTOM_SMSID"),
            ({"mobile": "13800000000", "content": "1234", "extendedCode": "a"}, "ERROR_EXTENDED_CODE"),
        ):
            assert (await voice.call("/voice/sendSMS", params)).code == code
        answer = await voice.request("/voice/getBalance", signed(secret="0000000000000000"))
        assert answer.code == "ERROR_SIGN"
        answer = await voice.request("/voice/getBalance", {**signed(), "timestamp": "x"})
        assert answer.code == "ERROR_TIMESTAMP"
    poor = await make_mock([account(balance=0)])
    async with SimpleClient(poor.url, APP_ID, SECRET) as voice:
        assert (
            await voice.call("/voice/sendSMS", {"mobile": "13800000000", "content": "1234"})
        ).code == "ERROR_BALANCE"


# -- retrieveReport ---------------------------------------------------------------------------


async def test_retrieve_redelivers_the_reports_of_the_range(
    mock: MockServer, http: aiohttp.ClientSession
) -> None:
    async with (
        EmayClient(mock.url, APP_ID, SECRET) as client,
        SimpleClient(mock.url, APP_ID, SECRET) as simple,
    ):
        sent = await client.send_batch_only_sms(["13800000001", "13800000002", "13800000003"], "x")
        await mock.platform.scheduler.advance(1)
        first = await client.get_report()
        assert len(first) == 3 and await client.get_report() == []
        start, end = now() - timedelta(minutes=5), now()
        assert await simple.retrieve_report(start, end) == "SUCCESS"
        again = await client.get_report()
        assert again == first  # the same final reports, once more
        assert await simple.retrieve_report(start, end, [sent[1]["smsId"]]) == "SUCCESS"
        assert [r["smsId"] for r in await client.get_report()] == [sent[1]["smsId"]]
        earlier = now() - timedelta(minutes=20)
        assert await simple.retrieve_report(earlier, earlier + timedelta(minutes=10)) == "SUCCESS"
        assert await client.get_report() == []


async def test_retrieve_pages_through_a_large_range(mock: MockServer) -> None:
    async with (
        EmayClient(mock.url, APP_ID, SECRET) as client,
        SimpleClient(mock.url, APP_ID, SECRET) as simple,
    ):
        for batch in range(3):
            await client.send_batch_only_sms([f"13{batch}{i:08d}" for i in range(500)], "x")
        await mock.platform.scheduler.advance(1)
        for _ in range(3):
            await client.get_report()
        assert await simple.retrieve_report(now() - timedelta(minutes=5), now()) == "SUCCESS"
        await mock.platform.scheduler.advance(0)
        got = [r["smsId"] for _ in range(4) for r in await client.get_report()]
        assert len(got) == 1500 and len(set(got)) == 1500


async def test_retrieve_goes_through_the_push_engine(make_mock: MockFactory, receiver: Receiver) -> None:
    mock = await make_mock([account(push={"reportUrl": receiver.path_url("/r")})])
    async with (
        EmayClient(mock.url, APP_ID, SECRET) as client,
        SimpleClient(mock.url, APP_ID, SECRET) as simple,
    ):
        (sent,) = await client.send_batch_only_sms(["13800000001"], "x")
        await mock.platform.scheduler.advance(1)
        assert await simple.retrieve_report(now() - timedelta(minutes=1), now()) == "SUCCESS"
        await mock.platform.scheduler.advance(1)
    pushed = [item["smsId"] for r in receiver.at("/r") for item in r.items(SECRET.encode())]
    assert pushed == [sent["smsId"], sent["smsId"]]


@pytest.mark.parametrize(
    ("start", "end", "why"),
    [
        (lambda: "2026-11-25", lambda: compact(now()), "startTime"),
        (
            lambda: compact(now() - timedelta(days=31)),
            lambda: compact(now() - timedelta(days=31) + timedelta(minutes=5)),
            "30 days",
        ),
        (lambda: compact(now()), lambda: compact(now() + timedelta(minutes=5)), "after now"),
        (lambda: compact(now()), lambda: compact(now() - timedelta(minutes=1)), "after startTime"),
        (lambda: compact(now()), lambda: compact(now()), "after startTime"),
        (lambda: compact(now() - timedelta(minutes=11)), lambda: compact(now()), "at most 600 s"),
    ],
)
async def test_report_time_rules(
    mock: MockServer, http: aiohttp.ClientSession, start: Any, end: Any, why: str
) -> None:
    assert await post_text(http, mock, signed(startTime=start(), endTime=end())) == "ERROR_REPORT_TIME"
    assert why in last_reason(mock)["reason"]


async def test_too_many_sms_ids(mock: MockServer, http: aiohttp.ClientSession) -> None:
    start, end = compact(now() - timedelta(minutes=5)), compact(now())
    ids = ",".join(str(20261125000000000000 + i) for i in range(1001))
    assert (
        await post_text(http, mock, signed(startTime=start, endTime=end, smsId=ids))
        == "ERROR_TOO_MUCH_SMSIDS"
    )
    ids = ",".join(str(20261125000000000000 + i) for i in range(1000))
    assert await post_text(http, mock, signed(startTime=start, endTime=end, smsId=ids)) == "SUCCESS"


async def test_retrieve_gate_codes(make_mock: MockFactory, http: aiohttp.ClientSession) -> None:
    mock = await make_mock([account(), account("EUCP-NORETRIEVE", retrieveReport=False)])
    range_ = {"startTime": compact(now() - timedelta(minutes=1)), "endTime": compact(now())}
    assert (
        await post_text(http, mock, signed(app_id="EUCP-NORETRIEVE", **range_)) == "ERROR_NO_RETRIEVE_SERVICE"
    )
    assert await post_text(http, mock, signed(app_id="EUCP-X", **range_)) == "ERROR_APPID"
    assert await post_text(http, mock, {**signed(**range_), "timestamp": "1"}) == "ERROR_TIMESTAMP"
    assert await post_text(http, mock, signed(secret="x" * 16, **range_)) == "ERROR_SIGN"
    async with http.get(f"{mock.url}/report/retrieveReport", params=signed(**range_)) as resp:
        assert await resp.text() == "SUCCESS"


async def test_an_sms_id_that_is_not_numeric_is_error_params(
    mock: MockServer, http: aiohttp.ClientSession
) -> None:
    start, end = compact(now() - timedelta(minutes=5)), compact(now())
    for ids in ("20261125000000000000,abc", "１２３"):
        assert await post_text(http, mock, signed(startTime=start, endTime=end, smsId=ids)) == "ERROR_PARAMS"
        reason = mock.journal.query(limit=1)[0].reason
        assert reason is not None and reason["field"] == "smsId"
    spaced = "20261125000000000000, 20261125000000000001,"  # blanks and a stray comma are tolerated
    assert await post_text(http, mock, signed(startTime=start, endTime=end, smsId=spaced)) == "SUCCESS"
