"""Loading scenarios into a running mock over its control API."""

from __future__ import annotations

from typing import Any

import aiohttp

from emay_mock.server import MockServer


async def load_scenario(
    http: aiohttp.ClientSession, mock: MockServer, text: str, name: str | None = None
) -> dict[str, Any]:
    params = {"name": name} if name else {}
    async with http.post(f"{mock.url}/_mock/scenarios", data=text.encode(), params=params) as resp:
        body = dict(await resp.json())
        assert resp.status in (200, 201), body
        return body


async def message(http: aiohttp.ClientSession, mock: MockServer, sms_id: str) -> dict[str, Any]:
    async with http.get(f"{mock.url}/_mock/messages", params={"smsId": sms_id}) as resp:
        (found,) = (await resp.json())["messages"]
    return dict(found)
