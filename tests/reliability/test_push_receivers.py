"""Broken callback receivers: one that hangs, resets the connection, answers too slowly, or
answers 200 with the wrong body. The delivery engine keeps to its retry schedule (attempts
at +0, +10 s, +70 s, +670 s on the scheduler's clock) and one account's broken receiver
never holds up another account's pushes.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from emay_mock.client import EmayClient
from emay_mock.settings import Settings
from emay_mock.testing.receiver import Answer, Hang, Receiver, Reset, Slow
from tests.conftest import SECRET, MockFactory, new_app_id, pushing
from tests.support.control import advance, pushes

TIMEOUT_S = 0.3  # the accounts' push timeout: a hung attempt costs this much real time


BROKEN: dict[str, tuple[Answer, str]] = {
    "hangs": (lambda n: Hang(), f"timeout: no answer within {TIMEOUT_S:g} s"),
    "resets": (lambda n: Reset(), "Connection reset by peer"),
    "answers after the timeout": (
        lambda n: Slow(TIMEOUT_S * 3),
        f"timeout: no answer within {TIMEOUT_S:g} s",
    ),
    "answers 200 ok": (lambda n: (200, "ok"), "body"),
    "answers 200 empty": (lambda n: (200, ""), "body"),
    "answers 200 success-ish": (lambda n: (200, "success!"), "body"),
    "answers 204": (lambda n: (204, ""), "body"),
}


@pytest.mark.parametrize("behaviour", list(BROKEN))
async def test_a_broken_receiver_gets_exactly_four_attempts_on_the_schedule(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession, behaviour: str
) -> None:
    answer, error = BROKEN[behaviour]
    receiver.on("/broken", answer)
    app_id = new_app_id()
    mock = await make_mock([pushing(receiver, app_id, "/broken", timeoutSeconds=TIMEOUT_S)])
    async with EmayClient(mock.url, app_id, SECRET) as client:
        await client.send_single_sms("13800000000", "x")
    await advance(http, mock, 1)
    for step in (10, 60, 600, 6000):  # each retry falls due exactly; nothing after the fourth
        await advance(http, mock, step)
    (batch,) = await pushes(http, mock, appId=app_id)
    attempts = batch["attempts"]
    assert batch["status"] == "dead"
    first = attempts[0]["sentAtMs"]
    assert [a["sentAtMs"] - first for a in attempts] == [0, 10_000, 70_000, 670_000]
    assert not any(a["ok"] for a in attempts)
    assert len(receiver.at("/broken")) == 4
    for attempt in attempts:
        if error == "body":  # an HTTP answer, recorded as received
            assert attempt["httpStatus"] is not None and attempt["error"] is None
        else:
            assert attempt["httpStatus"] is None and error in attempt["error"]


async def test_a_receiver_answering_success_just_within_the_timeout_is_a_delivery(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    receiver.on("/slow", lambda n: Slow(TIMEOUT_S / 3))
    app_id = new_app_id()
    mock = await make_mock([pushing(receiver, app_id, "/slow", timeoutSeconds=TIMEOUT_S)])
    async with EmayClient(mock.url, app_id, SECRET) as client:
        await client.send_single_sms("13800000000", "x")
    await advance(http, mock, 1)
    (batch,) = await pushes(http, mock, appId=app_id)
    assert batch["status"] == "delivered" and len(batch["attempts"]) == 1


# For the real-clock test: A's answers come (if ever) long after B's reports must have arrived.
STALLING: dict[str, Answer] = {
    "hangs": lambda n: Hang(),
    "answers slowly, within its timeout": lambda n: Slow(20.0),
    "resets": lambda n: Reset(),
}


@pytest.mark.parametrize("behaviour", list(STALLING))
async def test_a_broken_receiver_never_holds_up_another_accounts_pushes(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession, behaviour: str
) -> None:
    """On the real clock: B's reports arrive while A's first attempt is still unanswered."""
    receiver.on("/a", STALLING[behaviour])
    a, b = new_app_id(), new_app_id()
    # A's timeout is long: its attempts stay in flight for the whole test unless B is blocked.
    mock = await make_mock(
        [pushing(receiver, a, "/a", timeoutSeconds=30), pushing(receiver, b, "/b", timeoutSeconds=30)]
    )
    async with EmayClient(mock.url, a, SECRET) as client_a, EmayClient(mock.url, b, SECRET) as client_b:
        for i in range(20):  # several batches for A, each attempt hanging or failing
            await client_a.send_single_sms(f"1380000{i:04d}", "x")
        await receiver.wait_for(1, "/a", timeout=10)
        sent = [await client_b.send_single_sms(f"1390000{i:04d}", "y") for i in range(5)]
    await receiver.wait_for_items(5, SECRET.encode(), "/b", timeout=10)
    delivered = {item["smsId"] for item in receiver.items("/b", SECRET.encode())}
    assert delivered == {s["smsId"] for s in sent}
    (b_batch, *_) = await pushes(http, mock, appId=b)
    assert b_batch["status"] == "delivered"
    a_batches = await pushes(http, mock, appId=a)
    if behaviour != "resets":  # A's first attempt is still waiting for its answer
        assert all(batch["attempts"] == [] and batch["status"] == "pending" for batch in a_batches)
    receiver.release()


async def test_a_hanging_receiver_holds_at_most_its_accounts_few_connections(
    make_mock: MockFactory, receiver: Receiver
) -> None:
    """20 batches due at once to a receiver that never answers: 8 are in flight, the rest wait."""
    receiver.on("/a", lambda n: Hang())
    a = new_app_id()
    settings = Settings(push_batch_max=1, push_concurrency_per_account=8)
    mock = await make_mock([pushing(receiver, a, "/a", timeoutSeconds=30)], settings=settings)
    async with EmayClient(mock.url, a, SECRET) as client:
        await client.send_batch_sms([{"mobile": f"1380000{i:04d}"} for i in range(20)], "x")
    await receiver.wait_for(8, "/a", timeout=10)
    await asyncio.sleep(0.5)  # room for more, had the account no limit of its own
    assert len(receiver.at("/a")) == 8
    receiver.release()  # the hung attempts answer `success`: the waiting batches go out
    await receiver.wait_for(20, "/a", timeout=10)
