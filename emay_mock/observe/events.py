"""A small in-process event hub: what just happened, for live views and waiters."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Predicate = Callable[["Event"], bool]


@dataclass(frozen=True)
class Event:
    topic: str  # message | report | mo | push | click | template | clock | reset | account
    app_id: str | None
    # The platform's own object (a message, an MO, an account…) or, for push, clock and reset,
    # a small dict; the web layer's views say what a client sees of it.
    data: Any


class EventHub:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[Event]] = set()
        self._waiters: list[tuple[Predicate, asyncio.Future[Event]]] = []
        self.dropped = 0
        # Whether anyone would see an event: describing one is not free, so ask first.
        self.listening = False

    def _listeners_changed(self) -> None:
        self.listening = bool(self._subscribers or self._waiters)

    def publish(self, topic: str, app_id: str | None, data: Any) -> None:
        if not self.listening:
            return
        event = Event(topic, app_id, data)
        for queue in self._subscribers:
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                self.dropped += 1
        if self._waiters:
            still: list[tuple[Predicate, asyncio.Future[Event]]] = []
            for predicate, future in self._waiters:
                if future.done():
                    continue
                if predicate(event):
                    future.set_result(event)
                else:
                    still.append((predicate, future))
            self._waiters = still
            self._listeners_changed()

    def subscribe(self, maxsize: int = 1000) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self._subscribers.add(queue)
        self.listening = True
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        self._subscribers.discard(queue)
        self._listeners_changed()

    def waiter(self, predicate: Predicate) -> asyncio.Future[Event]:
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        self.listening = True
        return future
