"""Signed requests built by hand for the simple, voice and retrieveReport families."""

from __future__ import annotations

from datetime import datetime, timedelta

from emay_mock.protocol.sign import make_sign
from emay_mock.protocol.times import BEIJING, COMPACT_FORMAT
from tests.conftest import APP_ID, SECRET


def stamp(delta: timedelta = timedelta(0)) -> str:
    return (datetime.now(BEIJING) + delta).strftime(COMPACT_FORMAT)


def signed(
    app_id: str = APP_ID, secret: str = SECRET, timestamp: str | None = None, **params: str
) -> dict[str, str]:
    ts = timestamp or stamp()
    return {"appId": app_id, "timestamp": ts, "sign": make_sign(app_id, secret, ts), **params}
