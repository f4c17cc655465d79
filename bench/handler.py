"""The sendSingleSMS handler's own cost, without HTTP: a steady figure on a noisy machine.

python -m bench.handler [--requests 20000] [--profile | --bytecodes | --instructions]

The real `/inter/sendSingleSMS` handler of an in-process mock (defaults, the bench account,
INFO request lines through the gathering handler `serve` sets up, into /dev/null, the
collector frozen as `serve` freezes it) is called directly with requests that carry the
bench's encrypted bodies: decryption, validation, the send, the journal, contract, metrics
and log line, and the encrypted answer all run; aiohttp's parsing and the socket do not.
The figure moves by about 1% from run to run where figure 1 moves by 5%, so it shows
whether a change to the request path made the handler cheaper. Under load the same work
costs two to three times more (interleaved with aiohttp's and the kernel's); figure 1
remains the measure of throughput. `--profile` adds cProfile's table, sorted by own time.

Two figures that a busy machine does not change, for tuning the request path (they follow
its cost under load: docs/DECISIONS.md#lane-instructions). The mock's clocks advance 100 µs
a request, as at figure 1's pace, so what follows the clock costs what it does in `serve`
however slowly the process runs (`SteadyClock`):
- `--instructions`: the machine instructions a request, counted by valgrind's callgrind
  in two runs of the handler that differ only in the number of sends (start-up, warm-up
  and making the bodies cancel out). About a minute for the default 6,000 sends.
- `--bytecodes`: the Python bytecodes and calls a request, by function (sys.settrace's
  opcode events), for seeing where the instructions come from.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import logging
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, cast

from aiohttp import web
from multidict import CIMultiDict

from bench import bodies, harness
from bench.figures.throughput import PATH, bench_account
from emay_mock import config as emay_config
from emay_mock.delivery.clock import Clock
from emay_mock.observe import logs
from emay_mock.server import MockServer

if TYPE_CHECKING:
    from _typeshed import TraceFunction

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


class SteadyClock:
    """Time as figure 1's pace has it, however slowly the process runs (callgrind slows it
    some fifty-fold): each request comes PACE_S after the last. What follows the clock (a
    report bucket every 10 ms, the smsId's prefix and the log line's time once a millisecond)
    then costs what it costs in `serve`, and every run counts the same."""

    PACE_S = 0.0001  # 10,000 requests a second

    def __init__(self) -> None:
        self.wall = time.time()
        self.mono = time.monotonic()

    def tick(self) -> None:
        self.wall += self.PACE_S
        self.mono += self.PACE_S

    def clock(self) -> Clock:
        return Clock(wall=lambda: self.wall, monotonic=lambda: self.mono)


async def start_handler(steady: SteadyClock | None = None) -> tuple[MockServer, Handler]:
    """An in-process mock with the bench account, started, and its sendSingleSMS handler;
    with `steady`, its clocks are that one's."""
    with tempfile.TemporaryDirectory(prefix="emay-handler-") as work:
        path = Path(work) / "handler.yaml"
        path.write_text(f"accounts: [{{appId: {bodies.APP_ID}, secretKey: '{bodies.SECRET_KEY}', "
                        f"balance: {bench_account()['balance']}}}]\n")  # fmt: skip
        clock = None if steady is None else steady.clock()
        mock = MockServer(emay_config.load(path), clock=clock, log_lines=LINES[0] if LINES else None)
    await mock.start()
    route = next(r for r in mock.app().router.routes() if r.resource and r.resource.canonical == PATH)
    return mock, cast(Handler, route.handler)


# The log lines `serve` writes its request lines to, once `main` has set them up as it does.
LINES: list[logs.GatheringHandler] = []

# What `serve` leaves in the cyclic collector's sight: it freezes survivors every tenth of a
# second (emay_mock.freezing), some thousand requests at figure 1's pace.
FREEZE_EVERY = 1000


async def send_all(
    handler: Handler, requests: Iterable[BenchRequest], steady: SteadyClock | None = None
) -> None:
    """Each request through the handler; RuntimeError at the first one not answered SUCCESS.
    The collector is frozen every FREEZE_EVERY requests, as `serve` freezes it; a steady
    clock ticks before each request."""
    for sent, request in enumerate(requests, 1):
        if steady is not None:
            steady.tick()
        answer = await handler(request)
        if answer.headers.get("result") != "SUCCESS":
            raise RuntimeError(f"a request was refused: {answer.headers.get('result')}")
        if sent % FREEZE_EVERY == 0:
            gc.freeze()


async def measure(requests: int, profile: bool = False) -> tuple[float, str]:
    """Microseconds per request through the handler (after a warm-up), and the profile's table."""
    mock, handler = await start_handler()
    try:
        calls = [BenchRequest(b) for b in bodies.generate(bodies.single, WARM_UP + requests)]
        await send_all(handler, calls[:WARM_UP])
        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        await send_all(handler, calls[WARM_UP:])
        if profiler is not None:
            profiler.disable()
        per_request_us = (time.perf_counter() - started) / requests * 1e6
    finally:
        await mock.stop()
    table = io.StringIO()
    if profiler is not None:
        pstats.Stats(profiler, stream=table).sort_stats("tottime").print_stats(40)
    return per_request_us, table.getvalue()


async def send_requests(sends: int, made: int) -> None:
    """`sends` requests through the handler, from `made` bodies made first: two runs with the
    same `made` differ only by their sends (what --instructions subtracts; the first run's
    sends are the second's warm-up)."""
    requests = [BenchRequest(b) for b in bodies.generate(bodies.single, made)]
    steady = SteadyClock()
    mock, handler = await start_handler(steady)
    try:
        await send_all(handler, requests[:sends], steady)
    finally:
        await mock.stop()


_COLLECTED = re.compile(r"Collected : (\d+)")


def instructions(sends: int) -> float:
    """Machine instructions a request: callgrind's totals for `sends` and a third of them."""
    valgrind = harness.debian_tool("valgrind")
    runs = (sends // 3, sends)
    totals = []
    with tempfile.TemporaryDirectory(prefix="emay-callgrind-") as work:
        for run in runs:
            argv = [valgrind, "--tool=callgrind", f"--callgrind-out-file={work}/out.{run}", sys.executable,
                    "-m", "bench.handler", "--sends", str(run), "--made", str(sends)]  # fmt: skip
            done = subprocess.run(argv, cwd=harness.ROOT, capture_output=True, text=True, check=True)
            found = _COLLECTED.search(done.stderr)
            if found is None:
                raise RuntimeError(f"callgrind printed no total:\n{done.stderr[-2000:]}")
            totals.append(int(found.group(1)))
    return (totals[1] - totals[0]) / (runs[1] - runs[0])


async def bytecodes(sends: int) -> tuple[float, float, list[tuple[str, float, float]]]:
    """Bytecodes and Python calls a request, and by function (name, bytecodes, calls), most first."""
    requests = [BenchRequest(b) for b in bodies.generate(bodies.single, WARM_UP + sends)]
    steady = SteadyClock()
    mock, handler = await start_handler(steady)
    ops: Counter[str] = Counter()
    calls: Counter[str] = Counter()

    def trace(frame: FrameType, event: str, arg: Any) -> TraceFunction | None:
        code = frame.f_code
        if code.co_filename == __file__:
            return None  # this harness's own loop is not the handler's cost
        name = f"{Path(code.co_filename).name}:{code.co_name}"
        if event == "call":
            calls[name] += 1
            frame.f_trace_opcodes = True
        elif event == "opcode":
            ops[name] += 1
        return trace

    try:
        await send_all(handler, requests[:WARM_UP], steady)
        sys.settrace(trace)
        try:
            await send_all(handler, requests[WARM_UP:], steady)
        finally:
            sys.settrace(None)
    finally:
        await mock.stop()
    rows = [(name, n / sends, calls[name] / sends) for name, n in ops.most_common()]
    return ops.total() / sends, calls.total() / sends, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.handler", description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--profile", action="store_true", help="print cProfile's table (slows the figure)")
    parser.add_argument("--instructions", action="store_true", help="instructions a request, under callgrind")
    parser.add_argument("--bytecodes", action="store_true", help="bytecodes and calls a request, by function")
    parser.add_argument("--sends", type=int, help=argparse.SUPPRESS)  # one run of --instructions
    parser.add_argument("--made", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    lines = logs.configure("INFO")  # as `serve` does, the lines going nowhere rather than to the terminal
    if lines is not None:
        LINES.append(lines)
    devnull = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (open for the run)
    cast(logging.StreamHandler[Any], logging.getLogger().handlers[0]).setStream(devnull)
    if args.sends is not None:
        asyncio.run(send_requests(args.sends, args.made))
        return 0
    if args.instructions:
        sends = 6000 if args.requests == parser.get_default("requests") else args.requests
        print(f"sendSingleSMS handler without HTTP: {instructions(sends):,.0f} "
              f"instructions a request (callgrind, {sends:,} sends)")  # fmt: skip
        return 0
    if args.bytecodes:
        sends = 1000 if args.requests == parser.get_default("requests") else args.requests
        ops, calls, rows = asyncio.run(bytecodes(sends))
        print(f"sendSingleSMS handler without HTTP: {ops:,.0f} bytecodes and "
              f"{calls:.0f} Python calls a request ({sends:,})")  # fmt: skip
        for name, n, called in rows[:30]:
            print(f"{n:8.1f} {called:5.2f}  {name}")
        return 0
    per_request_us, table = asyncio.run(measure(args.requests, args.profile))
    print(f"sendSingleSMS handler without HTTP: {per_request_us:.1f} µs a request "
          f"({args.requests:,})")  # fmt: skip
    if table:
        print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
