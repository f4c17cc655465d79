"""A picture of the sandbox UI, the same every time: `python -m emay_mock.testing.screenshot OUT.png`.

It starts a mock in-process with the demo account, sends a few messages (a code, a shipping
notice that gets a reply, a blacklisted number, a short link), lets their reports arrive,
and photographs the inbox in headless Chromium. `--phone` takes the phone-width view.
The UI tests call `screenshot()` too, so the README's picture is one command away from
what the tests see.

Needs Playwright (a test extra: `pip install 'emay-mock[test]'`) and a Chromium on the
machine (Debian: `apt-get install chromium fonts-wqy-microhei`); nothing is downloaded.
`EMAY_MOCK_CHROMIUM` names the browser executable when it is not on the PATH.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp

from emay_mock.client import EmayClient
from emay_mock.config import DEMO_APP_ID, DEMO_SECRET_KEY, Config
from emay_mock.server import MockServer

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


async def photograph(
    browser: Browser, url: str, out: Path, sms_id: str, view: View = DESKTOP, app_id: str = DEMO_APP_ID
) -> None:
    """Open the UI on the conversation (and, on a desktop, the message) and save the picture."""
    context = await browser.new_context(viewport={"width": view.width, "height": view.height})
    try:
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.add_init_script(f"localStorage.setItem('emay-mock.appId', {app_id!r})")
        where, ready = (
            (f"#inbox/{MOBILE}", "#thread .bubble.mo")
            if view.phone
            else (f"#inbox/{MOBILE}/{sms_id}", "#detail .timeline li")
        )
        await page.goto(f"{url}/{where}")
        await page.wait_for_selector("body[data-ready=true]", state="attached")
        await page.wait_for_selector("#live[data-state=open]", state="attached")
        await page.locator(ready).first.wait_for()
        out.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(out))
        if errors:
            raise ScreenshotError(f"the UI raised JavaScript errors: {errors}")
    finally:
        await context.close()


async def screenshot(out: Path, *, phone: bool = False, browser: Browser | None = None) -> Path:
    """Start a mock, fill it, and save the inbox as `out` (PNG). With no `browser`, launch Chromium."""
    if browser is not None:
        return await _take(browser, out, PHONE if phone else DESKTOP)
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
            return await _take(launched, out, PHONE if phone else DESKTOP)
        finally:
            await launched.close()


async def _take(browser: Browser, out: Path, view: View) -> Path:
    mock = MockServer(Config())
    url = await mock.listen("127.0.0.1", 0)
    try:
        await photograph(browser, url, out, await populate(url), view)
    finally:
        await mock.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emay_mock.testing.screenshot",
        description="Save a screenshot of the sandbox UI's inbox, filled with a few messages.",
    )
    parser.add_argument("out", type=Path, metavar="OUT.png", help="where to write the PNG")
    parser.add_argument("--phone", action="store_true", help="the phone-width view (390 × 844)")
    args = parser.parse_args(argv)
    try:
        written = asyncio.run(screenshot(args.out, phone=args.phone))
    except ScreenshotError as exc:
        print(f"emay-mock screenshot: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
