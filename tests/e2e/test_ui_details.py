"""The UI's small print, in headless Chromium: an error stays on its page, long text is cut
with an ellipsis, counts read as English, and a click from the console says so."""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from emay_mock.client import EmayClient
from emay_mock.server import MockServer
from tests.conftest import APP_ID, SECRET

# Is the element cut, and does the cut show as an ellipsis? (An inline element has no width
# of its own: text-overflow never applies to it.)
CUT_WITH_ELLIPSIS = """(el) => {
  const style = getComputedStyle(el);
  return el.clientWidth > 0 && el.scrollWidth > el.clientWidth
    && style.textOverflow === "ellipsis" && style.overflow === "hidden" && style.whiteSpace === "nowrap";
}"""

# The placeholder's width in the input's font against the room the input gives it.
PLACEHOLDER_CUT_WITH_ELLIPSIS = """(el) => {
  const style = getComputedStyle(el);
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.font = style.font;
  const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const placeholder = getComputedStyle(el, "::placeholder");
  return ctx.measureText(el.placeholder).width > room
    && style.textOverflow === "ellipsis" && placeholder.textOverflow === "ellipsis";
}"""


async def test_an_accounts_page_error_does_not_follow_to_the_other_pages(
    mock: MockServer, ui_for: Any
) -> None:
    ui = await ui_for(mock)
    await ui.open("#accounts")
    page = ui.page
    status = page.locator("#status")
    card = page.locator(f'#accounts li[data-app-id="{APP_ID}"]')
    await card.get_by_role("button", name="Add to balance").click()  # nothing typed
    await status.get_by_text("Add a whole number of segments").wait_for()
    assert await status.get_attribute("data-kind") == "error"
    await page.get_by_role("link", name="Templates").click()
    await page.locator("#view-templates").wait_for()
    assert await status.inner_text() == ""
    await page.get_by_role("link", name="Accounts").click()
    assert await status.inner_text() == ""  # said once, for the input it was about


async def test_a_long_preview_and_the_search_placeholder_end_in_an_ellipsis(
    mock: MockServer, ui_for: Any
) -> None:
    async with EmayClient(mock.url, APP_ID, SECRET) as emay:
        await emay.send_single_sms("13800138000", "【商城】" + "您的订单已发货，请注意查收快递" * 6)
    for width in (1366, 390):  # a laptop's three panes, a phone's one
        ui = await ui_for(mock, width=width, height=800)
        await ui.open()
        preview = ui.page.locator('#conversations button[data-mobile="13800138000"] .last')
        await preview.wait_for()
        assert await preview.evaluate(CUT_WITH_ELLIPSIS), width
        assert await ui.page.locator("#search-q").evaluate(PLACEHOLDER_CUT_WITH_ELLIPSIS), width


async def test_counts_are_singular_for_one(
    mock: MockServer, ui_for: Any, http: aiohttp.ClientSession
) -> None:
    async with EmayClient(mock.url, APP_ID, SECRET) as emay:
        await emay.send_single_sms("13900139000", "【店】周末特价")
    async with http.post(
        f"{mock.url}/_mock/mo", json={"appId": APP_ID, "mobile": "13900139000", "content": "好"}
    ):
        pass
    async with http.post(
        f"{mock.url}/_mock/scenarios",
        params={"name": "one-rule"},
        data="rules: [{match: {mobile: '137'}, then: {code: ERROR_BALANCE}}]",
    ) as resp:
        assert resp.status == 201, await resp.text()
    ui = await ui_for(mock)
    await ui.open("#inbox/13900139000")
    page = ui.page
    await page.locator("#thread .bubble.mo").wait_for()
    assert await page.locator("#thread-title").inner_text() == "13900139000 · 1 sent, 1 reply"
    conversation = page.locator('#conversations button[data-mobile="13900139000"] .sr-only')
    assert await conversation.inner_text() == ", 1 sent, 1 reply"
    await ui.open("#scenarios")
    card = page.locator("#scenarios section", has_text="one-rule")
    await card.get_by_text(re.compile(r"· 1 rule$")).wait_for()


async def test_a_click_from_the_links_page_is_by_the_console(mock: MockServer, ui_for: Any) -> None:
    async with EmayClient(mock.url, APP_ID, SECRET) as emay:
        await emay.send_short_link_sms(
            [{"mobile": "13600136000"}], "账单 {#短网址#}", "https://example.com/b", rule="2"
        )
    ui = await ui_for(mock)
    await ui.open("#links")
    card = ui.page.locator("#links li[data-code]").first
    await card.get_by_role("button", name=re.compile("as the phone")).click()
    await card.get_by_text("1 click", exact=True).wait_for()
    by = card.locator("table tbody tr td").last
    assert await by.inner_text() == "console"
