"""Figures 1 and 2: sendSingleSMS against a bare aiohttp handler, and sendBatchSMS of 500,
each in memory and with `--db`; figure 1 also without gzip (the v1 demo's default)."""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bench import bodies, harness
from bench.harness import Context, WrkRun
from bench.report import Figure

CONNECTIONS = 32
ROUNDS = 3  # figure 1's variants and the bare server take turns this many times
PATH = "/inter/sendSingleSMS"
# Enough fresh bodies for this many requests per second, so none is ever replayed.
MAX_SINGLE_RATE = 25_000
MAX_BATCH_RATE = 600


def bench_account() -> dict[str, object]:
    return {"appId": bodies.APP_ID, "secretKey": bodies.SECRET_KEY, "balance": 10**12}


def _check(run: WrkRun, what: str) -> None:
    if not run.clean:
        raise RuntimeError(
            f"{what}: {run.refused} answers were not SUCCESS (first: {run.first_refusal}), "
            f"{run.exhausted} requests found no fresh body, {run.socket_errors} socket errors"
        )


@dataclass
class Measured:
    run: WrkRun
    cpu_us: float  # server CPU per request (or per message, for batches)


def measure_mock(
    ctx: Context, name: str, path: str, files: tuple[Path, Path], headers: dict[str, str], connections: int,
    seconds: tuple[float, float], *, durable: bool = False, per_request: int = 1,
    server: Mapping[str, object] | None = None,
) -> Measured:  # fmt: skip
    """`emay-mock serve` with the bench account (and `--db`, and `server` settings): a warm-up
    run, then the measured one."""
    config = ctx.config(name, [bench_account()], **({"server": server} if server else {}))
    extra = ("--db", str(ctx.work / f"{name}.db")) if durable else ()
    with harness.emay_mock(config, name, ctx.logs, *extra) as mock:
        warm = harness.run_wrk(mock.url, path, files[0], headers, connections=connections, seconds=seconds[0])
        _check(warm, f"{name} warm-up")
        cpu = mock.cpu_seconds()
        run = harness.run_wrk(mock.url, path, files[1], headers, connections=connections, seconds=seconds[1])
        cpu_us = (mock.cpu_seconds() - cpu) / (run.requests * per_request) * 1e6
    _check(run, name)
    return Measured(run, cpu_us)


def _bare(
    ctx: Context, files: tuple[Path, Path], headers: dict[str, str], seconds: tuple[float, float]
) -> Measured:
    with harness.Server([sys.executable, "-m", "bench.bare"], "bare", ctx.logs) as bare:
        harness.run_wrk(
            bare.url, PATH, files[0], headers, connections=CONNECTIONS, seconds=seconds[0], cycle=True
        )
        cpu = bare.cpu_seconds()
        run = harness.run_wrk(bare.url, PATH, files[1], headers, connections=CONNECTIONS, seconds=seconds[1],
                              cycle=True)  # fmt: skip
        cpu_us = (bare.cpu_seconds() - cpu) / run.requests * 1e6
    _check(run, "bare aiohttp")
    return Measured(run, cpu_us)


def fresh_bodies(ctx: Context, name: str, payload: bodies.Payload, rate: int, seconds: tuple[float, float],
            start: int, gzip: bool = True) -> tuple[Path, Path]:  # fmt: skip
    warm, main = ctx.work / f"{name}-warm.bin", ctx.work / f"{name}.bin"
    bodies.write(warm, bodies.generate(payload, int(rate * seconds[0]), start=start + 10_000_000, gzip=gzip))
    bodies.write(main, bodies.generate(payload, int(rate * seconds[1]), start=start, gzip=gzip))
    return warm, main


@dataclass
class Rounds:
    """One variant measured in every round: its runs and its ratio to the bare server of each round."""

    runs: list[Measured]
    ratios: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def median(self) -> Measured:
        """The round whose ratio is the median (the middle one of an odd number of rounds)."""
        ranked = sorted(zip(self.ratios, range(len(self.runs)), strict=True))
        return self.runs[ranked[len(ranked) // 2][1]]


def single(ctx: Context) -> list[Figure]:
    """The bare server and the three variants take turns, ROUNDS times, each a fresh process:
    a noisy neighbour then skews one round, not one variant, and the median round is reported."""
    seconds = (ctx.seconds(2), ctx.seconds(5))
    rounds = ROUNDS if ctx.scale >= 1 else 1
    gz = fresh_bodies(ctx, "single", bodies.single, MAX_SINGLE_RATE, seconds, start=0)
    plain = fresh_bodies(
        ctx, "single-plain", bodies.single, MAX_SINGLE_RATE, seconds, start=100_000_000, gzip=False
    )
    headers = bodies.secure_headers()
    variants: dict[str, Callable[[int], Measured]] = {
        "memory": lambda r: measure_mock(ctx, f"single-{r}", PATH, gz, headers, CONNECTIONS, seconds),
        "durable": lambda r: measure_mock(ctx, f"single-db-{r}", PATH, gz, headers, CONNECTIONS, seconds,
                                      durable=True),
        "no_gzip": lambda r: measure_mock(ctx, f"single-nogzip-{r}", PATH, plain,
                                      bodies.secure_headers(gzip=False), CONNECTIONS, seconds),
    }  # fmt: skip
    bare: list[Measured] = []
    measured = {name: Rounds([], []) for name in variants}
    for r in range(rounds):
        bare.append(_bare(ctx, gz, headers, seconds))
        for name, measure in variants.items():
            m = measure(r)
            measured[name].runs.append(m)
            measured[name].ratios.append(m.run.rate / bare[-1].run.rate)
    ref = sorted(bare, key=lambda m: m.run.rate)[len(bare) // 2]

    def details(v: Rounds) -> dict[str, object]:
        m = v.median
        return {
            "connections": CONNECTIONS,
            "rounds": rounds,
            "ratios": [round(x, 3) for x in v.ratios],
            "mock": {**m.run.public(), "server_cpu_us_per_request": round(m.cpu_us, 1)},
            "bare": {**ref.run.public(), "server_cpu_us_per_request": round(ref.cpu_us, 1)},
            "bare_rates": [round(b.run.rate) for b in bare],
        }

    memory, durable, no_gzip = measured["memory"], measured["durable"], measured["no_gzip"]
    run = memory.median.run
    p99s = sorted(m.run.p99_ms for m in memory.runs)
    p99 = p99s[len(p99s) // 2]
    return [
        Figure("1a", "sendSingleSMS, full secure protocol, gzip on (the SDK), in memory", run.rate, "req/s",
               "ratio >= 0.5 (aim 0.6)", memory.ratio >= 0.5, reference=ref.run.rate,
               reference_name="bare aiohttp", ratio=memory.ratio, details=details(memory)),
        Figure("1b", f"sendSingleSMS p99 latency (p50 {run.p50_ms:.2f} ms)", p99, "ms", "< 5 ms",
               p99 < 5, reference=ref.run.p99_ms, reference_name="bare aiohttp p99",
               details={"p50_ms": run.p50_ms, "p90_ms": run.p90_ms, "max_ms": run.max_ms,
                        "p99_ms_per_round": [m.run.p99_ms for m in memory.runs],
                        "bare_p50_ms": ref.run.p50_ms}),
        Figure("1c", f"sendSingleSMS, as 1a, with --db (p99 {durable.median.run.p99_ms:.1f} ms)",
               durable.median.run.rate, "req/s", "ratio >= 0.3, p99 < 10 ms",
               durable.ratio >= 0.3 and durable.median.run.p99_ms < 10, reference=ref.run.rate,
               reference_name="bare aiohttp",
               ratio=durable.ratio, details={**details(durable), "p99_ms": durable.median.run.p99_ms}),
        Figure("1d", "sendSingleSMS, as 1a, gzip off (the v1 demo's default)", no_gzip.median.run.rate,
               "req/s", "ratio >= 0.5, p99 < 5 ms", no_gzip.ratio >= 0.5 and no_gzip.median.run.p99_ms < 5,
               reference=ref.run.rate,
               reference_name="bare aiohttp", ratio=no_gzip.ratio,
               details={**details(no_gzip), "p99_ms": no_gzip.median.run.p99_ms}),
    ]  # fmt: skip


BATCH = 500
BATCH_CONNECTIONS = 8


def batch(ctx: Context) -> list[Figure]:
    seconds = (ctx.seconds(1), ctx.seconds(6))
    files = fresh_bodies(ctx, "batch", bodies.batch(BATCH), MAX_BATCH_RATE, seconds, start=20_000)
    path = "/inter/sendBatchSMS"
    headers = bodies.secure_headers()
    figures = []
    for number, name, durable, target in (
        ("2a", "in memory", False, 100_000),
        ("2b", "with --db", True, 50_000),
    ):
        m = measure_mock(ctx, f"batch-{number}", path, files, headers, BATCH_CONNECTIONS, seconds,
                     durable=durable, per_request=BATCH)  # fmt: skip
        rate = m.run.rate * BATCH
        figures.append(
            Figure(number, f"sendBatchSMS of {BATCH}, {name}: messages accepted", rate, "msg/s",
                   f">= {target:,} msg/s", rate >= target,
                   details={**m.run.public(), "connections": BATCH_CONNECTIONS,
                            "server_cpu_us_per_message": round(m.cpu_us, 2)})
        )  # fmt: skip
    return figures
