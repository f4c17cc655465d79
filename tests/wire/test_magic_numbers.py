"""The built-in magic numbers and content markers (scenarios/default.yaml), loaded by default."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from emay_mock.client import EmayClient
from emay_mock.protocol.codes import ReportState, ResultCode
from emay_mock.server import MockServer
from emay_mock.store.messages import MessageFilter
from emay_mock.testing.receiver import Receiver
from tests.conftest import APP_ID, SECRET, MockFactory, account


async def report_after(client: EmayClient, mock: MockServer, seconds: float) -> list[dict[str, Any]]:
    await mock.platform.scheduler.advance(seconds)
    return await client.get_report()


@pytest.mark.parametrize(
    ("mobile", "state"),
    [
        ("13855500001", "FAIL_MOBILE"),
        ("13955500002", "FAIL_BLACK_LIST"),
        ("15055500005", "FAIL_UNSUBSCRIBE"),
        ("18655500008", "FAIL_UNKNOW"),
        ("+8613855500001", "FAIL_MOBILE"),
    ],
)
async def test_failing_numbers(client: EmayClient, mock: MockServer, mobile: str, state: str) -> None:
    await client.send_single_sms(mobile, "x")
    assert [r["state"] for r in await report_after(client, mock, 1)] == [state]


async def test_0003_has_no_report_for_ten_minutes_then_timeout(client: EmayClient, mock: MockServer) -> None:
    await client.send_single_sms("13855500003", "x")
    assert await report_after(client, mock, 599) == []
    assert [r["state"] for r in await report_after(client, mock, 1)] == ["TIMEOUT"]


async def test_0004_replies_td_and_0009_replies_1(client: EmayClient, mock: MockServer) -> None:
    await client.send_batch_only_sms(["13855500004", "13855500009"], "活动通知 回TD退订", extended_code="5")
    assert [r["state"] for r in await report_after(client, mock, 1)] == ["DELIVRD", "DELIVRD"]
    assert await client.get_mo() == []
    await mock.platform.scheduler.advance(5)
    replies = {m["mobile"]: (m["content"], m["extendedCode"]) for m in await client.get_mo()}
    assert replies == {"13855500004": ("TD", "5"), "13855500009": ("1", "5")}


async def test_0006_is_a_slow_carrier(client: EmayClient, mock: MockServer) -> None:
    await client.send_single_sms("13855500006", "x")
    assert await report_after(client, mock, 29) == []
    assert [r["state"] for r in await report_after(client, mock, 1)] == ["DELIVRD"]


async def test_0010_clicks_the_short_link(client: EmayClient, mock: MockServer) -> None:
    await client.send_short_link_sms([{"mobile": "13855500010"}], "{#短网址#}", "https://e.cn", rule="2")
    await mock.platform.scheduler.advance(10)
    (click,) = await client.get_short_link()
    assert click["mobile"] == "13855500010" and click["longLink"] == "https://e.cn"


async def test_0007_is_pushed_twice_and_0011_before_the_answer(
    make_mock: MockFactory, receiver: Receiver
) -> None:
    mock = await make_mock([account(push={"reportUrl": receiver.path_url("/r")})])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        early = await client.send_single_sms("13855500011", "x")
        assert [i["smsId"] for i in receiver.at("/r")[0].items(SECRET.encode())] == [early["smsId"]]
        twice = await client.send_single_sms("13855500007", "x")
    await mock.platform.scheduler.advance(1)
    again = [r.items(SECRET.encode())[0]["smsId"] for r in receiver.at("/r")[1:]]
    assert again == [twice["smsId"], twice["smsId"]]


async def test_ordinary_numbers_are_delivered(client: EmayClient, mock: MockServer) -> None:
    await client.send_batch_only_sms(["13800000001", "13855500000", "13855500100", "13800055500"], "x")
    assert {r["state"] for r in await report_after(client, mock, 1)} == {"DELIVRD"}


@pytest.mark.parametrize("code", [c.value for c in ResultCode if c is not ResultCode.SUCCESS])
async def test_a_marker_answers_any_result_code(client: EmayClient, mock: MockServer, code: str) -> None:
    answer = await client.call("sendSingleSMS", {"mobile": "13800000000", "content": f"测试 [emay:{code}]"})
    assert answer.code == code
    assert mock.platform.messages.count() == 0


@pytest.mark.parametrize("state", [s.value for s in ReportState])
async def test_a_marker_gives_any_report_state(client: EmayClient, mock: MockServer, state: str) -> None:
    await client.send_single_sms("13800000000", f"[emay:{state}] 测试")
    (report,) = await report_after(client, mock, 1)
    assert report["state"] == state and report["desc"] == ReportState(state).desc


async def test_fault_markers(client: EmayClient, mock: MockServer, http: aiohttp.ClientSession) -> None:
    for marker, error in (
        ("reset", aiohttp.ClientOSError),
        ("empty", aiohttp.ServerDisconnectedError),
        ("garbage", aiohttp.ClientResponseError),
        ("lost", aiohttp.ClientOSError),
    ):
        with pytest.raises(error):
            await client.send_single_sms("13800000000", f"x [emay:{marker}]")
    assert [m.content for m in mock.platform.messages.find(MessageFilter(), 10)] == ["x [emay:lost]"]
    answer = await client.call("sendSingleSMS", {"mobile": "13800000000", "content": "[emay:http-503]"})
    assert answer.status == 503
    loop = asyncio.get_running_loop()
    started = loop.time()
    await client.send_single_sms("13800000000", "[emay:slow]")
    assert loop.time() - started >= 3


async def test_the_magic_numbers_can_be_turned_off(make_mock: MockFactory) -> None:
    from emay_mock.settings import Settings

    mock = await make_mock(settings=Settings(default_scenarios=False))
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        await client.send_single_sms("13855500001", "[emay:ERROR_BALANCE]")
        assert [r["state"] for r in await report_after(client, mock, 1)] == ["DELIVRD"]
