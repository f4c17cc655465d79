"""Every success body of the 24 endpoints: the vendor's field names and JSON types, exactly.

The vendor's tables type every field String except `balance` (long / Int). Optional
fields the client did not set are JSON null (docs/DECISIONS.md). The answers are read
as raw JSON, never through the client's conversions (which would hide "100" vs 100).
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from emay_mock.client import EmayClient
from emay_mock.protocol import envelope
from emay_mock.protocol.times import BEIJING, COMPACT_FORMAT
from emay_mock.server import MockServer
from tests.conftest import APP_ID
from tests.support.control import message_row
from tests.wire.simple_helpers import signed

STRING, OPTIONAL = (str,), (str, type(None))
SEND = {"mobile": STRING, "smsId": STRING, "customSmsId": OPTIONAL}
REPORT = {
    "mobile": STRING,
    "smsId": STRING,
    "customSmsId": OPTIONAL,
    "state": STRING,
    "desc": STRING,
    "receiveTime": STRING,
    "submitTime": STRING,
    "extendedCode": OPTIONAL,
}
MO = {"mobile": STRING, "content": STRING, "moTime": STRING, "extendedCode": OPTIONAL}
CLICK = {
    "mobile": OPTIONAL,  # null under shortLinkRule 1: one shared link cannot tell who clicked
    "accessTime": STRING,
    "equipment": STRING,
    "browser": STRING,
    "longLink": STRING,
    "accessAddress": STRING,
    "userAgent": STRING,
    "appId": STRING,
}


def shaped(value: Any, fields: dict[str, tuple[type, ...]]) -> bool:
    """Exactly these keys, each of an allowed JSON type (a bool is never a number here)."""
    return (
        isinstance(value, dict)
        and set(value) == set(fields)
        and all(type(value[name]) in types for name, types in fields.items())
    )


def balance_object(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"balance"} and type(value["balance"]) is int


async def test_secure_bodies(client: EmayClient, mock: MockServer, http: aiohttp.ClientSession) -> None:
    async def data(endpoint: str, payload: dict[str, Any] | None = None) -> Any:
        answer = await client.call(endpoint, payload)
        assert answer.code == "SUCCESS", (endpoint, answer.code)
        return answer.data

    single = await data("sendSingleSMS", {"mobile": "13800000001", "content": "x", "extendedCode": "7"})
    assert shaped(single, SEND)
    sends: list[tuple[str, dict[str, Any]]] = [
        ("sendBatchSMS", {"smses": [{"mobile": "13800000002", "customSmsId": "b"}], "content": "x"}),
        ("sendBatchOnlySMS", {"mobiles": ["13800000003"], "content": "x"}),
        ("sendPersonalitySMS", {"smses": [{"mobile": "13800000004", "content": "x"}]}),
        ("sendPersonalityAllSMS", {"smses": [{"mobile": "13800000005", "content": "x"}]}),
    ]
    for endpoint, payload in sends:
        (result,) = await data(endpoint, payload)
        assert shaped(result, SEND), endpoint

    created = await data("createTemplateSMS", {"templateContent": "码 {#c#}"})
    assert shaped(created, {"templateId": STRING}) and len(created["templateId"]) == 18
    template_id = created["templateId"]
    queried = await data("queryTemplateSMS", {"templateId": template_id})
    assert shaped(queried, {"templateId": STRING, "status": STRING}) and queried["status"] == "1"
    unknown = await data("queryTemplateSMS", {"templateId": "1"})
    assert unknown == {"templateId": "1", "status": "-1"}
    (normal,) = await data(
        "sendTemplateVariableSMS",
        {"templateId": template_id, "smses": [{"mobile": "13800000006", "content": {"c": "1"}}]},
    )
    assert shaped(normal, SEND)
    plain_id = (await data("createTemplateSMS", {"templateContent": "通知"}))["templateId"]
    (plain,) = await data(
        "sendTemplateNormalSMS", {"templateId": plain_id, "smses": [{"mobile": "13800000007"}]}
    )
    assert shaped(plain, SEND)
    deleted = await data("deleteTemplateSMS", {"templateId": template_id})
    assert shaped(deleted, {"templateId": STRING, "code": STRING}) and deleted["code"] == "true"

    (linked,) = await data(
        "sendShortLinkSMS",
        {
            "smses": [{"mobile": "13800000008"}],
            "content": "{#短网址#}",
            "url": "http://e.cn",
            "shortLinkRule": "1",
        },
    )
    assert shaped(linked, SEND)
    short_url = message_row(mock, linked["smsId"]).content
    async with http.get(short_url, allow_redirects=False) as resp:
        assert resp.status == 302

    await mock.platform.scheduler.advance(1)
    async with http.post(
        f"{mock.url}/_mock/mo", json={"appId": APP_ID, "mobile": "13800000001", "content": "TD"}
    ):
        pass
    reports = await data("getReport")
    assert len(reports) == 8 and all(shaped(r, REPORT) for r in reports)
    (mo,) = await data("getMo")
    assert shaped(mo, MO)
    (click,) = await data("getShortLink")
    assert shaped(click, CLICK)
    assert balance_object(await data("getBalance"))


async def test_signed_bodies(mock: MockServer, http: aiohttp.ClientSession) -> None:
    async def answer(path: str, **params: str) -> Any:
        async with http.post(f"{mock.url}{path}", data=signed(**params)) as resp:
            assert resp.status == 200
            text = await resp.text()
        if path.startswith("/report/"):
            return text
        body = json.loads(text)
        assert set(body) == {"code", "data"} and body["code"] == "SUCCESS", (path, body)
        return body["data"]

    sent = await answer("/simpleinter/sendSMS", mobiles="13800000001,13800000002", content="x")
    assert len(sent) == 2 and all(shaped(s, SEND) for s in sent)
    (personal,) = await answer("/simpleinter/sendPersonalitySMS", **{"13800000003": "x"}, customSmsId="p")
    assert shaped(personal, SEND) and personal["customSmsId"] == "p"
    voice = await answer("/voice/sendSMS", mobile="13800000004", content="1234")
    assert shaped(voice, SEND)
    await mock.platform.scheduler.advance(1)
    async with http.post(
        f"{mock.url}/_mock/mo", json={"appId": APP_ID, "mobile": "13800000001", "content": "TD"}
    ):
        pass
    reports = await answer("/simpleinter/getReport")
    assert len(reports) == 3 and all(shaped(r, REPORT) for r in reports)
    (mo,) = await answer("/simpleinter/getMo")
    assert shaped(mo, MO)
    (voice_report,) = await answer("/voice/getReport")
    assert shaped(voice_report, REPORT)
    assert balance_object(await answer("/simpleinter/getBalance"))
    assert balance_object(await answer("/voice/getBalance"))
    now = datetime.now(BEIJING)
    start, end = (now - timedelta(minutes=5)).strftime(COMPACT_FORMAT), now.strftime(COMPACT_FORMAT)
    assert await answer("/report/retrieveReport", startTime=start, endTime=end) == "SUCCESS"


async def test_the_secure_answer_is_exactly_the_json_the_vendor_shows(client: EmayClient) -> None:
    """Byte level: compact JSON, UTF-8 text not escaped, keys in the vendor's order."""
    answer = await client.call(
        "sendSingleSMS", {"mobile": "13800000000", "content": "x", "customSmsId": "编号"}
    )
    text = gzip.decompress(envelope.aes_decrypt(client.key, answer.body)).decode("utf-8")
    assert text == f'{{"mobile":"13800000000","smsId":"{answer.data["smsId"]}","customSmsId":"编号"}}'
