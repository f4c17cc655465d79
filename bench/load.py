"""Load from the driver process (an aiohttp client on the load core), for the figures that
need a fixed number of requests rather than a fixed duration."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aiohttp


@dataclass
class Answer:
    status: int
    result: str | None
    seconds: float  # from just before the request was written to the end of the answer
    ended: float  # time.perf_counter() when the answer was complete
    body: bytes


async def post_all(
    url: str,
    bodies: Sequence[bytes],
    headers: Mapping[str, str],
    *,
    concurrency: int,
    timeout: float = 60.0,
) -> list[Answer]:
    """POST every body, `concurrency` at a time on as many connections, in order."""
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=0, force_close=False)
    answers: list[Answer | None] = [None] * len(bodies)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(bodies)):
        queue.put_nowait(i)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=timeout), auto_decompress=False
    ) as session:

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                started = time.perf_counter()
                async with session.post(url, data=bodies[i], headers=headers) as resp:
                    body = await resp.read()
                    ended = time.perf_counter()
                    answers[i] = Answer(resp.status, resp.headers.get("result"), ended - started, ended, body)

        await asyncio.gather(*(worker() for _ in range(min(concurrency, len(bodies)))))
    return [a for a in answers if a is not None]


def refused(answers: Sequence[Answer]) -> list[str]:
    return [f"HTTP {a.status} result={a.result}" for a in answers if a.status != 200 or a.result != "SUCCESS"]
