"""Scenarios over real sockets: every matcher, every outcome, seeds, coverage, the control API."""

from __future__ import annotations

import aiohttp
import pytest

from emay_mock.client import EmayClient, SimpleClient
from emay_mock.server import MockServer
from tests.conftest import APP_ID, SECRET
from tests.support.control import load_scenario, message


def rule(match: str, then: str) -> str:
    return f"rules:\n  - name: r\n    match: {match}\n    then: {then}\n"


async def states(client: EmayClient, mock: MockServer) -> dict[str, str]:
    await mock.platform.scheduler.advance(60)
    return {r["mobile"]: r["state"] for r in await client.get_report()}


# -- matchers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matcher", "hits", "misses"),
    [
        ('{mobile: "13900000001"}', ["13900000001", "+8613900000001"], ["13900000002"]),
        ('{mobile: {prefix: "139"}}', ["13912345678"], ["13812345678"]),
        ('{mobile: {suffix: "99"}}', ["13800000099"], ["13800000098"]),
        ('{mobile: {regex: "^13[0-5]"}}', ["13312345678"], ["13612345678"]),
    ],
)
async def test_mobile_matchers(
    bare: MockServer, http: aiohttp.ClientSession, matcher: str, hits: list[str], misses: list[str]
) -> None:
    await load_scenario(http, bare, rule(matcher, "{report: {state: FAIL_BLACK_LIST}}"))
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        for mobile in hits + misses:  # one request each: a number repeated in a request is FAIL_MOBILE_REPEAT
            await client.send_single_sms(mobile, "x")
        got = await states(client, bare)
    assert [got[m] for m in hits] == ["FAIL_BLACK_LIST"] * len(hits)
    assert [got[m] for m in misses] == ["DELIVRD"] * len(misses)


async def test_content_custom_sms_id_and_extended_code(bare: MockServer, http: aiohttp.ClientSession) -> None:
    await load_scenario(
        http,
        bare,
        "rules:\n"
        "  - {match: {content: '验证码\\s*\\d{6}'}, then: {report: {state: FAIL_SIGN}}}\n"
        "  - {match: {customSmsId: {prefix: vip-}}, then: {report: {state: FAIL_INTERCEPT}}}\n"
        "  - {match: {extendedCode: '77'}, then: {report: {state: FAIL_WHITE_LIST}}}\n",
    )
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        await client.send_personality_sms(
            [
                {"mobile": "13800000001", "content": "您的验证码 123456"},
                {"mobile": "13800000002", "content": "hello", "customSmsId": "vip-7"},
                {"mobile": "13800000003", "content": "hello", "customSmsId": "plain"},
            ]
        )
        await client.send_single_sms("13800000004", "hello", extended_code="77")
        got = await states(client, bare)
    assert got == {
        "13800000001": "FAIL_SIGN",
        "13800000002": "FAIL_INTERCEPT",
        "13800000003": "DELIVRD",
        "13800000004": "FAIL_WHITE_LIST",
    }


async def test_endpoint_family_and_app_id(bare: MockServer, http: aiohttp.ClientSession) -> None:
    await load_scenario(
        http,
        bare,
        "rules:\n"
        "  - {match: {endpoint: sendSMS, family: simple}, then: {code: ERROR_CLIENT_IP}}\n"
        "  - {match: {endpoint: /inter/getBalance, appId: EUCP-OTHER}, then: {code: ERROR_OVER_SPEED}}\n",
    )
    async with SimpleClient(bare.url, APP_ID, SECRET) as simple, EmayClient(bare.url, APP_ID, SECRET) as mine:
        assert (
            await simple.call("/simpleinter/sendSMS", {"mobiles": "13800000000", "content": "x"})
        ).code == ("ERROR_CLIENT_IP")
        assert (
            await simple.call("/voice/sendSMS", {"mobile": "13800000000", "content": "1234"})
        ).code == "SUCCESS"
        assert (await mine.call("getBalance")).code == "SUCCESS"
    async with EmayClient(bare.url, "EUCP-OTHER", SECRET) as other:
        assert (await other.call("getBalance")).code == "ERROR_OVER_SPEED"


async def test_template_id_matcher_and_template_review_outcome(
    bare: MockServer, http: aiohttp.ClientSession
) -> None:
    await load_scenario(
        http,
        bare,
        "rules:\n  - {match: {content: 贷款}, then: {template: {status: rejected, delay: 20}}}\n",
    )
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        rejected = await client.create_template("低息贷款 {#rate#}")
        fine = await client.create_template("您好 {#name#}")
        assert await client.query_template(rejected) == 0
        await bare.platform.scheduler.advance(20)
        assert await client.query_template(rejected) == 2
        assert await client.query_template(fine) == 1
        await load_scenario(
            http,
            bare,
            rule(f"{{templateId: '{fine}'}}", "{report: {state: FAIL_AUDITING_REFUSED}}"),
            name="t",
        )
        await client.send_template_variable_sms(fine, [{"mobile": "13800000001", "content": {"name": "x"}}])
        await client.send_single_sms("13800000002", "x")
        assert await states(client, bare) == {
            "13800000001": "FAIL_AUDITING_REFUSED",
            "13800000002": "DELIVRD",
        }


async def test_nth_call_and_call_ranges(bare: MockServer, http: aiohttp.ClientSession) -> None:
    await load_scenario(
        http,
        bare,
        "rules:\n"
        "  - {match: {endpoint: getBalance, calls: 2}, then: {code: ERROR_OVER_SPEED}}\n"
        "  - {match: {endpoint: getBalance, calls: {from: 4, to: 5}}, then: {code: ERROR_CLIENT_IP}}\n",
    )
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        codes = [(await client.call("getBalance")).code for _ in range(6)]
    assert codes == [
        "SUCCESS",
        "ERROR_OVER_SPEED",
        "SUCCESS",
        "ERROR_CLIENT_IP",
        "ERROR_CLIENT_IP",
        "SUCCESS",
    ]


async def test_a_seed_replays_the_same_sequence_and_reset_restarts_it(
    bare: MockServer, http: aiohttp.ClientSession
) -> None:
    coin = "{report: {state: FAIL_UNKNOW, delay: {min: 1, max: 9}}}"
    text = "seed: 42\n" + rule("{probability: 0.5}", coin)
    await load_scenario(http, bare, text, name="coin")
    mobiles = [f"1380000{i:04d}" for i in range(40)]

    async def run() -> tuple[list[str], list[str]]:
        async with EmayClient(bare.url, APP_ID, SECRET) as client:
            sent = await client.send_batch_only_sms(mobiles, "x")
        outcomes = []
        for s in sent:
            m = await message(http, bare, s["smsId"])
            outcomes.append(f"{m['plannedState']}@{m['times']['reportDueMs'] - m['times']['sendMs']}")
        draws = [
            d for r in bare.journal.query(endpoint="sendBatchOnlySMS", limit=1)[0].rules for d in r["draws"]
        ]
        return outcomes, draws

    first, first_draws = await run()
    assert 5 < sum(o.startswith("FAIL_UNKNOW") for o in first) < 35  # a real coin, not all or nothing
    async with http.post(f"{bare.url}/_mock/reset") as resp:
        assert resp.status == 200
    second, second_draws = await run()
    assert second == first
    assert second_draws == first_draws and len(first_draws) == 20  # the journal keeps the first 20 draws
    await load_scenario(http, bare, text.replace("seed: 42", "seed: 43"), name="coin")
    third, _ = await run()
    assert third != first


# -- outcomes -----------------------------------------------------------------------------


async def test_scripted_code_changes_nothing(bare: MockServer, http: aiohttp.ClientSession) -> None:
    await load_scenario(http, bare, rule("{mobile: '13800000009'}", "{code: ERROR_BALANCE}"))
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        before = await client.get_balance()
        answer = await client.call(
            "sendBatchOnlySMS", {"mobiles": ["13800000001", "13800000009"], "content": "x"}
        )
        assert answer.code == "ERROR_BALANCE"
        assert await client.get_balance() == before
    assert bare.platform.messages.count() == 0
    entry = bare.journal.query(endpoint="sendBatchOnlySMS", limit=1)[0]
    assert entry.reason is not None and "r" in entry.reason["reason"]
    assert entry.rules[0]["outcomes"] == ["code"]


async def test_report_state_and_delay_per_recipient(bare: MockServer, http: aiohttp.ClientSession) -> None:
    await load_scenario(
        http, bare, rule("{mobile: {prefix: '139'}}", "{report: {state: TIMEOUT, delay: 120}}")
    )
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        await client.send_batch_only_sms(["13900000001", "13800000001"], "x")
        await bare.platform.scheduler.advance(1)
        assert [r["mobile"] for r in await client.get_report()] == ["13800000001"]
        await bare.platform.scheduler.advance(118)
        assert await client.get_report() == []
        await bare.platform.scheduler.advance(1)
        (late,) = await client.get_report()
    assert (late["mobile"], late["state"], late["desc"]) == ("13900000001", "TIMEOUT", "运营商状态报告超时")


async def test_replies_echo_the_extended_code_and_arrive_after_the_report(
    bare: MockServer, http: aiohttp.ClientSession
) -> None:
    await load_scenario(
        http,
        bare,
        rule(
            "{mobile: '13800000001'}",
            "{reply: [{content: TD, delay: 5}, {content: 谢谢, delay: 9, extendedCode: '99'}]}",
        ),
    )
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        (sent,) = await client.send_batch_only_sms(["13800000001"], "x", extended_code="42")
        await bare.platform.scheduler.advance(5.9)
        assert await client.get_mo() == []
        await bare.platform.scheduler.advance(0.1)
        (td,) = await client.get_mo()
        await bare.platform.scheduler.advance(4)
        (thanks,) = await client.get_mo()
    assert (td["mobile"], td["content"], td["extendedCode"]) == ("13800000001", "TD", "42")
    assert (thanks["content"], thanks["extendedCode"]) == ("谢谢", "99")
    async with http.get(f"{bare.url}/_mock/messages", params={"smsId": sent["smsId"]}) as resp:
        assert (await resp.json())["messages"][0]["rules"] == ["scenario-1/r"]


async def test_clicks_on_the_short_link(bare: MockServer, http: aiohttp.ClientSession) -> None:
    await load_scenario(
        http, bare, rule("{mobile: '13800000001'}", "{clicks: {count: 2, delay: 30, userAgent: 'curl/8.0'}}")
    )
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        await client.send_short_link_sms(
            [{"mobile": "13800000001"}, {"mobile": "13800000002"}], "go {#短网址#}", "https://e.cn", rule="2"
        )
        await bare.platform.scheduler.advance(29)
        assert await client.get_short_link() == []
        await bare.platform.scheduler.advance(1)
        clicks = await client.get_short_link()
    assert [(c["mobile"], c["browser"], c["userAgent"]) for c in clicks] == [
        ("13800000001", "curl", "curl/8.0")
    ] * 2


async def test_the_first_matching_rule_decides_each_kind(
    bare: MockServer, http: aiohttp.ClientSession
) -> None:
    await load_scenario(
        http,
        bare,
        "rules:\n"
        "  - {name: state, match: {mobile: {prefix: '138'}}, then: {report: {state: FAIL_SIGN}}}\n"
        "  - {name: ignored, match: {mobile: {prefix: '138'}}, then: {report: {state: FAIL_MOBILE}}}\n"
        "  - {name: reply, match: {mobile: {prefix: '138'}}, then: {reply: {content: hi}}}\n",
    )
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        await client.send_single_sms("13800000001", "x")
        assert await states(client, bare) == {"13800000001": "FAIL_SIGN"}
        assert [m["content"] for m in await client.get_mo()] == ["hi"]
    coverage = {
        r["rule"]: r["fired"]
        for r in (await (await http.get(f"{bare.url}/_mock/scenarios/coverage")).json())["rules"]
    }
    assert coverage == {"state": 1, "ignored": 0, "reply": 1}


async def test_user_scenarios_come_before_the_magic_numbers(
    mock: MockServer, http: aiohttp.ClientSession
) -> None:
    await load_scenario(http, mock, rule("{mobile: {suffix: '55500001'}}", "{report: {state: DELIVRD}}"))
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        await client.send_batch_only_sms(["13855500001", "13855500002"], "x")
        assert await states(client, mock) == {"13855500001": "DELIVRD", "13855500002": "FAIL_BLACK_LIST"}


# -- control API ------------------------------------------------------------------------------


async def test_load_list_get_replace_remove(bare: MockServer, http: aiohttp.ClientSession) -> None:
    created = await load_scenario(http, bare, "name: one\nrules:\n  - then: {code: ERROR_PARAMS}\n")
    assert created["scenario"]["name"] == "one" and created["replaced"] is False
    replaced = await load_scenario(http, bare, "name: one\nrules: []\n")
    assert replaced["replaced"] is True
    async with http.get(f"{bare.url}/_mock/scenarios") as resp:
        assert [s["name"] for s in (await resp.json())["scenarios"]] == ["one"]
    async with http.get(f"{bare.url}/_mock/scenarios/one") as resp:
        assert (await resp.json())["text"] == "name: one\nrules: []\n"
    async with http.delete(f"{bare.url}/_mock/scenarios/one") as resp:
        assert resp.status == 200
    async with http.delete(f"{bare.url}/_mock/scenarios/one") as resp:
        assert resp.status == 404


async def test_a_bad_scenario_is_refused_whole_with_its_line(
    bare: MockServer, http: aiohttp.ClientSession
) -> None:
    text = "name: half\nrules:\n  - then: {code: ERROR_PARAMS}\n  - then: {report: {state: NOPE}}\n"
    async with http.post(f"{bare.url}/_mock/scenarios", data=text.encode()) as resp:
        assert resp.status == 400
        body = await resp.json()
    assert body["problems"][0].startswith(
        "api:scenario-1:4: rules[1].then.report.state: 'NOPE' is not one of"
    )
    async with http.get(f"{bare.url}/_mock/scenarios") as resp:
        assert (await resp.json())["scenarios"] == []  # nothing of it applied
    async with EmayClient(bare.url, APP_ID, SECRET) as client:
        assert (await client.call("getBalance")).code == "SUCCESS"


async def test_coverage_lists_what_the_run_never_produced(
    mock: MockServer, http: aiohttp.ClientSession
) -> None:
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        await client.send_batch_only_sms(["13855500001", "13800000000"], "x")
        await client.call("sendSingleSMS", {"mobile": "1", "content": "x"})
        await mock.platform.scheduler.advance(1)
    async with http.get(f"{mock.url}/_mock/scenarios/coverage") as resp:
        coverage = await resp.json()
    assert coverage["resultCodes"]["SUCCESS"] == 1 and coverage["resultCodes"]["ERROR_MOBILE_ERROR"] == 1
    assert coverage["reportStates"]["FAIL_MOBILE"] == 1 and coverage["reportStates"]["DELIVRD"] == 1
    assert "ERROR_BALANCE" in coverage["neverProduced"]["resultCodes"]
    assert "TIMEOUT" in coverage["neverProduced"]["reportStates"]
    fired = {f"{r['scenario']}/{r['rule']}": r["fired"] for r in coverage["rules"]}
    assert fired["default/number-0001-fail-mobile"] == 1
    assert "default/number-0002-black-list" in coverage["neverProduced"]["rules"]
