"""Waiting by identity: long-polls that answer as soon as something exists, or 408 with what was seen.

A test waits for *its* message, report, push or MO by what identifies it (a mobile, a
customSmsId, an smsId), never by counting. Each wait re-checks the store whenever a
relevant event happens, so it answers within the same loop turn as the event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web

from emay_mock.observe.events import EventHub
from emay_mock.platform.readmodel import ReadModel
from emay_mock.protocol.rules import strip_prefix
from emay_mock.store.messages import MessageFilter
from emay_mock.store.rows import MessageRow
from emay_mock.web.jsonapi import STOPPING, ApiError, reply
from emay_mock.web.views import Views

DEFAULT_TIMEOUT_S = 10.0
MAX_TIMEOUT_S = 300.0


class WaitApi:
    def __init__(self, read: ReadModel, events: EventHub, views: Views, stopping: asyncio.Event) -> None:
        """`stopping`: set when the server stops; every wait then answers 503 at once."""
        self.read = read
        self.stopping = stopping
        self.events = events
        self.views = views

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/_mock/wait/message", self.message),
            web.get("/_mock/wait/report", self.report),
            web.get("/_mock/wait/push", self.push),
            web.get("/_mock/wait/mo", self.mo),
        ]

    async def _until(
        self, request: web.Request, topics: set[str], check: Callable[[], Any], seen: Callable[[], Any]
    ) -> web.Response:
        timeout = _timeout(request)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        events, stopping = self.events, self.stopping
        while True:
            if stopping.is_set():  # a stop would otherwise wait for this answer until the timeout
                raise ApiError(503, STOPPING)
            found = check()
            if found is not None:
                return reply(found)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise ApiError(408, f"nothing matched within {timeout:g} s", seen=seen())
            waiter = events.waiter(lambda event: event.topic in topics)
            stop = asyncio.ensure_future(stopping.wait())
            try:  # time up: checked one last time, then 408
                either: set[asyncio.Future[Any]] = {waiter, stop}
                await asyncio.wait(either, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop.cancel()
                waiter.cancel()  # the hub lets go of it at its next event

    def _filter(self, request: web.Request) -> MessageFilter:
        q = request.query
        mobile = q.get("mobile") or None
        f = MessageFilter(
            app_id=q.get("appId") or None,
            mobile=None if mobile is None else strip_prefix(mobile),
            sms_id=q.get("smsId") or None,
            custom_sms_id=q.get("customSmsId") or None,
        )
        if f.mobile is None and f.sms_id is None and f.custom_sms_id is None:
            raise ApiError(400, "say which message: mobile, customSmsId or smsId (appId narrows it)")
        return f

    def _latest(self, f: MessageFilter, limit: int = 10) -> list[dict[str, Any]]:
        return [self.views.message(m) for m in self.read.messages(f, limit)]

    async def message(self, request: web.Request) -> web.Response:
        """A message to this mobile / with this customSmsId / this smsId has been accepted."""
        f = self._filter(request)

        def check() -> dict[str, Any] | None:
            found = self.read.messages(f, 1)
            return {"message": self.views.message(found[0])} if found else None

        return await self._until(request, {"message", "reset"}, check, lambda: {"messages": self._latest(f)})

    async def report(self, request: web.Request) -> web.Response:
        """That message has its final report."""
        f = self._filter(request)

        def check() -> dict[str, Any] | None:
            found = self.read.messages(f, 50)
            done = [m for m in found if m.state is not None]
            return {"message": self.views.message(done[0])} if done else None

        return await self._until(request, {"report", "reset"}, check, lambda: {"messages": self._latest(f)})

    async def push(self, request: web.Request) -> web.Response:
        """A push carrying that message's report was delivered (answered `success`)."""
        sms_id = request.query.get("smsId")
        if not sms_id:
            raise ApiError(400, "smsId is required")

        def batches() -> tuple[MessageRow | None, list[dict[str, Any]]]:
            row = self.read.message(sms_id)
            if row is None:
                return None, []
            return row, [self.views.batch(b) for b in self.read.pushes_of(row)]

        def check() -> dict[str, Any] | None:
            _, described = batches()
            delivered = [b for b in described if b["status"] == "delivered"]
            return {"push": delivered[0]} if delivered else None

        def seen() -> dict[str, Any]:
            row, described = batches()
            return {"message": None if row is None else self.views.message(row), "pushes": described}

        return await self._until(request, {"push", "reset"}, check, seen)

    async def mo(self, request: web.Request) -> web.Response:
        """An MO from this mobile (and containing this text) has been received."""
        q = request.query
        app_id = q.get("appId") or None
        mobile = q.get("mobile") or None
        text = q.get("content") or None
        if app_id is None and mobile is None:
            raise ApiError(400, "say whose MO: appId and/or mobile")

        def recent() -> list[Any]:
            rows = self.read.mo(app_id, limit=200)
            if mobile is not None:
                rows = [r for r in rows if strip_prefix(r.mobile) == strip_prefix(mobile)]
            return rows

        def check() -> dict[str, Any] | None:
            rows = [r for r in recent() if text is None or text in r.content]
            return {"mo": self.views.mo(rows[0])} if rows else None

        def seen() -> dict[str, Any]:
            return {"mo": [self.views.mo(r) for r in recent()[:10]]}

        return await self._until(request, {"mo", "reset"}, check, seen)


def _timeout(request: web.Request) -> float:
    raw = request.query.get("timeout")
    if raw is None or raw == "":
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(400, f"timeout must be seconds, got {raw[:20]!r}") from None
    if not 0 <= value <= MAX_TIMEOUT_S:
        raise ApiError(400, f"timeout must be between 0 and {MAX_TIMEOUT_S:g} seconds")
    return value
