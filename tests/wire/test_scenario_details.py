"""Scenario promises the other scenario tests leave implicit: list matchers, a delay range
stays in its range, a scripted code in every family's wire form changes nothing, the
journal over HTTP names the rules and their draws, and faker User-Agents for clicks."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from emay_mock.client import EmayClient, SimpleClient
from emay_mock.protocol.times import BEIJING
from emay_mock.server import MockServer
from tests.conftest import APP_ID, ROOT, SECRET
from tests.support.control import load_scenario, message


async def journal(http: aiohttp.ClientSession, mock: MockServer, **params: str) -> list[dict[str, Any]]:
    async with http.get(f"{mock.url}/_mock/journal", params=params) as resp:
        assert resp.status == 200
        return list((await resp.json())["entries"])


async def test_endpoint_and_app_id_take_lists(bare: MockServer, http: aiohttp.ClientSession) -> None:
    await load_scenario(
        http,
        bare,
        "rules:\n"
        "  - match: {endpoint: [getMo, /inter/getShortLink], appId: [EUCP-OTHER, EUCP-THIRD]}\n"
        "    then: {code: ERROR_OVER_SPEED}\n",
    )
    for app_id, expected in (
        (APP_ID, "SUCCESS"),
        ("EUCP-OTHER", "ERROR_OVER_SPEED"),
        ("EUCP-THIRD", "ERROR_OVER_SPEED"),
    ):
        async with EmayClient(bare.url, app_id, SECRET) as client:
            codes = [(await client.call(e)).code for e in ("getMo", "getShortLink", "getReport")]
        assert codes == [expected, expected, "SUCCESS"], app_id


async def test_a_delay_range_is_drawn_inside_the_range(bare: MockServer, http: aiohttp.ClientSession) -> None:
    await load_scenario(
        http, bare, "rules:\n  - then: {report: {state: FAIL_RESPONSE, delay: {min: 2, max: 7.5}}}\n"
    )
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        sent = await client.send_batch_only_sms([f"1380000{i:04d}" for i in range(60)], "x")
    delays = []
    for s in sent:
        m = await message(http, bare, s["smsId"])
        delays.append(m["times"]["reportDueMs"] - m["times"]["sendMs"])
    assert all(2000 <= d <= 7500 for d in delays), delays
    assert len(set(delays)) > 20  # drawn, not one fixed value
    await bare.platform.scheduler.advance(2)
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        early = await client.get_report()
        await bare.platform.scheduler.advance(5.5)
        late = await client.get_report()
    assert len(early) + len(late) == 60 and {r["state"] for r in early + late} == {"FAIL_RESPONSE"}


async def test_a_scripted_code_in_every_family_changes_nothing(
    bare: MockServer, http: aiohttp.ClientSession
) -> None:
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        await client.send_single_sms("13800000000", "x")
        await bare.platform.scheduler.advance(1)
    endpoints = ["getReport", "createTemplateSMS", "/simpleinter/sendSMS", "/voice/sendSMS", "retrieveReport"]
    rules = "".join(
        f"  - {{match: {{endpoint: '{e}', calls: 1}}, then: {{code: ERROR_OVER_SPEED}}}}\n" for e in endpoints
    )
    await load_scenario(http, bare, "rules:\n" + rules)
    start = datetime.now(BEIJING) - timedelta(minutes=5)
    async with (
        EmayClient(bare.url, APP_ID, SECRET) as client,
        SimpleClient(bare.url, APP_ID, SECRET) as simple,
    ):
        # Each endpoint's first call is refused in its family's wire form; a later one works.
        assert (await client.call("getReport")).code == "ERROR_OVER_SPEED"
        assert len(await client.get_report()) == 1  # the refused poll took nothing from the queue
        assert (
            await client.call("createTemplateSMS", {"templateContent": "您好 {#n#}"})
        ).code == "ERROR_OVER_SPEED"
        assert bare.platform.templates.store.list(None) == []
        sms = await simple.call("/simpleinter/sendSMS", {"mobiles": "13800000001", "content": "x"})
        assert (sms.status, sms.code) == (200, "ERROR_OVER_SPEED")
        voice = await simple.call("/voice/sendSMS", {"mobile": "13800000001", "content": "1234"})
        assert voice.code == "ERROR_OVER_SPEED"
        assert await simple.retrieve_report(start, datetime.now(BEIJING)) == "ERROR_OVER_SPEED"
        assert await client.get_balance() == 100_000 - 1  # only the first, unscripted send was charged
        assert await client.get_report() == []  # the refused retrieveReport re-delivered nothing
        assert await simple.retrieve_report(start, datetime.now(BEIJING)) == "SUCCESS"
        await bare.platform.scheduler.advance(0)
        assert len(await client.get_report()) == 1
    async with http.get(f"{bare.url}/_mock/messages", params={"appId": APP_ID}) as resp:
        assert len((await resp.json())["messages"]) == 1
    entries = await journal(http, bare, code="ERROR_OVER_SPEED")
    assert sorted((e["family"], e["endpoint"]) for e in entries) == [
        ("report", "retrieveReport"),
        ("secure", "createTemplateSMS"),
        ("secure", "getReport"),
        ("simple", "sendSMS"),
        ("voice", "sendSMS"),
    ]
    assert all("scripted by scenario rule" in e["reason"]["reason"] for e in entries)


async def test_the_journal_names_the_rules_that_fired_and_their_draws(
    bare: MockServer, http: aiohttp.ClientSession
) -> None:
    await load_scenario(
        http,
        bare,
        "name: explained\nseed: 3\nrules:\n"
        "  - {name: coin, match: {endpoint: getBalance, probability: 0.5}, then: {code: ERROR_OVER_SPEED}}\n"
        "  - name: slow-139\n"
        "    match: {mobile: {prefix: '139'}, probability: 0.5}\n"
        "    then: {report: {state: TIMEOUT}}\n",
    )
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        codes = [(await client.call("getBalance")).code for _ in range(12)]
        sent = await client.send_batch_only_sms([f"1390000{i:04d}" for i in range(30)] + ["13800000000"], "x")
    assert set(codes) == {"SUCCESS", "ERROR_OVER_SPEED"}
    balance_entries = list(reversed(await journal(http, bare, endpoint="getBalance")))
    for entry, code in zip(balance_entries, codes, strict=True):
        (fired,) = entry["rules"]
        assert fired["rule"] == "explained/coin" and fired["scope"] == "request"
        assert 0 <= fired["draw"] < 1 and fired["fired"] == (fired["draw"] < 0.5) == (
            code == "ERROR_OVER_SPEED"
        )
    assert [e["rules"][0]["call"] for e in balance_entries] == list(range(1, 13))
    (send,) = await journal(http, bare, endpoint="sendBatchOnlySMS")
    (recipient_rule,) = [r for r in send["rules"] if r["scope"] == "recipient"]
    assert recipient_rule["rule"] == "explained/slow-139"
    draws = recipient_rule["draws"]
    assert len(draws) == 20 and all(d["fired"] == (d["draw"] < 0.5) for d in draws)  # the first 20 kept
    await bare.platform.scheduler.advance(1)
    timed_out = {
        s["smsId"] for s in sent if (await message(http, bare, s["smsId"])).get("plannedState") == "TIMEOUT"
    }
    assert recipient_rule["count"] == len(timed_out) > 0


async def test_scripted_clicks_get_a_realistic_user_agent_the_seed_replays(
    bare: MockServer, http: aiohttp.ClientSession
) -> None:
    await load_scenario(
        http,
        bare,
        "rules:\n"
        "  - {match: {mobile: {prefix: '138'}}, then: {clicks: {count: 3}}}\n"
        "  - {match: {mobile: {prefix: '137'}}, then: {clicks: {count: 1, userAgent: 'curl/8.4.0'}}}\n",
    )

    async def run() -> list[dict[str, Any]]:
        async with EmayClient(bare.url, APP_ID, SECRET) as client:
            await client.send_short_link_sms(
                [{"mobile": "13800000001"}, {"mobile": "13900000001"}, {"mobile": "13700000001"}],
                "go {#短网址#}",
                "https://e.cn/x",
                rule="2",
            )
            await bare.platform.scheduler.advance(1)
            return await client.get_short_link()

    clicks = await run()
    assert sorted(c["mobile"] for c in clicks) == ["13700000001"] + ["13800000001"] * 3
    (given,) = [c for c in clicks if c["mobile"] == "13700000001"]
    assert (given["userAgent"], given["browser"]) == ("curl/8.4.0", "curl")
    drawn = [c for c in clicks if c["mobile"] == "13800000001"]
    for click in drawn:
        agent = click["userAgent"]
        assert agent.startswith(("Mozilla/", "Opera/")), agent  # faker's, not the HTTP client's
        assert click["browser"] and click["browser"] != "Other"  # a browser ua-parser recognises
        assert click["longLink"] == "https://e.cn/x"
    async with http.post(f"{bare.url}/_mock/reset") as resp:
        assert resp.status == 200
    again = await run()
    assert [c["userAgent"] for c in again] == [
        c["userAgent"] for c in clicks
    ]  # the same seed, the same agents


async def test_the_documented_scenario_example_does_what_its_comments_say(
    bare: MockServer, http: aiohttp.ClientSession
) -> None:
    page = (ROOT / "docs" / "scenarios.md").read_text("utf-8")
    section = page[page.index("# Scenarios: scripting outcomes") :]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match
    loaded = await load_scenario(http, bare, match.group(1))
    assert loaded["scenario"]["name"] == "my-suite"
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        batch = {"smses": [{"mobile": "13800000000"}], "content": "x"}
        codes = [(await client.call("sendBatchSMS", batch)).code for _ in range(4)]
        assert codes == ["SUCCESS", "SUCCESS", "ERROR_BALANCE", "ERROR_BALANCE"]  # "third-batch-is-broke"
        await client.send_single_sms("13800000001", "大促 回TD退订")
        await bare.platform.scheduler.advance(1)
        await client.get_report()
        await bare.platform.scheduler.advance(2.9)
        assert await client.get_mo() == []
        await bare.platform.scheduler.advance(0.1)
        assert [(m["mobile"], m["content"]) for m in await client.get_mo()] == [("13800000001", "TD")]
