"""A real HTTP callback receiver for push tests: scripted answers, every request recorded."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

from emay_mock.protocol import envelope

Answer = Callable[[int], tuple[int, str] | None]  # attempt number (1-based) -> (status, body)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def items(self, key: bytes | None = None) -> list[dict[str, Any]]:
        """Decode the pushed JSON array: plain form (reports= / mos=) or encrypted."""
        ctype = self.headers.get("Content-Type", "")
        if ctype.startswith("application/x-www-form-urlencoded"):
            form = parse_qs(self.body.decode("ascii"))
            (values,) = [v for k, v in form.items() if k in ("reports", "mos")]
            data: list[dict[str, Any]] = __import__("json").loads(values[0])
            return data
        assert key is not None, "an encrypted push needs the account key"
        decoded: list[dict[str, Any]] = envelope.decode_response(self.body, key, gzip_on=True)
        return decoded


@dataclass
class Receiver:
    url: str = ""
    requests: list[Received] = field(default_factory=list)
    answers: dict[str, Answer] = field(default_factory=dict)
    hang: bool = False
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        """Let hanging handlers finish, so the server can shut down at once."""
        self._released.set()

    def path_url(self, path: str) -> str:
        return f"{self.url}{path}"

    def on(self, path: str, answer: Answer) -> None:
        self.answers[path] = answer

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    async def wait_for(self, count: int, path: str | None = None, timeout: float = 10.0) -> list[Received]:
        async def until() -> None:
            while len(self.requests if path is None else self.at(path)) < count:
                self._arrived.clear()
                await self._arrived.wait()

        await asyncio.wait_for(until(), timeout)
        return self.requests if path is None else self.at(path)

    async def wait_for_items(self, count: int, key: bytes | None, path: str, timeout: float = 10.0) -> None:
        """Until `count` items in total have arrived at `path`."""

        async def until() -> None:
            while sum(len(r.items(key)) for r in self.at(path)) < count:
                self._arrived.clear()
                await self._arrived.wait()

        await asyncio.wait_for(until(), timeout)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            Received(request.path, dict(request.headers), body, asyncio.get_running_loop().time())
        )
        self._arrived.set()
        if self.hang:
            await self._released.wait()
        answer = self.answers.get(request.path)
        n = len(self.at(request.path))
        result = answer(n) if answer is not None else None
        status, text = result if result is not None else (200, "success")
        return web.Response(status=status, text=text)


async def start_receiver() -> tuple[Receiver, web.AppRunner]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    receiver.url = f"http://127.0.0.1:{port}"
    return receiver, runner
