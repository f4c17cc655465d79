"""The UI as the platform's console, in headless Chromium: templates reviewed by hand, balances,
short links clicked as the phone, history paged back, and the UI behind control auth."""

from __future__ import annotations

import re
import sys
from typing import Any

import aiohttp
import pytest

from emay_mock.client import EmayClient
from emay_mock.config import Config
from emay_mock.control_auth import parse_credentials
from emay_mock.server import MockServer
from tests.conftest import APP_ID, SECRET, MockFactory, account
from tests.e2e.browser import ARTIFACTS
from tests.e2e.process import run_command


@pytest.fixture
async def hand_reviewed(make_mock: MockFactory) -> MockServer:
    """A mock whose one account's templates wait for a person to review them."""
    return await make_mock([account(templateReview="manual")])


async def test_a_template_approved_in_the_ui_lets_the_next_send_through(
    hand_reviewed: MockServer, ui_for: Any
) -> None:
    async with EmayClient(hand_reviewed.url, APP_ID, SECRET) as emay:
        ui = await ui_for(hand_reviewed)
        await ui.open("#templates")
        page = ui.page
        template_id = await emay.create_template("【商城】您的验证码是 {#code#}，5 分钟内有效。")
        card = page.locator(f'#templates li[data-template-id="{template_id}"]')
        await card.locator('.state:text-is("pending")').wait_for()  # live: it appears by itself
        assert "code" in await card.inner_text()
        assert await emay.query_template(template_id) == 0

        await card.get_by_role("button", name=f"Approve template {template_id}").click()
        await card.locator('.state:text-is("approved")').wait_for()
        await page.locator("#status").get_by_text("queryTemplateSMS answers 1").wait_for()
        assert await emay.query_template(template_id) == 1
        (sent,) = await emay.send_template_variable_sms(
            template_id, [{"mobile": "13800138000", "content": {"code": "482913"}}]
        )
    message = hand_reviewed.platform.messages.by_sms_id(sent["smsId"])
    assert message is not None and message.content.startswith("【商城】您的验证码是 482913")


async def test_a_template_rejected_in_the_ui_makes_the_send_answer_error_params(
    hand_reviewed: MockServer, ui_for: Any
) -> None:
    async with EmayClient(hand_reviewed.url, APP_ID, SECRET) as emay:
        template_id = await emay.create_template("【商城】周末特价，回 TD 退订")
        ui = await ui_for(hand_reviewed)
        await ui.open("#templates")
        page = ui.page
        # keyboard only: focus the Reject button and press Enter
        await page.get_by_role("button", name=f"Reject template {template_id}").focus()
        await page.keyboard.press("Enter")
        card = page.locator(f'#templates li[data-template-id="{template_id}"]')
        await card.locator('.state:text-is("rejected")').wait_for()
        assert await emay.query_template(template_id) == 2
        answer = await emay.call(
            "sendTemplateNormalSMS", {"templateId": template_id, "smses": [{"mobile": "13800138000"}]}
        )
    # The vendor document has no template code of its own: 请求参数错误 is its answer.
    assert answer.code == "ERROR_PARAMS"
    (entry,) = hand_reviewed.journal.query(endpoint="sendTemplateNormalSMS")
    assert entry.reason is not None and "rejected" in entry.reason["reason"]
    # a reviewer may change their mind: the approve button is still there
    await card.get_by_role("button", name=f"Approve template {template_id}").wait_for()


async def test_a_balance_set_to_0_in_the_ui_makes_the_next_send_answer_error_balance(
    mock: MockServer, ui_for: Any
) -> None:
    ui = await ui_for(mock)
    await ui.open("#accounts")
    page = ui.page
    card = page.locator(f'#accounts li[data-app-id="{APP_ID}"]')
    await card.locator(".balance").get_by_text("balance 100000").wait_for()
    await card.get_by_label("Segments").fill("0")
    await card.get_by_role("button", name="Set balance").click()
    await card.locator(".balance").get_by_text("balance 0", exact=True).wait_for()
    await page.locator("#status").get_by_text("The next send answers ERROR_BALANCE").wait_for()
    async with EmayClient(mock.url, APP_ID, SECRET) as emay:
        answer = await emay.call("sendSingleSMS", {"mobile": "13800138000", "content": "余额不足"})
        assert answer.code == "ERROR_BALANCE"
        # topped up again from the keyboard: type, Tab past "Set balance" to "Add to balance", Enter
        await card.get_by_label("Segments").fill("5")
        await page.keyboard.press("Tab")
        await page.keyboard.press("Tab")
        await page.keyboard.press("Enter")
        await card.locator(".balance").get_by_text("balance 5", exact=True).wait_for()
        await emay.send_single_sms("13800138000", "又可以发了")
    # the counts follow the send without a reload
    await card.locator(".chips").get_by_text("messages 1").wait_for()
    assert "strict" in await card.inner_text() and "pull queues" in await card.inner_text()
    # what the client met: a success and the refusal the balance of 0 asked for (and, a
    # second later, the message's report); opened, what it never met and how
    outcomes = card.locator("details.outcomes")
    await outcomes.locator("summary").get_by_text(re.compile(r"^Outcomes: met [23] of \d+$")).wait_for()
    await outcomes.locator("summary").click()
    await outcomes.get_by_text("sendSingleSMS:ERROR_OVER_SPEED").wait_for()
    assert "sendSingleSMS:ERROR_BALANCE" in await outcomes.locator("p").inner_text()


async def test_a_short_link_clicked_in_the_ui_appears_in_get_short_link(
    mock: MockServer, ui_for: Any
) -> None:
    async with EmayClient(mock.url, APP_ID, SECRET) as emay:
        ui = await ui_for(mock)
        await ui.open("#links")
        page = ui.page
        (sent,) = await emay.send_short_link_sms(
            [{"mobile": "13600136000"}], "账单详情 {#短网址#}", "https://example.com/bill", rule="2"
        )
        card = page.locator("#links li[data-code]").first
        await card.get_by_text(f"message {sent['smsId']}").wait_for()  # live, with its message
        assert "https://example.com/bill" in await card.inner_text()
        await card.get_by_role("button", name=re.compile("as the phone")).click()
        await card.get_by_text("1 click", exact=True).wait_for()
        agent = await page.evaluate("navigator.userAgent")
        assert agent in await card.locator("table").inner_text()
        clicks = await emay.get_short_link()
    assert [(c["mobile"], c["userAgent"], c["longLink"]) for c in clicks] == [
        ("13600136000", agent, "https://example.com/bill")
    ]


async def test_a_thread_of_1200_messages_shows_its_oldest_after_scrolling_or_older(
    mock: MockServer, ui_for: Any
) -> None:
    async with EmayClient(mock.url, APP_ID, SECRET) as emay:
        for start in range(0, 1200, 500):
            await emay.send_personality_all_sms(
                [
                    {"mobile": "13800138000", "content": f"第 {i:04d} 条"}
                    for i in range(start, min(start + 500, 1200))
                ]
            )
    async with aiohttp.ClientSession() as http:
        for n in (1, 2):  # replies among the newest messages, so both streams page together
            await http.post(
                f"{mock.url}/_mock/mo",
                json={"appId": APP_ID, "mobile": "13800138000", "content": f"回复 {n}"},
            )
    ui = await ui_for(mock)
    await ui.open("#inbox/13800138000")
    page = ui.page
    bubbles = page.locator("#thread .bubble")
    await page.locator('#thread .bubble.mt button:text-is("第 1199 条")').wait_for()
    assert await bubbles.count() == 202  # one page of each stream, not 1,200
    assert (
        await page.locator("#thread-title").inner_text()
        == "13800138000 · 200 sent, 2 replies shown, older above"
    )

    await page.locator("#thread").evaluate("el => el.scrollTop = 0")  # scrolling up loads the next page
    await page.locator('#thread .bubble.mt button:text-is("第 0999 条")').wait_for()
    older = page.get_by_role("button", name="Older messages")
    while await older.is_visible():
        count = await bubbles.count()
        await older.click()
        # the last page may be empty: then the button goes instead
        grown = f"document.querySelectorAll('#thread .bubble').length > {count}"
        await page.wait_for_function(f"{grown} || document.getElementById('thread-older').hidden")
    texts = await page.locator("#thread .bubble.mt button").all_inner_texts()
    assert texts == [f"第 {i:04d} 条" for i in range(1200)]  # in order, none missing, none twice
    assert await page.locator("#thread-title").inner_text() == "13800138000 · 1200 sent, 2 replies"


async def test_the_push_log_and_the_journal_load_older_pages(mock: MockServer, ui_for: Any) -> None:
    async with EmayClient(mock.url, APP_ID, SECRET) as emay:
        for i in range(130):
            await emay.call("sendSingleSMS", {"mobile": "1380013800", "content": f"坏号码 {i}"})
    ui = await ui_for(mock)
    await ui.open("#journal")
    page = ui.page
    rows = page.locator("#journal tbody tr")
    await rows.nth(99).wait_for()
    assert await rows.count() == 100
    await page.get_by_role("button", name="Older entries").click()
    await rows.nth(129).wait_for()
    assert await page.get_by_role("button", name="Older entries").is_hidden()
    assert "坏号码 0" not in await rows.first.inner_text()


async def test_the_ui_behind_control_auth(make_mock: MockFactory, ui_for: Any) -> None:
    credentials = parse_credentials("team:s3cret")
    mock = MockServer(Config(accounts=[account()], source="tests", control_auth=credentials))
    await mock.listen("127.0.0.1", 0)
    try:
        stranger = await ui_for(mock)
        answer = await stranger.page.request.get(f"{mock.url}/_mock/ui/")
        assert answer.status == 401 and answer.headers["www-authenticate"] == 'Basic realm="emay-mock"'

        ui = await ui_for(mock, http_credentials={"username": "team", "password": "s3cret"})
        await ui.open()  # the page, its files, its fetches and its event stream, all with the credentials
        async with EmayClient(mock.url, APP_ID, SECRET) as emay:
            await emay.send_single_sms("13800138000", "团队共享的沙箱")
        await ui.page.locator('#conversations button[data-mobile="13800138000"]').wait_for()
    finally:
        await mock.close()


async def test_the_console_pages_fit_a_phone(hand_reviewed: MockServer, ui_for: Any) -> None:
    async with EmayClient(hand_reviewed.url, APP_ID, SECRET) as emay:
        await emay.create_template("【商城】您的验证码是 {#code#}，5 分钟内有效。")
        await emay.send_short_link_sms(
            [{"mobile": "13700137000"}],
            "账单详情 {#短网址#}",
            "https://example.com/a/very/long/path/" + "x" * 80,
        )
    ui = await ui_for(hand_reviewed, width=390, height=844)
    await ui.open("#templates")
    page = ui.page
    for view, ready in (
        ("#templates", "#templates li"),
        ("#links", "#links li"),
        ("#accounts", "#accounts li"),
    ):
        await page.evaluate(f"location.hash = {view!r}")
        await page.locator(ready).first.wait_for()
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), view


async def test_screenshots_of_the_console(browser: Any) -> None:
    """The command that makes docs/ui-{templates,links,accounts}.png, run as a user runs it; the
    pictures go to test-artifacts/. (`browser`: Chromium is there, installed if need be.)"""
    for page in ("templates", "links", "accounts"):
        out = ARTIFACTS / f"ui-{page}.png"
        argv = [sys.executable, "-m", "emay_mock.testing.screenshot", str(out), "--page", page]
        code, stdout, stderr = await run_command(argv)
        assert code == 0, stdout + stderr
        assert (stdout, stderr) == (f"wrote {out}\n", "")
        assert out.stat().st_size > 10_000
