"""The scheduler's clock over HTTP: report and MO times come from it, protocol checks do not,
and `POST /_mock/clock/advance` runs pushes and their retries before it answers."""

from __future__ import annotations

from datetime import datetime, timedelta

import aiohttp

from emay_mock.client import EmayClient, SimpleClient
from emay_mock.protocol.times import BEIJING, LONG_FORMAT, parse
from emay_mock.server import MockServer
from emay_mock.testing.receiver import Receiver
from tests.conftest import APP_ID, SECRET, MockFactory, account
from tests.support.control import advance

TWO_DAYS_S = 2 * 86400


async def test_report_and_mo_times_follow_the_scheduler_clock_and_protocol_checks_the_wall_clock(
    mock: MockServer, http: aiohttp.ClientSession
) -> None:
    clock = await advance(http, mock, TWO_DAYS_S)
    assert clock["offsetMs"] >= TWO_DAYS_S * 1000 - 1000
    wall_later = datetime.now(BEIJING) + timedelta(hours=1)
    async with (
        EmayClient(mock.url, APP_ID, SECRET) as client,
        SimpleClient(mock.url, APP_ID, SECRET) as simple,
    ):
        # The validity window, the simple family's timestamp and the timerTime limits use real
        # time: two days ahead on the scheduler's clock, a request stamped "now" is still valid.
        sent = await client.send_single_sms("13800000000", "x")
        timed = await client.send_single_sms("13800000001", "x", timer_time=wall_later.strftime(LONG_FORMAT))
        assert await simple.get_balance() == 100_000 - 2
        await advance(http, mock, 1)
        (report,) = await client.get_report()
        async with http.post(
            f"{mock.url}/_mock/mo", json={"appId": APP_ID, "mobile": "13800000000", "content": "hi"}
        ) as resp:
            assert resp.status == 201
        (mo,) = await client.get_mo()
        async with http.get(f"{mock.url}/_mock/clock") as resp:
            now_ms = (await resp.json())["nowMs"]
        await advance(http, mock, 3600)
        (timed_report,) = await client.get_report()
    assert report["smsId"] == sent["smsId"]
    two_days_ahead = int((datetime.now(BEIJING) + timedelta(days=2)).timestamp() * 1000)
    for stamp in (report["submitTime"], report["receiveTime"], mo["moTime"]):
        at = parse(stamp, LONG_FORMAT)
        assert abs(at - two_days_ahead) < 120_000, stamp  # the scheduler's time, not the wall's
        assert at <= now_ms
    assert parse(report["receiveTime"], LONG_FORMAT) - parse(report["submitTime"], LONG_FORMAT) == 1000
    # timerTime keeps its distance from submit on the scheduler's clock (one hour later).
    assert timed_report["smsId"] == timed["smsId"]
    assert (
        parse(timed_report["receiveTime"], LONG_FORMAT) - parse(timed_report["submitTime"], LONG_FORMAT)
        >= 3_600_000
    )


async def test_advance_over_http_answers_after_every_push_and_retry_that_fell_due(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    receiver.on("/r", lambda n: (500, "down") if n <= 3 else (200, "success"))
    mock = await make_mock([account(push={"reportUrl": receiver.path_url("/r")})])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        sent = await client.send_single_sms("13800000000", "x")
    answer = await advance(http, mock, 700)  # report at +1 s, pushes at +1, +11, +71, +671 s
    assert len(receiver.at("/r")) == 4  # all done before the answer came back
    assert answer["jobsRun"] >= 5
    async with http.get(f"{mock.url}/_mock/pushes") as resp:
        (batch,) = (await resp.json())["pushes"]
    assert batch["status"] == "delivered" and batch["items"][0]["smsId"] == sent["smsId"]
    sent_at = [a["sentAtMs"] for a in batch["attempts"]]
    assert [t - sent_at[0] for t in sent_at] == [0, 10_000, 70_000, 670_000]
    assert sent_at[-1] <= answer["nowMs"]


async def test_the_clock_shows_reports_waiting_in_one_bucket_until_advance_fires_them(
    mock: MockServer, client: EmayClient, http: aiohttp.ClientSession
) -> None:
    await client.send_batch_only_sms(["13800000001", "13800000002", "13800000003"], "x")
    async with http.get(f"{mock.url}/_mock/clock") as resp:
        clock = await resp.json()
    # Three reports due together: one entry on the scheduler, three reports pending.
    assert (clock["pendingJobs"], clock["pendingReports"]) == (1, 3)
    after = await advance(http, mock, 1)
    assert (after["pendingJobs"], after["pendingReports"]) == (0, 0)
    assert [r["state"] for r in await client.get_report()] == ["DELIVRD"] * 3
