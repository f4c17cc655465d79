"""The control API subset of the foundation: health, accounts, messages, MO, reset, clock."""

from __future__ import annotations

from typing import Any

import aiohttp

from emay_mock.client import EmayClient
from emay_mock.server import MockServer
from emay_mock.settings import Settings
from tests.conftest import SECRET, MockFactory, account, new_app_id


async def test_health(mock: MockServer, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{mock.url}/_mock/health") as resp:
        assert resp.status == 200
        assert (await resp.json())["status"] == "ok"


async def test_posted_account_works_at_once_and_never_shows_its_key(
    mock: MockServer, http: aiohttp.ClientSession
) -> None:
    app_id = new_app_id()
    async with http.post(
        f"{mock.url}/_mock/accounts", json={"appId": app_id, "secretKey": SECRET, "balance": 7}
    ) as resp:
        assert resp.status == 201
        body = await resp.text()
    assert SECRET not in body
    async with EmayClient(mock.url, app_id, SECRET) as client:
        assert await client.get_balance() == 7
        await client.send_single_sms("13800000000", "x")
        assert await client.get_balance() == 6
    async with http.post(
        f"{mock.url}/_mock/accounts", json={"appId": app_id, "secretKey": SECRET, "balance": 50}
    ) as resp:
        assert resp.status == 200 and (await resp.json())["replaced"] is True
    async with EmayClient(mock.url, app_id, SECRET) as client:
        assert await client.get_balance() == 50
    async with http.get(f"{mock.url}/_mock/accounts") as resp:
        listed = await resp.text()
        assert app_id in listed and SECRET not in listed


async def test_invalid_account_is_400_with_each_problem(
    mock: MockServer, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{mock.url}/_mock/accounts", json={"appId": "X", "secretKey": "short!"}) as resp:
        assert resp.status == 400
        data = await resp.json()
    assert data["error"] == "invalid account"
    assert data["problems"] == ["secretKey: must be 16, 24 or 32 bytes (AES-128/192/256), got 6"]
    async with http.post(f"{mock.url}/_mock/accounts", data=b"{not json") as resp:
        assert resp.status == 400


async def test_messages_filters(client: EmayClient, mock: MockServer, http: aiohttp.ClientSession) -> None:
    a = await client.send_single_sms("13800000001", "alpha", custom_sms_id="ca")
    b = await client.send_single_sms("13800000002", "beta")

    async def query(**params: str) -> list[str]:
        async with http.get(f"{mock.url}/_mock/messages", params=params) as resp:
            assert resp.status == 200
            return [m["smsId"] for m in (await resp.json())["messages"]]

    assert await query() == [b["smsId"], a["smsId"]]  # newest first
    assert await query(mobile="13800000001") == [a["smsId"]]
    assert await query(smsId=b["smsId"]) == [b["smsId"]]
    assert await query(appId=client.app_id) == [b["smsId"], a["smsId"]]
    assert await query(appId="other") == []
    assert await query(customSmsId="ca") == [a["smsId"]]
    assert await query(q="bet") == [b["smsId"]]
    assert await query(state="PENDING") == [b["smsId"], a["smsId"]]
    await mock.platform.scheduler.advance(1)
    assert await query(state="DELIVRD") == [b["smsId"], a["smsId"]]
    async with http.get(f"{mock.url}/_mock/messages", params={"limit": "x"}) as resp:
        assert resp.status == 400


async def test_mo_injection_validates_its_input(mock: MockServer, http: aiohttp.ClientSession) -> None:
    url = f"{mock.url}/_mock/mo"
    async with http.post(url, json={"appId": "nope", "mobile": "13800000000", "content": "x"}) as resp:
        assert resp.status == 404
    async with http.post(url, json={"appId": "EUCP-EMY-SMS1-TEST1", "mobile": "123", "content": "x"}) as resp:
        assert resp.status == 400 and "not a mobile number" in (await resp.json())["error"]
    async with http.post(url, json={"appId": "EUCP-EMY-SMS1-TEST1", "mobile": "13800000000"}) as resp:
        assert resp.status == 400 and (await resp.json())["error"] == "content is required"
    reply = {"appId": "EUCP-EMY-SMS1-TEST1", "mobile": "13800000000", "content": "x"}
    for code, why in (("1" * 13, "has 13 digits, the limit is 12"), ("12a", "is not all digits")):
        async with http.post(url, json={**reply, "extendedCode": code}) as resp:
            assert resp.status == 400 and why in (await resp.json())["error"]
    async with http.post(url, json={**reply, "extendedCode": "1" * 12}) as resp:
        assert resp.status == 201 and (await resp.json())["mo"]["extendedCode"] == "1" * 12


async def test_reset_forgets_messages_queues_and_journal_and_restores_balance(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    await client.send_single_sms("13800000000", "x")
    await mock.platform.scheduler.advance(1)
    async with http.post(f"{mock.url}/_mock/reset") as resp:
        assert resp.status == 200
    assert mock.platform.messages.count() == 0
    assert len(mock.journal) == 0
    assert await client.get_report() == []
    assert await client.get_balance() == 100_000


async def test_reset_of_one_account_keeps_the_others(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock([account("EUCP-A"), account("EUCP-B")])
    async with EmayClient(mock.url, "EUCP-A", SECRET) as a, EmayClient(mock.url, "EUCP-B", SECRET) as b:
        await a.send_single_sms("13800000000", "x")
        await b.send_single_sms("13800000000", "x")
        async with http.post(f"{mock.url}/_mock/reset", json={"appId": "EUCP-A"}) as resp:
            assert resp.status == 200
        await mock.platform.scheduler.advance(1)
        assert await a.get_report() == []
        assert len(await b.get_report()) == 1
        async with http.post(f"{mock.url}/_mock/reset", json={"appId": "nope"}) as resp:
            assert resp.status == 404


async def test_clock_advance_runs_due_reports(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{mock.url}/_mock/clock") as resp:
        before = (await resp.json())["nowMs"]
    await client.send_single_sms("13800000000", "x")
    async with http.post(f"{mock.url}/_mock/clock/advance", json={"seconds": 1}) as resp:
        after = await resp.json()
    assert after["nowMs"] >= before + 1000
    assert after["jobsRun"] == 1
    assert len(await client.get_report()) == 1
    for bad in ({"seconds": -1}, {"seconds": "1"}, {}):
        async with http.post(f"{mock.url}/_mock/clock/advance", json=bad) as resp:
            assert resp.status == 400


async def test_every_control_api_error_is_json_404_405_and_413_included(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock(settings=Settings(max_body_bytes=1000))

    async def error(method: str, path: str, status: int, **kwargs: Any) -> tuple[str, aiohttp.ClientResponse]:
        async with http.request(method, f"{mock.url}{path}", **kwargs) as resp:
            assert (resp.status, resp.content_type) == (status, "application/json"), (method, path)
            return (await resp.json())["error"], resp

    why, _ = await error("GET", "/_mock/nope", 404)
    assert why == "no such path: /_mock/nope (the control API: /_mock/openapi.json)"
    why, _ = await error("GET", "/_mock/ui/nope.js", 404)
    assert why == "no UI file 'nope.js'"
    why, resp = await error("GET", "/_mock/reset", 405)
    assert why == "GET is not allowed on /_mock/reset; use POST" and resp.headers["Allow"] == "POST"
    why, _ = await error("DELETE", "/_mock/messages/12345", 405)
    assert why == "DELETE is not allowed on /_mock/messages/12345; use GET, HEAD"
    why, _ = await error("POST", "/_mock/accounts", 413, data=b"{" + b" " * 2000 + b"}")
    assert why == "Maximum request body size 1000 exceeded."
    # The Emay endpoints and the short links answer as before.
    async with http.get(f"{mock.url}/nope") as resp:
        assert resp.status == 404 and resp.content_type == "text/plain"
    async with http.get(f"{mock.url}/inter/sendSingleSMS") as resp:
        assert resp.status == 405


async def test_events_refuse_an_unknown_topic_naming_the_topics(
    mock: MockServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{mock.url}/_mock/events", params={"topics": "message,nope"}) as resp:
        assert resp.status == 400 and resp.content_type == "application/json"
        answer = await resp.json()
    topics = ["account", "click", "clock", "message", "mo", "push", "report", "reset", "template"]
    assert answer == {"error": f"unknown topics: nope; the topics are {', '.join(topics)}", "topics": topics}
    async with http.get(f"{mock.url}/_mock/events", params={"topics": "message, report"}) as resp:
        assert resp.status == 200 and resp.content_type == "text/event-stream"
