"""Read-your-writes: the moment a send is answered, the control API and what the UI reads show
the message, in memory and with --db (whose answers wait for the group commit), for a
single send and a batch."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from emay_mock.client import EmayClient
from tests.conftest import APP_ID, SECRET, MockFactory


@pytest.mark.parametrize("durable", [False, True], ids=["memory", "db"])
async def test_a_message_is_visible_as_soon_as_its_send_is_answered(
    make_mock: MockFactory, http: aiohttp.ClientSession, tmp_path: Path, durable: bool
) -> None:
    mock = await make_mock(db=str(tmp_path / "state.db") if durable else None)

    async def send_then_look(client: EmayClient, i: int) -> None:
        mobile = f"1390000{i:04d}"
        if i % 2:
            (sent,) = await client.send_batch_only_sms([mobile], f"hello {i}")
        else:
            sent = await client.send_single_sms(mobile, f"hello {i}")
        # No wait of any kind between the answer and the reads: each must already see it.
        async with http.get(f"{mock.url}/_mock/messages", params={"smsId": sent["smsId"]}) as resp:
            assert [m["content"] for m in (await resp.json())["messages"]] == [f"hello {i}"]
        async with http.get(f"{mock.url}/_mock/messages/{sent['smsId']}") as resp:  # the UI's detail
            assert resp.status == 200
        async with http.get(f"{mock.url}/_mock/conversations", params={"appId": APP_ID}) as resp:
            talks = {t["mobile"]: t for t in (await resp.json())["conversations"]}  # the UI's inbox
        assert talks[mobile]["last"]["text"] == f"hello {i}"

    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        # Sends in flight together, so answers share loop turns (and, with --db, group commits).
        await asyncio.gather(*(send_then_look(client, i) for i in range(40)))
