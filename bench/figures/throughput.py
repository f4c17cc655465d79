"""Figures 1 and 2: sendSingleSMS against a bare aiohttp handler, and sendBatchSMS of 500."""

from __future__ import annotations

import sys

from bench import bodies, harness
from bench.harness import Context, WrkRun
from bench.report import Figure

CONNECTIONS = 32
PATH = "/inter/sendSingleSMS"
# Enough fresh bodies for this many requests per second, so none is ever replayed.
MAX_SINGLE_RATE = 15_000
MAX_BATCH_RATE = 400


def bench_account() -> dict[str, object]:
    return {"appId": bodies.APP_ID, "secretKey": bodies.SECRET_KEY, "balance": 10**12}


def _check(run: WrkRun, what: str) -> None:
    if not run.clean:
        raise RuntimeError(
            f"{what}: {run.refused} answers were not SUCCESS (first: {run.first_refusal}), "
            f"{run.exhausted} requests found no fresh body, {run.socket_errors} socket errors"
        )


def single(ctx: Context) -> list[Figure]:
    warm_s, run_s = ctx.seconds(2), ctx.seconds(10)
    warm = ctx.work / "single-warm.bin"
    main = ctx.work / "single.bin"
    bodies.write(warm, bodies.generate(bodies.single, int(MAX_SINGLE_RATE * warm_s), start=10_000_000))
    bodies.write(main, bodies.generate(bodies.single, int(MAX_SINGLE_RATE * run_s)))
    headers = bodies.secure_headers()

    with harness.Server([sys.executable, "-m", "bench.bare"], "bare", ctx.logs) as bare:
        harness.run_wrk(bare.url, PATH, warm, headers, connections=CONNECTIONS, seconds=warm_s, cycle=True)
        cpu = bare.cpu_seconds()
        ref = harness.run_wrk(
            bare.url, PATH, main, headers, connections=CONNECTIONS, seconds=run_s, cycle=True
        )
        ref_cpu_us = (bare.cpu_seconds() - cpu) / ref.requests * 1e6
    _check(ref, "bare aiohttp")

    config = ctx.config("single", [bench_account()])
    with harness.emay_mock(config, "single", ctx.logs) as mock:
        warm_run = harness.run_wrk(mock.url, PATH, warm, headers, connections=CONNECTIONS, seconds=warm_s)
        _check(warm_run, "warm-up")
        cpu = mock.cpu_seconds()
        run = harness.run_wrk(mock.url, PATH, main, headers, connections=CONNECTIONS, seconds=run_s)
        cpu_us = (mock.cpu_seconds() - cpu) / run.requests * 1e6
    _check(run, "sendSingleSMS")

    details = {
        "connections": CONNECTIONS,
        "seconds": run.seconds,
        "mock": {**run.public(), "server_cpu_us_per_request": round(cpu_us, 1)},
        "bare": {**ref.public(), "server_cpu_us_per_request": round(ref_cpu_us, 1)},
    }
    ratio = run.rate / ref.rate
    return [
        Figure("1a", "sendSingleSMS, full secure protocol", run.rate, "req/s", "ratio >= 0.6", ratio >= 0.6,
               reference=ref.rate, reference_name="bare aiohttp", ratio=ratio, details=details),
        Figure("1b", f"sendSingleSMS p99 latency (p50 {run.p50_ms:.2f} ms)", run.p99_ms, "ms", "< 5 ms",
               run.p99_ms < 5, reference=ref.p99_ms, reference_name="bare aiohttp p99",
               details={"p50_ms": run.p50_ms, "p90_ms": run.p90_ms, "max_ms": run.max_ms,
                        "bare_p50_ms": ref.p50_ms}),
    ]  # fmt: skip


BATCH = 500
BATCH_CONNECTIONS = 8


def batch(ctx: Context) -> list[Figure]:
    warm_s, run_s = ctx.seconds(1), ctx.seconds(6)
    payload = bodies.batch(BATCH)
    warm = ctx.work / "batch-warm.bin"
    main = ctx.work / "batch.bin"
    bodies.write(warm, bodies.generate(payload, int(MAX_BATCH_RATE * warm_s), start=20_000))
    bodies.write(main, bodies.generate(payload, int(MAX_BATCH_RATE * run_s)))
    config = ctx.config("batch", [bench_account()])
    path = "/inter/sendBatchSMS"
    headers = bodies.secure_headers()
    with harness.emay_mock(config, "batch", ctx.logs) as mock:
        _check(harness.run_wrk(mock.url, path, warm, headers, connections=BATCH_CONNECTIONS, seconds=warm_s),
               "warm-up")  # fmt: skip
        cpu = mock.cpu_seconds()
        run = harness.run_wrk(mock.url, path, main, headers, connections=BATCH_CONNECTIONS, seconds=run_s)
        cpu_us = (mock.cpu_seconds() - cpu) / (run.requests * BATCH) * 1e6
    _check(run, "sendBatchSMS")
    rate = run.rate * BATCH
    return [
        Figure("2", f"sendBatchSMS of {BATCH}: messages accepted", rate, "msg/s", ">= 100,000 msg/s",
               rate >= 100_000,
               details={**run.public(), "connections": BATCH_CONNECTIONS,
                        "server_cpu_us_per_message": round(cpu_us, 2)}),
    ]  # fmt: skip
