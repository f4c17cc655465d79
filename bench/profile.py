"""Profile the server under the load of figure 1 or 2 with py-spy, and print where the time goes.

python -m bench.profile single|batch [--seconds 8] [--rate 200]    (needs `pip install '.[bench]'`)

The flame data (py-spy's raw collapsed stacks) is kept in bench/results/ for a closer look.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench import bodies, harness
from bench.figures.throughput import BATCH, BATCH_CONNECTIONS, CONNECTIONS, bench_account
from bench.harness import Context

LOADS = {
    "single": ("/inter/sendSingleSMS", bodies.single, CONNECTIONS, 15_000),
    "batch": ("/inter/sendBatchSMS", bodies.batch(BATCH), BATCH_CONNECTIONS, 400),
}


def _frame(raw: str) -> str:
    """'func (path/to/file.py:12)' -> 'func (file.py)'."""
    name, _, where = raw.partition(" (")
    return f"{name} ({where.split(':')[0].rsplit('/', 1)[-1]})" if where else name


def summarize(stacks: Path, top: int) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in stacks.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        frames = [_frame(f) for f in stack.split(";")]
        for f in set(frames):
            inclusive[f] += n
        own[frames[-1]] += n
    out = [f"{total} samples", "", "inclusive:"]
    out += [f"{100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top)]
    out += ["", "own time:"]
    out += [f"{100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top // 2)]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("load", choices=sorted(LOADS))
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=60)
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        raise SystemExit("bench.profile: py-spy is not installed: pip install '.[bench]'")
    path, payload, connections, rate = LOADS[args.load]
    harness.pin_load()
    results = harness.BENCH / "results"
    results.mkdir(exist_ok=True)
    stacks = results / f"profile-{args.load}-{time.strftime('%Y%m%d-%H%M%S')}.txt"
    with tempfile.TemporaryDirectory(prefix="emay-profile-") as work:
        ctx = Context(Path(work), results)
        load_file = ctx.work / "bodies.bin"
        bodies.write(load_file, bodies.generate(payload, int(rate * (args.seconds + 1))))
        config = ctx.config("profile", [bench_account()])
        with harness.emay_mock(config, f"profile-{args.load}", results) as mock:
            argv = [spy, "record", "-p", str(mock.pid), "-o", str(stacks), "--format", "raw",
                    "-d", str(int(args.seconds)), "-r", str(args.rate)]  # fmt: skip
            recorder = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            run = harness.run_wrk(
                mock.url, path, load_file, bodies.secure_headers(),
                connections=connections, seconds=args.seconds,
            )  # fmt: skip
            recorder.wait()
    print(f"{args.load}: {run.rate:,.0f} req/s, p50 {run.p50_ms:.2f} ms, p99 {run.p99_ms:.2f} ms")
    print(summarize(stacks, args.top))
    print(f"\nraw stacks: {stacks}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
