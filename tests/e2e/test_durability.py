"""--db FILE: state survives kill -9; overdue work runs on restart; nothing delivered is
delivered again, except a push whose success was never recorded (at-least-once)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import aiohttp

from emay_mock.client import EmayClient
from emay_mock.protocol.times import BEIJING, LONG_FORMAT
from emay_mock.testing.receiver import Receiver
from tests.e2e.process import serve

KEY = "0123456789ABCDEF"


def config(tmp_path: Path, receiver: Receiver, timeout: float = 5) -> Path:
    path = tmp_path / "emay.yaml"
    path.write_text(
        f"""
accounts:
  - appId: EUCP-PUSH
    secretKey: {KEY}
    push:
      reportUrl: {receiver.path_url("/a/report")}
      moUrl: {receiver.path_url("/a/mo")}
      timeoutSeconds: {timeout}
  - appId: EUCP-PULL
    secretKey: {KEY}
""",
        "utf-8",
    )
    return path


async def advance(http: aiohttp.ClientSession, url: str, seconds: float) -> dict[str, Any]:
    async with http.post(f"{url}/_mock/clock/advance", json={"seconds": seconds}) as resp:
        assert resp.status == 200
        return dict(await resp.json())


def smsids(receiver: Receiver, index: int) -> list[str]:
    return [item["smsId"] for item in receiver.at("/a/report")[index].items(KEY.encode())]


async def kill(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGKILL)
    assert await process.wait() == -signal.SIGKILL


async def test_everything_survives_kill_9(tmp_path: Path, receiver: Receiver) -> None:
    from datetime import datetime, timedelta

    receiver.on("/a/report", lambda n: (500, "down") if n == 1 else (200, "success"))
    args = ["--config", str(config(tmp_path, receiver)), "--db", str(tmp_path / "state.db")]
    async with aiohttp.ClientSession() as http:
        async with serve(args) as served:
            url = served.url
            async with EmayClient(url, "EUCP-PUSH", KEY) as a, EmayClient(url, "EUCP-PULL", KEY) as b:
                x = [
                    r["smsId"]
                    for r in await a.send_batch_only_sms([f"1380000{i:04d}" for i in range(10)], "x")
                ]
                await advance(http, url, 1)  # X's first push fails
                y = [
                    r["smsId"]
                    for r in await a.send_batch_only_sms([f"1390000{i:04d}" for i in range(10)], "y")
                ]
                await advance(http, url, 1)  # Y's push succeeds; X's retry is 8 s away
                pulled = [
                    r["smsId"]
                    for r in await b.send_batch_only_sms([f"1370000{i:04d}" for i in range(10)], "b")
                ]
                await advance(http, url, 1)
                first_five = [r["smsId"] for r in await b.get_report(5)]
                later = (datetime.now(BEIJING) + timedelta(hours=1)).strftime(LONG_FORMAT)
                timed = [
                    r["smsId"]
                    for r in await a.send_batch_only_sms(
                        [f"1360000{i:04d}" for i in range(5)], "t", timer_time=later
                    )
                ]
                async with http.post(
                    f"{url}/_mock/mo", json={"appId": "EUCP-PULL", "mobile": "13700000000", "content": "hi"}
                ) as resp:
                    assert resp.status == 201
                before = (await advance(http, url, 0))["nowMs"]
            assert [smsids(receiver, i) for i in range(2)] == [x, y]
            await kill(served.process)

        async with serve(args) as served:
            url = served.url
            async with http.get(f"{url}/_mock/clock") as resp:
                assert (await resp.json())["nowMs"] >= before  # the scheduler's clock never runs back
            await advance(http, url, 10)  # X's retry, due 10 s after its failure
            assert len(receiver.at("/a/report")) == 3
            assert smsids(receiver, 2) == x  # Y, delivered before the crash, is not pushed again
            async with EmayClient(url, "EUCP-PULL", KEY) as b:
                assert [r["smsId"] for r in await b.get_report()] == pulled[
                    5:
                ]  # the 5 already pulled stay pulled
                assert first_five == pulled[:5]
                assert [m["content"] for m in await b.get_mo()] == ["hi"]
            await advance(http, url, 3600)
            assert smsids(receiver, 3) == timed
            async with http.get(
                f"{url}/_mock/messages", params={"appId": "EUCP-PUSH", "limit": "100"}
            ) as resp:
                assert len((await resp.json())["messages"]) == 25
            async with http.get(f"{url}/_mock/pushes", params={"appId": "EUCP-PUSH"}) as resp:
                batches = {tuple(i["smsId"] for i in b["items"]): b for b in (await resp.json())["pushes"]}
            assert [a["httpStatus"] for a in batches[tuple(x)]["attempts"]] == [500, 200]
            assert [a["httpStatus"] for a in batches[tuple(y)]["attempts"]] == [200]


async def test_a_push_in_flight_at_the_crash_is_sent_again(tmp_path: Path, receiver: Receiver) -> None:
    receiver.hang = True
    args = ["--config", str(config(tmp_path, receiver, timeout=60)), "--db", str(tmp_path / "state.db")]
    async with aiohttp.ClientSession() as http:
        async with serve(args) as served:
            async with EmayClient(served.url, "EUCP-PUSH", KEY) as a:
                sent = [r["smsId"] for r in await a.send_batch_only_sms(["13800000001", "13800000002"], "x")]
            stuck = asyncio.ensure_future(advance(http, served.url, 1))
            await receiver.wait_for(1, "/a/report")
            await kill(served.process)
            stuck.cancel()
        receiver.hang = False
        receiver.release()
        async with serve(args) as served:
            await receiver.wait_for(2, "/a/report")
            assert smsids(receiver, 0) == smsids(receiver, 1) == sent
            for _ in range(50):
                async with http.get(f"{served.url}/_mock/pushes") as resp:
                    (batch,) = (await resp.json())["pushes"]
                if batch["status"] == "delivered":
                    break
                await asyncio.sleep(0.05)
            assert batch["status"] == "delivered"
            assert [a["n"] for a in batch["attempts"]] == [1]


async def test_work_that_fell_due_while_the_process_was_down_runs_at_restart(
    tmp_path: Path, receiver: Receiver
) -> None:
    args = ["--config", str(config(tmp_path, receiver)), "--db", str(tmp_path / "state.db")]
    async with aiohttp.ClientSession() as http:
        async with serve(args) as served:
            async with (
                EmayClient(served.url, "EUCP-PUSH", KEY) as a,
                EmayClient(served.url, "EUCP-PULL", KEY) as b,
            ):
                pushed = await a.send_single_sms("13800000001", "x")
                pulled = await b.send_single_sms("13800000002", "y")
            # Frozen before its timer can fire, then killed once the reports' due time has passed.
            served.process.send_signal(signal.SIGSTOP)
            await asyncio.sleep(1.5)
            await kill(served.process)
        assert receiver.at("/a/report") == []

        async with serve(args) as served:  # no advance: the overdue reports run at once
            await receiver.wait_for(1, "/a/report")
            assert smsids(receiver, 0) == [pushed["smsId"]]
            async with http.get(
                f"{served.url}/_mock/wait/report", params={"smsId": pulled["smsId"], "timeout": "10"}
            ) as resp:
                assert resp.status == 200
                assert (await resp.json())["message"]["state"] == "DELIVRD"
            async with EmayClient(served.url, "EUCP-PULL", KEY) as b:
                assert [r["smsId"] for r in await b.get_report()] == [pulled["smsId"]]
