"""Short links: real URLs served by the mock, clicks over HTTP, getShortLink, both rules."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from emay_mock.client import EmayClient
from emay_mock.server import MockServer
from emay_mock.settings import Settings
from tests.conftest import APP_ID, SECRET, MockFactory
from tests.support.control import last_reason, message
from tests.support.raw import raw_http
from tests.wire.secure_helpers import send_json, window

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/75.0.3770.100 Safari/537.36"
)
WECHAT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.40"
)
CLICK_KEYS = {
    "mobile",
    "accessTime",
    "equipment",
    "browser",
    "longLink",
    "accessAddress",
    "userAgent",
    "appId",
}


async def contents(http: aiohttp.ClientSession, mock: MockServer, sent: list[dict[str, Any]]) -> list[str]:
    return [(await message(http, mock, s["smsId"]))["content"] for s in sent]


async def test_rule_1_one_link_for_the_request_and_a_real_click(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    sent = await client.send_short_link_sms(
        [{"mobile": "13800000001"}, {"mobile": "13800000002"}],
        "北京欢迎您，旅游详情请点击{#短网址#} 回T退订",
        "https://example.com/travel?id=1",
        rule="1",
    )
    texts = await contents(http, mock, sent)
    assert texts[0] == texts[1]
    short_url = texts[0].removeprefix("北京欢迎您，旅游详情请点击").removesuffix(" 回T退订")
    assert short_url.startswith(f"{mock.url}/s/") and len(short_url.rsplit("/", 1)[1]) == 10
    async with http.get(short_url, headers={"User-Agent": CHROME}, allow_redirects=False) as resp:
        assert resp.status == 302
        assert resp.headers["Location"] == "https://example.com/travel?id=1"
    (click,) = await client.get_short_link()
    assert set(click) == CLICK_KEYS
    assert click["mobile"] is None  # rule 1 cannot tell who clicked
    assert (click["equipment"], click["browser"]) == ("Windows 10", "Chrome")
    assert click["longLink"] == "https://example.com/travel?id=1"
    assert click["accessAddress"] == short_url
    assert click["userAgent"] == CHROME and click["appId"] == APP_ID
    assert len(click["accessTime"]) == 19
    assert await client.get_short_link() == []


async def test_rule_2_one_link_per_recipient_knows_who_clicked(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    sent = await client.send_short_link_sms(
        [{"mobile": "13800000001"}, {"mobile": "13800000002"}],
        "点击 {#短网址#}",
        "http://example.com",
        rule="2",
    )
    urls = [t.removeprefix("点击 ") for t in await contents(http, mock, sent)]
    assert urls[0] != urls[1]
    async with http.get(urls[1], headers={"User-Agent": WECHAT}, allow_redirects=False) as resp:
        assert resp.status == 302
    (click,) = await client.get_short_link()
    assert click["mobile"] == "13800000002"
    assert (click["equipment"], click["browser"]) == ("iOS 17.0", "WeChat Browser")


async def test_simulated_click_with_a_faker_user_agent(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    sent = await client.send_short_link_sms(
        [{"mobile": "13800000001"}], "{#短网址#}", "http://example.com", rule="2"
    )
    (url,) = await contents(http, mock, sent)
    code = url.rsplit("/", 1)[1]
    async with http.post(f"{mock.url}/_mock/shortlinks/{code}/click") as resp:
        assert resp.status == 201
        made = (await resp.json())["click"]
    assert made["userAgent"].startswith("Mozilla/") or made["userAgent"].startswith("Opera/")
    assert made["mobile"] == "13800000001" and made["source"] == "api"
    async with http.post(f"{mock.url}/_mock/shortlinks/{code}/click", json={"userAgent": CHROME}) as resp:
        assert (await resp.json())["click"]["browser"] == "Chrome"
    assert len(await client.get_short_link()) == 2
    # The UI says its clicks are the console's; no request may pass for a browser or a scenario.
    async with http.post(f"{mock.url}/_mock/shortlinks/{code}/click", json={"source": "console"}) as resp:
        assert resp.status == 201 and (await resp.json())["click"]["source"] == "console"
    for claimed in ("http", "scenario"):
        async with http.post(f"{mock.url}/_mock/shortlinks/{code}/click", json={"source": claimed}) as resp:
            assert resp.status == 400
            assert (await resp.json())["error"] == f"source must be one of api, console, got {claimed!r}"
    assert len(await client.get_short_link()) == 1  # the queue since: the console's, not the refused
    async with http.post(f"{mock.url}/_mock/shortlinks/nope/click") as resp:
        assert resp.status == 404
    async with http.get(f"{mock.url}/s/nope", allow_redirects=False) as resp:
        assert resp.status == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"content": "no placeholder", "url": "http://x.cn", "shortLinkRule": "1"}, "content"),
        ({"content": "{#短网址#}", "url": "ftp://x.cn", "shortLinkRule": "1"}, "url"),
        ({"content": "{#短网址#}", "shortLinkRule": "1"}, "url"),
        ({"content": "{#短网址#}", "url": "http://x.cn", "shortLinkRule": "3"}, "shortLinkRule"),
        ({"content": "{#短网址#}", "url": "http://x.cn"}, "shortLinkRule"),
    ],
)
async def test_short_link_refusals(
    client: EmayClient, mock: MockServer, payload: dict[str, Any], field: str
) -> None:
    answer = await send_json(client, "sendShortLinkSMS", window(smses=[{"mobile": "13800000000"}], **payload))
    assert answer.code == "ERROR_PARAMS"
    assert last_reason(mock)["field"] == field


async def test_short_links_apply_the_shared_rules_to_the_rendered_text(client: EmayClient) -> None:
    for smses, content, code in (
        ([], "{#短网址#}", "ERROR_MOBILE_EMPTY"),
        ([{"mobile": "1"}], "{#短网址#}", "ERROR_MOBILE_ERROR"),
        ([{"mobile": "13800000000"}], "x" * 480 + "{#短网址#}", "ERROR_LONG_CONTENT"),
    ):
        answer = await client.call(
            "sendShortLinkSMS",
            {"smses": smses, "content": content, "url": "http://e.cn", "shortLinkRule": "1"},
        )
        assert answer.code == code


async def test_public_url_sets_the_short_link_base(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock(settings=Settings(public_url="https://sms.example.test"))
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        sent = await client.send_short_link_sms([{"mobile": "13800000000"}], "{#短网址#}", "http://e.cn")
    (text,) = await contents(http, mock, sent)
    assert text.startswith("https://sms.example.test/s/")


async def test_a_real_get_records_the_user_agent_it_sent_even_none(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    sent = await client.send_short_link_sms(
        [{"mobile": "13800000001"}], "{#短网址#}", "http://e.cn/x", rule="2"
    )
    (url,) = await contents(http, mock, sent)
    path = url.removeprefix(mock.url)
    request = f"GET {path} HTTP/1.1\r\nHost: phone\r\nConnection: close\r\n\r\n".encode()
    raw = await raw_http(mock.url, request)
    assert raw.startswith(b"HTTP/1.1 302 ") and b"\r\nLocation: http://e.cn/x\r\n" in raw
    async with http.get(url, headers={"User-Agent": "curl/8.5.0"}, allow_redirects=False) as resp:
        assert resp.status == 302
    bare, curl = await client.get_short_link()
    assert (bare["userAgent"], bare["equipment"], bare["browser"]) == ("", "Unknown", "Unknown")
    assert (curl["userAgent"], curl["browser"]) == ("curl/8.5.0", "curl")
    assert bare["mobile"] == curl["mobile"] == "13800000001"
