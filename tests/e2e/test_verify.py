"""`emay-mock verify` as a process against a mock on a real socket: clean and deviating clients,
expected refusals, control auth, an unknown account, an unreachable mock, its JUnit XML checked
against the JUnit schema's rules, and a client written in Node on its built-ins."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import aiohttp
import pytest

from emay_mock.client import EmayClient
from emay_mock.config import Config
from emay_mock.control_auth import parse_credentials
from emay_mock.protocol.times import LONG_FORMAT
from emay_mock.server import MockServer
from emay_mock.testing.receiver import Receiver
from tests.conftest import APP_ID, ROOT, SECRET, MockFactory, account, pushing
from tests.e2e.process import run, run_command
from tests.support.control import advance

NODE_CLIENT = ROOT / "tests" / "e2e" / "node" / "emay_client.mjs"


async def verify(url: str, *args: str, app_id: str = APP_ID) -> tuple[int, str, str]:
    return await run("verify", "--url", url, "--app-id", app_id, *args)


async def verdict(url: str, *args: str, app_id: str = APP_ID) -> tuple[int, dict[str, Any]]:
    code, out, err = await verify(url, "--json", *args, app_id=app_id)
    assert err == "", err
    return code, json.loads(out)


# -- the JUnit schema's rules (the one Jenkins, GitLab and GitHub's reporters read) --------------

_TIME = re.compile(r"(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?")
_CHILDREN = {
    "testsuites": {"testsuite"},
    "testsuite": {"testsuite", "properties", "testcase", "system-out", "system-err"},
    "properties": {"property"},
    "testcase": {"skipped", "error", "failure", "system-out", "system-err"},
}
_REQUIRED = {
    "testsuite": {"name", "tests", "failures", "errors"},
    "testcase": {"name"},
    "property": {"name", "value"},
}
_ALLOWED = {
    "testsuites": {"name", "time", "tests", "failures", "errors"},
    "testsuite": {
        "name",
        "tests",
        "failures",
        "errors",
        "group",
        "time",
        "skipped",
        "timestamp",
        "hostname",
        "id",
        "package",
        "file",
        "log",
        "url",
    },
    "testcase": {"name", "time", "classname", "group"},
    "failure": {"type", "message"},
    "property": {"name", "value"},
    "properties": set(),
    "system-out": set(),
}


def schema_problems(element: ET.Element) -> list[str]:
    """Where an element breaks the JUnit schema: children, attributes, the time pattern."""
    problems = []
    tag = element.tag
    for child in element:
        if child.tag not in _CHILDREN.get(tag, set()):
            problems.append(f"<{child.tag}> inside <{tag}>")
        problems += schema_problems(child)
    missing = _REQUIRED.get(tag, set()) - element.attrib.keys()
    if missing:
        problems.append(f"<{tag}> lacks {sorted(missing)}")
    extra = element.attrib.keys() - _ALLOWED.get(tag, set())
    if extra:
        problems.append(f"<{tag}> has {sorted(extra)}")
    time = element.attrib.get("time")
    if tag in ("testsuites", "testsuite") and time is not None and not _TIME.fullmatch(time):
        problems.append(f"<{tag}> time {time!r}")
    if tag in ("properties", "property") and (element.text or "").strip():
        problems.append(f"<{tag}> has text")
    return problems


def read_junit(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    assert schema_problems(root) == []
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    cases = suite.findall("testcase")
    assert int(suite.get("tests", "-1")) == len(cases)
    assert int(suite.get("failures", "-1")) == len(suite.findall("testcase/failure"))
    return suite


def test_the_schema_check_catches_what_breaks_the_schema() -> None:
    bad = ET.fromstring(
        '<testsuites><testsuite name="a" tests="1"><testcase/><failure/></testsuite></testsuites>'
    )
    assert schema_problems(bad) == [
        "<testcase> lacks ['name']",
        "<failure> inside <testsuite>",
        "<testsuite> lacks ['errors', 'failures']",
    ]


# -- a clean client ---------------------------------------------------------------------------------


async def test_a_clean_client_exits_0_with_the_outcomes_it_met_and_those_it_never_did(
    mock: MockServer, client: EmayClient, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    await client.send_single_sms("13800000000", "hello")
    await client.send_single_sms("13855500002", "hello")  # the blacklist magic number
    await advance(http, mock, 2)
    assert {r["state"] for r in await client.get_report()} == {"DELIVRD", "FAIL_BLACK_LIST"}

    code, data = await verdict(mock.url)
    assert code == 0 and data["failures"] == [] and data["clean"] is True
    seen, unseen = data["outcomes"]["seen"], data["outcomes"]["unseen"]
    assert {"sendSingleSMS:SUCCESS", "getReport:SUCCESS", "report:DELIVRD", "report:FAIL_BLACK_LIST"} <= set(
        seen
    )
    assert {"sendSingleSMS:ERROR_BALANCE", "report:TIMEOUT", "getReport:ERROR_OVER_SPEED"} <= set(unseen)
    assert not set(seen) & set(unseen)
    assert "push:retried" not in seen + unseen  # no callback: no push outcomes
    assert "mo:received" not in seen + unseen  # getMo never called
    how = {h["outcome"]: h for h in data["outcomes"]["howTo"]}
    assert set(how) == set(unseen) and all(h["how"] for h in how.values())
    assert how["report:FAIL_MOBILE"]["mobile"] == "13855500001"

    junit = tmp_path / "emay.xml"
    code, out, err = await verify(mock.url, "--junit", str(junit))
    assert (code, err) == (0, "")
    assert out.startswith(
        f"{APP_ID}: clean: 0 failures; outcomes met {len(seen)} of {len(seen) + len(unseen)}"
    )
    suite = read_junit(junit)
    assert suite.get("failures") == "0"
    names = [case.get("name") for case in suite.findall("testcase")]
    assert names == ["endpoint secure/sendSingleSMS", "endpoint secure/getReport"]
    props = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
    assert props["outcomes"] == f"met {len(seen)} of {len(seen) + len(unseen)}"


# -- a deviating client -------------------------------------------------------------------------------


async def test_a_deviating_client_exits_1_and_each_failure_is_named_with_its_journal_entry(
    mock: MockServer, client: EmayClient, tmp_path: Path
) -> None:
    await client.call("sendSingleSMS", {"mobile": "+8613800000000", "content": "hi"})  # a deviation
    utc_now = datetime.now(UTC).strftime(LONG_FORMAT)  # "send now", written in UTC: refused
    answer = await client.call(
        "sendSingleSMS", {"mobile": "13800000007", "content": "x", "timerTime": utc_now}
    )
    assert answer.code == "ERROR_SMS_TIME"

    junit = tmp_path / "emay.xml"
    code, out, err = await verify(mock.url, "--junit", str(junit))
    assert code == 1 and err == ""
    assert out.startswith(f"{APP_ID}: not clean: 2 failures")
    suite = read_junit(junit)
    failures = {case.get("name"): case.find("failure") for case in suite.findall("testcase")}
    prefix = failures["deviation mobile-country-prefix"]
    assert prefix is not None and prefix.get("type") == "mobile-country-prefix"
    assert re.search(r"journal entry \d+, sendSingleSMS, smsId \d+", prefix.get("message", ""))
    timer = failures["refusal ERROR_SMS_TIME (wrong-time-zone)"]
    assert timer is not None and timer.get("type") == "wrong-time-zone"
    assert "mobile 13800000007" in timer.get("message", "")

    code, data = await verdict(mock.url)
    assert code == 1
    kinds = {f["kind"]: f for f in data["failures"]}
    assert set(kinds) == {"mobile-country-prefix", "ERROR_SMS_TIME"}
    assert kinds["ERROR_SMS_TIME"]["diagnosis"] == "wrong-time-zone"
    journal = {e.id: e for e in mock.journal.query(app_id=APP_ID)}
    assert journal[kinds["ERROR_SMS_TIME"]["journalId"]].code == "ERROR_SMS_TIME"


# -- expected refusals --------------------------------------------------------------------------------


async def test_refusals_a_test_asked_for_are_outcomes_met_not_failures(
    mock: MockServer, client: EmayClient, http: aiohttp.ClientSession
) -> None:
    answer = await client.call(
        "sendSingleSMS", {"mobile": "13800000000", "content": "[emay:ERROR_OVER_SPEED]"}
    )
    assert answer.code == "ERROR_OVER_SPEED"  # a content marker: scripted
    async with http.post(f"{mock.url}/_mock/accounts/{APP_ID}/balance", json={"set": 0}) as resp:
        assert resp.status == 200
    assert (
        await client.call("sendSingleSMS", {"mobile": "13800000000", "content": "hi"})
    ).code == "ERROR_BALANCE"
    code, data = await verdict(mock.url)
    assert code == 0 and data["failures"] == []
    assert {"sendSingleSMS:ERROR_OVER_SPEED", "sendSingleSMS:ERROR_BALANCE"} <= set(data["outcomes"]["seen"])


async def test_expect_accepts_a_refusal_the_team_provokes_on_purpose(
    mock: MockServer, client: EmayClient
) -> None:
    assert (
        await client.call("sendSingleSMS", {"mobile": "138", "content": "hi"})
    ).code == "ERROR_MOBILE_ERROR"
    code, data = await verdict(mock.url)
    assert code == 1 and [f["kind"] for f in data["failures"]] == ["ERROR_MOBILE_ERROR"]
    code, data = await verdict(mock.url, "--expect", "ERROR_MOBILE_ERROR")
    assert code == 0 and data["failures"] == []
    code, out, err = await verify(mock.url, "--expect", "ERROR_NOPE")
    assert (code, out) == (2, "") and err.strip().count("\n") == 0 and "ERROR_NOPE" in err


# -- what stops a verdict: one line, exit 2 ------------------------------------------------------------


async def test_control_auth_is_asked_for_and_used(tmp_path: Path) -> None:
    config = Config(accounts=[account()], control_auth=parse_credentials("ci:s3cret"), source="tests")
    mock = MockServer(config)
    await mock.listen("127.0.0.1", 0)
    try:
        code, out, err = await verify(mock.url)
        assert (code, out) == (2, "")
        assert err.strip() == (
            f"emay-mock: the mock at {mock.url} wants control credentials: give --control-auth "
            "USER:PASSWORD (or set EMAY_MOCK_CONTROL_AUTH)"
        )
        code, out, err = await verify(mock.url, "--control-auth", "ci:wrong")
        assert (code, err.strip()) == (
            2,
            f"emay-mock: the mock at {mock.url} refused the control credentials given",
        )
        code, data = await verdict(mock.url, "--control-auth", "ci:s3cret")
        assert code == 0 and data["failures"] == []
        code, _, err = await run(
            "verify", "--url", mock.url, "--app-id", APP_ID, env={"EMAY_MOCK_CONTROL_AUTH": "ci:s3cret"}
        )
        assert (code, err) == (0, "")
    finally:
        await mock.close()


async def test_an_unknown_account_and_an_unreachable_mock_are_one_line_each(mock: MockServer) -> None:
    code, out, err = await verify(mock.url, app_id="EUCP-NOBODY")
    assert (code, out, err) == (2, "", f"emay-mock: the mock at {mock.url} has no account 'EUCP-NOBODY'\n")
    code, out, err = await verify("http://127.0.0.1:9")  # the discard port: nothing listens
    assert (code, out) == (2, "")
    assert err.startswith("emay-mock: cannot reach the mock at http://127.0.0.1:9: ") and err.count("\n") == 1
    code, out, err = await verify("127.0.0.1:8999")
    assert (code, out) == (2, "") and "--url must be an http:// or https:// URL" in err
    assert "Traceback" not in err


# -- the outcomes a client meets later, and their how-tos --------------------------------------------


async def test_each_how_to_provokes_its_outcome(make_mock: MockFactory, http: aiohttp.ClientSession) -> None:
    """The how-tos of a representative set, followed as written: magic numbers, content markers,
    a scenario snippet, a console action."""
    mock = await make_mock([account()])
    async with EmayClient(mock.url, APP_ID, SECRET) as emay:
        await emay.send_single_sms("13800000000", "hi")
        await emay.get_mo()
        await emay.create_template("【测试】您的验证码是${code}")
        before = await get_outcomes(http, mock)
        how = {h["outcome"]: h for h in before["howTo"]}
        wanted = ["report:FAIL_BLACK_LIST", "report:FAIL_UNKNOW", "report:FAIL_SIGN", "report:TIMEOUT",
                  "mo:received", "template:rejected", "sendSingleSMS:ERROR_OVER_SPEED",
                  "getMo:ERROR_OVER_SPEED", "sendSingleSMS:ERROR_BALANCE"]  # fmt: skip
        assert set(wanted) <= set(before["unseen"])
        for outcome in wanted:
            h = how[outcome]
            if h["via"] == "magic-number":
                await emay.send_single_sms(h["mobile"], "hi")
            elif h["via"] == "content-marker":
                await emay.send_single_sms("13800000000", f"hi {h['content']}")
            elif h["via"] == "scenario":
                async with http.post(f"{mock.url}/_mock/scenarios", data=h["scenario"].encode()) as resp:
                    assert resp.status in (200, 201), await resp.text()
                if outcome.startswith("template:"):
                    await emay.create_template("【测试】再来一个")
                elif outcome.startswith("getMo:"):
                    await emay.call("getMo", {})
                else:
                    await emay.call("sendSingleSMS", {"mobile": "13800000000", "content": "hi"})
            else:
                assert h["via"] == "console" and '{"set": 0}' in h["how"]
                async with http.post(f"{mock.url}/_mock/accounts/{APP_ID}/balance", json={"set": 0}) as resp:
                    assert resp.status == 200
                await emay.call("sendSingleSMS", {"mobile": "13800000000", "content": "hi"})
            await advance(http, mock, 6)  # a report, and an MO 5 s after it
    after = await get_outcomes(http, mock)
    assert [o for o in wanted if o not in after["seen"]] == []
    code, data = await verdict(mock.url)
    assert code == 0, data["failures"]  # every refusal above was asked for


async def test_push_steps_and_clicks_are_outcomes(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    async with Receiver() as receiver:
        receiver.on("/emay/report", lambda n: (500, "down") if n <= 2 else None)
        mock = await make_mock([pushing(receiver, retrySchedule=[10])])
        first = await get_outcomes(http, mock)
        # nothing used yet; what its callbacks can meet already counts
        assert first["seen"] == [] and first["unseen"] == [
            "push:delivered",
            "push:retried",
            "push:given-up",
            "mo:received",
        ]
        async with EmayClient(mock.url, APP_ID, SECRET) as emay:
            await emay.send_single_sms("13800000000", "hi")
            await advance(http, mock, 2)
            await receiver.wait_for(1, "/emay/report")
            await advance(http, mock, 11)
            await receiver.wait_for(2, "/emay/report")
            seen = await seen_once(http, mock, {"push:retried", "push:given-up"})
            assert "push:delivered" not in seen
            await emay.send_short_link_sms(
                [{"mobile": "13855500010"}], "【测试】看 {#短网址#}", "https://example.com/a"
            )
            await advance(http, mock, 12)
            await seen_once(http, mock, {"push:delivered", "shortlink:clicked", "sendShortLinkSMS:SUCCESS"})


async def seen_once(http: aiohttp.ClientSession, mock: MockServer, wanted: set[str]) -> set[str]:
    """The outcomes seen, once `wanted` are among them (a push's outcome is recorded after its answer)."""
    for _ in range(100):
        seen = set((await get_outcomes(http, mock))["seen"])
        if wanted <= seen:
            return seen
        await asyncio.sleep(0.05)
    raise AssertionError(f"never seen: {sorted(wanted - seen)}")


async def get_outcomes(http: aiohttp.ClientSession, mock: MockServer) -> dict[str, Any]:
    async with http.get(f"{mock.url}/_mock/outcomes", params={"appId": APP_ID}) as resp:
        assert resp.status == 200, await resp.text()
        data: dict[str, Any] = await resp.json()
    assert data["summary"] == f"met {data['met']} of {data['of']}" and data["met"] == len(data["seen"])
    return data


async def test_the_outcomes_endpoint_refuses_a_missing_or_unknown_account(
    mock: MockServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{mock.url}/_mock/outcomes") as resp:
        assert resp.status == 400 and (await resp.json())["error"] == "appId is required"
    async with http.get(f"{mock.url}/_mock/outcomes", params={"appId": "EUCP-NOBODY"}) as resp:
        assert resp.status == 404 and "EUCP-NOBODY" in (await resp.json())["error"]


# -- a client in another language ------------------------------------------------------------------


def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.fail(
            "node is not on PATH: the Node client's test needs Node.js (Debian: apt-get install nodejs)"
        )
    return found


@pytest.mark.parametrize("deviate", [False, True], ids=["clean", "deviating"])
async def test_a_node_client_on_its_built_ins_goes_through_verify(
    mock: MockServer, tmp_path: Path, deviate: bool
) -> None:
    env = {"EMAY_URL": mock.url, "EMAY_APP_ID": APP_ID, "EMAY_SECRET_KEY": SECRET}
    argv = [node(), str(NODE_CLIENT), *(["--deviate"] if deviate else [])]
    code, out, err = await run_command(argv, env=env)
    assert code == 0, f"{out}\n{err}"
    assert "ok - the blacklisted number's report is FAIL_BLACK_LIST" in out
    junit = tmp_path / "emay.xml"
    code, out, err = await verify(mock.url, "--junit", str(junit))
    suite = read_junit(junit)
    if not deviate:
        assert (code, err) == (0, ""), out
        assert suite.get("failures") == "0"
    else:
        assert code == 1
        (failure,) = suite.findall("testcase/failure")
        assert failure.get("type") == "mobile-country-prefix"
