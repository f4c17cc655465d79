"""The contract rule over the wire: what official Emay clients send is observed, never refused;
what no official client does stays a deviation that a strict account refuses.

Each habit of docs/contract.md's fact list is sent here, in its exact shape, to a strict
account; each remaining deviation kind is sent to a strict and to an ordinary account.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest

from emay_mock.client import EmayClient, SimpleClient
from emay_mock.protocol import envelope
from emay_mock.protocol.notes import Deviation
from emay_mock.protocol.sign import make_sign
from emay_mock.protocol.times import BEIJING, COMPACT_FORMAT
from emay_mock.server import MockServer
from tests.conftest import APP_ID, ROOT, SECRET, MockFactory, account
from tests.support.control import contract
from tests.wire.secure_helpers import now_ms, send_json, window
from tests.wire.simple_helpers import signed

DOCS = ROOT / "docs" / "contract.md"
# What the Java clients put around every secure body (docs/contract.md, `sdk-envelope`).
JAVA_HEADERS = {
    "Content-Type": "application/x-www-form-urlencoded",
    "remoteSign": "SDK",
    "Charset": "UTF-8",
}


async def java(client: EmayClient, endpoint: str, payload: dict[str, Any]) -> Any:
    """Send as the SDK does (gzip on, UTF-8, its headers) and return the data of a SUCCESS."""
    answer = await send_json(client, endpoint, payload, gzip_on=True, headers=JAVA_HEADERS)
    assert answer.code == "SUCCESS", (endpoint, answer.code)
    return answer.data


# -- the fact list: one function per habit, each sending its exact shape ----------------------


@dataclass
class Ctx:
    mock: MockServer
    client: EmayClient
    http: aiohttp.ClientSession


async def sdk_envelope(ctx: Ctx) -> None:
    assert (await java(ctx.client, "getBalance", window()))["balance"] > 0
    await java(
        ctx.client, "sendSingleSMS", window(mobile="13800000000", content="【某某公司】您的验证码是123")
    )


async def sdk_null_fields(ctx: Ctx) -> None:
    sent = await java(
        ctx.client,
        "sendSingleSMS",
        window(mobile="13800000000", content="【某某公司】您的验证码是123", customSmsId=None,
               extendedCode=None, timerTime=None),
    )  # fmt: skip
    assert sent["customSmsId"] is None


async def sdk_personality_all(ctx: Ctx) -> None:
    item = {"customSmsId": "pa1", "mobile": "13822220006", "content": "天气不错", "extendedCode": "01",
            "timerTime": None}  # fmt: skip
    payload = {"smses": [item], "timerTime": None, "extendedCode": None, **window()}
    (sent,) = await java(ctx.client, "sendPersonalityAllSMS", payload)
    assert sent["customSmsId"] == "pa1"
    stored = ctx.mock.platform.messages.by_sms_id(sent["smsId"])
    assert stored is not None and stored.extended_code == "01" and stored.timer_time is None


async def demo_template_content_null(ctx: Ctx) -> None:
    template_id = await ctx.client.create_template("【某某公司】您的订单已发货")
    items = [{"mobile": "13800000001", "customSmsId": "1", "content": None},
             {"mobile": "13800000002", "customSmsId": "2", "content": None}]  # fmt: skip
    sent = await java(ctx.client, "sendTemplateNormalSMS", window(templateId=template_id, smses=items))
    assert [s["customSmsId"] for s in sent] == ["1", "2"]


def string_window() -> dict[str, str]:
    """The validity window as the newer demo's string map writes it."""
    return {key: str(value) for key, value in window(requestValidPeriod=30).items()}


async def demo_template_string_envelope(ctx: Ctx) -> None:
    created = await java(
        ctx.client, "createTemplateSMS", {"templateContent": "【某某公司】会议改到三点", **string_window()}
    )
    template_id = created["templateId"]
    queried = await java(ctx.client, "queryTemplateSMS", {"templateId": template_id, **string_window()})
    assert queried["status"] == "1"
    deleted = await java(ctx.client, "deleteTemplateSMS", {"templateId": template_id, **string_window()})
    assert deleted["code"] == "true"


async def consumer_empty_timer(ctx: Ctx) -> None:
    for i in range(2):
        sent = await java(
            ctx.client,
            "sendSingleSMS",
            window(mobile="13800000000", content=f"验证码 {i}", customSmsId=f"order-{i}", extendedCode=None,
                   timerTime=""),
        )  # fmt: skip
        assert sent["customSmsId"] == f"order-{i}"


async def php_simple_form(ctx: Ctx) -> None:
    url = ctx.mock.url

    async def post(path: str, params: dict[str, str]) -> Any:
        stamp = datetime.now(BEIJING).strftime(COMPACT_FORMAT)  # date("YmdHis") in PRC
        form = {"appId": APP_ID, "timestamp": stamp, "sign": make_sign(APP_ID, SECRET, stamp), **params}
        async with ctx.http.post(f"{url}{path}", data=form) as resp:  # a form body, as curl sends it
            assert resp.headers["Content-Type"].startswith("application/json")
            body = await resp.json()
        assert body["code"] == "SUCCESS", (path, body)
        return body["data"]

    timer = (datetime.now(BEIJING) + timedelta(hours=1)).strftime(COMPACT_FORMAT)
    options = {"customSmsId": "10001", "timerTime": timer, "extendedCode": "1234"}
    sent = await post(
        "/simpleinter/sendSMS",
        {"mobiles": "18001000000,18001000001", "content": "今天天气不错啊&st=xxx", **options},
    )
    assert [s["mobile"] for s in sent] == ["18001000000", "18001000001"]
    personal = await post(
        "/simpleinter/sendPersonalitySMS",
        {"18001000000": "今天天气不错啊&st=xxx", "18001000001": "今天天气不错", **options},
    )
    assert len(personal) == 2
    assert await post("/simpleinter/getReport", {"number": "300"}) == []
    assert await post("/simpleinter/getMo", {"number": "300"}) == []
    assert (await post("/simpleinter/getBalance", {}))["balance"] > 0


Habit = Callable[[Ctx], Awaitable[None]]
# id (as in docs/contract.md) -> (what the client sends, the observation kinds it leaves)
HABITS: dict[str, tuple[Habit, set[str]]] = {
    "sdk-envelope": (sdk_envelope, set()),
    "sdk-null-fields": (sdk_null_fields, {"null-field"}),
    "sdk-personality-all": (sdk_personality_all, {"null-field"}),
    "demo-template-content-null": (demo_template_content_null, {"null-field", "template-instant-review"}),
    "demo-template-string-envelope": (demo_template_string_envelope, {"envelope-number-as-string"}),
    "consumer-empty-timer": (consumer_empty_timer, {"null-field", "empty-optional"}),
    "php-simple-form": (php_simple_form, set()),
}


def documented_habits() -> list[str]:
    """The ids of the fact list's rows in docs/contract.md."""
    text = DOCS.read_text("utf-8")
    section = text[text.index("## The official clients' wire habits") :]
    section = section[: section.index("\n## ", 1)]
    return re.findall(r"^\| `([a-z-]+)` \|", section, re.M)


def test_every_documented_habit_has_its_test_and_every_test_its_row() -> None:
    assert documented_habits() == list(HABITS)


@pytest.mark.parametrize("habit", list(HABITS))
async def test_an_official_client_habit_is_accepted_by_a_strict_account(
    make_mock: MockFactory, http: aiohttp.ClientSession, habit: str
) -> None:
    mock = await make_mock([account(strict=True)])
    send, kinds = HABITS[habit]
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        await send(Ctx(mock, client, http))
    report = await contract(http, mock)
    assert report["strict"] is True
    assert report["deviations"] == [] and report["refusals"] == [], report["explanation"]
    assert {o["kind"] for o in report["observations"]} == kinds
    assert report["clean"] is True


async def test_the_four_shapes_of_the_issue_leave_only_observations(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock([account(strict=True)])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        ctx = Ctx(mock, client, http)
        for habit in ("sdk-personality-all", "demo-template-content-null", "demo-template-string-envelope",
                      "consumer-empty-timer"):  # fmt: skip
            await HABITS[habit][0](ctx)
    report = await contract(http, mock)
    assert report["deviations"] == [] and report["clean"] is True
    habits = {o["kind"]: o for o in report["observations"] if o["category"] == "official-client habit"}
    assert set(habits) == {"null-field", "envelope-number-as-string", "empty-optional"}
    assert habits["envelope-number-as-string"]["count"] == 6  # both fields of three template calls
    assert not any(o["refusedInStrictMode"] for o in report["observations"])
    assert report["summary"] == (
        "no deviations; 3 kinds of official-client habits observed; 1 caution: template-instant-review"
    )


# -- what stays a deviation --------------------------------------------------------------------

STRICT = "EUCP-EMY-SMS1-STRICT"


@dataclass
class Offence:
    """One request that only a client can get wrong: sent to an account, it answers a code."""

    kind: Deviation
    send: Callable[[str, str], Awaitable[str]]  # (mock url, appId) -> the Emay code


def secure_sender(endpoint: str, build: Callable[[], dict[str, Any]]) -> Callable[[str, str], Awaitable[str]]:
    async def send(url: str, app_id: str) -> str:
        async with EmayClient(url, app_id, SECRET) as client:
            return (await send_json(client, endpoint, build())).code or ""

    return send


def simple_sender(path: str, params: Callable[[str], dict[str, str]]) -> Callable[[str, str], Awaitable[str]]:
    async def send(url: str, app_id: str) -> str:
        async with SimpleClient(url, app_id, SECRET) as client:
            return (await client.request(path, params(app_id))).code or ""

    return send


def upper_sign(app_id: str) -> dict[str, str]:
    params = signed(app_id)
    params["sign"] = params["sign"].upper()
    return params


def float_time() -> dict[str, Any]:
    return {"requestTime": now_ms() + 0.5, "requestValidPeriod": 60, "mobile": "13800000000", "content": "x"}


def single(mobile: Any) -> Callable[[], dict[str, Any]]:
    return lambda: window(mobile=mobile, content="x")


def stray_comma(app_id: str) -> dict[str, str]:
    return signed(app_id, mobiles="13800000001,,13800000002", content="x")


COLOURED = [{"mobile": "13800000000", "colour": "red"}]  # an item field no endpoint defines
TICKS = {"requestTime": 638_700_000_000_000_000, "requestValidPeriod": 30}
OFFENCES = [
    Offence(Deviation.REQUEST_TIME_FUTURE, secure_sender("getBalance", lambda: dict(TICKS))),
    Offence(Deviation.REQUEST_TIME_FLOAT, secure_sender("sendSingleSMS", float_time)),
    Offence(Deviation.NUMBER_AS_STRING, secure_sender("getReport", lambda: window(number="10"))),
    Offence(Deviation.STRING_AS_NUMBER, secure_sender("sendSingleSMS", single(13800000000))),
    Offence(Deviation.MOBILE_PREFIX, secure_sender("sendSingleSMS", single("+8613800000000"))),
    Offence(Deviation.SIGN_UPPERCASE, simple_sender("/simpleinter/getBalance", upper_sign)),
    Offence(Deviation.UNKNOWN_FIELD,
            secure_sender("sendBatchSMS", lambda: window(content="x", smses=COLOURED))),
    Offence(Deviation.EMPTY_MOBILE_ITEM, simple_sender("/simpleinter/sendSMS", stray_comma)),
]  # fmt: skip


def test_every_deviation_kind_has_an_offence() -> None:
    assert sorted(o.kind.value for o in OFFENCES) == sorted(d.value for d in Deviation)


@pytest.mark.parametrize("offence", OFFENCES, ids=lambda o: o.kind.value)
async def test_a_deviation_is_refused_by_a_strict_account_and_noted_for_others(
    make_mock: MockFactory, http: aiohttp.ClientSession, offence: Offence
) -> None:
    mock = await make_mock([account(), account(STRICT, strict=True)])
    assert await offence.send(mock.url, STRICT) == "ERROR_PARAMS"
    strict = await contract(http, mock, STRICT)
    (refusal,) = strict["refusals"]
    assert refusal["example"]["detail"]["rule"] == offence.kind.value
    assert refusal["example"]["reason"].startswith("strict mode: ")
    assert strict["clean"] is False and "1 refusal (1 × ERROR_PARAMS)" in strict["summary"]
    assert mock.platform.messages.count() == 0

    assert await offence.send(mock.url, APP_ID) == "SUCCESS"
    lenient = await contract(http, mock)
    assert [d["kind"] for d in lenient["deviations"]] == [offence.kind.value]
    assert lenient["clean"] is False and lenient["summary"].startswith("1 kind of deviation (1 time)")


async def test_a_null_for_an_unknown_field_is_observed_but_a_value_is_not(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock([account(strict=True)])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        assert (await send_json(client, "getBalance", window(colour=None))).code == "SUCCESS"
        assert (await send_json(client, "getBalance", window(colour=""))).code == "ERROR_PARAMS"
    report = await contract(http, mock)
    assert [o["kind"] for o in report["observations"]] == ["null-field"]
    assert [r["field"] for r in report["refusals"]] == ["colour"]


# -- the summary counts refusals ---------------------------------------------------------------


async def test_refusals_make_a_run_unclean_though_it_has_no_deviation(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    await client.get_balance()
    await client.send_single_sms("13800000000", "x")
    # A fixed body: under the account's key its padding is invalid. (A fresh window each run
    # would decrypt to valid padding now and then, and be refused at the gzip stage instead.)
    wrong_key = envelope.encode_request({"requestTime": 0, "requestValidPeriod": 60}, b"F" * 16, gzip_on=True)
    for _ in range(5):
        assert (await client.post("getBalance", wrong_key)).code == "ERROR_ENCRYPTION"
    report = await contract(http, mock)
    assert report["requests"] == 7 and report["deviations"] == []
    assert report["summary"] == "no deviations; 5 refusals (5 × ERROR_ENCRYPTION)"
    assert report["clean"] is False
    first, second = report["explanation"].splitlines()
    assert first == f"not clean: {report['summary']}"
    assert second.startswith("- refusal ERROR_ENCRYPTION (5 times), e.g. journal entry 3 (getBalance): PKCS5")


async def test_refusals_scripted_by_a_scenario_are_counted_apart_and_keep_the_run_clean(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    answer = await client.call("sendSingleSMS", {"mobile": "13800000000", "content": "[emay:ERROR_BALANCE]"})
    assert answer.code == "ERROR_BALANCE"
    report = await contract(http, mock)
    assert report["clean"] is True and report["refusals"] == []
    assert report["summary"] == "no deviations; 1 refusal scripted by scenarios"
    assert report["explanation"] == f"clean: {report['summary']}"
