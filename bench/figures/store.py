"""Figures 3 and 5: getReport cost against the size of the store, and memory per message."""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

from bench import bodies, harness, load
from bench.figures.throughput import bench_account
from bench.harness import Context
from bench.report import Figure

PULL_NUMBER = 5
PULL_CONCURRENCY = 4


def _pull_cost(ctx: Context, stored: int, calls: int) -> dict[str, float]:
    """Server CPU per getReport call (each taking PULL_NUMBER reports) with `stored` messages."""
    config = ctx.config("pull", [bench_account()], server={"logLevel": "info"})
    argv = [sys.executable, "-m", "bench.prefill", "--config", str(config), "--messages", str(stored)]
    requests = list(bodies.generate(bodies.pull(PULL_NUMBER), calls + 200))
    url_path = "/inter/getReport"
    headers = bodies.secure_headers()
    with harness.Server(argv, f"pull-{stored}", ctx.logs) as mock:
        url = mock.url + url_path
        warm = asyncio.run(load.post_all(url, requests[:200], headers, concurrency=PULL_CONCURRENCY))
        cpu, wall = mock.cpu_seconds(), time.perf_counter()
        answers = asyncio.run(load.post_all(url, requests[200:], headers, concurrency=PULL_CONCURRENCY))
        wall = time.perf_counter() - wall
        cpu = mock.cpu_seconds() - cpu
        rss = mock.rss_bytes()
    bad = load.refused(warm + answers)
    if bad:
        raise RuntimeError(f"getReport with {stored} stored: {bad[0]} ({len(bad)} refused)")
    return {
        "stored": stored,
        "calls": len(answers),
        "server_cpu_us_per_call": cpu / len(answers) * 1e6,
        "calls_per_s": len(answers) / wall,
        "p50_ms": statistics.median(a.seconds for a in answers) * 1000,
        "server_rss_mib": rss / 2**20,
    }


def pull(ctx: Context) -> list[Figure]:
    small_n, large_n = ctx.n(10_000, 2_000), ctx.n(1_000_000, 20_000)
    calls = small_n // PULL_NUMBER - 200  # each call takes PULL_NUMBER reports; never an empty queue
    small = _pull_cost(ctx, small_n, calls)
    large = _pull_cost(ctx, large_n, calls)
    ratio = large["server_cpu_us_per_call"] / small["server_cpu_us_per_call"]
    return [
        Figure("3", f"getReport ({PULL_NUMBER} reports) server CPU per call, {large_n:,} stored",
               large["server_cpu_us_per_call"], "µs", "<= 1.5x the 10,000 case", ratio <= 1.5,
               reference=small["server_cpu_us_per_call"], reference_name=f"{small_n:,} stored",
               ratio=ratio, details={"small": small, "large": large, "how": "over HTTP, "
                                     f"{PULL_CONCURRENCY} connections, CPU time of the server process"}),
    ]  # fmt: skip


MEMORY_BATCH = 500


def _send(mock: harness.Server, count: int, start: int) -> None:
    requests = list(bodies.generate(bodies.batch(MEMORY_BATCH), count // MEMORY_BATCH, start=start))
    answers = asyncio.run(
        load.post_all(mock.url + "/inter/sendBatchSMS", requests, bodies.secure_headers(), concurrency=4)
    )
    bad = load.refused(answers)
    if bad:
        raise RuntimeError(f"memory fill: {bad[0]}")


def _settled_rss(mock: harness.Server) -> int:
    """RSS once every report of what was sent is in its queue (the report delay is 1 s)."""
    time.sleep(1.2)
    while mock.metric("emay_scheduled_jobs") > 0:
        time.sleep(0.1)
    return mock.rss_bytes()


def memory(ctx: Context) -> list[Figure]:
    warm_n, step_n = ctx.n(100_000, 5_000), ctx.n(200_000, 10_000)
    config = ctx.config("memory", [bench_account()])
    with harness.emay_mock(config, "memory", ctx.logs) as mock:
        idle = mock.rss_bytes()
        _send(mock, warm_n, start=0)
        before = _settled_rss(mock)
        _send(mock, step_n, start=warm_n // MEMORY_BATCH)
        after = _settled_rss(mock)
    per_message = (after - before) / step_n
    return [
        Figure("5", "RSS growth per stored message", per_message, "B", "<= 1,024 B/message",
               per_message <= 1024,
               details={"idle_rss_mib": idle / 2**20, f"rss_after_{warm_n}_mib": before / 2**20,
                        f"rss_after_{warm_n + step_n}_mib": after / 2**20,
                        "per_100k_messages_mib": per_message * 100_000 / 2**20,
                        "how": "sendBatchSMS of 500 over HTTP; reports left in the getReport queue"}),
    ]  # fmt: skip
