"""Each example in scenarios/ loaded over the control API and exercised."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import aiohttp

from emay_mock.client import EmayClient
from emay_mock.server import MockServer
from emay_mock.settings import Settings
from emay_mock.testing.receiver import Receiver
from tests.conftest import APP_ID, EXAMPLES, SECRET, MockFactory, account
from tests.support.control import load_scenario


async def load_example(http: aiohttp.ClientSession, mock: MockServer, name: str) -> None:
    await load_scenario(http, mock, (EXAMPLES / f"{name}.yaml").read_text("utf-8"))


async def test_flaky_carrier(bare: MockServer, http: aiohttp.ClientSession) -> None:
    await load_example(http, bare, "flaky-carrier")

    async def run() -> dict[str, str]:
        async with EmayClient(bare.url, APP_ID, SECRET) as client:
            await client.send_single_sms("13900000666", "x")
            await client.send_batch_only_sms([f"139{i:08d}" for i in range(200)] + ["13800000000"], "x")
            await bare.platform.scheduler.advance(1)
            early = {r["mobile"]: r["state"] for r in await client.get_report()}
            # The black-listed number reports at the default 1 s; other 139 numbers are slower.
            assert early == {"13800000000": "DELIVRD", "13900000666": "FAIL_BLACK_LIST"}
            await bare.platform.scheduler.advance(300)
            return {**early, **{r["mobile"]: r["state"] for r in await client.get_report()}}

    states = await run()
    assert states["13900000666"] == "FAIL_BLACK_LIST"
    counts = Counter(
        state for mobile, state in states.items() if mobile.startswith("139") and mobile != "13900000666"
    )
    assert set(counts) == {"DELIVRD", "FAIL_RESPONSE", "TIMEOUT"}
    assert 20 < counts["FAIL_RESPONSE"] < 60 and 5 < counts["TIMEOUT"] < 40
    async with http.post(f"{bare.url}/_mock/reset") as resp:
        assert resp.status == 200
    assert await run() == states  # seed 7: the same run, twice


async def test_unsubscribe_replies(bare: MockServer, http: aiohttp.ClientSession) -> None:
    await load_example(http, bare, "unsubscribe-replies")
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        await client.send_single_sms("13800000001", "双十一大促，全场五折 回TD退订")
        await client.send_single_sms("13700001234", "您的快递已到")
        await client.send_batch_only_sms(
            [f"1360000{i:04d}" for i in range(40)], "订单待确认，回复1确认", extended_code="88"
        )
        await bare.platform.scheduler.advance(70)
        replies = await client.get_mo()
    by_mobile = {m["mobile"]: m["content"] for m in replies}
    assert by_mobile["13800000001"] == "TD" and by_mobile["13700001234"] == "退订"
    confirmations = [m for m in replies if m["content"] == "1"]
    assert 10 < len(confirmations) < 30 and {m["extendedCode"] for m in confirmations} == {"88"}


async def test_balance_runs_out(bare: MockServer, http: aiohttp.ClientSession) -> None:
    await load_example(http, bare, "balance-runs-out")
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        codes = [
            (await client.call("sendBatchSMS", {"smses": [{"mobile": "13800000000"}], "content": "x"})).code
            for _ in range(4)
        ]
        assert codes == ["SUCCESS", "SUCCESS", "ERROR_BALANCE", "ERROR_BALANCE"]
        for i in range(6):
            await client.send_single_sms(f"1380000000{i}", "x")
        await bare.platform.scheduler.advance(1)
        reports = await client.get_report()
    singles = [r["state"] for r in reports[2:]]  # after the two accepted batch sends
    assert singles == ["DELIVRD"] * 4 + ["FAIL_BALANCE"] * 2


async def test_template_rejected(bare: MockServer, http: aiohttp.ClientSession) -> None:
    await load_example(http, bare, "template-rejected")
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        loan = await client.create_template("【速贷】低息贷款，当天到账 {#amount#}")
        note = await client.create_template("【通知】您的订单 {#id#} 已发货")
        await bare.platform.scheduler.advance(10)
        assert (await client.query_template(loan), await client.query_template(note)) == (0, 1)
        await bare.platform.scheduler.advance(20)
        assert await client.query_template(loan) == 2
        refused = await client.call(
            "sendTemplateVariableSMS",
            {"templateId": loan, "smses": [{"mobile": "13800000000", "content": {"amount": "1"}}]},
        )
        assert refused.code == "ERROR_PARAMS"


async def test_slow_platform(bare: MockServer, http: aiohttp.ClientSession) -> None:
    await load_example(http, bare, "slow-platform")
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        outcomes = []
        for i in range(4):
            try:
                outcomes.append(
                    (await client.call("sendSingleSMS", {"mobile": f"1380000000{i}", "content": "x"})).code
                )
            except aiohttp.ClientOSError:
                outcomes.append("reset")
        assert outcomes == ["SUCCESS", "SUCCESS", "reset", "SUCCESS"]
        assert bare.platform.messages.count() == 4  # the third was accepted: its answer was lost
        polls = []
        for _ in range(11):
            try:
                polls.append((await client.call("getReport")).code)
            except aiohttp.ClientOSError:
                polls.append("reset")
        assert polls == ["SUCCESS"] * 9 + ["reset", "SUCCESS"]
        statuses = Counter([(await client.call("getBalance")).status for _ in range(60)])
        assert set(statuses) == {200, 503} and statuses[503] < 20
    delayed = [
        e
        for e in bare.journal.query(endpoint="sendSingleSMS", limit=10)
        if e.fault is not None and e.fault.kind == "latency"
    ]
    assert delayed and all(e.latency_ms >= 1000 for e in delayed)


async def test_callback_chaos(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock(
        [account(push={"reportUrl": receiver.path_url("/r")})], settings=Settings(default_scenarios=False)
    )
    await load_example(http, mock, "callback-chaos")
    key = SECRET.encode()
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        raced = await client.send_single_sms("13800000001", "x", custom_sms_id="race-42")
        assert [i["smsId"] for i in receiver.at("/r")[0].items(key)] == [raced["smsId"]]
        vip = await client.send_single_sms("18600000001", "x")
        await mock.platform.scheduler.advance(1)
        assert [r.items(key)[0]["smsId"] for r in receiver.at("/r")[1:]] == [vip["smsId"]] * 2
        reversed_batch = await client.send_batch_only_sms(["18500000001", "13800000002", "18500000003"], "x")
        await mock.platform.scheduler.advance(1)
        last = receiver.at("/r")[-1].items(key)
    assert [i["smsId"] for i in last] == [s["smsId"] for s in reversed(reversed_batch)]
    assert [i["state"] for i in last] == ["DELIVRD", "DELIVRD", "DELIVRD"]
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        await client.send_single_sms("18600000010", "x")
        await mock.platform.scheduler.advance(1)
    assert receiver.at("/r")[-1].items(key)[0]["state"] == "FAIL_MOBILE"


async def test_every_example_has_a_test() -> None:
    tested = {name.removeprefix("test_").replace("_", "-") for name in globals() if name.startswith("test_")}
    examples = {p.stem for p in EXAMPLES.glob("*.yaml")} - {"default"}
    assert examples <= tested


async def test_examples_load_at_start_with_the_cli_flag(tmp_path: Path) -> None:
    from tests.e2e.process import serve

    async with serve(
        ["--scenario", str(EXAMPLES / "balance-runs-out.yaml"), "--no-default-scenarios"]
    ) as served:
        async with aiohttp.ClientSession() as session, session.get(f"{served.url}/_mock/scenarios") as resp:
            assert [s["name"] for s in (await resp.json())["scenarios"]] == ["balance-runs-out"]
    await asyncio.sleep(0)
