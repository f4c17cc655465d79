"""The UI's Drift view: where the platform answered otherwise than the mock would have."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from emay_mock.client import EmayClient
from emay_mock.protocol.rules import Rules
from emay_mock.settings import Settings
from tests.conftest import APP_ID, SECRET, MockFactory, account


async def test_the_drift_view_shows_both_answers(make_mock: MockFactory, ui_for: Any) -> None:
    strict = Settings(rules=replace(Rules(), max_content_units=5), default_scenarios=False)
    platform = await make_mock([account()], settings=strict)
    mock = await make_mock([account(upstream={"url": platform.url, "mode": "shadow"})])
    async with EmayClient(mock.url, APP_ID, SECRET) as emay:
        answer = await emay.call("sendSingleSMS", {"mobile": "13800138000", "content": "longer than five"})
    assert answer.code == "ERROR_LONG_CONTENT"
    ui = await ui_for(mock)
    await ui.open("#drift")
    row = ui.page.locator("#drift tbody tr", has_text="sendSingleSMS")
    await row.wait_for()
    text = await row.inner_text()
    assert "result: mock SUCCESS, upstream ERROR_LONG_CONTENT" in text
    assert '"result": "ERROR_LONG_CONTENT"' in text and "13800138000" in text
