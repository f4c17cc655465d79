"""--db FILE: state survives kill -9; overdue work runs on restart; nothing delivered is
delivered again, except a push whose success was never recorded (at-least-once)."""

from __future__ import annotations

import asyncio
import itertools
import random
import signal
from pathlib import Path
from typing import Any

import aiohttp

from emay_mock.client import EmayClient
from emay_mock.protocol.times import BEIJING, LONG_FORMAT
from emay_mock.testing.receiver import Receiver
from tests.conftest import SECRET
from tests.e2e.process import Served, serve
from tests.support.control import advance, messages


def config(tmp_path: Path, receiver: Receiver, timeout: float = 5) -> Path:
    path = tmp_path / "emay.yaml"
    path.write_text(
        f"""
accounts:
  - appId: EUCP-PUSH
    secretKey: {SECRET}
    push:
      reportUrl: {receiver.path_url("/a/report")}
      moUrl: {receiver.path_url("/a/mo")}
      timeoutSeconds: {timeout}
  - appId: EUCP-PULL
    secretKey: {SECRET}
""",
        "utf-8",
    )
    return path


def smsids(receiver: Receiver, index: int) -> list[str]:
    return [item["smsId"] for item in receiver.at("/a/report")[index].items(SECRET.encode())]


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
            async with EmayClient(url, "EUCP-PUSH", SECRET) as a, EmayClient(url, "EUCP-PULL", SECRET) as b:
                x = [
                    r["smsId"]
                    for r in await a.send_batch_only_sms([f"1380000{i:04d}" for i in range(10)], "x")
                ]
                await advance(http, served, 1)  # X's first push fails
                y = [
                    r["smsId"]
                    for r in await a.send_batch_only_sms([f"1390000{i:04d}" for i in range(10)], "y")
                ]
                await advance(http, served, 1)  # Y's push succeeds; X's retry is 8 s away
                pulled = [
                    r["smsId"]
                    for r in await b.send_batch_only_sms([f"1370000{i:04d}" for i in range(10)], "b")
                ]
                await advance(http, served, 1)
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
                before = (await advance(http, served, 0))["nowMs"]
            assert [smsids(receiver, i) for i in range(2)] == [x, y]
            await kill(served.process)

        async with serve(args) as served:
            url = served.url
            async with http.get(f"{url}/_mock/clock") as resp:
                assert (await resp.json())["nowMs"] >= before  # the scheduler's clock never runs back
            await advance(http, served, 10)  # X's retry, due 10 s after its failure
            assert len(receiver.at("/a/report")) == 3
            assert smsids(receiver, 2) == x  # Y, delivered before the crash, is not pushed again
            async with EmayClient(url, "EUCP-PULL", SECRET) as b:
                assert [r["smsId"] for r in await b.get_report()] == pulled[
                    5:
                ]  # the 5 already pulled stay pulled
                assert first_five == pulled[:5]
                assert [m["content"] for m in await b.get_mo()] == ["hi"]
            await advance(http, served, 3600)
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
            async with EmayClient(served.url, "EUCP-PUSH", SECRET) as a:
                sent = [r["smsId"] for r in await a.send_batch_only_sms(["13800000001", "13800000002"], "x")]
            stuck = asyncio.ensure_future(advance(http, served, 1))
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
                EmayClient(served.url, "EUCP-PUSH", SECRET) as a,
                EmayClient(served.url, "EUCP-PULL", SECRET) as b,
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
            async with EmayClient(served.url, "EUCP-PULL", SECRET) as b:
                assert [r["smsId"] for r in await b.get_report()] == [pulled["smsId"]]


BATCH = 50
ROUNDS = 3
WORKERS = 16
LOAD_BALANCE = 10**9


async def _load(url: str, answered: dict[str, list[str]], round_no: int, stop: asyncio.Event) -> None:
    """Batches of 50 until the server dies; each answered SUCCESS recorded with its smsIds."""
    async with EmayClient(url, "EUCP-LOAD", SECRET) as client:

        async def worker(w: int) -> None:
            for n in itertools.count():
                if stop.is_set():
                    return
                tag = f"r{round_no}w{w}n{n}"
                smses = [{"mobile": f"13{w:02d}{n % 10_000:04d}{k:03d}", "customSmsId": f"{tag}-{k}"}
                         for k in range(BATCH)]  # fmt: skip
                try:
                    sent = await client.send_batch_sms(smses, "durable")
                except (TimeoutError, aiohttp.ClientError, ConnectionError):
                    return  # the process is gone
                answered[tag] = [s["smsId"] for s in sent]

        await asyncio.gather(*(worker(w) for w in range(WORKERS)))


async def _every_message(http: aiohttp.ClientSession, served: Served) -> list[dict[str, Any]]:
    """Every message of the account, paged through the control API."""
    out: list[dict[str, Any]] = []
    before: str | None = None
    while True:
        params = {"appId": "EUCP-LOAD", "limit": "10000", **({"before": before} if before else {})}
        page = await messages(http, served, **params)
        if not page:
            return out
        out += page
        before = page[-1]["smsId"]


async def test_kill_9_under_load_loses_nothing_answered_and_leaves_no_half_request(tmp_path: Path) -> None:
    """Killed at random moments while 16 clients send batches (so, often, in the middle of a
    group commit): after restart every batch answered SUCCESS is there whole, no batch is
    there in part, and the balance is charged for exactly what is stored."""
    path = tmp_path / "load.yaml"
    account = f"{{appId: EUCP-LOAD, secretKey: {SECRET}, balance: {LOAD_BALANCE}}}"
    path.write_text(f"accounts:\n  - {account}\n", "utf-8")
    args = ["--config", str(path), "--db", str(tmp_path / "state.db"), "--log-level", "error"]
    answered: dict[str, list[str]] = {}
    rng = random.Random(12)
    async with aiohttp.ClientSession() as http:
        for round_no in range(ROUNDS):
            async with serve(args) as served:
                stop = asyncio.Event()
                load = asyncio.ensure_future(_load(served.url, answered, round_no, stop))
                await asyncio.sleep(0.6 + rng.random())
                await kill(served.process)
                stop.set()
                await load
        async with serve(args) as served:
            stored = await _every_message(http, served)
            async with EmayClient(served.url, "EUCP-LOAD", SECRET) as client:
                balance = await client.get_balance()
    assert len(answered) > 100, "the load should have had time to send"
    by_request: dict[str, set[str]] = {}
    for message in stored:
        tag = message["customSmsId"].rsplit("-", 1)[0]
        by_request.setdefault(tag, set()).add(message["smsId"])
    lost = [tag for tag, sms_ids in answered.items() if by_request.get(tag) != set(sms_ids)]
    assert lost == [], f"{len(lost)} batches answered SUCCESS are missing or incomplete: {lost[:5]}"
    half = {tag: len(ids) for tag, ids in by_request.items() if len(ids) != BATCH}
    assert half == {}, "a batch stored in part"
    assert balance == LOAD_BALANCE - len(stored)  # one segment each


KILL_INSIDE_A_COMMIT = """
import asyncio, os, signal, sys
from emay_mock.delivery.clock import Clock
from emay_mock.server import Parts
from emay_mock.settings import AccountSpec
from emay_mock.observe.journal import Entry
from emay_mock.protocol.send import Recipient, SendOrder
from emay_mock.protocol.times import LONG_FORMAT
from emay_mock.settings import Settings
from emay_mock.store.rows import MESSAGES
from emay_mock.store.state import Store


class KilledHalfway(list):
    # What executemany reads the group's message rows from: the process dies after 250 of 500,
    # inside the transaction, with the rows before it already handed to SQLite.
    def __iter__(self):
        for i, row in enumerate(list.__iter__(self)):
            if i == 250:
                os.kill(os.getpid(), signal.SIGKILL)
            yield row


async def main(path):
    platform = Parts(Store(path), Clock(), Settings()).platform
    platform.accounts.put(AccountSpec("A", "0123456789ABCDEF", balance=10_000))

    async def send(tag):
        recipients = [Recipient(f"1380000{i:04d}", tag) for i in range(500)]
        order = SendOrder("sendBatchOnlySMS", recipients, LONG_FORMAT)
        entry = Entry("secure", order.endpoint, "POST", None, platform.clock.wall_ms(), "A")
        return platform.submit(platform.accounts["A"], entry, order)

    await send("committed")
    await platform.committed()
    print("first group committed", flush=True)
    await send("killed")
    log = platform.store.log
    log._inserts[MESSAGES.insert] = KilledHalfway(log._inserts[MESSAGES.insert])
    await platform.committed()  # the group's flush: never returns


asyncio.run(main(sys.argv[1]))
"""


async def test_kill_9_inside_a_group_commit_leaves_the_group_out_whole(tmp_path: Path) -> None:
    """Killed while the group's transaction writes its rows: after restart the file holds every
    committed group and nothing of the one cut short (not its messages, not its balance)."""
    import sys

    from emay_mock.store.state import Store

    path = str(tmp_path / "state.db")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", KILL_INSIDE_A_COMMIT, path, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == -signal.SIGKILL
    assert out.decode().strip() == "first group committed"
    store = Store(path)
    contents = {row.content for row in store.messages.all()}
    assert store.messages.count() == 500 and contents == {"committed"}
    assert [balance for spec, balance in store.accounts.load()] == [10_000 - 500]
