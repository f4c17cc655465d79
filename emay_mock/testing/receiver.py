"""A real HTTP callback receiver: records every push, decodes it, and answers as scripted.

async with Receiver() as receiver:                      # listens on a free port
    account["push"] = {"reportUrl": receiver.path_url("/report")}
    receiver.on("/report", lambda n: (500, "down") if n <= 3 else None)   # fail 3 times
    receiver.on("/mo", lambda n: Hang())                  # or Reset(), Slow(2.0, 200, "success")
    ...
    reports = receiver.reports(secret_key.encode())
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

from emay_mock.protocol import envelope


@dataclass(frozen=True)
class Hang:
    """Never answer: hold the request until the receiver is released or stopped."""


@dataclass(frozen=True)
class Reset:
    """No HTTP answer at all: close the connection with a TCP reset."""


@dataclass(frozen=True)
class Slow:
    """Answer, but only after `delay_s` seconds (or at once when the receiver is released)."""

    delay_s: float
    status: int = 200
    body: str = "success"


# The n-th request (1-based) to a path -> (status, body) or a misbehaviour; None answers 200 "success".
Answer = Callable[[int], tuple[int, str] | Hang | Reset | Slow | None]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def items(self, key: bytes | None = None) -> list[dict[str, Any]]:
        """The pushed JSON array: plain (form field reports= / mos=) or encrypted (needs the key)."""
        ctype = self.headers.get("Content-Type", "")
        if ctype.startswith("application/x-www-form-urlencoded"):
            form = parse_qs(self.body.decode("ascii"))
            (values,) = [v for k, v in form.items() if k in ("reports", "mos")]
            data: list[dict[str, Any]] = json.loads(values[0])
            return data
        if key is None:
            raise ValueError("an encrypted push needs the account's secret key to decode")
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
    _runner: web.AppRunner | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> Receiver:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.url = f"http://{host}:{sockets[0].getsockname()[1]}"
        return self

    async def stop(self) -> None:
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Receiver:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def release(self) -> None:
        """Let hanging handlers finish, so the server can shut down at once."""
        self._released.set()

    def path_url(self, path: str) -> str:
        return f"{self.url}{path}"

    def on(self, path: str, answer: Answer) -> None:
        self.answers[path] = answer

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    def items(self, path: str, key: bytes | None = None) -> list[dict[str, Any]]:
        """Every item pushed to `path`, in arrival order (a batch received twice counts twice)."""
        return [item for request in self.at(path) for item in request.items(key)]

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
            while len(self.items(path, key)) < count:
                self._arrived.clear()
                await self._arrived.wait()

        await asyncio.wait_for(until(), timeout)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            Received(request.path, dict(request.headers), body, asyncio.get_running_loop().time())
        )
        self._arrived.set()
        answer = self.answers.get(request.path)
        result = answer(len(self.at(request.path))) if answer is not None else None
        if self.hang or isinstance(result, Hang):
            await self._released.wait()
            result = None if isinstance(result, Hang) else result
        if isinstance(result, Reset):
            transport = request.transport
            sock = transport.get_extra_info("socket") if transport is not None else None
            if sock is not None:  # linger 0: the close is a RST, the pusher sees "connection reset"
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            if transport is not None:
                transport.close()
            return web.Response(status=204)  # never written: the connection is gone
        if isinstance(result, Slow):
            with contextlib.suppress(TimeoutError):  # released: answer now, so shutdown is quick
                await asyncio.wait_for(self._released.wait(), result.delay_s)
            result = (result.status, result.body)
        status, text = result if result is not None else (200, "success")
        return web.Response(status=status, text=text)
