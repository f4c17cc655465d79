"""Every field code of every send endpoint, each for the reason docs/protocol.md#field-rules gives.

One table of cases is played against each of the twelve SMS send endpoints (ten secure,
two simple): first a valid request, which must succeed, then the same request with one
field broken, which must be refused whole with the spec's code, nothing stored and
nothing charged. The voice send has its own table in test_voice_and_retrieve.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest

from emay_mock.client import EmayClient
from emay_mock.protocol.times import BEIJING, COMPACT_FORMAT, LONG_FORMAT
from emay_mock.server import MockServer
from tests.conftest import APP_ID, SECRET, MockFactory, account
from tests.support.control import messages
from tests.wire.secure_helpers import send_json, window
from tests.wire.simple_helpers import signed

POOR = "EUCP-EMY-SMS1-POOR0"


@dataclass(frozen=True)
class Case:
    """One request, in endpoint-neutral terms; each endpoint maps it onto its own fields."""

    mobiles: tuple[str, ...] = ("13800000001",)
    content: str | None = "【测试】hello"
    timer: timedelta | str | None = None  # a distance from now, or the literal text to send
    custom: str | None = "c1"
    ext: str | None = "01"
    app_id: str = APP_ID


@dataclass(frozen=True)
class Refusal:
    code: str
    change: dict[str, Any]
    why: str  # a word the journal's reason must contain


REFUSALS = [
    Refusal("ERROR_MOBILE_EMPTY", {"mobiles": ()}, "mobile"),
    Refusal("ERROR_MOBILE_NUMBER", {"mobiles": tuple(f"1380000{i:04d}" for i in range(501))}, "limit"),
    Refusal("ERROR_MOBILE_ERROR", {"mobiles": ("13800000001", "1380000000")}, "not a mobile number"),
    Refusal("ERROR_MOBILE_ERROR", {"mobiles": ("23800000001",)}, "not a mobile number"),
    Refusal("ERROR_CONTENT_EMPTY", {"content": ""}, "empty"),
    Refusal("ERROR_LONG_CONTENT", {"content": "字" * 501}, "the limit is 500"),
    Refusal("ERROR_SMS_TIME", {"timer": timedelta(minutes=-10)}, "in the past"),
    Refusal("ERROR_SMS_TIME", {"timer": timedelta(days=91)}, "90 days"),
    Refusal("ERROR_SMS_TIME", {"timer": "next tuesday"}, "is not"),
    Refusal("ERROR_CUSTOM_SMSID", {"custom": "c" * 33}, "the limit is 32"),
    Refusal("ERROR_EXTENDED_CODE", {"ext": "12a"}, "not all digits"),
    Refusal("ERROR_EXTENDED_CODE", {"ext": "1" * 13}, "the limit is 12"),
    Refusal("ERROR_BALANCE", {"app_id": POOR}, "balance"),
]


def timer_text(timer: timedelta | str | None, fmt: str) -> str | None:
    if isinstance(timer, timedelta):
        return (datetime.now(BEIJING) + timer).strftime(fmt)
    return timer


@dataclass
class Endpoint:
    name: str
    family: str  # secure | simple
    build: Callable[[Case, dict[str, str]], dict[str, Any]]  # (case, templates by appId) -> request
    unreachable: frozenset[str] = frozenset()


def _smses(case: Case, **per: Any) -> list[dict[str, Any]]:
    return [{"mobile": m, "customSmsId": case.custom, **per} for m in case.mobiles]


def _options(case: Case) -> dict[str, Any]:
    return {"timerTime": timer_text(case.timer, LONG_FORMAT), "extendedCode": case.ext}


ENDPOINTS = [
    Endpoint(
        "sendSingleSMS",
        "secure",
        lambda c, t: {
            # One mobile field: the case's last number (a broken one is always last), and no
            # way to send too many.
            **({"mobile": c.mobiles[-1]} if c.mobiles else {}),
            "content": c.content,
            "customSmsId": c.custom,
            **_options(c),
        },
        frozenset({"ERROR_MOBILE_NUMBER"}),
    ),
    Endpoint(
        "sendBatchSMS", "secure", lambda c, t: {"smses": _smses(c), "content": c.content, **_options(c)}
    ),
    Endpoint(
        "sendBatchOnlySMS",
        "secure",
        lambda c, t: {"mobiles": list(c.mobiles), "content": c.content, **_options(c)},
        frozenset({"ERROR_CUSTOM_SMSID"}),  # the endpoint has no customSmsId
    ),
    Endpoint(
        "sendPersonalitySMS", "secure", lambda c, t: {"smses": _smses(c, content=c.content), **_options(c)}
    ),
    Endpoint(
        "sendPersonalityAllSMS",
        "secure",
        lambda c, t: {
            "smses": [
                {"mobile": m, "content": c.content, "customSmsId": c.custom, **_options(c)} for m in c.mobiles
            ]
        },
    ),
    Endpoint(
        "sendTemplateNormalSMS",
        "secure",
        lambda c, t: {"templateId": t["plain"], "smses": _smses(c), **_options(c)},
        # The text is the approved template's: it can be neither empty nor too long.
        frozenset({"ERROR_CONTENT_EMPTY", "ERROR_LONG_CONTENT"}),
    ),
    Endpoint(
        "sendTemplateVariableSMS",
        "secure",
        lambda c, t: {
            "templateId": t["variable"],
            "smses": _smses(c, content={"v": c.content}),
            **_options(c),
        },
    ),
    Endpoint(
        "sendShortLinkSMS",
        "secure",
        lambda c, t: {
            "smses": _smses(c),
            "content": c.content if not c.content else c.content + "{#短网址#}",
            "url": "https://example.com/a?b=1",
            "shortLinkRule": "2",
            **_options(c),
        },
    ),
    Endpoint(
        "/simpleinter/sendSMS",
        "simple",
        lambda c, t: {
            "mobiles": ",".join(c.mobiles),
            "content": c.content,
            "timerTime": timer_text(c.timer, COMPACT_FORMAT),
            "customSmsId": c.custom,
            "extendedCode": c.ext,
        },
    ),
    Endpoint(
        "/simpleinter/sendPersonalitySMS",
        "simple",
        lambda c, t: {
            **{m: c.content for m in c.mobiles},
            "timerTime": timer_text(c.timer, COMPACT_FORMAT),
            "customSmsId": c.custom,
            "extendedCode": c.ext,
        },
    ),
]


@pytest.fixture
async def two_accounts(make_mock: MockFactory) -> MockServer:
    return await make_mock([account(balance=1000), account(POOR, balance=0)])


async def _templates(mock: MockServer, app_id: str) -> dict[str, str]:
    async with EmayClient(mock.url, app_id, SECRET) as client:
        return {
            "plain": await client.create_template("【通知】您的订单已发货"),
            "variable": await client.create_template("{#v#}"),
        }


async def _send(
    http: aiohttp.ClientSession, mock: MockServer, endpoint: Endpoint, case: Case, templates: dict[str, str]
) -> tuple[str, Any]:
    """(code, the raw answer: the secure body bytes or the simple JSON object)."""
    request = endpoint.build(case, templates)
    if endpoint.family == "secure":
        async with EmayClient(mock.url, case.app_id, SECRET) as client:
            answer = await send_json(client, endpoint.name, window(**request))
        assert answer.status == 200
        return answer.code or "", answer.body
    params = {k: v for k, v in request.items() if v is not None}
    async with http.post(f"{mock.url}{endpoint.name}", data=signed(app_id=case.app_id, **params)) as resp:
        assert resp.status == 200
        body = json.loads(await resp.text())
    return body["code"], body


async def _stored_count(http: aiohttp.ClientSession, mock: MockServer) -> int:
    return len(await messages(http, mock, limit="1000"))


async def _balance(http: aiohttp.ClientSession, mock: MockServer) -> int:
    async with http.post(f"{mock.url}/simpleinter/getBalance", data=signed()) as resp:
        return int(json.loads(await resp.text())["data"]["balance"])


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
async def test_every_field_code_for_its_reason_refusing_the_request_whole(
    two_accounts: MockServer, http: aiohttp.ClientSession, endpoint: Endpoint
) -> None:
    mock = two_accounts
    templates = {APP_ID: await _templates(mock, APP_ID), POOR: await _templates(mock, POOR)}

    valid = Case()
    code, _ = await _send(http, mock, endpoint, valid, templates[APP_ID])
    assert code == "SUCCESS", endpoint.name
    stored, balance = await _stored_count(http, mock), await _balance(http, mock)
    assert stored == 1 and balance == 999

    for refusal in REFUSALS:
        if refusal.code in endpoint.unreachable:
            continue
        case = replace(valid, **refusal.change)
        code, raw = await _send(http, mock, endpoint, case, templates[case.app_id])
        label = (endpoint.name, refusal.code, refusal.change)
        assert code == refusal.code, label
        # The wire form of a refusal: an empty secure body, or {"code"} alone.
        assert raw == (b"" if endpoint.family == "secure" else {"code": refusal.code}), label
        reason = mock.journal.query(limit=1)[0].reason
        assert reason is not None and refusal.why in reason["reason"], (label, reason)
        assert await _stored_count(http, mock) == stored, label  # nothing stored
        assert await _balance(http, mock) == balance, label  # nothing charged


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
async def test_the_limits_themselves_are_accepted(
    two_accounts: MockServer, http: aiohttp.ClientSession, endpoint: Endpoint
) -> None:
    """500 recipients, 500 characters, 32-character customSmsId, 12-digit extendedCode, a
    timer 89 days ahead, and a prefixed mobile: each is inside the spec's limits."""
    mock = two_accounts
    templates = await _templates(mock, APP_ID)
    limits = Case(
        mobiles=tuple(f"1390000{i:04d}" for i in range(500)),
        content="字" * 7,
        timer=timedelta(days=89),
        custom="c" * 32,
        ext="1" * 12,
    )
    cases = [
        replace(limits, mobiles=limits.mobiles[:1]) if endpoint.name == "sendSingleSMS" else limits,
        Case(content="字" * 500),
        Case(mobiles=("+8613800000002",)),
    ]
    if endpoint.name in ("sendTemplateNormalSMS", "sendShortLinkSMS"):
        cases.pop(1)  # the text is the template's, or grows by the short URL
    for case in cases:
        code, _ = await _send(http, mock, endpoint, case, templates)
        assert code == "SUCCESS", (endpoint.name, case.mobiles[:1], len(case.content or ""))
