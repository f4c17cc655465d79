"""What counts as a delivered push (docs/protocol.md#push-success), the per-account defaults, the batch size
limit, and redelivery of a delivered batch, against a real callback receiver."""

from __future__ import annotations

import aiohttp
import pytest

from emay_mock.client import EmayClient
from emay_mock.config import settings_from
from emay_mock.testing.receiver import Receiver
from tests.conftest import APP_ID, KEY, SECRET, MockFactory, account
from tests.support.control import pushes


@pytest.mark.parametrize(
    ("status", "body", "delivered"),
    [
        (200, "success", True),
        (201, "  Success\r\n", True),  # any 2xx, trimmed, any case
        (299, "SUCCESS", True),
        (200, "successful", False),
        (200, "ok", False),
        (200, "", False),
        (204, "", False),
        (404, "success", False),  # the body alone is not enough
        (500, "success", False),
        (302, "success", False),  # a redirect is not followed and is not a success
    ],
)
async def test_success_is_a_2xx_with_the_body_success(
    make_mock: MockFactory,
    receiver: Receiver,
    http: aiohttp.ClientSession,
    status: int,
    body: str,
    delivered: bool,
) -> None:
    receiver.on("/r", lambda n: (status, body))
    mock = await make_mock([account(push={"reportUrl": receiver.path_url("/r")})])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        await client.send_single_sms("13800000000", "x")
    await mock.platform.scheduler.advance(1)
    (batch,) = await pushes(http, mock, limit="1000")
    (attempt,) = batch["attempts"]
    assert attempt["httpStatus"] == status and attempt["body"] == body
    assert attempt["ok"] is delivered
    assert batch["status"] == ("delivered" if delivered else "pending")
    assert batch["nextAttemptAtMs"] == (None if delivered else attempt["sentAtMs"] + 10_000)


async def test_an_account_without_a_schedule_gets_10_60_600_and_a_5_s_timeout(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock([account(push={"reportUrl": receiver.path_url("/r")})])
    async with http.get(f"{mock.url}/_mock/accounts") as resp:
        (listed,) = (await resp.json())["accounts"]
    assert listed["push"]["retrySchedule"] == [10, 60, 600]
    assert listed["push"]["timeoutSeconds"] == 5
    assert listed["push"]["mode"] == "encrypted"


async def test_batches_hold_at_most_push_batch_max_items(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock(
        [account(push={"reportUrl": receiver.path_url("/r")})],
        settings=settings_from({"pushBatchMax": 3}, 1),
    )
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        sent = await client.send_batch_only_sms([f"1380000{i:04d}" for i in range(10)], "x")
    await mock.platform.scheduler.advance(1)
    sizes = [len(r.items(KEY)) for r in receiver.at("/r")]
    assert sorted(sizes) == [1, 3, 3, 3]
    got = [i["smsId"] for r in receiver.at("/r") for i in r.items(KEY)]
    assert sorted(got) == sorted(s["smsId"] for s in sent)
    assert {b["status"] for b in await pushes(http, mock, limit="1000")} == {"delivered"}


async def test_a_delivered_batch_can_be_pushed_again_but_not_a_pending_one(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    receiver.on("/r", lambda n: (200, "success") if n != 2 else (500, "down"))
    mock = await make_mock([account(push={"reportUrl": receiver.path_url("/r")})])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        sent = await client.send_single_sms("13800000000", "x")
        await mock.platform.scheduler.advance(1)
        (delivered,) = await pushes(http, mock, limit="1000")
        assert delivered["status"] == "delivered"
        async with http.post(f"{mock.url}/_mock/pushes/{delivered['id']}/redeliver") as resp:
            assert resp.status == 200
            again = await resp.json()
        # The manual attempt failed (the receiver answered 500): recorded, status kept, no retry.
        assert [(a["n"], a["httpStatus"], a["manual"]) for a in again["attempts"]] == [
            (1, 200, False),
            (2, 500, True),
        ]
        assert again["status"] == "delivered" and again["nextAttemptAtMs"] is None
        assert [r.items(KEY)[0]["smsId"] for r in receiver.at("/r")] == [sent["smsId"]] * 2
        receiver.on("/r", lambda n: (503, "busy"))
        await client.send_single_sms("13800000001", "y")
        await mock.platform.scheduler.advance(1)
    pending = [b for b in await pushes(http, mock, limit="1000") if b["status"] == "pending"]
    assert len(pending) == 1
    async with http.post(f"{mock.url}/_mock/pushes/{pending[0]['id']}/redeliver") as resp:
        assert resp.status == 409
        assert "pending" in (await resp.json())["error"]
    await mock.platform.scheduler.advance(1000)
    assert len(receiver.at("/r")) == 2 + 4  # the pending batch kept its own retries, no extra attempt
