"""Stopping `emay-mock serve` (SIGTERM, Ctrl-C) takes under 2 s whatever waits: a long-poll
and an event stream are answered at once (503: the mock is stopping), what was answered
SUCCESS is in the file, and the exit code is 0."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from emay_mock.client import EmayClient
from emay_mock.config import DEMO_APP_ID, DEMO_SECRET_KEY
from tests.e2e.process import serve

STOP_WITHIN_S = 2.0
SLOW = """
name: slow
rules:
  - match: {endpoint: sendSingleSMS, mobile: "13800000030"}
    then:
      fault: {kind: latency, latency: 30}
"""


async def waited(http: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    """A 60 s wait for a report no message will ever have."""
    params = {"mobile": "13999999999", "timeout": "60"}
    async with http.get(f"{url}/_mock/wait/report", params=params) as resp:
        return resp.status, await resp.json()


async def streamed(http: aiohttp.ClientSession, url: str, connected: asyncio.Event) -> list[str]:
    """An event stream's lines, from the moment it is open until the server ends it."""
    lines: list[str] = []
    async with http.get(f"{url}/_mock/events") as resp:
        assert resp.status == 200
        async for raw in resp.content:
            line = raw.decode().rstrip("\n")
            lines.append(line)
            if line == ": connected":
                connected.set()
    return lines


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
async def test_a_stop_answers_what_waits_and_keeps_what_was_accepted(tmp_path: Path, sig: int) -> None:
    db, scenario = tmp_path / "state.db", tmp_path / "slow.yaml"
    scenario.write_text(SLOW, "utf-8")
    async with (
        serve(["--db", str(db), "--scenario", str(scenario)]) as served,
        aiohttp.ClientSession() as http,
        EmayClient(served.url, DEMO_APP_ID, DEMO_SECRET_KEY) as client,
    ):
        sent = await client.send_single_sms("13800000000", "accepted before the stop")
        # Scripted to wait 30 s before it is processed: the stop cuts the wait short.
        slow = asyncio.create_task(client.send_single_sms("13800000030", "slow, then stopped"))
        connected = asyncio.Event()
        stream = asyncio.create_task(streamed(http, served.url, connected))
        wait = asyncio.create_task(waited(http, served.url))
        await asyncio.wait_for(connected.wait(), 5)
        await asyncio.sleep(0.3)  # the wait and the slow send are in the server, waiting
        assert not wait.done() and not slow.done()

        signalled = time.monotonic()
        served.process.send_signal(sig)
        code = await asyncio.wait_for(served.process.wait(), 10)
        took = time.monotonic() - signalled
        assert code == 0
        assert took < STOP_WITHIN_S, f"the stop took {took:.1f} s"

        status, body = await asyncio.wait_for(wait, 1)
        assert status == 503 and "the mock is stopping" in body["error"]
        lines = await asyncio.wait_for(stream, 1)
        assert "event: stopping" in lines, lines
        data = lines[lines.index("event: stopping") + 1]
        assert data.startswith("data: ") and "the mock is stopping" in json.loads(data[6:])["error"]
        slowly = await asyncio.wait_for(slow, 1)  # answered SUCCESS as the stop began

    async with serve(["--db", str(db)]) as again, aiohttp.ClientSession() as http:
        for accepted, content in ((sent, "accepted before the stop"), (slowly, "slow, then stopped")):
            async with http.get(f"{again.url}/_mock/messages", params={"smsId": accepted["smsId"]}) as resp:
                (message,) = (await resp.json())["messages"]
            assert message["content"] == content
