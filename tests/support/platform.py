"""Driving the platform without HTTP: what a web handler hands it for one request."""

from __future__ import annotations

from emay_mock.observe.journal import Entry
from emay_mock.platform.service import Platform
from emay_mock.protocol.send import SendOrder
from emay_mock.store.rows import MessageRow


def submitted(
    platform: Platform, app_id: str, order: SendOrder, base_url: str = "http://mock"
) -> list[MessageRow]:
    """The order sent as the secure family sends it, for account `app_id`: its messages."""
    order.base_url = base_url
    entry = Entry("secure", order.endpoint, "POST", None, platform.clock.wall_ms(), app_id)
    rows, _ = platform.submit(platform.accounts[app_id], entry, order)
    return rows
