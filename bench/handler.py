"""The sendSingleSMS handler's own cost, without HTTP: a steady figure on a noisy machine.

python -m bench.handler [--requests 20000] [--profile]

The real `/inter/sendSingleSMS` handler of an in-process mock (defaults, the bench account,
INFO request lines through the gathering handler `serve` sets up, into /dev/null) is called directly with
requests that carry the bench's encrypted bodies: decryption, validation, the send, the
journal, contract, metrics and log line, and the encrypted answer all run; aiohttp's
parsing and the socket do not. The figure moves by about 1% from run to run where figure
1 moves by 5%, so it shows whether a change to the request path made the handler cheaper.
Under load the same work costs two to three times more (interleaved with aiohttp's and
the kernel's); figure 1 remains the measure of throughput. `--profile` adds cProfile's
table, sorted by own time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import io
import logging
import os
import pstats
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

from aiohttp import web
from multidict import CIMultiDict

from bench import bodies
from bench.figures.throughput import PATH, bench_account
from emay_mock import config as emay_config
from emay_mock.observe import logs
from emay_mock.server import MockServer

WARM_UP = 1000
Handler = Callable[["BenchRequest"], Awaitable[web.StreamResponse]]


class BenchRequest:
    """What the secure handler reads of a request: headers, the peer, the body and its length."""

    method = "POST"
    remote = "127.0.0.1"
    scheme = "http"
    host = "127.0.0.1"

    def __init__(self, body: bytes) -> None:
        self._body = body
        self.content_length = len(body)
        self.headers = CIMultiDict(bodies.secure_headers())

    async def read(self) -> bytes:
        return self._body


async def start_handler(*, general: bool = False) -> tuple[MockServer, Handler]:
    """An in-process mock with the bench account, started, and its sendSingleSMS handler."""
    with tempfile.TemporaryDirectory(prefix="emay-handler-") as work:
        path = Path(work) / "handler.yaml"
        path.write_text(f"accounts: [{{appId: {bodies.APP_ID}, secretKey: '{bodies.SECRET_KEY}', "
                        f"balance: {bench_account()['balance']}}}]\n")  # fmt: skip
        config = emay_config.load(path)
        if general:  # the bench's requests are plain: without the lane, the general path serves them
            config.settings = dataclasses.replace(config.settings, plain_lane=False)
        mock = MockServer(config)
    await mock.start()
    route = next(r for r in mock.app().router.routes() if r.resource and r.resource.canonical == PATH)
    return mock, cast(Handler, route.handler)


async def measure(requests: int, profile: bool = False, *, general: bool = False) -> tuple[float, str]:
    """Microseconds per request through the handler (after a warm-up), and the profile's table."""
    mock, handler = await start_handler(general=general)
    try:
        calls = [BenchRequest(b) for b in bodies.generate(bodies.single, WARM_UP + requests)]
        for request in calls[:WARM_UP]:
            await handler(request)
        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        refused: list[str | None] = []
        for request in calls[WARM_UP:]:
            answer = await handler(request)
            if answer.headers.get("result") != "SUCCESS":
                refused.append(answer.headers.get("result"))
        if profiler is not None:
            profiler.disable()
        per_request_us = (time.perf_counter() - started) / requests * 1e6
        if refused:
            raise RuntimeError(f"{len(refused)} requests were refused, the first {refused[0]}")
    finally:
        await mock.stop()
    table = io.StringIO()
    if profiler is not None:
        pstats.Stats(profiler, stream=table).sort_stats("tottime").print_stats(40)
    return per_request_us, table.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.handler", description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--profile", action="store_true", help="print cProfile's table (slows the figure)")
    parser.add_argument("--general", action="store_true", help="without the plain lane (the general path)")
    args = parser.parse_args(argv)
    logs.configure("INFO")  # as `serve` does, the lines going nowhere rather than to the terminal
    devnull = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (open for the run)
    cast(logging.StreamHandler[Any], logging.getLogger().handlers[0]).setStream(devnull)
    per_request_us, table = asyncio.run(measure(args.requests, args.profile, general=args.general))
    path = "the general path" if args.general else "the plain lane"
    print(f"sendSingleSMS handler without HTTP, {path}: {per_request_us:.1f} µs a request "
          f"({args.requests:,})")  # fmt: skip
    if table:
        print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
