"""Where reports, MO and clicks go: the account's callback, or its pull queue."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from emay_mock.delivery.push import PushTarget
from emay_mock.store.queues import PullQueues

# What the push engine takes: (object, payload, chaos) items for an account's callback.
Enqueue = Callable[[str, str, list[tuple[Any, dict[str, Any], str | None]]], None]


class Router:
    def __init__(
        self, target: Callable[[str, str], PushTarget | None], enqueue: Enqueue, queues: PullQueues
    ) -> None:
        self.target = target
        self.enqueue = enqueue
        self.queues = queues

    def route(
        self,
        app_id: str,
        kind: str,
        items: Sequence[Any],
        payload: Callable[[Any], dict[str, Any]],
        chaos: Callable[[Any], str | None] | None = None,
    ) -> None:
        """`payload` is called only for a push: a pull queue keeps the objects and makes the
        payloads when they are taken. `chaos` names an item's scripted push misbehaviour."""
        target = self.target(app_id, kind) if kind in ("report", "mo") else None  # never clicks
        if target is not None:
            self.enqueue(
                app_id, kind, [(obj, payload(obj), None if chaos is None else chaos(obj)) for obj in items]
            )
        else:
            self.queues.append(app_id, kind, items)
