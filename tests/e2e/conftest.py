"""Shared by the e2e tests: headless Chromium, and pages on a mock's UI that fail the test on
any JavaScript error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright import async_api as playwright_api

from emay_mock.server import MockServer
from tests.conftest import APP_ID
from tests.e2e.browser import LAUNCH_ARGS, chromium


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    path, why = chromium()
    if path is None:
        pytest.skip(why)
    async with playwright_api.async_playwright() as p:
        launched = await p.chromium.launch(executable_path=path, args=LAUNCH_ARGS)
        yield launched
        await launched.close()


class Ui:
    """One browser page on the mock's UI, failing the test on any JavaScript error."""

    def __init__(self, page: Any, mock: MockServer) -> None:
        self.page = page
        self.mock = mock
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    async def open(self, hash_: str = "", app_id: str = APP_ID) -> None:
        await self.page.add_init_script(f"localStorage.setItem('emay-mock.appId', {app_id!r})")
        await self.page.goto(f"{self.mock.url}/{hash_}")
        await self.page.wait_for_selector("body[data-ready=true]", state="attached")
        await self.page.wait_for_selector("#live[data-state=open]", state="attached")

    def check(self) -> None:
        assert self.errors == [], self.errors


@pytest.fixture
async def ui_for(browser: Any) -> AsyncIterator[Any]:
    opened: list[Ui] = []

    async def make(mock: MockServer, width: int = 1366, height: int = 820, **options: Any) -> Ui:
        """`options`: Playwright context options, e.g. http_credentials for a mock with control auth."""
        context = await browser.new_context(viewport={"width": width, "height": height}, **options)
        ui = Ui(await context.new_page(), mock)
        opened.append(ui)
        return ui

    yield make
    for ui in opened:
        ui.check()
