"""The plain lane of sendSingleSMS (web/secure.py) against the general path it stands in for.

Two mocks with the same accounts, one with the lane and one without (Settings.plain_lane),
receive the same ciphertexts in the same order. Everything a client or a tester can see
must be the same: the answers, the journal, the messages, the contract report, the
balances and the result-code tally. Each case also says which path must have served it on
the first mock, so the lane cannot silently stop being taken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from emay_mock.protocol import envelope
from emay_mock.server import MockServer
from emay_mock.settings import Settings
from tests.conftest import SECRET, MockFactory, account
from tests.wire.secure_helpers import now_ms, window

KEY = SECRET.encode()
FORM = "application/x-www-form-urlencoded"  # what the Java SDK and PHP label the body
SDK_NULLS = {"customSmsId": None, "timerTime": None, "extendedCode": None}  # the Java SDK's habit
SMS_ID = re.compile(r"^\d{20}$")
# What differs between two processes by nature: ids and times (an expired request's reason
# says how long ago it expired, to the millisecond).
_MASKED = {"smsId", "journalId", "time", "submitTime", "sendTime", "reportDue", "reportTime", "times",
           "skewSeconds"}  # fmt: skip
_ELAPSED = re.compile(r"ended [0-9.]+ s ago \(platform time [^)]*\)")
# Reports stay pending while the test runs, on both mocks alike.
_SLOW_REPORTS = 3_600_000


@dataclass
class Case:
    name: str
    payload: dict[str, Any]
    lane: str  # which path of the first mock serves it: "plain" or "general"
    app_id: str = "EUCP-EMY-SMS1-PLAIN"
    gzip_on: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    charset: str = "UTF-8"
    repeat: int = 1  # the same ciphertext this many times (replays)


def _cases() -> list[Case]:
    def single(**fields: Any) -> dict[str, Any]:
        return window(**{"mobile": "13800138000", "content": "【测试】您的验证码是 1234", **fields})

    return [
        Case("bare", single(customSmsId="c-1"), "plain"),
        Case("the SDK's nulls", single(**SDK_NULLS), "plain"),
        Case("no customSmsId, gzip off", single(), "plain", gzip_on=False),
        Case("empty optionals", single(customSmsId="", timerTime="", extendedCode=""), "plain"),
        Case("form-urlencoded", single(), "plain", headers={"Content-Type": FORM}),
        Case("no Content-Type", single(), "plain", headers={"Content-Type": ""}),
        Case("a strict account", single(**SDK_NULLS), "plain", app_id="EUCP-EMY-SMS1-STRICT"),
        Case("a replay", single(customSmsId="again"), "plain", repeat=2),
        Case("a +86 prefix", single(mobile="+8613800138000"), "general"),
        Case("spaces around the mobile", single(mobile=" 13800138000 "), "general"),
        Case("a mobile as a number", single(mobile=13800138000), "general"),
        Case("a bad mobile", single(mobile="12345"), "general"),
        Case("no mobile", window(content="x"), "general"),
        Case("empty content", single(content=""), "general"),
        Case("content too long", single(content="长" * 501), "general"),
        Case("customSmsId too long", single(customSmsId="c" * 33), "general"),
        Case("customSmsId as a number", single(customSmsId=42), "general"),
        Case("a timer", single(timerTime="2099-01-01 00:00:00"), "general"),
        Case("an extended code", single(extendedCode="12"), "general"),
        Case("an unknown field", single(foo=None), "general"),
        Case("requestTime as a string", {**single(), "requestTime": str(now_ms())}, "general"),
        Case("requestTime as a float", {**single(), "requestTime": float(now_ms())}, "general"),
        Case("requestTime ahead", {**single(), "requestTime": now_ms() + 600_000}, "general"),
        Case("an expired window", {**single(), "requestTime": now_ms() - 120_000}, "general"),
        Case("no window", {"mobile": "13800138000", "content": "x"}, "general"),
        Case("a magic number", single(mobile="13855500002"), "general"),
        Case("a content marker", single(content="[emay:ERROR_PARAMS] hi"), "general"),
        Case("no encode header", single(), "general", headers={"encode": ""}),
        Case("text/plain", single(), "general", headers={"Content-Type": "text/plain"}),
        Case("GBK", single(), "general", charset="GBK"),
        Case("an unknown appId", single(), "general", app_id="EUCP-EMY-SMS1-NOBODY"),
        Case("not an allowed address", single(), "general", app_id="EUCP-EMY-SMS1-FENCED"),
        Case("the balance spent", single(), "plain", app_id="EUCP-EMY-SMS1-POOR"),
        Case("the balance short", single(), "general", app_id="EUCP-EMY-SMS1-POOR"),
        Case("within the rate", single(), "plain", app_id="EUCP-EMY-SMS1-SLOW"),
        Case("over the rate", single(), "general", app_id="EUCP-EMY-SMS1-SLOW"),
        Case("a JSON array", window(), "general"),  # replaced by a list below
        Case("not gzip", single(), "general", gzip_on=False, headers={"gzip": "on"}),
    ]


def _accounts() -> list[Any]:
    return [
        account("EUCP-EMY-SMS1-PLAIN"),
        account("EUCP-EMY-SMS1-STRICT", strict=True),
        account("EUCP-EMY-SMS1-FENCED", allowedIps=["10.9.8.7"]),
        account("EUCP-EMY-SMS1-POOR", balance=1),
        account("EUCP-EMY-SMS1-SLOW", maxRequestsPerSecond=1),
    ]


def _body(case: Case) -> bytes:
    payload: Any = [case.payload] if case.name == "a JSON array" else case.payload
    text = envelope.dump_json(payload).encode(case.charset)
    return envelope.aes_encrypt(KEY, envelope.gzip_bytes(text) if case.gzip_on else text)


async def _post(http: aiohttp.ClientSession, mock: MockServer, case: Case, body: bytes) -> dict[str, Any]:
    headers = {"appId": case.app_id, "encode": case.charset, "Content-Type": "application/octet-stream"}
    if case.gzip_on:
        headers["gzip"] = "on"
    headers.update(case.headers)
    headers = {k: v for k, v in headers.items() if v}  # "" leaves the header out
    url = f"{mock.url}/inter/sendSingleSMS"
    async with http.post(url, data=body, headers=headers, skip_auto_headers=["Content-Type"]) as resp:
        raw = await resp.read()
        code = resp.headers.get("result")
        data = None
        if code == "SUCCESS":
            gzip_on = headers.get("gzip") == "on"
            data = envelope.decode_response(raw, KEY, gzip_on=gzip_on, charset=case.charset)
            assert SMS_ID.match(data["smsId"]), data
            data = {**data, "smsId": "<id>"}
        return {"status": resp.status, "code": code, "data": data, "empty": raw == b""}


async def _state(http: aiohttp.ClientSession, mock: MockServer) -> dict[str, Any]:
    async def get(path: str) -> Any:
        async with http.get(f"{mock.url}{path}") as resp:
            assert resp.status == 200, path
            return await resp.json()

    journal = [
        _without_ids({k: v for k, v in e.items() if k not in ("id", "latencyMs", "smsIds")})
        for e in (await get("/_mock/journal?limit=1000"))["entries"]
    ]
    messages = {}
    for spec in _accounts():
        found = (await get(f"/_mock/messages?appId={spec.app_id}&limit=1000"))["messages"]
        messages[spec.app_id] = [_without_ids(m) for m in found]
    contract = _without_ids(await get("/_mock/contract"))
    balances = {a["appId"]: a["balance"] for a in (await get("/_mock/accounts"))["accounts"]}
    codes = (await get("/_mock/scenarios/coverage"))["resultCodes"]
    return {"journal": journal, "messages": messages, "contract": contract, "balances": balances,
            "codes": codes}  # fmt: skip


def _without_ids(value: Any) -> Any:
    """The same view with _MASKED masked."""
    if isinstance(value, dict):
        return {
            k: "<masked>" if k in _MASKED else _without_ids(v)
            for k, v in value.items()
        }  # fmt: skip
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    if isinstance(value, str):
        return _ELAPSED.sub("ended <masked>", value)
    return value


@pytest.mark.parametrize("durable", [False, True], ids=["memory", "db"])
async def test_the_plain_lane_matches_the_general_path(
    make_mock: MockFactory, http: aiohttp.ClientSession, tmp_path: Path, durable: bool
) -> None:
    def db(name: str) -> str | None:
        return str(tmp_path / f"{name}.db") if durable else None

    lane = await make_mock(
        accounts=_accounts(), settings=Settings(report_delay_ms=_SLOW_REPORTS), db=db("lane")
    )
    general = await make_mock(
        accounts=_accounts(),
        settings=Settings(report_delay_ms=_SLOW_REPORTS, plain_lane=False),
        db=db("general"),
    )
    submitted = {"lane": 0}
    original = lane.platform.submit

    def counting(*args: Any, **kwargs: Any) -> Any:
        submitted["lane"] += 1
        return original(*args, **kwargs)

    lane.platform.submit = counting  # type: ignore[method-assign]
    accepted = 0
    for case in _cases():
        body = _body(case)
        for attempt in range(case.repeat):
            before = submitted["lane"]
            got = await _post(http, lane, case, body)
            expected = await _post(http, general, case, body)
            assert got == expected, f"{case.name} (attempt {attempt + 1})"
            accepted += got["code"] == "SUCCESS"
            served_by = "general" if submitted["lane"] > before else "plain"
            if attempt == 0 and case.lane == "general":
                assert got["code"] != "SUCCESS" or served_by == "general", case.name
            if attempt == 0 and case.lane == "plain":
                assert (got["code"], served_by) == ("SUCCESS", "plain"), case.name
    assert await _state(http, lane) == await _state(http, general)
    if durable:  # what each wrote to its file: the same messages and balances after a restart
        for mock in (lane, general):
            await mock.close()
        settings = Settings(report_delay_ms=_SLOW_REPORTS)
        lane, general = [
            await make_mock(accounts=_accounts(), settings=settings, db=db(name))
            for name in ("lane", "general")
        ]
        restarted = await _state(http, lane)
        assert restarted == await _state(http, general)
        assert sum(map(len, restarted["messages"].values())) == accepted  # every message answered SUCCESS
