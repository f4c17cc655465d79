"""The listening socket: each connection's writes of a loop turn leave together at its end,
and nothing a connection wrote is lost, reordered or kept back by it."""

from __future__ import annotations

import asyncio
import json
import socket
from urllib.parse import urlsplit

import pytest

from emay_mock.client import EmayClient
from emay_mock.web.site import TurnProtocol, TurnTransport, TurnWrites
from tests.conftest import APP_ID, SECRET, MockFactory


class Wire(asyncio.Transport):
    """A transport that keeps what is written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.sent.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def get_write_buffer_size(self) -> int:
        return 0  # every write left at once

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True


async def test_a_connections_writes_of_one_turn_leave_as_one_send_when_the_turn_is_over() -> None:
    writes = TurnWrites(asyncio.get_running_loop())
    one, two = Wire(), Wire()
    a, b = TurnTransport(one, writes), TurnTransport(two, writes)
    a.write(b"HTTP/1.1 200 OK\r\n")
    b.write(b"first")
    a.writelines([b"Content-Length: 2\r\n\r\n", bytearray(b"ok")])
    assert one.sent == [] and two.sent == []  # nothing during the turn
    assert a.get_write_buffer_size() == 17 + 21 + 2
    await asyncio.sleep(0)  # the turn is over
    assert one.sent == [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]
    assert two.sent == [b"first"]
    a.write(b"next turn")
    await asyncio.sleep(0)
    assert one.sent[1:] == [b"next turn"]


async def test_what_a_connection_wrote_goes_before_it_closes_and_not_after_an_abort() -> None:
    writes = TurnWrites(asyncio.get_running_loop())
    closing, aborted = Wire(), Wire()
    TurnTransport(closing, writes).write(b"answer")
    transport = TurnTransport(closing, writes)
    transport.close()
    assert closing.sent == [b"answer"] and closing.closed
    lost = TurnTransport(aborted, writes)
    lost.write(b"never")
    lost.abort()
    await asyncio.sleep(0)
    assert aborted.sent == [] and aborted.aborted


class Recording(asyncio.Protocol):
    """aiohttp's side of a connection, reduced to what it is told."""

    def __init__(self) -> None:
        self.told: list[object] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.told.append(type(transport).__name__)

    def data_received(self, data: bytes) -> None:
        self.told.append(data)

    def eof_received(self) -> bool | None:
        self.told.append("eof")
        return True

    def pause_writing(self) -> None:
        self.told.append("pause")

    def resume_writing(self) -> None:
        self.told.append("resume")

    def connection_lost(self, exc: Exception | None) -> None:
        self.told.append(("lost", exc))


async def test_the_protocol_passes_on_everything_the_socket_says_and_hands_over_the_turn_transport() -> None:
    inner = Recording()
    protocol = TurnProtocol(inner, TurnWrites(asyncio.get_running_loop()))
    gone = ConnectionResetError()
    protocol.connection_made(Wire())
    protocol.data_received(b"GET / HTTP/1.1\r\n")
    protocol.pause_writing()
    protocol.resume_writing()
    assert protocol.eof_received() is True  # keep the connection half-open, as aiohttp asks
    protocol.connection_lost(gone)
    assert inner.told == ["TurnTransport", b"GET / HTTP/1.1\r\n", "pause", "resume", "eof", ("lost", gone)]


async def read_answers(reader: asyncio.StreamReader, count: int) -> list[tuple[int, bytes]]:
    """`count` HTTP/1.1 answers with Content-Length, in the order they came."""
    answers = []
    for _ in range(count):
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next(int(x.split(":")[1]) for x in lines if x.lower().startswith("content-length:"))
        answers.append((status, await reader.readexactly(length)))
    return answers


async def test_requests_pipelined_on_one_connection_are_answered_whole_and_in_order(
    make_mock: MockFactory,
) -> None:
    mock = await make_mock()
    url = urlsplit(mock.url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    paths = ["/_mock/health", "/_mock/no-such-thing", "/_mock/accounts", "/_mock/health"]
    writer.write(b"".join(f"GET {p} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for p in paths))
    answers = await asyncio.wait_for(read_answers(reader, len(paths)), 5)
    writer.close()
    assert [status for status, _ in answers] == [200, 404, 200, 200]
    assert b'"appId"' in answers[2][1] and answers[0][1] == answers[3][1]


@pytest.mark.parametrize("path", ["/_mock/health", "/_mock/no-such-thing"])
async def test_an_answer_to_a_connection_close_request_arrives_whole_before_the_close(
    make_mock: MockFactory, path: str
) -> None:
    mock = await make_mock()
    url = urlsplit(mock.url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    raw = await asyncio.wait_for(reader.read(), 5)  # until the mock closes the connection
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    fields = head.split(b"\r\n")
    length = next(int(x.split(b":")[1]) for x in fields if x.lower().startswith(b"content-length:"))
    assert head.startswith(b"HTTP/1.1 ") and len(body) == length > 0


async def test_an_answer_larger_than_the_socket_takes_reaches_a_slow_reader_whole_and_the_connection_goes_on(
    make_mock: MockFactory,
) -> None:
    """Megabytes more than the socket takes at once: they wait in the transport (which pauses
    aiohttp's writing meanwhile), reach a slow reader whole, and the connection goes on."""
    mock = await make_mock()
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        for first in range(0, 10_000, 500):
            mobiles = [f"138{first + i:08d}" for i in range(500)]
            await client.send_batch_only_sms(mobiles, "x" * 300)
    url = urlsplit(mock.url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16_384)  # a small window: it cannot leave at once
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (url.hostname, url.port))
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(b"GET /_mock/messages?limit=10000 HTTP/1.1\r\nHost: x\r\n\r\n")
    await asyncio.sleep(0.3)  # the mock's writes outrun the socket meanwhile
    ((status, body),) = await asyncio.wait_for(read_answers(reader, 1), 10)
    assert status == 200 and len(json.loads(body)["messages"]) == 10_000 and len(body) > 4_000_000
    writer.write(b"GET /_mock/health HTTP/1.1\r\nHost: x\r\n\r\n")
    ((status, _),) = await asyncio.wait_for(read_answers(reader, 1), 5)
    writer.close()
    assert status == 200


async def test_a_client_that_waits_for_100_continue_gets_it_before_sending_its_body(
    make_mock: MockFactory,
) -> None:
    """curl and .NET's HttpClient send `Expect: 100-continue` with larger bodies and wait for
    the interim answer: it must leave while the handler still waits for the body."""
    mock = await make_mock()
    url = urlsplit(mock.url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    body = b"x" * 2048
    writer.write(
        b"POST /inter/sendSingleSMS HTTP/1.1\r\nHost: x\r\nappId: EUCP-EMY-SMS1-TEST1\r\nencode: UTF-8\r\n"
        b"Expect: 100-continue\r\nContent-Length: 2048\r\n\r\n"
    )
    interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
    assert interim.startswith(b"HTTP/1.1 100 Continue")
    writer.write(body)
    ((status, _),) = await asyncio.wait_for(read_answers(reader, 1), 5)
    writer.close()
    assert status == 200  # an Emay refusal (not AES) rides on 200 with its result header
