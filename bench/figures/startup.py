"""Figure 6: from process start to /_mock/health answering 200."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from bench import harness
from bench.harness import Context
from bench.report import Figure

RUNS = 5


def _command() -> list[str]:
    script = Path(sys.executable).parent / "emay-mock"
    base = [str(script)] if script.exists() else [sys.executable, "-m", "emay_mock"]
    return [*base, "serve", "--port", "0"]


def _once(ctx: Context, n: int) -> float:
    started = time.perf_counter()
    with harness.Server(_command(), f"startup-{n}", ctx.logs) as server:
        return server.healthy_after(started, timeout=5)


def startup(ctx: Context) -> list[Figure]:
    times = [_once(ctx, n) for n in range(RUNS if ctx.scale >= 1 else 1)]
    worst = max(times)
    return [
        Figure("6", f"start-up to /_mock/health 200 (worst of {len(times)})", worst, "s", "< 1 s",
               worst < 1.0, details={"runs_s": times, "median_s": statistics.median(times),
                                     "command": " ".join(_command())}),
    ]  # fmt: skip
