"""python -m bench [--only 1,3] [--scale 0.1]: run the figures, print the table, write JSON."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import harness, report
from bench.figures import delays, growth, push, retention, scale, startup, store, throughput
from bench.harness import Context
from bench.report import Figure

FIGURES: dict[str, Callable[[Context], list[Figure]]] = {
    "1": throughput.single,
    "2": throughput.batch,
    "3": store.pull,
    "4": push.push,
    "5": store.memory,
    "6": startup.startup,
    "7": delays.delays,
    "8": scale.scale,
    "9": retention.retention,
    "10": growth.growth,
}
RESULTS = harness.BENCH / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", help="comma-separated figure numbers (default: all)")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink every figure (smoke runs)")
    parser.add_argument("--out", type=Path, help="the JSON file (default: bench/results/bench-<time>.json)")
    args = parser.parse_args(argv)
    chosen = args.only.split(",") if args.only else list(FIGURES)
    harness.wrk_path()  # fail at once, with the fix, when wrk is missing
    if harness.cores() < 2:
        print("bench: fewer than 2 cores: server and load cannot be pinned apart", file=sys.stderr)
    harness.pin_load()
    meta = report.machine()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = args.out or RESULTS / f"bench-{stamp}.json"
    logs = RESULTS / f"logs-{stamp}"
    logs.mkdir(parents=True, exist_ok=True)
    figures: list[Figure] = []
    failed: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="emay-bench-") as work:
        ctx = Context(Path(work), logs, args.scale)
        for key in chosen:
            print(f"figure {key} …", flush=True)
            t0 = time.perf_counter()
            try:
                got = FIGURES[key](ctx)
            except Exception:
                traceback.print_exc()
                failed.append(key)
                continue
            figures += got
            for f in got:
                print(f"  {f.number}: {f.measured:,.3f} {f.unit}  ({'pass' if f.passed else 'MISS'}, "
                      f"{time.perf_counter() - t0:.0f} s)", flush=True)  # fmt: skip
    meta["seconds"] = round(time.perf_counter() - started, 1)
    meta["scale"] = args.scale
    report.write(out, figures, meta)
    print()
    print(f"{meta['cpu']}, {meta['cores']} cores, Python {meta['python']}, {meta['date']}, "
          f"load average at start {meta['loadavg_at_start']}")  # fmt: skip
    print(report.table(figures))
    print(f"\n{len(figures)} figures in {meta['seconds']} s; JSON: {out}; server logs: {logs}")
    if failed:
        print(f"figures that could not be measured: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
