"""The sandbox UI in headless Chromium: live inbox, acting as the phone, the push log, the clock."""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from emay_mock.client import EmayClient
from emay_mock.protocol.rules import Rules
from emay_mock.protocol.times import BEIJING
from emay_mock.server import MockServer
from emay_mock.settings import Settings
from emay_mock.testing.receiver import Receiver
from tests.conftest import APP_ID, KEY, SECRET, MockFactory, account
from tests.e2e.browser import ARTIFACTS
from tests.e2e.process import run_command


async def test_slash_redirects_to_the_ui_and_assets_are_served(mock: MockServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{mock.url}/", allow_redirects=False) as resp:
            assert resp.status == 302 and resp.headers["Location"] == "/_mock/ui/"
        async with http.get(f"{mock.url}/_mock/ui/") as resp:
            assert resp.status == 200 and resp.content_type == "text/html"
            assert 'src="ui.js"' in await resp.text()
        async with http.get(f"{mock.url}/_mock/ui/ui.js") as resp:
            assert resp.status == 200 and resp.content_type == "text/javascript"
        async with http.get(f"{mock.url}/_mock/ui/..%2F..%2Fserver.py") as resp:
            assert resp.status == 404


async def test_a_message_sent_through_the_client_appears_live(mock: MockServer, ui_for: Any) -> None:
    ui = await ui_for(mock)
    await ui.open()
    page = ui.page
    await page.evaluate("window.__sameDocument = true")
    async with EmayClient(mock.url, APP_ID, SECRET) as emay:
        sent = await emay.send_single_sms("13800138000", "【测试】验证码 7788", custom_sms_id="signup-42")

    conversation = page.locator('#conversations button[data-mobile="13800138000"]')
    await conversation.wait_for()
    await conversation.click()
    bubble = page.locator(f'#thread button[data-sms-id="{sent["smsId"]}"]')
    await bubble.wait_for()
    assert await bubble.inner_text() == "【测试】验证码 7788"

    # its report arrives on the scheduler's clock, and the bubble follows without a reload
    await page.get_by_role("button", name="+10 s").click()
    await page.locator('#thread .state.ok:text("DELIVRD")').wait_for()
    await bubble.click()
    await page.locator("#detail .timeline").get_by_text("report", exact=True).wait_for()
    detail = await page.locator("#detail").inner_text()
    assert sent["smsId"] in detail and "signup-42" in detail and "DELIVRD" in detail
    assert await page.evaluate("window.__sameDocument") is True  # never reloaded


async def test_a_reply_typed_in_the_ui_comes_back_from_get_mo(mock: MockServer, ui_for: Any) -> None:
    async with EmayClient(mock.url, APP_ID, SECRET) as emay:
        await emay.send_single_sms("13900139000", "【店】周末特价，回 TD 退订", extended_code="77")
        ui = await ui_for(mock)
        await ui.open("#inbox/13900139000")
        page = ui.page
        await page.locator("#thread .bubble.mt").wait_for()
        await page.get_by_label("Reply as the phone").fill("多少钱？")
        await page.keyboard.press("Enter")
        await page.locator('#thread .bubble.mo .body:text("多少钱？")').wait_for()

        # keyboard only: from the text box, Tab to "Reply", Tab to "Reply TD", Enter
        await page.get_by_label("Reply as the phone").focus()
        await page.keyboard.press("Tab")
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.id") == "reply-td"
        await page.keyboard.press("Enter")
        await page.locator('#thread .bubble.mo .body:text-is("TD")').wait_for()

        mo = await emay.get_mo()
    assert [(m["mobile"], m["content"], m["extendedCode"]) for m in mo] == [
        ("13900139000", "多少钱？", "77"),  # a reply goes to the extended code the phone was written from
        ("13900139000", "TD", "77"),
    ]


async def test_a_dead_push_redelivered_from_the_ui_reaches_the_receiver(
    make_mock: MockFactory, receiver: Receiver, ui_for: Any
) -> None:
    push = {"reportUrl": receiver.path_url("/emay/report"), "moUrl": receiver.path_url("/emay/mo")}
    mock = await make_mock(accounts=[account(push=push)])
    receiver.on("/emay/report", lambda n: (502, "bad gateway") if n <= 4 else None)
    async with EmayClient(mock.url, APP_ID, SECRET) as emay:
        sent = await emay.send_single_sms("13700137000", "你好")
    async with aiohttp.ClientSession() as http:
        await http.post(f"{mock.url}/_mock/clock/advance", json={"seconds": 700})
    assert len(receiver.at("/emay/report")) == 4  # +0, +10 s, +70 s, +670 s: all failed, now dead

    ui = await ui_for(mock)
    await ui.open("#pushes")
    page = ui.page
    card = page.locator('#pushes li[data-status="dead"]')
    await card.wait_for()
    assert "502" in await card.inner_text()
    await card.get_by_role("button", name=re.compile("Redeliver")).click()
    await page.locator('#pushes li[data-status="delivered"]').wait_for()
    await page.locator("#status").get_by_text("redelivered: delivered").wait_for()

    assert len(receiver.at("/emay/report")) == 5
    (report,) = receiver.at("/emay/report")[-1].items(KEY)
    assert report["smsId"] == sent["smsId"] and report["state"] == "DELIVRD"


async def test_clicking_the_short_link_records_the_browsers_user_agent(mock: MockServer, ui_for: Any) -> None:
    async with EmayClient(mock.url, APP_ID, SECRET) as emay:
        (sent,) = await emay.send_short_link_sms(
            [{"mobile": "13600136000"}], "活动详情 {#短网址#}", "https://example.com/sale", rule="2"
        )
        ui = await ui_for(mock)
        await ui.open(f"#inbox/13600136000/{sent['smsId']}")
        page = ui.page
        await page.get_by_role("button", name="Click the short link as this phone").click()
        await page.locator("#detail").get_by_text("Clicks (1)").wait_for()
        agent = await page.evaluate("navigator.userAgent")
        clicks = await emay.get_short_link()
    assert [(c["mobile"], c["userAgent"], c["longLink"]) for c in clicks] == [
        ("13600136000", agent, "https://example.com/sale")
    ]


async def test_search_finds_by_custom_sms_id_content_and_sms_id(mock: MockServer, ui_for: Any) -> None:
    async with EmayClient(mock.url, APP_ID, SECRET) as emay:
        first = await emay.send_single_sms("13500135000", "订单已发货", custom_sms_id="order-981")
        await emay.send_single_sms("13500135001", "会议提醒")
    ui = await ui_for(mock)
    await ui.open()
    page = ui.page
    search = page.get_by_label("Search messages")
    results = page.locator("#conversations button[data-sms-id]")

    await search.fill("order-981")
    await search.press("Enter")
    await page.locator("#list-title").get_by_text("1 result").wait_for()
    assert await results.get_attribute("data-sms-id") == first["smsId"]

    await search.fill("会议")
    await search.press("Enter")
    await page.locator("#list-title").get_by_text("for “会议”").wait_for()
    assert "13500135001" in await results.inner_text()

    await search.fill("+86 135 0013 5001")  # a mobile, written as people write it
    await search.press("Enter")
    await page.locator("#list-title").get_by_text("1 result").wait_for()
    assert "会议提醒" in await results.inner_text()

    await search.fill(first["smsId"])
    await search.press("Enter")
    await page.locator("#list-title").get_by_text(f"for “{first['smsId']}”").wait_for()
    await results.click()
    await page.locator("#detail-title").get_by_text(first["smsId"]).wait_for()


async def test_a_scheduled_message_shows_its_time_and_the_clock_buttons_bring_its_report(
    mock: MockServer, ui_for: Any
) -> None:
    at = datetime.now(BEIJING) + timedelta(minutes=5)
    async with EmayClient(mock.url, APP_ID, SECRET) as emay:
        sent = await emay.send_single_sms("13300133000", "五分钟后发送", timer_time=at)
    ui = await ui_for(mock)
    await ui.open(f"#inbox/13300133000/{sent['smsId']}")
    page = ui.page
    await page.locator('#thread .state:text("scheduled")').wait_for()
    timeline = page.locator("#detail .timeline")
    await timeline.get_by_text("scheduled", exact=True).wait_for()
    assert at.strftime("%Y-%m-%d %H:%M:%S") in await page.locator("#detail").inner_text()

    await page.get_by_role("button", name="+10 min").click()
    await page.locator('#thread .state.ok:text("DELIVRD")').wait_for()
    await timeline.get_by_text("report", exact=True).wait_for()


async def test_times_are_shown_in_the_configured_zone(make_mock: MockFactory, ui_for: Any) -> None:
    mock = await make_mock(settings=Settings(rules=Rules(tz=ZoneInfo("America/New_York"))))
    ui = await ui_for(mock)
    await ui.open()
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{mock.url}/_mock/clock") as resp:
            clock = await resp.json()
    shown = datetime.strptime(await ui.page.locator("#clock-now").inner_text(), "%Y-%m-%d %H:%M:%S")
    # New York is 12 or 13 hours from Beijing: a minute apart means the same zone
    assert abs((shown - datetime.strptime(clock["now"], "%Y-%m-%d %H:%M:%S")).total_seconds()) < 60
    assert await ui.page.locator("#clock-zone").inner_text() == "America/New_York"


async def test_on_a_phone_width_one_pane_at_a_time_with_a_way_back(mock: MockServer, ui_for: Any) -> None:
    async with EmayClient(mock.url, APP_ID, SECRET) as emay:
        await emay.send_single_sms("13400134000", "手机上看")
    ui = await ui_for(mock, width=390, height=844)
    await ui.open()
    page = ui.page
    await page.locator('#conversations button[data-mobile="13400134000"]').click()
    await page.locator("#thread .bubble.mt").wait_for()
    assert not await page.locator("#conversations").is_visible()
    assert await page.locator("#reply-text").is_visible()
    # nothing wider than the phone: no horizontal scrolling
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await page.get_by_role("button", name="← Conversations").click()
    await page.locator("#conversations").wait_for()


async def test_scenarios_and_coverage_are_shown(mock: MockServer, ui_for: Any) -> None:
    ui = await ui_for(mock)
    await ui.open("#scenarios")
    page = ui.page
    await page.locator("#scenarios").get_by_text("default", exact=True).wait_for()
    await page.get_by_text("Load a scenario").click()
    await page.get_by_label("Name").fill("blacklist")
    await page.get_by_label("YAML").fill(
        "rules:\n  - match: {mobile: {prefix: '139'}}\n    then: {report: {state: FAIL_BLACK_LIST}}\n"
    )
    await page.get_by_role("button", name="Load", exact=True).click()
    await page.get_by_role("button", name="Remove blacklist").wait_for()
    assert mock.scenarios.scenarios[0].name == "blacklist"  # tried first, before the defaults
    await page.get_by_label("YAML").fill("rules: [{match: {colour: red}}]\n")
    await page.get_by_role("button", name="Load", exact=True).click()
    await page.locator("#scenario-problems").wait_for()
    assert "colour" in await page.locator("#scenario-problems").inner_text()
    assert await page.locator("#coverage").get_by_text("ERROR_OVER_SPEED 0").count() == 1


async def test_screenshot_of_the_inbox(browser: Any) -> None:
    """The command that makes docs/ui-inbox.png, run as a user runs it: test-artifacts/ui-inbox.png
    and a phone-width one beside it. (`browser`: Chromium is there, installed if need be, or the
    test is skipped.)"""
    for extra, name in (([], "ui-inbox.png"), (["--phone"], "ui-inbox-phone.png")):
        argv = [sys.executable, "-m", "emay_mock.testing.screenshot", str(ARTIFACTS / name), *extra]
        code, out, err = await run_command(argv)
        assert code == 0, out + err
        assert out == f"wrote {ARTIFACTS / name}\n"
        assert (ARTIFACTS / name).stat().st_size > 10_000


async def test_the_journal_shows_why_a_request_was_refused(mock: MockServer, ui_for: Any) -> None:
    async with EmayClient(mock.url, APP_ID, SECRET) as emay:
        answer = await emay.call("sendSingleSMS", {"mobile": "1380013800", "content": "短了一位"})
    assert answer.code == "ERROR_MOBILE_ERROR"
    async with EmayClient(mock.url, "EUCP-EMY-SMS1-NOBODY", SECRET) as stranger:
        assert (await stranger.call("getBalance")).code == "ERROR_APPID"
    ui = await ui_for(mock)
    await ui.open("#journal")
    page = ui.page
    row = page.locator("#journal tbody tr", has_text="ERROR_MOBILE_ERROR")
    await row.wait_for()
    assert "1380013800" in await row.inner_text()  # the reason names the value that broke the rule
    assert await page.locator("#journal tbody tr", has_text="ERROR_APPID").count() == 0
    await page.get_by_label("every account").check()
    await page.locator("#journal tbody tr", has_text="ERROR_APPID").wait_for()
