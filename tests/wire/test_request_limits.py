"""A request head over the limits: 414 or 431 with a short reason, one WARNING line, no
traceback, and the connection still serving the requests before it."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import pytest
from aiohttp.http_exceptions import LineTooLong

from emay_mock.server import MockServer
from emay_mock.web.site import MAX_FIELD_SIZE, MAX_LINE_SIZE, too_large
from tests.support.raw import raw_http

LONG = b"a" * 100_000
HEAD = b"Host: mock\r\nConnection: close\r\n"
CASES = {
    "a 100 kB request line": (
        b"GET /_mock/messages?mobile=" + LONG + b" HTTP/1.1\r\n" + HEAD + b"\r\n",
        414,
        f"the request line is over {MAX_LINE_SIZE} bytes",
    ),
    "a 100 kB absolute URL": (
        b"GET http://mock/_mock/health?" + LONG + b" HTTP/1.1\r\n" + HEAD + b"\r\n",
        414,
        f"the request line is over {MAX_LINE_SIZE} bytes",
    ),
    "a 100 kB header value": (
        b"GET /_mock/health HTTP/1.1\r\n" + HEAD + b"Referer: http://mock/" + LONG + b"\r\n\r\n",
        431,
        f"a request header is over {MAX_FIELD_SIZE} bytes",
    ),
    "a 100 kB header name": (
        b"GET /_mock/health HTTP/1.1\r\n" + HEAD + b"X-" + LONG + b": 1\r\n\r\n",
        431,
        f"a request header is over {MAX_FIELD_SIZE} bytes",
    ),
    "1000 headers": (
        b"GET /_mock/health HTTP/1.1\r\n"
        + HEAD
        + b"".join(b"X-%d: 1\r\n" % i for i in range(1000))
        + b"\r\n",
        431,
        "too many request headers",
    ),
}


@pytest.mark.parametrize("case", CASES)
async def test_a_head_over_the_limits_is_414_or_431_with_a_short_reason_and_one_warning(
    mock: MockServer, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    request, status, reason = CASES[case]
    with caplog.at_level(logging.DEBUG):
        answer = await raw_http(mock.url, request)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0].split(b" ")[1] == str(status).encode(), head
    assert body == f"{reason}\n".encode()  # nothing of the line echoed
    logged = [(r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.WARNING]
    assert logged == [("WARNING", f"{status} from 127.0.0.1: {reason}; refused")]
    assert not any(r.exc_info for r in caplog.records)


async def test_a_kept_alive_connection_gets_414_for_its_next_request_over_the_limit(mock: MockServer) -> None:
    parts = urlsplit(mock.url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(b"GET /_mock/health HTTP/1.1\r\nHost: mock\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ")
        (length,) = [
            int(line[15:]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
        ]
        await reader.readexactly(length)
        writer.write(b"GET /" + LONG + b" HTTP/1.1\r\nHost: mock\r\n\r\n")
        answer = await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.0 414 ")
    assert answer.endswith(f"the request line is over {MAX_LINE_SIZE} bytes\n".encode())


@pytest.mark.parametrize(
    ("line", "limit", "status"),
    [
        # aiohttp's pure-Python parser (AIOHTTP_NO_EXTENSIONS) measures every line of the head
        # against the request line's limit and reports the whole line.
        (b"GET /aaaaaaaa...", MAX_LINE_SIZE, 414),
        (b"GET http://mock/aaaa...", MAX_LINE_SIZE, 414),
        (b"Cookie: session=aaaa...", MAX_LINE_SIZE, 431),
        (b"Referer:http://mock/...", MAX_LINE_SIZE, 431),
        # The C parser: the target of the request line, or a header's name or value.
        (b"/aaaaaaaa...", MAX_LINE_SIZE, 414),
        (b"http://mock/aaaa...", MAX_LINE_SIZE, 414),
        (b"http://mock/aaaa...", MAX_FIELD_SIZE, 431),
    ],
)
def test_either_of_aiohttps_parsers_says_which_part_was_too_long(
    line: bytes, limit: int, status: int
) -> None:
    refused = too_large(LineTooLong(line, limit), MAX_LINE_SIZE, MAX_FIELD_SIZE)
    assert refused is not None and refused[0] == status
