"""The listening socket: aiohttp's server, with what each connection writes in one turn of
the event loop sent at the end of that turn, every connection's back to back.

aiohttp sends each answer the moment it is ready, between the handlers of the other
requests that arrived in the same turn. Under load the client (a load generator, a
service under test) has then often gone back to sleep before the next answer, and each
answer wakes it again: a wake-up across cores, which costs the sender's kernel more than
the send itself. Written together, one wake-up finds them all (docs/DECISIONS.md#turn-writes).
An answer leaves at most one loop turn later, and nothing else changes: the same bytes, in
the same order on each connection.

A request whose head is over the limits is answered here too: 414 or 431 (LimitedHandler).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

log = logging.getLogger("emay_mock.http")

# What a request's head may hold; the runner passes them to aiohttp's parser. The request
# line keeps aiohttp's limit; a header field's differs from it by two bytes so that a line
# too long says which it was (aiohttp's parser gives the limit, not the kind).
MAX_LINE_SIZE = 8190
MAX_FIELD_SIZE = 8192
MAX_HEADERS = 128
HEAD_LIMITS: dict[str, Any] = {
    "max_line_size": MAX_LINE_SIZE,
    "max_field_size": MAX_FIELD_SIZE,
    "max_headers": MAX_HEADERS,
}
_TOO_MANY_HEADERS = "Too many headers received"
# aiohttp's pure-Python parser measures every line of the head against the line limit and
# reports the whole line: a header's starts with its name and a colon (not "http://").
_HEADER_LINE = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+:(?!//)")


def too_large(exc: BaseException | None, max_line: int, max_field: int) -> tuple[int, str] | None:
    """The status and a short reason for a request head over its limits, or None."""
    if isinstance(exc, LineTooLong):
        line, limit = exc.args[0], exc.args[1]
        header = limit == max_field != max_line or bool(_HEADER_LINE.match(bytes(line)))
        if header:
            return 431, f"a request header is over {limit} bytes"
        return 414, f"the request line is over {limit} bytes"
    if isinstance(exc, BadHttpMessage) and exc.message == _TOO_MANY_HEADERS:
        return 431, "too many request headers"
    return None


class LimitedHandler(RequestHandler):
    """aiohttp's handler for one connection, answering a head over the limits with 414 or 431
    and a short reason (aiohttp answers 400, echoing the start of the line, and logs a
    traceback): one WARNING line in the log instead."""

    __slots__ = ()

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        refused = too_large(exc, self.max_line_size, self.max_field_size)
        if refused is None:
            return super().handle_error(request, status, exc, message)
        code, why = refused
        log.warning("%d from %s: %s; refused", code, request.remote, why)
        response = web.Response(status=code, text=f"{why}\n")
        response.force_close()
        return response


class TurnWrites:
    """What the connections wrote during this loop turn, sent when the turn is over."""

    __slots__ = ("_loop", "_pending")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._pending: dict[asyncio.WriteTransport, list[bytes]] = {}

    def add(self, transport: asyncio.WriteTransport, data: bytes) -> None:
        pending = self._pending
        chunks = pending.get(transport)
        if chunks is not None:
            chunks.append(data)
            return
        if not pending:
            # Queued behind every callback already due: it runs once they have all run.
            self._loop.call_soon(self.flush)
        pending[transport] = [data]

    def pending(self, transport: asyncio.WriteTransport) -> int:
        return sum(map(len, self._pending.get(transport, ())))

    def send(self, transport: asyncio.WriteTransport) -> None:
        """One connection's writes now (before it closes or half-closes)."""
        chunks = self._pending.pop(transport, None)
        if chunks:
            _send(transport, chunks)

    def drop(self, transport: asyncio.WriteTransport) -> None:
        self._pending.pop(transport, None)

    def flush(self) -> None:
        pending, self._pending = self._pending, {}
        for transport, chunks in pending.items():
            _send(transport, chunks)


def _send(transport: asyncio.WriteTransport, chunks: list[bytes]) -> None:
    if not transport.is_closing():  # a connection lost meanwhile: nothing to send to
        transport.write(chunks[0] if len(chunks) == 1 else b"".join(chunks))


class TurnTransport(asyncio.Transport):
    """A connection's transport as aiohttp sees it: writes wait for the end of the turn."""

    __slots__ = ("_real", "_writes")

    def __init__(self, real: asyncio.Transport, writes: TurnWrites) -> None:
        super().__init__()
        self._real = real
        self._writes = writes

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if data:
            self._writes.add(self._real, data if type(data) is bytes else bytes(data))

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        self.write(b"".join(list_of_data))

    def close(self) -> None:
        self._writes.send(self._real)  # what the connection wrote goes before it closes
        self._real.close()

    def abort(self) -> None:
        self._writes.drop(self._real)
        self._real.abort()

    def write_eof(self) -> None:
        self._writes.send(self._real)
        self._real.write_eof()

    def can_write_eof(self) -> bool:
        return self._real.can_write_eof()

    def get_write_buffer_size(self) -> int:
        return self._real.get_write_buffer_size() + self._writes.pending(self._real)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._real.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._real.set_write_buffer_limits(high, low)

    def is_closing(self) -> bool:
        return self._real.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._real.get_extra_info(name, default)

    def is_reading(self) -> bool:
        return self._real.is_reading()

    def pause_reading(self) -> None:
        self._real.pause_reading()

    def resume_reading(self) -> None:
        self._real.resume_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._real.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._real.get_protocol()


class TurnProtocol(asyncio.Protocol):
    """aiohttp's protocol for one connection, handed the connection's TurnTransport."""

    __slots__ = ("_inner", "_writes")

    def __init__(self, inner: asyncio.Protocol, writes: TurnWrites) -> None:
        self._inner = inner
        self._writes = writes

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._inner.connection_made(TurnTransport(transport, self._writes))

    def connection_lost(self, exc: Exception | None) -> None:
        self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


class TurnSite(web.BaseSite):
    """A TCP site whose connections write per loop turn (see the module's docstring)."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, *, backlog: int) -> None:
        super().__init__(runner, backlog=backlog)
        self._host = host
        self._port = port
        self.bound_port = port

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self.bound_port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None
        writes = TurnWrites(loop)

        def factory() -> asyncio.Protocol:
            handler = server()
            # The same object, answering heads over the limits as LimitedHandler does: aiohttp
            # builds each connection's handler itself, with no way to name the class.
            handler.__class__ = LimitedHandler
            return TurnProtocol(handler, writes)

        listening = await loop.create_server(
            factory, self._host, self._port, backlog=self._backlog, reuse_address=True
        )
        self._server = listening
        if listening.sockets:
            self.bound_port = listening.sockets[0].getsockname()[1]
