"""Two builds of the mock compared under figure 1's load, at once, on the same core.

python -m bench.pair A B [--rounds 6] [--seconds 6] [--config-a JSON] [--config-b JSON]

A and B are git revisions (`HEAD~1`, `main`, a commit) or `.` for the working tree. Both
servers run on the server core together, each loaded by its own wrk with half of figure
1's connections, so the machine's noise (other tenants, a slower minute) falls on both
alike; each one's CPU time a request is read from /proc. The ratio B/A of those costs
moves by about 1% from round to round where figure 1's ratio moves by 5 to 10%: it tells
whether a change made a request cheaper, by how much, and whether it is more than noise.
`--config-a`/`--config-b` add top-level config keys on one side (a setting's cost).
Figure 1 remains the measure of throughput against bare aiohttp.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import bodies, harness
from bench.figures.throughput import CONNECTIONS, MAX_SINGLE_RATE, PATH, bench_account, fresh_bodies
from bench.harness import Context, WrkRun

ROOT = Path(__file__).resolve().parent.parent
WARM_UP_S = 2.0


def package_of(revision: str, into: Path) -> Path:
    """A folder whose `emay_mock` is the package at `revision` (`.`: the working tree's)."""
    if revision == ".":
        return ROOT
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "archive", revision, "emay_mock"], cwd=ROOT, capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise SystemExit(f"bench.pair: no revision {revision!r}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def serve_argv(root: Path, config: Path) -> list[str]:
    """`emay-mock serve` from the package under `root`, whatever is installed."""
    start = f"import sys; sys.path.insert(0, {str(root)!r}); from emay_mock.cli import main; sys.exit(main())"
    return [sys.executable, "-c", start, "serve", "--config", str(config), "--port", "0"]


@dataclass
class Side:
    name: str
    root: Path
    config: Mapping[str, Any]
    costs: list[float] = field(default_factory=list)  # CPU µs a request, one per round
    rates: list[float] = field(default_factory=list)


def median_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """B's cost over A's, round by round, and their median."""
    return statistics.median(y / x for x, y in zip(a, b, strict=True))


def _load(
    servers: Mapping[str, harness.Server], files: Mapping[str, Path], seconds: float
) -> dict[str, WrkRun]:
    """Each server under its own wrk, all at once."""
    runs: dict[str, WrkRun] = {}

    def load(name: str) -> None:
        runs[name] = harness.run_wrk(servers[name].url, PATH, files[name], bodies.secure_headers(),
                                     connections=CONNECTIONS // 2, seconds=seconds)  # fmt: skip

    threads = [threading.Thread(target=load, args=(name,)) for name in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return runs


def _round(
    ctx: Context, sides: list[Side], files: Mapping[str, tuple[Path, Path]], seconds: float, r: int
) -> None:
    servers: dict[str, harness.Server] = {}
    try:
        for side in sides if r % 2 == 0 else sides[::-1]:  # who starts first takes turns
            config = ctx.config(f"{side.name}-{r}", [bench_account()], **side.config)
            servers[side.name] = harness.Server(serve_argv(side.root, config), f"{side.name}-{r}", ctx.logs)
            servers[side.name].__enter__()
        _load(servers, {name: pair[0] for name, pair in files.items()}, WARM_UP_S)
        cpu = {name: server.cpu_seconds() for name, server in servers.items()}
        runs = _load(servers, {name: pair[1] for name, pair in files.items()}, seconds)
        for side in sides:
            run = runs[side.name]
            if not run.clean:
                raise SystemExit(f"bench.pair: {side.name}: {run.refused} refused ({run.first_refusal})")
            side.costs.append((servers[side.name].cpu_seconds() - cpu[side.name]) / run.requests * 1e6)
            side.rates.append(run.rate)
    finally:
        for server in servers.values():
            server.__exit__(None, None, None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pair", description=__doc__.split("\n\n")[0])
    parser.add_argument("a", help="a git revision, or . for the working tree")
    parser.add_argument("b", help="the same, compared with A")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=6.0, help="each round's measured load")
    parser.add_argument("--config-a", default="{}", help="top-level config keys for A (JSON)")
    parser.add_argument("--config-b", default="{}", help="top-level config keys for B (JSON)")
    args = parser.parse_args(argv)
    harness.pin_load()
    with tempfile.TemporaryDirectory(prefix="emay-pair-") as work:
        tmp = Path(work)
        names = ("A", "B") if args.a != args.b else ("A", "A'")
        sides = [
            Side(names[0], package_of(args.a, tmp / "a"), json.loads(args.config_a)),
            Side(names[1], package_of(args.b, tmp / "b"), json.loads(args.config_b)),
        ]
        ctx = Context(tmp, tmp, 1.0)
        rate, seconds = MAX_SINGLE_RATE // 2, (WARM_UP_S, args.seconds)
        files = {  # each its own fresh bodies: no request is ever replayed
            side.name: fresh_bodies(ctx, f"bodies-{i}", bodies.single, rate, seconds, start=i * 50_000_000)
            for i, side in enumerate(sides)
        }
        print(f"A = {args.a}, B = {args.b}; load average at start {os.getloadavg()[0]:.2f}", flush=True)
        for r in range(args.rounds):
            _round(ctx, sides, files, args.seconds, r)
            a, b = sides
            ratio = b.costs[-1] / a.costs[-1]
            print(f"round {r + 1}: {a.name} {a.costs[-1]:.1f} µs ({a.rates[-1]:,.0f}/s)  "
                  f"{b.name} {b.costs[-1]:.1f} µs ({b.rates[-1]:,.0f}/s)  B/A {ratio:.3f}",
                  flush=True)  # fmt: skip
    a, b = sides
    ratios = sorted(y / x for x, y in zip(a.costs, b.costs, strict=True))
    print(f"B/A CPU a request: median {median_ratio(a.costs, b.costs):.3f} "
          f"(rounds {ratios[0]:.3f} to {ratios[-1]:.3f}); below 1: B is cheaper")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
