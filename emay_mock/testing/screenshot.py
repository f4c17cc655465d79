"""Pictures of the sandbox UI, the same every time: `python -m emay_mock.testing.screenshot OUT.png`.

It starts a mock in-process with the demo account, sends a few messages (a code, a shipping
notice that gets a reply, a blacklisted number, a short link), lets their reports arrive,
and photographs the inbox in headless Chromium. `--phone` takes the phone-width view.
`--page templates|links|accounts` photographs a console page instead, after the platform's
side is filled: templates reviewed by hand, short links with a click, a second account
with its own settings, a balance and a dead push. The UI tests run this command, so every
picture in docs/ is one command away from what the tests see.

Needs Playwright (a test extra: `pip install 'emay-mock[test]'`) and a Chromium on the
machine (Debian: `apt-get install chromium fonts-wqy-microhei`); nothing is downloaded.
`EMAY_MOCK_CHROMIUM` names the browser executable when it is not on the PATH.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp

from emay_mock.client import EmayClient
from emay_mock.config import DEMO_APP_ID, DEMO_SECRET_KEY, Config, demo_account
from emay_mock.server import MockServer
from emay_mock.settings import AccountSpec, PushSettings

if TYPE_CHECKING:
    from playwright.async_api import Browser

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Root has no namespace sandbox in a container, and a closed network must not make
# Chromium wait for Google's services.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
MOBILE = "13800138000"
# The console pages: where each is, and what shows it is filled.
PAGES = {
    "inbox": ("", ""),
    "templates": ("#templates", "#templates li[data-status=pending]"),
    "links": ("#links", "#links table"),
    "accounts": ("#accounts", "#accounts .chips"),
}
SHOP_APP_ID = "EUCP-EMY-SMS1-SHOP2"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "Version/17.0 Mobile/15E148 Safari/604.1"
)


@dataclass(frozen=True)
class View:
    width: int
    height: int
    phone: bool


DESKTOP = View(1366, 820, phone=False)
PHONE = View(390, 844, phone=True)


class ScreenshotError(RuntimeError):
    """What is missing to take the picture, and how to get it."""


def find_chromium() -> str | None:
    """The Chromium to drive: `EMAY_MOCK_CHROMIUM`, else the first of the usual names on the PATH."""
    override = os.environ.get("EMAY_MOCK_CHROMIUM")
    if override:
        return override if os.access(override, os.X_OK) else None
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


async def populate(url: str, app_id: str = DEMO_APP_ID, secret_key: str = DEMO_SECRET_KEY) -> str:
    """Send the inbox's messages, a reply, and let five seconds pass; the smsId shown in detail."""
    async with EmayClient(url, app_id, secret_key) as emay:
        sent = await emay.send_single_sms(MOBILE, "【商城】您的验证码是 482913，5 分钟内有效。")
        await emay.send_single_sms(MOBILE, "【商城】订单 A1029 已发货，回复 TD 退订", extended_code="12")
        await emay.send_single_sms("13855500002", "【商城】双十一特价")
        await emay.send_short_link_sms(
            [{"mobile": "13700137000"}], "账单详情 {#短网址#}", "https://example.com/b"
        )
    async with aiohttp.ClientSession() as http:
        reply = {"appId": app_id, "mobile": MOBILE, "content": "已收到，谢谢", "extendedCode": "12"}
        async with http.post(f"{url}/_mock/mo", json=reply) as resp:
            resp.raise_for_status()
        async with http.post(f"{url}/_mock/clock/advance", json={"seconds": 5}) as resp:
            resp.raise_for_status()
    return str(sent["smsId"])


def console_config() -> Config:
    """The demo account under manual template review, and a second account with settings to show."""
    demo = replace(demo_account(), template_review="manual")
    shop = AccountSpec(
        app_id=SHOP_APP_ID, secret_key=DEMO_SECRET_KEY, balance=0, strict=True,
        allowed_ips=("10.0.0.0/8", "127.0.0.1"), max_requests_per_second=20,
        push=PushSettings(report_url="http://127.0.0.1:9/emay/report", retry_schedule=()),
    )  # fmt: skip
    return Config(accounts=[demo, shop])


async def populate_console(url: str) -> None:
    """Templates approved, rejected and pending; short links with a click from an iPhone; the
    second account's balance set to one, spent on a send whose report push dies."""
    async with EmayClient(url, DEMO_APP_ID, DEMO_SECRET_KEY) as emay:
        approved = await emay.create_template("【商城】您的验证码是 {#code#}，5 分钟内有效。")
        rejected = await emay.create_template("【商城】低息贷款 {#rate#}，回 TD 退订")
        await emay.create_template("【商城】尊敬的 {#name#}，您的订单 ${order} 已发货。")
        (sent,) = await emay.send_short_link_sms(
            [{"mobile": "13700137000"}],
            "【商城】账单详情 {#短网址#}",
            "https://example.com/bill/2026-11",
            rule="2",
        )
        await emay.send_short_link_sms(
            [{"mobile": MOBILE}, {"mobile": "13900139000"}],
            "【商城】双十一会场 {#短网址#}",
            "https://example.com/sale",
        )
    async with aiohttp.ClientSession(raise_for_status=True) as http:
        for template_id, status in ((approved, "approved"), (rejected, "rejected")):
            await http.post(f"{url}/_mock/templates/{template_id}/review", json={"status": status})
        async with http.get(f"{url}/_mock/messages", params={"smsId": str(sent["smsId"])}) as resp:
            short_url = (await resp.json())["messages"][0]["shortUrl"]
        await http.get(short_url, headers={"User-Agent": IPHONE}, allow_redirects=False)
        await http.post(f"{url}/_mock/accounts/{SHOP_APP_ID}/balance", json={"set": 1})
        async with EmayClient(url, SHOP_APP_ID, DEMO_SECRET_KEY) as shop:
            await shop.send_single_sms("13500135000", "【小店】到货通知")  # its report's push fails: dead
        await http.post(f"{url}/_mock/clock/advance", json={"seconds": 5})


async def photograph_page(browser: Browser, url: str, out: Path, page_name: str) -> None:
    """A console page, on a desktop-sized window, once it shows what `populate_console` made."""
    where, ready = PAGES[page_name]
    await _shoot(browser, f"{url}/{where}", ready, out, DESKTOP, DEMO_APP_ID)


async def photograph(
    browser: Browser, url: str, out: Path, sms_id: str, view: View = DESKTOP, app_id: str = DEMO_APP_ID
) -> None:
    """Open the UI on the conversation (and, on a desktop, the message) and save the picture."""
    where, ready = (
        (f"#inbox/{MOBILE}", "#thread .bubble.mo")
        if view.phone
        else (f"#inbox/{MOBILE}/{sms_id}", "#detail .timeline li")
    )
    await _shoot(browser, f"{url}/{where}", ready, out, view, app_id)


async def _shoot(browser: Browser, address: str, ready: str, out: Path, view: View, app_id: str) -> None:
    """Open the UI at `address` as `app_id`, wait until it is live and `ready` shows, save the PNG."""
    context = await browser.new_context(viewport={"width": view.width, "height": view.height})
    try:
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.add_init_script(f"localStorage.setItem('emay-mock.appId', {app_id!r})")
        await page.goto(address)
        await page.wait_for_selector("body[data-ready=true]", state="attached")
        await page.wait_for_selector("#live[data-state=open]", state="attached")
        await page.locator(ready).first.wait_for()
        out.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(out))
        if errors:
            raise ScreenshotError(f"the UI raised JavaScript errors: {errors}")
    finally:
        await context.close()


async def screenshot(
    out: Path, *, phone: bool = False, page: str = "inbox", browser: Browser | None = None
) -> Path:
    """Start a mock, fill it, and save the inbox (or a console page) as `out` (PNG). With no
    `browser`, launch Chromium."""
    if browser is not None:
        return await _take(browser, out, PHONE if phone else DESKTOP, page)
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        raise ScreenshotError(
            "the screenshot needs Playwright: pip install 'emay-mock[test]' (or pip install playwright)"
        ) from None
    chromium = find_chromium()
    if chromium is None:
        raise ScreenshotError(
            "no Chromium found: install it (Debian: sudo apt-get install -y chromium fonts-wqy-microhei) "
            "or set EMAY_MOCK_CHROMIUM to its executable"
        )
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
        try:
            return await _take(launched, out, PHONE if phone else DESKTOP, page)
        finally:
            await launched.close()


async def _take(browser: Browser, out: Path, view: View, page: str) -> Path:
    mock = MockServer(Config() if page == "inbox" else console_config())
    url = await mock.listen("127.0.0.1", 0)
    try:
        if page == "inbox":
            await photograph(browser, url, out, await populate(url), view)
        else:
            await populate_console(url)
            await photograph_page(browser, url, out, page)
    finally:
        await mock.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emay_mock.testing.screenshot",
        description="Save a screenshot of the sandbox UI (the inbox or a console page), with a few messages.",
    )
    parser.add_argument("out", type=Path, metavar="OUT.png", help="where to write the PNG")
    parser.add_argument("--phone", action="store_true", help="the inbox's phone-width view (390 × 844)")
    parser.add_argument("--page", choices=sorted(PAGES), default="inbox", help="which page (default: inbox)")
    args = parser.parse_args(argv)
    if args.phone and args.page != "inbox":
        parser.error("--phone takes the inbox only")
    # The accounts page shows a push that dies on purpose: its warning is not news here.
    logging.getLogger("emay_mock").setLevel(logging.ERROR)
    try:
        written = asyncio.run(screenshot(args.out, phone=args.phone, page=args.page))
    except ScreenshotError as exc:
        print(f"emay-mock screenshot: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
