"""Talking HTTP over a bare socket, to see exactly what goes over the wire."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit


async def raw_http(url: str, request: bytes, timeout: float = 5.0) -> bytes:
    """Send `request` bytes as-is and read until the server closes the connection."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()


def post_request(path: str, host: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Connection: close", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
