"""One mock served from a background thread for a whole module, and a plain blocking HTTP client.

Property-based tests send hundreds of requests; starting a server per example would cost
more than the examples. The server runs on its own event loop in a thread, so synchronous
hypothesis tests talk to it over a real socket. Every log record at ERROR or with a
traceback is kept: a test asserts there are none, which is how "never a traceback" is seen.
"""

from __future__ import annotations

import asyncio
import http.client
import logging
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from emay_mock.config import Config
from emay_mock.server import MockServer
from emay_mock.settings import AccountSpec, Settings

T = TypeVar("T")


class _ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)

    def take(self) -> list[str]:
        """The lines so far, forgetting them (so one failure does not fail every later test)."""
        lines = self.lines()
        self.records.clear()
        return lines

    def lines(self) -> list[str]:
        return [f"{r.name}: {r.getMessage()}" + (f" [{r.exc_info[1]!r}]" if r.exc_info else "")
                for r in self.records]  # fmt: skip


class LiveMock:
    """`with LiveMock(accounts) as live:` serves on a free port of 127.0.0.1 until the block ends."""

    def __init__(self, accounts: list[AccountSpec], settings: Settings | None = None) -> None:
        self.config = Config(settings=settings or Settings(), accounts=accounts, source="tests")
        self.loop = asyncio.new_event_loop()
        self.errors = _ErrorLog()
        self._thread = threading.Thread(target=self.loop.run_forever, name="live-mock", daemon=True)
        self.mock: MockServer | None = None
        self.url = ""

    def __enter__(self) -> LiveMock:
        logging.getLogger().addHandler(self.errors)
        self._thread.start()
        self.mock = self.run(self._start())
        self.url = self.mock.url
        return self

    async def _start(self) -> MockServer:
        mock = MockServer(self.config)
        await mock.listen("127.0.0.1", 0)
        return mock

    def __exit__(self, *exc: object) -> None:
        try:
            if self.mock is not None:
                self.run(self.mock.close())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()
            logging.getLogger().removeHandler(self.errors)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def wire(self) -> Wire:
        return Wire(self.url)


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


class Wire:
    """A keep-alive HTTP/1.1 connection that reconnects when the server closes it."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self._conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        while True:
            reused = self._conn is not None
            conn = self._conn or http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._conn = conn
            try:
                conn.request(method, path, body=body, headers=headers or {})
                resp = conn.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server may close an idle keep-alive connection; a fresh one must work.
                conn.close()
                self._conn = None
                if not reused:
                    raise
                continue
            if resp.will_close:
                conn.close()
                self._conn = None
            return Answer(resp.status, resp.headers, data)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
