"""Asking a running mock what happened: through its control API (/_mock/*) over HTTP, or,
for a mock in the same process, in its store and journal (the last two helpers).

The HTTP helpers take anything with the mock's base URL: a MockServer in the same process,
a LiveMock on its thread, or a served process (tests/e2e/process.py). Each checks the status.
"""

from __future__ import annotations

from typing import Any, Protocol

import aiohttp

from emay_mock.server import MockServer
from emay_mock.store.rows import MessageRow
from tests.conftest import APP_ID


class HasUrl(Protocol):
    @property
    def url(self) -> str: ...


async def get_json(http: aiohttp.ClientSession, mock: HasUrl, path: str, **params: object) -> Any:
    """GET path with the parameters (each as text); 200 (else the body is shown); the JSON."""
    async with http.get(f"{mock.url}{path}", params={k: str(v) for k, v in params.items()}) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def post_json(http: aiohttp.ClientSession, mock: HasUrl, path: str, body: Any) -> tuple[int, Any]:
    """POST body as JSON to path: the status and the JSON answered, for the caller to check."""
    async with http.post(f"{mock.url}{path}", json=body) as resp:
        return resp.status, await resp.json()


async def advance(http: aiohttp.ClientSession, mock: HasUrl, seconds: float) -> dict[str, Any]:
    """Move the scheduler's clock on by `seconds`, running what falls due; the clock after."""
    async with http.post(f"{mock.url}/_mock/clock/advance", json={"seconds": seconds}) as resp:
        assert resp.status == 200
        return dict(await resp.json())


async def messages(http: aiohttp.ClientSession, mock: HasUrl, **query: str) -> list[dict[str, Any]]:
    """One page of the stored messages, as the query filters them."""
    return list((await get_json(http, mock, "/_mock/messages", **query))["messages"])


async def message(http: aiohttp.ClientSession, mock: HasUrl, sms_id: str) -> dict[str, Any]:
    """The one stored message with this smsId."""
    (found,) = await messages(http, mock, smsId=sms_id)
    return found


async def pushes(http: aiohttp.ClientSession, mock: HasUrl, **query: str) -> list[dict[str, Any]]:
    """One page of the push batches, as the query filters them."""
    return list((await get_json(http, mock, "/_mock/pushes", **query))["pushes"])


async def contract(http: aiohttp.ClientSession, mock: HasUrl, app_id: str = APP_ID) -> dict[str, Any]:
    """The contract report of one account."""
    return dict(await get_json(http, mock, "/_mock/contract", appId=app_id))


async def load_scenario(
    http: aiohttp.ClientSession, mock: HasUrl, text: str, name: str | None = None
) -> dict[str, Any]:
    """Load a scenario's YAML text (201 new, 200 replaced); what the mock answered."""
    params = {"name": name} if name else {}
    async with http.post(f"{mock.url}/_mock/scenarios", data=text.encode(), params=params) as resp:
        body = dict(await resp.json())
        assert resp.status in (200, 201), body
        return body


def message_row(mock: MockServer, sms_id: str) -> MessageRow:
    """The stored message with this smsId, as the store holds it (in process)."""
    row = mock.platform.messages.by_sms_id(sms_id)
    assert row is not None, f"no message {sms_id}"
    return row


def last_reason(mock: MockServer) -> dict[str, Any]:
    """Why the last request was answered as it was: its journal entry's reason (in process)."""
    reason = mock.journal.query(limit=1)[0].reason
    assert reason is not None
    return reason
