"""The contract report (what a client did that the document does not allow) and waits by identity."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from emay_mock.client import EmayClient, SimpleClient
from emay_mock.protocol import envelope
from emay_mock.server import MockServer
from emay_mock.testing.receiver import Receiver
from tests.conftest import APP_ID, SECRET, MockFactory, account
from tests.support.control import contract
from tests.wire.secure_helpers import now_ms, send_json, window
from tests.wire.simple_helpers import signed


async def test_the_contract_report_counts_each_deviation_with_an_example(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    ticks = 638_700_000_000_000_000
    await send_json(client, "getReport", {"requestTime": ticks, "requestValidPeriod": "30", "number": "10"})
    for i in range(3):  # distinct bodies: identical ones in one millisecond would be replays
        await send_json(
            client,
            "sendSingleSMS",
            window(mobile="+8613800000000", content=f"x{i}", customSmsId="", colour=1),
        )
    await send_json(client, "sendSingleSMS", window(mobile="13800000000", content="x", timerTime=None),
                    headers={"Content-Type": "text/plain"})  # fmt: skip
    await client.call("sendSingleSMS", {"mobile": "138", "content": "x"})
    await client.call("sendSingleSMS", {"mobile": "13800000000", "content": "[emay:ERROR_BALANCE]"})
    async with SimpleClient(mock.url, APP_ID, SECRET) as simple:
        params = signed()
        params["sign"] = params["sign"].upper()
        await simple.request("/simpleinter/getBalance", params)
        await simple.request("/simpleinter/getBalance", signed(secret="0" * 16))
    report = await contract(http, mock)
    assert report["requests"] == 9 and report["strict"] is False
    deviations = {d["kind"]: d for d in report["deviations"]}
    assert deviations["mobile-country-prefix"]["count"] == 3
    assert deviations["unknown-field"]["count"] == 3
    assert ".NET ticks" in deviations["requestTime-in-future"]["example"]["message"]
    assert deviations["number-as-string"]["example"]["message"].startswith("number sent as the string '10'")
    assert deviations["sign-upper-case"]["count"] == 1
    assert all(d["refusedInStrictMode"] for d in report["deviations"])
    observations = {o["kind"]: o["count"] for o in report["observations"]}
    assert observations["null-field"] == 1 and observations["content-type"] == 1
    assert observations["empty-optional"] == 3 and observations["envelope-number-as-string"] == 1
    refusals = {(r["code"], r["field"]): r for r in report["refusals"]}
    assert refusals[("ERROR_MOBILE_ERROR", "mobile")]["count"] == 1
    assert "expected" in refusals[("ERROR_SIGN", "sign")]["example"]["detail"]
    assert [s["code"] for s in report["scripted"]] == ["ERROR_BALANCE"]  # a scenario's code is not a fault
    assert report["summary"] == (
        "5 kinds of deviation (9 times) that a stricter platform would refuse; "
        "3 kinds of official-client habits observed; 1 other allowed oddity observed; "
        "2 refusals (1 × ERROR_MOBILE_ERROR, 1 × ERROR_SIGN); 1 refusal scripted by scenarios"
    )
    assert report["clean"] is False
    assert SECRET not in str(report)


async def test_a_strict_account_refuses_what_the_report_only_warns_about(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock([account(strict=True)])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        for payload in (
            window(mobile="+8613800000000", content="x"),
            {
                "requestTime": f"{now_ms()}.0",
                "requestValidPeriod": 30,
                "mobile": "13800000000",
                "content": "x",
            },
            window(mobile="13800000000", content="x", colour="red"),
        ):
            assert (await send_json(client, "sendSingleSMS", payload)).code == "ERROR_PARAMS"
        ok = await send_json(
            client, "sendSingleSMS", window(mobile="13800000000", content="x", customSmsId=None)
        )
        assert ok.code == "SUCCESS"
    report = await contract(http, mock)
    assert report["strict"] is True and report["deviations"] == []
    assert {r["field"] for r in report["refusals"]} == {"mobile", "requestTime", "colour"}


async def test_contract_for_every_account_and_reset(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    await client.post("getBalance", b"", {"appId": "EUCP-STRANGER"})
    async with http.get(f"{mock.url}/_mock/contract") as resp:
        apps = {r["appId"]: r for r in (await resp.json())["accounts"]}
    assert apps["EUCP-STRANGER"]["refusals"][0]["code"] == "ERROR_APPID"
    assert apps["EUCP-STRANGER"]["strict"] is None and APP_ID in apps
    async with http.post(f"{mock.url}/_mock/reset"):
        pass
    assert (await contract(http, mock, "EUCP-STRANGER"))["requests"] == 0


# -- waits ---------------------------------------------------------------------------------


async def wait(http: aiohttp.ClientSession, mock: MockServer, what: str, **params: str) -> tuple[int, Any]:
    async with http.get(f"{mock.url}/_mock/wait/{what}", params=params) as resp:
        return resp.status, await resp.json()


async def test_waiting_for_a_message_by_mobile_and_custom_id(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    waiting = asyncio.ensure_future(wait(http, mock, "message", mobile="+8613800000007", timeout="5"))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    sent = await client.send_batch_only_sms(["13800000001", "13800000007"], "x")
    status, body = await asyncio.wait_for(waiting, 5)
    assert status == 200 and body["message"]["smsId"] == sent[1]["smsId"]
    await client.send_single_sms("13800000009", "x", custom_sms_id="order-9")
    status, body = await wait(http, mock, "message", customSmsId="order-9", appId=APP_ID)
    assert status == 200 and body["message"]["customSmsId"] == "order-9"  # already there: at once


async def test_waiting_for_a_report_and_a_delivered_push(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    receiver.on("/r", lambda n: (503, "") if n == 1 else (200, "success"))
    mock = await make_mock([account(push={"reportUrl": receiver.path_url("/r")})])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        sent = await client.send_single_sms("13800000000", "x")
    report = asyncio.ensure_future(wait(http, mock, "report", smsId=sent["smsId"], timeout="5"))
    push = asyncio.ensure_future(wait(http, mock, "push", smsId=sent["smsId"], timeout="5"))
    await asyncio.sleep(0.05)
    await mock.platform.scheduler.advance(1)  # report, push fails
    status, body = await asyncio.wait_for(report, 5)
    assert status == 200 and body["message"]["state"] == "DELIVRD"
    assert not push.done()
    await mock.platform.scheduler.advance(10)  # the retry succeeds
    status, body = await asyncio.wait_for(push, 5)
    assert status == 200 and [a["httpStatus"] for a in body["push"]["attempts"]] == [503, 200]


async def test_waiting_for_an_mo(client: EmayClient, mock: MockServer, http: aiohttp.ClientSession) -> None:
    waiting = asyncio.ensure_future(
        wait(http, mock, "mo", appId=APP_ID, mobile="13855500004", content="TD", timeout="5")
    )
    await client.send_single_sms("13855500004", "x")  # a magic number: replies TD after its report
    await mock.platform.scheduler.advance(6)
    status, body = await asyncio.wait_for(waiting, 5)
    assert status == 200 and body["mo"]["content"] == "TD" and body["mo"]["replyTo"]


async def test_a_timeout_is_408_with_what_was_seen(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    sent = await client.send_single_sms("13800000000", "x")
    status, body = await wait(http, mock, "push", smsId=sent["smsId"], timeout="0.2")
    assert status == 408 and "nothing matched within 0.2 s" in body["error"]
    assert body["seen"]["message"]["smsId"] == sent["smsId"] and body["seen"]["pushes"] == []
    status, body = await wait(http, mock, "message", mobile="13900000000", timeout="0")
    assert status == 408 and body["seen"] == {"messages": []}
    for bad in ({"timeout": "x", "mobile": "1"}, {"timeout": "9999", "mobile": "1"}, {}):
        status, _ = await wait(http, mock, "message", **bad)
        assert status == 400


async def test_the_other_kinds_each_reach_the_report_with_their_journal_entry(
    mock: MockServer, http: aiohttp.ClientSession
) -> None:
    async with EmayClient(mock.url, APP_ID, SECRET, gzip=False) as client:
        no_encode = envelope.encode_request(
            window(mobile="13800000000", content="x"), client.key, gzip_on=False
        )
        assert (await client.post("sendSingleSMS", no_encode, {"appId": APP_ID})).code == "SUCCESS"
        as_float = window(mobile="13800000001", content="x")
        as_float["requestTime"] = float(as_float["requestTime"]) + 0.5
        assert (await send_json(client, "sendSingleSMS", as_float)).code == "SUCCESS"
        assert (
            await send_json(client, "sendSingleSMS", window(mobile=13800000002, content="x"))
        ).code == "SUCCESS"
    async with SimpleClient(mock.url, APP_ID, SECRET) as simple:
        stray = await simple.call(
            "/simpleinter/sendSMS",
            {"mobiles": "13800000003,,13800000004,", "content": "x", "customSmsId": ""},
        )
        assert stray.code == "SUCCESS" and len(stray.data) == 2
    query = signed()
    async with http.post(
        f"{mock.url}/simpleinter/getBalance", params=query, data={**signed(), "appId": APP_ID}
    ) as resp:
        assert (await resp.json())["code"] == "SUCCESS"
    report = await contract(http, mock)
    deviations = {d["kind"]: d for d in report["deviations"]}
    observations = {o["kind"]: o for o in report["observations"]}
    assert {
        k: deviations[k]["count"] for k in ("requestTime-as-float", "string-as-number", "empty-mobile-item")
    } == {
        "requestTime-as-float": 1,
        "string-as-number": 1,
        "empty-mobile-item": 1,
    }
    assert {
        k: observations[k]["count"]
        for k in ("missing-encode-header", "empty-param", "param-in-query-and-body")
    } == {
        "missing-encode-header": 1,
        "empty-param": 1,
        "param-in-query-and-body": 3,  # appId, timestamp and sign
    }
    async with http.get(f"{mock.url}/_mock/journal", params={"appId": APP_ID, "limit": "100"}) as resp:
        journal = {e["id"]: e for e in (await resp.json())["entries"]}
    for kind, tally in {**deviations, **observations}.items():
        example = tally["example"]
        assert kind in {n["kind"] for n in journal[example["journalId"]]["notes"]}, kind
        assert tally["means"] and example["message"]
    found = {**deviations, **observations}
    assert {
        k: found[k]["example"]["endpoint"]
        for k in ("empty-mobile-item", "empty-param", "missing-encode-header")
    } == {
        "empty-mobile-item": "sendSMS",
        "empty-param": "sendSMS",
        "missing-encode-header": "sendSingleSMS",
    }


async def test_a_strict_account_refuses_stray_commas_and_float_times(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock([account(strict=True)])
    async with SimpleClient(mock.url, APP_ID, SECRET) as simple:
        stray = await simple.call(
            "/simpleinter/sendSMS", {"mobiles": "13800000003,,13800000004", "content": "x"}
        )
        assert stray.code == "ERROR_PARAMS"
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        as_float = window(mobile="13800000001", content="x")
        as_float["requestTime"] = float(as_float["requestTime"]) + 0.5
        assert (await send_json(client, "sendSingleSMS", as_float)).code == "ERROR_PARAMS"
        assert (
            await send_json(client, "sendSingleSMS", window(mobile=13800000002, content="x"))
        ).code == "ERROR_PARAMS"
    refusals = {r["field"]: r for r in (await contract(http, mock))["refusals"]}
    assert set(refusals) == {"mobiles", "requestTime", "mobile"}
    assert all(r["example"]["reason"].startswith("strict mode: ") for r in refusals.values())
    assert mock.platform.messages.count() == 0
