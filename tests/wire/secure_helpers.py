"""Building secure requests by hand, for the cases a well-behaved client never sends."""

from __future__ import annotations

import time
from typing import Any

from emay_mock.client import EmayClient, SecureAnswer
from emay_mock.protocol import envelope

_last = 0


def now_ms() -> int:
    return int(time.time() * 1000)


def window(**extra: Any) -> dict[str, Any]:
    """A fresh validity window; strictly increasing, so two equal requests are never replays."""
    global _last
    _last = max(now_ms(), _last + 1)
    return {"requestTime": _last, "requestValidPeriod": 60, **extra}


async def send_json(
    client: EmayClient,
    endpoint: str,
    payload: dict[str, Any],
    *,
    gzip_on: bool = False,
    charset: str = "UTF-8",
    headers: dict[str, str] | None = None,
) -> SecureAnswer:
    """Encrypt `payload` exactly as given (no window added) and POST it."""
    body = envelope.encode_request(payload, client.key, gzip_on=gzip_on, charset=charset)
    sent = {"appId": client.app_id, "encode": charset, **({"gzip": "on"} if gzip_on else {})}
    sent.update(headers or {})
    client_gzip, client.gzip = client.gzip, gzip_on
    client_charset, client.charset = client.charset, charset
    try:
        return await client.post(endpoint, body, sent)
    finally:
        client.gzip, client.charset = client_gzip, client_charset
