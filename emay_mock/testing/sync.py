"""A mock on a background thread, for test suites that are not async.

The server and every client live on the thread's own event loop; the sync facade runs
their coroutines there and waits, so a plain `def test_…` uses the same helpers.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")
_TIMEOUT_S = 330.0  # longer than the longest wait the control API allows


class BackgroundLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="emay-mock", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Awaitable[T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(_as_coroutine(coro), self.loop)
        return future.result(_TIMEOUT_S)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


class Sync:
    """`Sync(obj, loop).method(...)` runs `await obj.method(...)` on the background loop."""

    def __init__(self, target: Any, loop: BackgroundLoop) -> None:
        self._target = target
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if inspect.iscoroutinefunction(value):
            return self._blocking(value)
        if hasattr(value, "__dict__") and any(
            inspect.iscoroutinefunction(getattr(value, n, None)) for n in dir(value)
        ):
            return Sync(value, self._loop)
        return value

    def _blocking(self, method: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            return self._loop.run(method(*args, **kwargs))

        call.__doc__ = method.__doc__
        return call
