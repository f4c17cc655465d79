"""Live events as server-sent events: GET /_mock/events streams what happens, as it happens."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from emay_mock.observe.events import Event, EventHub
from emay_mock.web import views
from emay_mock.web.jsonapi import STOPPING, ApiError

HEARTBEAT_S = 15.0
TOPICS = frozenset({"message", "report", "mo", "push", "click", "template", "account", "reset", "clock"})


class EventStream:
    """`GET /_mock/events?appId=&topics=message,report`: one SSE stream per client.

    Each client has a bounded queue: a client too slow to read loses events (counted in
    the hub) rather than slowing the platform down.
    """

    def __init__(self, events: EventHub, shown: views.Views, stopping: asyncio.Event) -> None:
        """`stopping`: set when the server stops; each stream then ends with a `stopping` event."""
        self.events = events
        # The platform publishes its own objects; each topic's view says what a client sees.
        self._render: dict[str, Callable[[Any], dict[str, Any]]] = {
            "message": shown.message,
            "report": shown.message,
            "mo": shown.mo,
            "click": shown.click,
            "template": shown.template,
            "account": views.account,
        }
        self._stopping = stopping

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/_mock/events", self.stream)]

    async def stream(self, request: web.Request) -> web.StreamResponse:
        app_id = request.query.get("appId") or None
        wanted = frozenset(t.strip() for t in (request.query.get("topics") or "").split(",") if t.strip())
        unknown = sorted(wanted - TOPICS)
        if unknown:
            raise ApiError(
                400,
                f"unknown topics: {', '.join(unknown)}; the topics are {', '.join(sorted(TOPICS))}",
                topics=sorted(TOPICS),
            )
        wanted = wanted or TOPICS
        if self._stopping.is_set():
            raise ApiError(503, STOPPING)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        await response.write(b"retry: 2000\n: connected\n\n")
        events = self.events
        queue = events.subscribe()
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            while True:
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait(
                    {getter, stop}, timeout=HEARTBEAT_S, return_when=asyncio.FIRST_COMPLETED
                )
                if stop in done:
                    # Headers are out: the stream's last event says why it ends (a 503's body).
                    getter.cancel()
                    data = json.dumps({"error": STOPPING, "status": 503}, ensure_ascii=False)
                    await response.write(f"event: stopping\ndata: {data}\n\n".encode())
                    break
                if getter not in done:
                    getter.cancel()
                    await response.write(b": heartbeat\n\n")
                    continue
                event = getter.result()
                if event.topic not in wanted or (app_id is not None and event.app_id not in (app_id, None)):
                    continue
                data = json.dumps({"appId": event.app_id, **self._data(event)}, ensure_ascii=False)
                await response.write(f"event: {event.topic}\ndata: {data}\n\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            stop.cancel()
            events.unsubscribe(queue)
            with contextlib.suppress(Exception):
                await response.write_eof()
        return response

    def _data(self, event: Event) -> dict[str, Any]:
        render = self._render.get(event.topic)
        return render(event.data) if render is not None else dict(event.data)
