"""Scripted HTTP faults of the platform, and push chaos for the customer's receiver."""

from __future__ import annotations

import asyncio
import threading

import aiohttp
import pytest

from emay_mock.client import EmayClient, SimpleClient
from emay_mock.server import MockServer
from emay_mock.settings import Settings
from emay_mock.testing.receiver import Receiver
from tests.conftest import APP_ID, SECRET, MockFactory, pushing
from tests.support.control import load_scenario, pushes


def fault(spec: str, match: str = "{endpoint: sendSingleSMS}") -> str:
    return f"rules:\n  - name: f\n    match: {match}\n    then: {{fault: {spec}}}\n"


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ("{kind: reset}", aiohttp.ClientOSError),
        ("{kind: empty}", aiohttp.ServerDisconnectedError),
        ("{kind: garbage}", aiohttp.ClientResponseError),
    ],
)
async def test_connection_faults_before_processing_store_nothing(
    bare: MockServer, http: aiohttp.ClientSession, spec: str, error: type[Exception]
) -> None:
    await load_scenario(http, bare, fault(spec))
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        with pytest.raises(error):
            await client.send_single_sms("13800000000", "x")
        assert (await client.call("getBalance")).code == "SUCCESS"  # the server keeps serving
    assert bare.platform.messages.count() == 0
    entry = bare.journal.query(endpoint="sendSingleSMS", limit=1)[0]
    assert entry.fault is not None and entry.fault.kind == spec.split()[1].rstrip("}")
    assert entry.http_status == 0


async def test_a_5xx_status(bare: MockServer, http: aiohttp.ClientSession) -> None:
    await load_scenario(http, bare, fault("{kind: status, status: 502}"))
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        answer = await client.call("sendSingleSMS", {"mobile": "13800000000", "content": "x"})
    assert answer.status == 502 and answer.code is None
    assert bare.platform.messages.count() == 0


async def test_reset_after_processing_accepts_the_message_and_loses_the_answer(
    bare: MockServer, http: aiohttp.ClientSession
) -> None:
    await load_scenario(http, bare, fault("{kind: reset, when: after}"))
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        with pytest.raises(aiohttp.ClientOSError):
            await client.send_single_sms("13800000000", "accepted anyway")
        with pytest.raises(aiohttp.ClientOSError):  # a blind retry: a second message
            await client.send_single_sms("13800000000", "accepted anyway")
    assert bare.platform.messages.count() == 2
    assert bare.journal.query(endpoint="sendSingleSMS", limit=1)[0].sms_ids()


async def test_latency_before_and_after(bare: MockServer, http: aiohttp.ClientSession) -> None:
    await load_scenario(
        http,
        bare,
        "rules:\n"
        "  - {match: {endpoint: getBalance}, then: {fault: {kind: latency, latency: 0.3}}}\n"
        "  - {match: {endpoint: getReport}, then: {fault: {kind: latency, latency: 0.3, when: after}}}\n",
    )
    loop = asyncio.get_running_loop()
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        for endpoint in ("getBalance", "getReport"):
            started = loop.time()
            assert (await client.call(endpoint)).code == "SUCCESS"
            assert loop.time() - started >= 0.3
    assert bare.journal.query(limit=1)[0].latency_ms >= 300


async def test_a_thousand_delayed_requests_hold_no_thread(
    bare: MockServer, http: aiohttp.ClientSession
) -> None:
    await load_scenario(http, bare, fault("{kind: latency, latency: 0.5}", "{endpoint: getBalance}"))
    threads_before = threading.active_count()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as many:
        client = EmayClient(bare.url, APP_ID, SECRET, session=many)
        calls = [asyncio.ensure_future(client.call("getBalance")) for _ in range(1000)]
        await asyncio.sleep(0.25)
        assert threading.active_count() <= threads_before + 1  # timers, not workers
        answers = await asyncio.gather(*calls)
    assert {a.code for a in answers} == {"SUCCESS"}


async def test_faults_in_the_simple_family(bare: MockServer, http: aiohttp.ClientSession) -> None:
    await load_scenario(http, bare, fault("{kind: status, status: 503}", "{family: simple}"))
    async with SimpleClient(bare.url, APP_ID, SECRET) as client:
        assert (await client.call("/simpleinter/getBalance")).status == 503
        assert (await client.call("/voice/getBalance")).code == "SUCCESS"


# -- push chaos ---------------------------------------------------------------------------


async def test_a_batch_delivered_twice(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock([pushing(receiver, report="/r")], settings=Settings(default_scenarios=False))
    await load_scenario(
        http, mock, "rules:\n  - {match: {mobile: '13800000002'}, then: {push: {duplicate: true}}}\n"
    )
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        sent = await client.send_batch_only_sms(["13800000001", "13800000002"], "x")
    await mock.platform.scheduler.advance(1)
    first, second = receiver.at("/r")
    assert first.body == second.body
    assert [i["smsId"] for i in first.items(SECRET.encode())] == [s["smsId"] for s in sent]
    (batch,) = await pushes(http, mock)
    assert batch["chaos"] == ["duplicate"] and batch["status"] == "delivered"
    assert [a["note"] for a in batch["attempts"]] == [None, "chaos:duplicate"]


async def test_reports_in_reversed_order(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock([pushing(receiver, report="/r")], settings=Settings(default_scenarios=False))
    await load_scenario(
        http, mock, "rules:\n  - {match: {mobile: '13800000003'}, then: {push: {reverse: true}}}\n"
    )
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        sent = await client.send_batch_only_sms(["13800000001", "13800000002", "13800000003"], "x")
    await mock.platform.scheduler.advance(1)
    (request,) = receiver.at("/r")
    assert [i["smsId"] for i in request.items(SECRET.encode())] == [s["smsId"] for s in reversed(sent)]


async def test_a_report_pushed_before_the_send_is_answered(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock([pushing(receiver, report="/r")], settings=Settings(default_scenarios=False))
    await load_scenario(
        http, mock, "rules:\n  - {match: {customSmsId: {prefix: race-}}, then: {push: {early: true}}}\n"
    )
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        sent = await client.send_single_sms("13800000001", "x", custom_sms_id="race-1")
        (request,) = receiver.at("/r")  # already there when the answer arrives
        (item,) = request.items(SECRET.encode())
        assert item["smsId"] == sent["smsId"]
        await client.send_single_sms("13800000002", "x", custom_sms_id="calm-1")
        assert len(receiver.at("/r")) == 1
