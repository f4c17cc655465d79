"""Pushes to a real callback receiver: both modes, batching, the 10 s / 1 min / 10 min retries,
dead batches and redelivery, MO pushes, bursts, scheduled sends."""

from __future__ import annotations

from datetime import datetime, timedelta

import aiohttp
import pytest

from emay_mock.client import EmayClient
from emay_mock.protocol.times import BEIJING, LONG_FORMAT
from emay_mock.server import MockServer
from emay_mock.testing.receiver import Receiver
from tests.conftest import APP_ID, REPORT_KEYS, SECRET, MockFactory, account, pushing
from tests.support.control import pushes


async def test_encrypted_push_is_aes_gzip_json_with_the_app_id_header(
    make_mock: MockFactory, receiver: Receiver
) -> None:
    mock = await make_mock([pushing(receiver)])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        sent = await client.send_batch_sms(
            [{"mobile": "13800000001", "customSmsId": "c1"}, {"mobile": "13800000002"}], "hi"
        )
        await mock.platform.scheduler.advance(1)
        assert await client.get_report() == []  # pushed, not queued
    (request,) = receiver.at("/emay/report")
    assert request.headers["appId"] == APP_ID
    items = request.items(b"0123456789ABCDEF")
    assert [i["smsId"] for i in items] == [s["smsId"] for s in sent]
    assert all(set(i) == REPORT_KEYS for i in items)
    assert items[0]["customSmsId"] == "c1" and items[0]["state"] == "DELIVRD" and items[0]["desc"] == "成功"


async def test_plain_push_is_a_reports_form_field(make_mock: MockFactory, receiver: Receiver) -> None:
    mock = await make_mock([pushing(receiver, mode="plain")])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        sent = await client.send_single_sms("13800000001", "你好 & goodbye = +")
        await mock.platform.scheduler.advance(1)
    (request,) = receiver.at("/emay/report")
    assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert request.headers["appId"] == APP_ID
    (item,) = request.items()
    assert item["smsId"] == sent["smsId"] and set(item) == REPORT_KEYS


async def test_mo_is_pushed_to_the_mo_url_in_both_modes(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    for mode in ("encrypted", "plain"):
        receiver.requests.clear()
        mock = await make_mock([pushing(receiver, mode=mode)])
        async with http.post(
            f"{mock.url}/_mock/mo",
            json={"appId": APP_ID, "mobile": "13800000000", "content": "TD", "extendedCode": "7"},
        ) as resp:
            assert resp.status == 201
        await mock.platform.scheduler.advance(1)
        (request,) = receiver.at("/emay/mo")
        (item,) = request.items(b"0123456789ABCDEF")
        assert set(item) == {"mobile", "content", "moTime", "extendedCode"}
        assert (item["mobile"], item["content"], item["extendedCode"]) == ("13800000000", "TD", "7")
        if mode == "plain":
            assert b"mos=" in request.body


async def test_fails_three_times_then_success_sees_attempts_at_0_10_70_670(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    receiver.on("/emay/report", lambda n: (500, "oops") if n <= 3 else (200, "success"))
    mock = await make_mock([pushing(receiver)])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        await client.send_single_sms("13800000000", "x")
    await mock.platform.scheduler.advance(1)
    await mock.platform.scheduler.advance(700)
    assert len(receiver.at("/emay/report")) == 4
    (batch,) = await pushes(http, mock)
    assert batch["status"] == "delivered"
    attempts = batch["attempts"]
    first = attempts[0]["sentAtMs"]
    assert [a["sentAtMs"] - first for a in attempts] == [0, 10_000, 70_000, 670_000]
    assert [a["httpStatus"] for a in attempts] == [500, 500, 500, 200]
    assert [a["body"] for a in attempts] == ["oops", "oops", "oops", "success"]
    assert [a["ok"] for a in attempts] == [False, False, False, True]
    assert all(a["latencyMs"] >= 0 and a["scheduledAtMs"] == a["sentAtMs"] for a in attempts)


async def test_retries_happen_one_step_at_a_time_as_the_clock_moves(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    receiver.on("/emay/report", lambda n: (503, "busy"))
    mock = await make_mock([pushing(receiver)])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        await client.send_single_sms("13800000000", "x")
    seen = []
    for step in (1, 9.9, 0.1, 59.9, 0.1, 599.9, 0.1):
        await mock.platform.scheduler.advance(step)
        seen.append(len(receiver.at("/emay/report")))
    assert seen == [1, 1, 2, 2, 3, 3, 4]
    (batch,) = await pushes(http, mock)
    assert batch["status"] == "dead" and batch["nextAttemptAtMs"] is None


async def test_a_dead_batch_can_be_redelivered_by_hand(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    receiver.on("/emay/report", lambda n: (200, "fail") if n <= 4 else (200, "SUCCESS\n"))
    mock = await make_mock([pushing(receiver)])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        sent = await client.send_single_sms("13800000000", "x")
    await mock.platform.scheduler.advance(1000)
    (batch,) = await pushes(http, mock, status="dead")
    assert len(batch["attempts"]) == 4
    async with http.post(f"{mock.url}/_mock/pushes/{batch['id']}/redeliver") as resp:
        assert resp.status == 200
        after = await resp.json()
    assert after["status"] == "delivered"
    assert after["attempts"][-1] | {"latencyMs": 0, "sentAtMs": 0, "scheduledAtMs": 0, "time": ""} == {
        "n": 5, "httpStatus": 200, "error": None, "body": "SUCCESS\n", "ok": True, "manual": True,
        "note": None, "latencyMs": 0, "sentAtMs": 0, "scheduledAtMs": 0, "time": "",
    }  # fmt: skip
    assert receiver.at("/emay/report")[-1].items(b"0123456789ABCDEF")[0]["smsId"] == sent["smsId"]
    async with http.post(f"{mock.url}/_mock/pushes/999/redeliver") as resp:
        assert resp.status == 404


async def test_failures_of_every_kind_are_recorded(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock(
        [account(push={"reportUrl": "http://127.0.0.1:9/nothing-listens", "timeoutSeconds": 1})]
    )
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        await client.send_single_sms("13800000000", "x")
    await mock.platform.scheduler.advance(1)
    (batch,) = await pushes(http, mock)
    (attempt,) = batch["attempts"]
    assert attempt["httpStatus"] is None and "ClientConnectorError" in attempt["error"]
    assert batch["status"] == "pending" and batch["nextAttemptAtMs"] == attempt["sentAtMs"] + 10_000


async def test_a_receiver_that_never_answers_times_out(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    receiver.hang = True
    mock = await make_mock([pushing(receiver, timeoutSeconds=0.3)])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        await client.send_single_sms("13800000000", "x")
    await mock.platform.scheduler.advance(1)
    (batch,) = await pushes(http, mock)
    assert batch["attempts"][0]["error"] == "timeout: no answer within 0.3 s"


async def test_the_retry_schedule_is_per_account(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    receiver.on("/emay/report", lambda n: (500, ""))
    mock = await make_mock([pushing(receiver, retrySchedule=[1, 2])])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        await client.send_single_sms("13800000000", "x")
    await mock.platform.scheduler.advance(10)
    (batch,) = await pushes(http, mock)
    first = batch["attempts"][0]["sentAtMs"]
    assert [a["sentAtMs"] - first for a in batch["attempts"]] == [0, 1000, 3000]
    assert batch["status"] == "dead"


async def test_a_burst_of_10000_messages_gives_exactly_10000_reports(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock([pushing(receiver)])
    sent: list[str] = []
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        for batch in range(20):
            result = await client.send_batch_only_sms([f"13{batch:03d}{i:06d}" for i in range(500)], "burst")
            sent += [r["smsId"] for r in result]
    await mock.platform.scheduler.advance(1)
    got = [item["smsId"] for r in receiver.at("/emay/report") for item in r.items(b"0123456789ABCDEF")]
    assert len(got) == 10_000 and set(got) == set(sent)
    assert max(len(r.items(b"0123456789ABCDEF")) for r in receiver.at("/emay/report")) <= 500
    assert all(b["status"] == "delivered" for b in await pushes(http, mock, limit="1000", items="false"))


async def test_reports_sent_over_time_are_batched_on_the_real_clock(
    make_mock: MockFactory, receiver: Receiver
) -> None:
    mock = await make_mock([pushing(receiver)])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        for i in range(30):
            await client.send_single_sms(f"138000000{i:02d}", "x")
    requests = await receiver.wait_for(1, "/emay/report", timeout=5)
    await receiver.wait_for_items(30, b"0123456789ABCDEF", "/emay/report", timeout=5)
    assert len(requests) < 30  # gathered over the batch window, not one push per message


async def test_a_scheduled_sends_report_comes_after_its_timer_time(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock([pushing(receiver)])
    later = datetime.now(BEIJING) + timedelta(hours=1)
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        sent = await client.send_single_sms("13800000000", "x", timer_time=later.strftime(LONG_FORMAT))
    await mock.platform.scheduler.advance(1)
    assert receiver.at("/emay/report") == []
    await mock.platform.scheduler.advance(3600)
    (request,) = receiver.at("/emay/report")
    (item,) = request.items(b"0123456789ABCDEF")
    assert item["smsId"] == sent["smsId"]
    async with http.get(f"{mock.url}/_mock/messages", params={"smsId": sent["smsId"]}) as resp:
        (message,) = (await resp.json())["messages"]
    assert message["times"]["reportMs"] >= message["times"]["sendMs"] + 1000
    assert message["times"]["sendMs"] - message["times"]["submitMs"] >= 3_599_000


async def test_without_push_urls_reports_wait_in_the_pull_queue(
    client: EmayClient, mock: MockServer, receiver: Receiver
) -> None:
    await client.send_single_sms("13800000000", "x")
    await mock.platform.scheduler.advance(1)
    assert receiver.requests == []
    assert len(await client.get_report()) == 1


async def test_clock_speed_60_makes_the_10_s_retry_arrive_in_a_sixth_of_a_second(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    from emay_mock.settings import Settings

    receiver.on("/emay/report", lambda n: (500, "") if n == 1 else (200, "success"))
    mock = await make_mock([pushing(receiver)], settings=Settings(clock_speed=60))
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        await client.send_single_sms("13800000000", "x")
    first, second = await receiver.wait_for(2, "/emay/report", timeout=5)  # no advance: real time
    assert second.at - first.at < 2.0
    (batch,) = await pushes(http, mock)
    assert [a["sentAtMs"] - batch["attempts"][0]["sentAtMs"] for a in batch["attempts"]] == [
        0,
        pytest.approx(10_000, abs=600),
    ]
