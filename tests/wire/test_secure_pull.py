"""getReport / getMo / getBalance: reports after send, oldest first, each once, clamped numbers."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from emay_mock.client import EmayClient
from emay_mock.server import MockServer
from tests.conftest import REPORT_KEYS, SECRET, MockFactory, account
from tests.support.control import message_row
from tests.wire.secure_helpers import send_json, window


async def test_report_is_delivrd_one_second_after_send_on_the_real_clock(client: EmayClient) -> None:
    sent = await client.send_single_sms("13800000000", "x", custom_sms_id="c1", extended_code="99")
    assert await client.get_report() == []
    await asyncio.sleep(1.3)
    (report,) = await client.get_report()
    assert set(report) == REPORT_KEYS
    assert report["smsId"] == sent["smsId"]
    assert report["state"] == "DELIVRD" and report["desc"] == "成功"
    assert report["customSmsId"] == "c1" and report["extendedCode"] == "99"
    assert len(report["receiveTime"]) == 19 and report["receiveTime"] >= report["submitTime"]
    assert await client.get_report() == []  # each report once


async def test_reports_come_oldest_first_and_number_is_clamped(client: EmayClient, mock: MockServer) -> None:
    sent = await client.send_batch_only_sms([f"1380000{i:04d}" for i in range(30)], "x")
    await mock.platform.scheduler.advance(1)
    first = await client.get_report(10)
    assert [r["smsId"] for r in first] == [s["smsId"] for s in sent[:10]]
    zero = await send_json(client, "getReport", window(number=0))
    assert len(zero.data) == 1  # clamped to 1
    rest = await send_json(client, "getReport", window(number=100000))
    assert [r["smsId"] for r in rest.data] == [s["smsId"] for s in sent[11:]]


async def test_get_report_without_number_returns_at_most_500(client: EmayClient, mock: MockServer) -> None:
    for _ in range(2):
        await client.send_batch_only_sms([f"138{i:08d}" for i in range(400)], "x")
    await mock.platform.scheduler.advance(1)
    assert len(await client.get_report()) == 500
    assert len(await client.get_report()) == 300


async def test_repeated_mobile_gets_fail_mobile_repeat(client: EmayClient, mock: MockServer) -> None:
    sent = await client.send_batch_only_sms(["13800000000", "+8613800000000", "13800000001"], "x")
    await mock.platform.scheduler.advance(1)
    states = {r["smsId"]: r["state"] for r in await client.get_report()}
    assert [states[s["smsId"]] for s in sent] == ["DELIVRD", "FAIL_MOBILE_REPEAT", "DELIVRD"]


async def test_injected_mo_reaches_get_mo(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        f"{mock.url}/_mock/mo",
        json={"appId": client.app_id, "mobile": "13800000000", "content": "TD", "extendedCode": "01"},
    ) as resp:
        assert resp.status == 201
    (mo,) = await client.get_mo()
    assert set(mo) == {"mobile", "content", "moTime", "extendedCode"}
    assert (mo["mobile"], mo["content"], mo["extendedCode"]) == ("13800000000", "TD", "01")
    assert await client.get_mo() == []


async def test_queues_are_per_account(make_mock: MockFactory, http: aiohttp.ClientSession) -> None:
    mock = await make_mock([account("EUCP-A"), account("EUCP-B")])
    async with EmayClient(mock.url, "EUCP-A", SECRET) as a, EmayClient(mock.url, "EUCP-B", SECRET) as b:
        await a.send_single_sms("13800000000", "x")
        await mock.platform.scheduler.advance(1)
        assert await b.get_report() == []
        assert len(await a.get_report()) == 1


async def test_mo_and_click_queues_are_oldest_first_each_once_and_clamped(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    for i in range(4):
        async with http.post(
            f"{mock.url}/_mock/mo", json={"appId": client.app_id, "mobile": "13800000000", "content": f"m{i}"}
        ) as resp:
            assert resp.status == 201
    assert [m["content"] for m in (await send_json(client, "getMo", window(number=0))).data] == ["m0"]
    assert [m["content"] for m in await client.get_mo(2)] == ["m1", "m2"]
    assert [m["content"] for m in (await send_json(client, "getMo", window(number=9999))).data] == ["m3"]
    assert await client.get_mo() == []

    sent = await client.send_short_link_sms(
        [{"mobile": f"1380000000{i}"} for i in range(4)], "{#短网址#}", "http://e.cn", rule="2"
    )
    for s in sent:
        code = message_row(mock, s["smsId"]).content.rsplit("/", 1)[1]
        async with http.post(f"{mock.url}/_mock/shortlinks/{code}/click") as resp:
            assert resp.status == 201
    assert [c["mobile"] for c in (await send_json(client, "getShortLink", window(number=-5))).data] == [
        "13800000000"
    ]
    assert [c["mobile"] for c in await client.get_short_link(2)] == ["13800000001", "13800000002"]
    assert [c["mobile"] for c in await client.get_short_link()] == ["13800000003"]
    assert await client.get_short_link() == []


@pytest.mark.parametrize("endpoint", ["getReport", "getMo", "getShortLink"])
@pytest.mark.parametrize("number", ["many", True, [1], {"n": 1}])
async def test_a_number_that_is_not_a_number_is_error_params(
    client: EmayClient, mock: MockServer, endpoint: str, number: object
) -> None:
    answer = await send_json(client, endpoint, window(number=number))
    assert (answer.status, answer.code, answer.body) == (200, "ERROR_PARAMS", b"")
    reason = mock.journal.query(limit=1)[0].reason
    assert reason is not None and reason["field"] == "number"
