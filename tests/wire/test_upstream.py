"""Upstream over the wire: a second mock plays the real platform (with a lower
maxContentLength, so the two disagree), and the mock in front forwards to it (passthrough),
compares with it (shadow), records the exchanges, and replays them."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from emay_mock import cli
from emay_mock.client import EmayApiError, EmayClient, SimpleClient
from emay_mock.protocol.rules import Rules
from emay_mock.server import MockServer
from emay_mock.settings import AccountSpec, Settings
from emay_mock.testing.receiver import Receiver
from tests.conftest import APP_ID, KEY, SECRET, MockFactory, account

PLATFORM = Settings(rules=replace(Rules(), max_content_units=20), default_scenarios=False)
MOCK = Settings(default_scenarios=False)
LONG = "验证码 123456, 五分钟内有效, 请勿泄露给他人"  # 28 characters: over the platform's 20

Front = Callable[..., Awaitable[MockServer]]


@pytest.fixture
async def platform(make_mock: MockFactory) -> MockServer:
    """The 'real platform': another mock, with a lower maxContentLength."""
    return await make_mock([account()], settings=PLATFORM)


@pytest.fixture
def front(make_mock: MockFactory) -> Front:
    """Mocks in front: front(accounts, record=FILE)."""

    async def make(accounts: list[AccountSpec], record: Path | None = None) -> MockServer:
        return await make_mock(accounts, settings=MOCK, record=None if record is None else str(record))

    return make


def forwarding(url: str, mode: str = "passthrough", **extra: Any) -> AccountSpec:
    return account(upstream={"url": url, "mode": mode, **extra})


async def get(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def journal(http: aiohttp.ClientSession, mock: MockServer, **query: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = (await get(http, f"{mock.url}/_mock/journal?appId={APP_ID}"))["entries"]
    return entries


# -- passthrough ------------------------------------------------------------------------------


async def test_passthrough_answers_with_the_platform_and_shows_what_it_accepted(
    platform: MockServer, front: Front, http: aiohttp.ClientSession
) -> None:
    mock = await front([forwarding(platform.url)])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        sent = await client.send_single_sms("13800000001", "hello", custom_sms_id="c-1")
        upstream = (await get(http, f"{platform.url}/_mock/messages?smsId={sent['smsId']}"))["messages"]
        assert [m["mobile"] for m in upstream] == ["13800000001"]  # the platform issued it
        shown = (await get(http, f"{mock.url}/_mock/messages?appId={APP_ID}"))["messages"]
        assert [(m["smsId"], m["content"], m["customSmsId"]) for m in shown] == [
            (sent["smsId"], "hello", "c-1")
        ]
        one = await get(http, f"{mock.url}/_mock/messages/{sent['smsId']}")
        assert one["message"]["smsId"] == sent["smsId"]
        assert mock.store.messages.count() == 0  # the mock itself accepted nothing

        await platform.advance(2)  # the platform's report falls due
        reports = await client.get_report()
        assert [(r["smsId"], r["state"]) for r in reports] == [(sent["smsId"], "DELIVRD")]
        shown = (await get(http, f"{mock.url}/_mock/messages?appId={APP_ID}"))["messages"]
        assert shown[0]["state"] == "DELIVRD"

        async with http.post(
            f"{platform.url}/_mock/mo", json={"appId": APP_ID, "mobile": "13800000001", "content": "TD"}
        ) as resp:
            assert resp.status == 201
        assert [m["content"] for m in await client.get_mo()] == ["TD"]
        mo = (await get(http, f"{mock.url}/_mock/mo?appId={APP_ID}"))["mo"]
        assert [m["content"] for m in mo] == ["TD"]
        assert await client.get_balance() == await _balance(platform)

    entries = await journal(http, mock)
    assert {e["endpoint"] for e in entries} == {"sendSingleSMS", "getReport", "getMo", "getBalance"}
    assert all(e["upstream"]["mode"] == "passthrough" and e["code"] == "SUCCESS" for e in entries)
    send = next(e for e in entries if e["endpoint"] == "sendSingleSMS")
    assert send["request"]["mobile"] == "13800000001" and send["upstream"]["url"] == platform.url


async def _balance(mock: MockServer) -> int:
    return next(iter(mock.platform.accounts.values())).balance


async def test_passthrough_of_the_signed_families(
    platform: MockServer, front: Front, http: aiohttp.ClientSession
) -> None:
    mock = await front([forwarding(platform.url)])
    async with SimpleClient(mock.url, APP_ID, SECRET) as simple:
        sent = await simple.send_sms(["13800000002", "13800000003"], "hi")
        voice = await simple.voice_send_sms("13800000004", "1234")
        refused = await simple.call("/simpleinter/sendSMS", {"mobiles": "13800000002", "content": LONG})
        assert refused.code == "ERROR_LONG_CONTENT"  # the platform's rule, not the mock's
        await platform.advance(2)
        assert {r["smsId"] for r in await simple.get_report()} == {s["smsId"] for s in sent}
        assert [r["smsId"] for r in await simple.voice_get_report()] == [voice["smsId"]]
    on_platform = {m["smsId"] for m in (await get(http, f"{platform.url}/_mock/messages"))["messages"]}
    shown = (await get(http, f"{mock.url}/_mock/messages?appId={APP_ID}"))["messages"]
    assert {m["smsId"] for m in shown} == on_platform == {*(s["smsId"] for s in sent), voice["smsId"]}
    assert all(m["state"] == "DELIVRD" for m in shown)
    entries = await journal(http, mock)
    assert all("sign" not in (e["request"] or {}) for e in entries)


# -- when the upstream fails -------------------------------------------------------------------


async def _serve(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def _closed_for_the_client(mock: MockServer) -> None:
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        with pytest.raises(aiohttp.ClientError):
            await client.send_single_sms("13800000001", "hello")


async def _reason(http: aiohttp.ClientSession, mock: MockServer) -> dict[str, Any]:
    (entry,) = await journal(http, mock)
    assert entry["httpStatus"] == 0 and entry["code"] is None
    return entry


async def test_an_upstream_that_is_down_closes_the_connection(
    front: Front, http: aiohttp.ClientSession
) -> None:
    mock = await front([forwarding("http://127.0.0.1:9")])  # discard: nothing listens
    await _closed_for_the_client(mock)
    entry = await _reason(http, mock)
    assert "cannot connect" in entry["upstream"]["error"]
    assert "connection was closed" in entry["reason"]["reason"]


async def test_an_upstream_slower_than_its_timeout_closes_the_connection(
    front: Front, http: aiohttp.ClientSession
) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.Response(text="late")

    runner, url = await _serve(slow)
    try:
        mock = await front([forwarding(url, timeoutSeconds=0.3)])
        await _closed_for_the_client(mock)
        entry = await _reason(http, mock)
        assert entry["upstream"]["error"] == "no answer within timeoutSeconds 0.3"
    finally:
        await runner.cleanup()


async def test_an_upstream_http_500_is_passed_on_as_it_came(
    front: Front, http: aiohttp.ClientSession
) -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500, text="Internal Server Error")

    runner, url = await _serve(broken)
    try:
        mock = await front([forwarding(url)])
        async with EmayClient(mock.url, APP_ID, SECRET) as client:
            answer = await client.call("getBalance")
        assert (answer.status, answer.body) == (500, b"Internal Server Error")
        (entry,) = await journal(http, mock)
        assert entry["httpStatus"] == 500 and entry["upstream"]["note"] == "the upstream answered HTTP 500"
    finally:
        await runner.cleanup()


async def test_an_upstream_answering_garbage_closes_the_connection(
    front: Front, http: aiohttp.ClientSession
) -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        writer.write(os.urandom(64) + b"\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        mock = await front([forwarding(f"http://127.0.0.1:{port}")])
        await _closed_for_the_client(mock)
        entry = await _reason(http, mock)
        assert entry["upstream"]["error"].startswith("not an HTTP answer")
    finally:
        server.close()
        await server.wait_closed()


# -- shadow ------------------------------------------------------------------------------------


async def test_shadow_reports_where_the_platform_refuses_what_the_mock_accepts(
    platform: MockServer, front: Front, http: aiohttp.ClientSession
) -> None:
    mock = await front([forwarding(platform.url, "shadow")])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        sent = await client.send_single_sms("13800000001", "hello")
        shown = (await get(http, f"{mock.url}/_mock/messages?appId={APP_ID}"))["messages"]
        assert [m["smsId"] for m in shown] == [sent["smsId"]]  # the platform's smsId
        for _ in range(2):
            with pytest.raises(EmayApiError, match="ERROR_LONG_CONTENT"):
                await client.send_single_sms("13800000001", LONG)
    report = await get(http, f"{mock.url}/_mock/drift?appId={APP_ID}")
    (drift,) = report["drift"]
    assert report["count"] == 2 and drift["count"] == 2
    assert drift["endpoint"] == "sendSingleSMS"
    assert drift["differences"] == ["result: mock SUCCESS, upstream ERROR_LONG_CONTENT"]
    assert drift["mock"]["result"] == "SUCCESS" and drift["upstream"] == {
        "result": "ERROR_LONG_CONTENT",
        "answer": None,
    }
    assert drift["mock"]["answer"]["mobile"] == "13800000001"
    entries = await journal(http, mock)
    assert drift["journalId"] == entries[0]["id"] and entries[0]["upstream"]["drift"] == drift["differences"]
    assert entries[-1]["upstream"]["drift"] == []  # the first send: no difference
    async with http.get(f"{mock.url}/_mock/metrics") as resp:
        metrics = await resp.text()
    assert f'emay_upstream_drift_total{{app_id="{APP_ID}",endpoint="sendSingleSMS"}} 2.0' in metrics
    assert 'emay_upstream_exchanges_total{mode="shadow",outcome="answered"} 3.0' in metrics
    assert mock.store.messages.count() == 0 and await _balance(mock) == 100_000  # the verdict changed nothing


async def test_two_platforms_of_one_config_do_not_drift(
    make_mock: MockFactory, front: Front, http: aiohttp.ClientSession
) -> None:
    """The comparison is by shape: smsIds, balances, times and pulled items agree."""
    same = await make_mock([account()], settings=MOCK)
    mock = await front([forwarding(same.url, "shadow")])
    async with (
        EmayClient(mock.url, APP_ID, SECRET) as client,
        SimpleClient(mock.url, APP_ID, SECRET) as simple,
    ):
        await client.send_single_sms("13800000001", "hello", custom_sms_id="x1", extended_code="01")
        await client.send_batch_sms(
            [{"mobile": "13800000002", "customSmsId": "a"}, {"mobile": "13800000003"}], "batch"
        )
        await client.get_balance()
        template = await client.create_template("code {#code#}")
        await client.query_template(template)
        await client.delete_template(template)
        await simple.send_sms(["13800000004"], "simple")
        await simple.voice_send_sms("13800000005", "123456")
        await simple.get_balance()
        await same.advance(2)
        assert len(await client.get_report(2)) == 2  # the SMS reports share one queue
        assert len(await simple.get_report()) == 2
        assert len(await simple.voice_get_report()) == 1
        async with http.post(
            f"{same.url}/_mock/mo", json={"appId": APP_ID, "mobile": "13800000001", "content": "1"}
        ) as resp:
            assert resp.status == 201
        assert len(await client.get_mo()) == 1
    report = await get(http, f"{mock.url}/_mock/drift?appId={APP_ID}")
    assert report["drift"] == [] and report["count"] == 0


# -- record and replay -------------------------------------------------------------------------


async def test_a_recording_replays_with_fresh_request_times(
    platform: MockServer,
    front: Front,
    http: aiohttp.ClientSession,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    recording = tmp_path / "exchanges.jsonl"
    mock = await front([forwarding(platform.url)], record=recording)
    async with (
        EmayClient(mock.url, APP_ID, SECRET) as client,
        SimpleClient(mock.url, APP_ID, SECRET) as simple,
    ):
        sent = await client.send_single_sms("13800000001", "hello")
        with pytest.raises(EmayApiError, match="ERROR_LONG_CONTENT"):
            await client.send_single_sms("13800000001", LONG)
        balance = await simple.get_balance()
    await mock.close()
    text = recording.read_text("utf-8")
    assert SECRET not in text and SECRET not in caplog.text
    lines = [json.loads(line) for line in text.splitlines()]
    assert [(x["endpoint"], x["result"]) for x in lines] == [
        ("sendSingleSMS", "SUCCESS"), ("sendSingleSMS", "ERROR_LONG_CONTENT"), ("getBalance", "SUCCESS"),
    ]  # fmt: skip
    assert lines[0]["request"]["mobile"] == "13800000001" and lines[0]["answer"]["smsId"] == sent["smsId"]
    assert "sign" not in lines[2]["request"] and "timestamp" in lines[2]["request"]
    assert cli.main(["check", str(recording)]) == 0

    replaying = await front([account(replay=str(recording))])  # no upstream at all
    async with EmayClient(replaying.url, APP_ID, SECRET, gzip=False) as client:
        again = await client.send_single_sms("13800000001", "hello")  # a new requestTime
        assert again == sent
        with pytest.raises(EmayApiError, match="ERROR_LONG_CONTENT"):
            await client.send_single_sms("13800000001", LONG)
        own = await client.send_single_sms("13800000009", "not recorded")
        assert own["smsId"] != sent["smsId"]
    async with SimpleClient(replaying.url, APP_ID, SECRET, style="get") as simple:
        assert await simple.get_balance() == balance
    entries = await journal(http, replaying)
    matched = [e["upstream"]["matched"] for e in reversed(entries)]
    assert matched == [True, True, False, True]
    assert entries[1]["upstream"]["note"] == "not in the recording: answered by the mock itself"


async def test_a_failed_exchange_is_recorded_and_replayed_as_a_closed_connection(
    front: Front, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    recording = tmp_path / "down.jsonl"
    mock = await front([forwarding("http://127.0.0.1:9")], record=recording)
    await _closed_for_the_client(mock)
    await mock.close()
    (line,) = [json.loads(x) for x in recording.read_text("utf-8").splitlines()]
    assert line["error"].startswith("cannot connect") and line["status"] is None
    replaying = await front([account(replay=str(recording))])
    await _closed_for_the_client(replaying)


def test_check_says_what_is_wrong_with_a_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    good = {"family": "secure", "endpoint": "getBalance", "request": {}, "status": 200, "result": "SUCCESS"}
    bad.write_text(
        "\n".join(
            [
                json.dumps(good),
                "{not json}",
                json.dumps({**good, "family": "smtp"}),
                json.dumps({**good, "request": {"sign": "abc"}}),
            ]
        )
        + "\n",
        "utf-8",
    )
    assert cli.main(["check", str(bad)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert [line.split(": ", 1)[0].rsplit(":", 1)[1] for line in err] == ["2", "3", "4"]
    assert "family: must be one of secure, simple, voice, report, push, got 'smtp'" in err[1]
    assert "a recording must not keep secrets" in err[2]


# -- safety ------------------------------------------------------------------------------------


async def test_the_banner_names_every_account_that_forwards(front: Front, tmp_path: Path) -> None:
    mock = await front(
        [forwarding("http://user:pw@platform.example:8080", "shadow"), account("EUCP-PLAIN")],
        record=tmp_path / "r.jsonl",
    )
    lines = mock.banner()
    forwarding_lines = [line for line in lines if line.startswith("FORWARDING")]
    assert forwarding_lines == [
        f"FORWARDING: appId {APP_ID} sends every request to http://platform.example:8080 (shadow): "
        "real messages, real cost"
    ]
    assert "pw" not in "\n".join(lines) and any("r.jsonl" in line for line in lines)


async def test_other_accounts_are_answered_by_the_mock(
    platform: MockServer, front: Front, http: aiohttp.ClientSession
) -> None:
    mock = await front([forwarding(platform.url), account("EUCP-LOCAL")])
    async with (
        EmayClient(mock.url, "EUCP-LOCAL", SECRET) as client,
        SimpleClient(mock.url, "EUCP-LOCAL", SECRET) as simple,
    ):
        await client.send_single_sms("13800000001", LONG)  # the mock's limit, not the platform's
        await simple.send_sms(["13800000001"], LONG)
    assert mock.store.messages.count() == 2 and platform.store.messages.count() == 0
    entries = (await get(http, f"{mock.url}/_mock/journal?appId=EUCP-LOCAL"))["entries"]
    assert [e["upstream"] for e in entries] == [None, None]


async def test_what_the_platform_accepted_is_counted_and_forgotten_at_a_reset(
    platform: MockServer, front: Front, http: aiohttp.ClientSession
) -> None:
    mock = await front([forwarding(platform.url)])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        sent = await client.send_batch_only_sms(["13800000001", "13800000002"], "hi")
    assert {m["smsId"] for m in (await get(http, f"{platform.url}/_mock/messages"))["messages"]} == {
        s["smsId"] for s in sent
    }
    (listed,) = (await get(http, f"{mock.url}/_mock/accounts"))["accounts"]
    assert listed["counts"]["messages"] == 2
    async with http.post(f"{mock.url}/_mock/reset", json={"appId": APP_ID}) as resp:
        assert resp.status == 200
    assert (await get(http, f"{mock.url}/_mock/messages?appId={APP_ID}"))["messages"] == []


async def test_the_control_api_refuses_upstream_and_replay(
    platform: MockServer, front: Front, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """Whoever reaches the control API must not choose where real messages go, nor which
    file of the machine the mock reads: both come from the configuration only."""
    mock = await front([])
    recording = tmp_path / "r.jsonl"
    recording.write_text("")
    refused = (("upstream", {"url": platform.url, "mode": "passthrough"}), ("replay", str(recording)))
    for field, value in refused:
        body = {"appId": APP_ID, "secretKey": SECRET, field: value}
        async with http.post(f"{mock.url}/_mock/accounts", json=body) as resp:
            assert resp.status == 403
            error = (await resp.json())["error"]
        assert error.startswith(f"{field}: set in the configuration file only, not over the control API")
    assert (await get(http, f"{mock.url}/_mock/accounts"))["accounts"] == []


async def test_a_stop_does_not_wait_for_the_platform(front: Front, http: aiohttp.ClientSession) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.Response(text="late")

    runner, url = await _serve(slow)
    try:
        mock = await front([forwarding(url)])
        sending = asyncio.ensure_future(_closed_for_the_client(mock))
        await asyncio.sleep(0.3)
        started = asyncio.get_running_loop().time()
        await mock.close()
        assert asyncio.get_running_loop().time() - started < 2
        await sending
        (entry,) = mock.journal.query()
        assert entry.upstream is not None and entry.upstream["error"] == "the mock is stopping"
    finally:
        await runner.cleanup()


# -- the platform's pushes -------------------------------------------------------------------


async def test_the_platforms_pushes_are_read_recorded_and_relayed(
    platform: MockServer, front: Front, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    recording = tmp_path / "pushes.jsonl"
    async with Receiver() as receiver:
        mine = account(
            upstream={"url": platform.url},
            push={
                "reportUrl": receiver.path_url("/report"),
                "moUrl": receiver.path_url("/mo"),
                "mode": "plain",
            },
        )
        mock = await front([mine], record=recording)
        relay = f"{mock.url}/_mock/upstream/push/{APP_ID}"
        # The platform pushes reports encrypted, MO plain, to the mock in front.
        pushing = {"appId": APP_ID, "secretKey": SECRET, "push": {"reportUrl": f"{relay}/report"}}
        for body in (pushing, {**pushing, "push": {"moUrl": f"{relay}/mo", "mode": "plain"}}):
            async with http.post(f"{platform.url}/_mock/accounts", json=body) as resp:
                assert resp.status == 200
            if "reportUrl" in body["push"]:
                async with EmayClient(mock.url, APP_ID, SECRET) as client:
                    sent = await client.send_single_sms("13800000001", "hello")
                await platform.advance(2)
                await receiver.wait_for(1, "/report")
        async with http.post(
            f"{platform.url}/_mock/mo", json={"appId": APP_ID, "mobile": "13800000001", "content": "TD"}
        ) as resp:
            assert resp.status == 201
        await platform.push_due()
        await receiver.wait_for(1, "/mo")
    assert [i["smsId"] for i in receiver.items("/report", KEY)] == [sent["smsId"]]  # relayed as it came
    assert [i["content"] for i in receiver.items("/mo")] == ["TD"]
    (shown,) = (await get(http, f"{mock.url}/_mock/messages?appId={APP_ID}"))["messages"]
    assert shown["state"] == "DELIVRD"
    assert [m["content"] for m in (await get(http, f"{mock.url}/_mock/mo?appId={APP_ID}"))["mo"]] == ["TD"]
    delivered = (await get(http, f"{platform.url}/_mock/pushes?appId={APP_ID}"))["pushes"]
    assert {p["status"] for p in delivered} == {"delivered"}  # the receiver's success, passed back
    pushes = [e for e in await journal(http, mock) if e["family"] == "push"]
    assert [(e["endpoint"], e["httpStatus"], e["code"]) for e in pushes] == [
        ("mo", 200, "success"),
        ("report", 200, "success"),
    ]
    await mock.close()
    lines = [json.loads(line) for line in recording.read_text("utf-8").splitlines()]
    assert [x["family"] for x in lines] == ["secure", "push", "push"]
    assert lines[1]["request"]["reports"][0]["smsId"] == sent["smsId"] and SECRET not in recording.read_text()
    assert cli.main(["check", str(recording)]) == 0


async def test_a_push_for_an_account_that_does_not_forward_is_refused(
    front: Front, http: aiohttp.ClientSession
) -> None:
    mock = await front([account()])
    async with http.post(f"{mock.url}/_mock/upstream/push/{APP_ID}/report", data=b"x") as resp:
        assert resp.status == 404 and "error" in await resp.json()
