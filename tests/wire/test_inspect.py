"""The journal, MO listing, conversations, one message's timeline, and the live event stream."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from emay_mock.client import EmayClient, SimpleClient
from emay_mock.server import MockServer
from emay_mock.settings import Settings
from emay_mock.testing.receiver import Receiver
from tests.conftest import APP_ID, SECRET, MockFactory, account
from tests.support.control import get_json
from tests.wire.secure_helpers import send_json, window


async def test_journal_records_every_request_with_its_reason_and_never_the_secret(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    await client.send_single_sms("13800000000", "hello")
    await send_json(client, "sendSingleSMS", window(mobile="+8613800000000", content="x", customSmsId=""))
    await client.call("sendSingleSMS", {"mobile": "138", "content": "x"})
    body = await get_json(http, mock, "/_mock/journal", appId=APP_ID)
    first, second, third = reversed(body["entries"][:3])
    assert (first["endpoint"], first["code"], first["appId"], first["remote"]) == (
        "sendSingleSMS", "SUCCESS", APP_ID, "127.0.0.1",
    )  # fmt: skip
    assert first["request"]["content"] == "hello" and len(first["smsIds"]) == 1
    assert {n["kind"] for n in second["notes"]} == {"mobile-country-prefix", "empty-optional"}
    assert third["code"] == "ERROR_MOBILE_ERROR" and third["reason"]["field"] == "mobile"
    assert SECRET not in json.dumps(body)
    only_errors = await get_json(http, mock, "/_mock/journal", code="ERROR_MOBILE_ERROR")
    assert [e["id"] for e in only_errors["entries"]] == [third["id"]]
    since = await get_json(http, mock, "/_mock/journal", since=str(second["id"]))
    assert [e["id"] for e in since["entries"]] == [third["id"]]
    by_sms = await get_json(http, mock, "/_mock/journal", smsId=first["smsIds"][0])
    assert [e["id"] for e in by_sms["entries"]] == [first["id"]]


async def test_a_batch_entry_finds_each_of_its_sms_ids_and_shows_the_first(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    before = await client.send_single_sms("13800000000", "before")
    sent = await client.send_batch_sms([{"mobile": f"139{i:08d}"} for i in range(500)], "batch")
    after = await client.send_single_sms("13800000000", "after")
    body = await get_json(http, mock, "/_mock/journal", endpoint="sendBatchSMS")
    (entry,) = body["entries"]
    assert entry["smsIdCount"] == 500
    assert entry["smsIds"][:20] == [s["smsId"] for s in sent[:20]] and entry["smsIds"][20] == "… 480 more"
    for one in (sent[0], sent[399], sent[499]):
        found = await get_json(http, mock, "/_mock/journal", smsId=one["smsId"])
        assert [e["id"] for e in found["entries"]] == [entry["id"]]
    for other in (before, after):
        found = await get_json(http, mock, "/_mock/journal", smsId=other["smsId"])
        assert [e["endpoint"] for e in found["entries"]] == ["sendSingleSMS"]


async def test_the_journal_is_bounded_and_counts_evictions(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock(settings=Settings(journal_size=5))
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        for _ in range(8):
            await client.call("getBalance")
    body = await get_json(http, mock, "/_mock/journal")
    assert (body["size"], body["capacity"], body["recorded"], body["evicted"]) == (5, 5, 8, 3)
    assert len(body["entries"]) == 5


async def test_mo_listing_and_conversations(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    await client.send_single_sms("13800000001", "第一条")
    await mock.platform.scheduler.advance(1)  # one second apart on the scheduler's clock
    await client.send_single_sms("13800000002", "hello two")
    for mobile, text in (("13800000001", "收到"), ("+8613800000003", "who is this")):
        await mock.platform.scheduler.advance(1)
        async with http.post(
            f"{mock.url}/_mock/mo", json={"appId": APP_ID, "mobile": mobile, "content": text}
        ):
            pass
    mo = (await get_json(http, mock, "/_mock/mo", appId=APP_ID))["mo"]
    assert [m["content"] for m in mo] == ["who is this", "收到"]
    only = (await get_json(http, mock, "/_mock/mo", mobile="13800000001"))["mo"]
    assert [m["content"] for m in only] == ["收到"]
    talks = (await get_json(http, mock, "/_mock/conversations", appId=APP_ID))["conversations"]
    assert [t["mobile"] for t in talks] == ["13800000003", "13800000001", "13800000002"]
    assert talks[1] | {"lastMs": 0, "lastTime": ""} == {
        "mobile": "13800000001", "mt": 1, "mo": 1, "last": {"direction": "mo", "text": "收到"},
        "lastMs": 0, "lastTime": "",
    }  # fmt: skip
    async with http.get(f"{mock.url}/_mock/conversations") as resp:
        assert resp.status == 400


async def test_a_messages_timeline(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    receiver.on("/r", lambda n: (500, "no") if n == 1 else (200, "success"))
    mock = await make_mock([account(push={"reportUrl": receiver.path_url("/r")})])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        (sent,) = await client.send_short_link_sms(
            [{"mobile": "13855500004"}], "go {#短网址#}", "https://e.cn", rule="2"
        )
    await mock.platform.scheduler.advance(20)
    detail = await get_json(http, mock, f"/_mock/messages/{sent['smsId']}")
    code = detail["message"]["shortUrl"].rsplit("/", 1)[1]
    async with http.post(f"{mock.url}/_mock/shortlinks/{code}/click", json={"userAgent": "curl/8"}):
        pass
    detail = await get_json(http, mock, f"/_mock/messages/{sent['smsId']}")
    events = [(t["event"], t["detail"]) for t in detail["timeline"]]
    assert events[:3] == [("accepted", "/inter/sendShortLinkSMS"), ("sent", None), ("report", "DELIVRD")]
    assert ("push attempt", "#1 500") in events and ("push attempt", "#2 200") in events
    assert ("reply", "TD") in events and ("click", "curl") in events
    assert [t["ms"] for t in detail["timeline"]] == sorted(t["ms"] for t in detail["timeline"])
    assert detail["pushes"][0]["status"] == "delivered"
    assert detail["replies"][0]["replyTo"] == sent["smsId"]
    async with http.get(f"{mock.url}/_mock/messages/00000000000000000000") as resp:
        assert resp.status == 404


async def test_events_stream_live(client: EmayClient, mock: MockServer, http: aiohttp.ClientSession) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    async def listen() -> None:
        async with http.get(f"{mock.url}/_mock/events", params={"appId": APP_ID}) as resp:
            assert resp.headers["Content-Type"] == "text/event-stream"
            topic = None
            async for raw in resp.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    topic = line[7:]
                elif line.startswith("data: ") and topic:
                    seen.append((topic, json.loads(line[6:])))
                    if topic == "report":
                        return

    listener = asyncio.ensure_future(listen())
    await asyncio.sleep(0.1)
    sent = await client.send_single_sms("13800000000", "live")
    await mock.platform.scheduler.advance(1)
    await asyncio.wait_for(listener, 5)
    assert [t for t, _ in seen] == ["message", "report"]  # advanced in-process: no clock event
    assert seen[0][1]["smsId"] == sent["smsId"] and seen[-1][1]["state"] == "DELIVRD"


async def test_events_filter_by_topic_and_the_server_closes_streams_on_shutdown(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock()
    got: list[str] = []

    async def listen() -> None:
        async with http.get(f"{mock.url}/_mock/events", params={"topics": "mo"}) as resp:
            async for raw in resp.content:
                if raw.startswith(b"event: "):
                    got.append(raw.decode().strip()[7:])

    listener = asyncio.ensure_future(listen())
    await asyncio.sleep(0.1)
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        await client.send_single_sms("13800000000", "x")
    async with http.post(
        f"{mock.url}/_mock/mo", json={"appId": APP_ID, "mobile": "13800000000", "content": "hi"}
    ):
        pass
    await asyncio.sleep(0.1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await mock.close()
    await asyncio.wait_for(listener, 5)
    assert got == ["mo", "stopping"]  # the last event says why the stream ends, whatever the topics
    assert loop.time() - started < 5  # an open stream does not hold the shutdown


async def test_journal_filters_by_endpoint_family_and_limit_and_shows_signed_parameters(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    async with SimpleClient(mock.url, APP_ID, SECRET) as simple:
        for _ in range(3):
            await simple.get_balance()
        await simple.voice_get_balance()
        await simple.send_sms(["13800000000"], "签名参数")
    for _ in range(2):
        await client.get_balance()
    url = f"{mock.url}/_mock/journal"
    balances = (await get_json(http, mock, "/_mock/journal", endpoint="getBalance"))["entries"]
    assert [e["family"] for e in balances] == ["secure", "secure", "voice", "simple", "simple", "simple"]
    simple_only = (await get_json(http, mock, "/_mock/journal", endpoint="getBalance", family="simple"))[
        "entries"
    ]
    assert [e["id"] for e in simple_only] == [e["id"] for e in balances if e["family"] == "simple"]
    newest_two = (await get_json(http, mock, "/_mock/journal", limit="2"))["entries"]
    assert [e["id"] for e in newest_two] == [balances[0]["id"], balances[1]["id"]]
    (send,) = (await get_json(http, mock, "/_mock/journal", family="simple", endpoint="sendSMS"))["entries"]
    request = send["request"]
    assert (request["mobiles"], request["content"], request["appId"]) == ("13800000000", "签名参数", APP_ID)
    assert len(request["sign"]) == 32 and SECRET not in json.dumps(send)  # the md5 sign, never the key
    for bad in ({"limit": "x"}, {"limit": "0"}, {"since": "-1"}):
        async with http.get(url, params=bad) as resp:
            assert resp.status == 400
