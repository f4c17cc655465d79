"""Figure 9: sendSingleSMS past server.maxMessages, against the same server without a limit.

Retention's cost per send must not grow with the messages it may not remove: in 9a every
report is an hour away, so nothing stored can go and each round finds only waiting
messages; in 9b reports come after the default second and retention removes as they do.
"""

from __future__ import annotations

from bench import bodies
from bench.figures.throughput import (
    CONNECTIONS,
    MAX_SINGLE_RATE,
    PATH,
    ROUNDS,
    Measured,
    Rounds,
    fresh_bodies,
    measure_mock,
)
from bench.harness import Context
from bench.report import Figure

LIMIT = 5_000
HOUR = {"reportDelaySeconds": 3600}
TARGET = 0.85


def retention(ctx: Context) -> list[Figure]:
    """Each limited server and its unlimited twin take turns, ROUNDS times, each a fresh process."""
    seconds = (ctx.seconds(2), ctx.seconds(5))
    rounds = ROUNDS if ctx.scale >= 1 else 1
    limit = max(100, int(LIMIT * min(ctx.scale, 1.0)))
    files = fresh_bodies(ctx, "retention", bodies.single, MAX_SINGLE_RATE, seconds, start=200_000_000)
    headers = bodies.secure_headers()
    pairs = {
        "waiting": (HOUR, {**HOUR, "maxMessages": limit}),
        "pruning": ({}, {"maxMessages": limit}),
    }
    measured = {name: Rounds([], []) for name in pairs}
    twins: dict[str, list[Measured]] = {name: [] for name in pairs}
    for r in range(rounds):
        for name, (free, limited) in pairs.items():
            twin = measure_mock(
                ctx, f"retention-{name}-free-{r}", PATH, files, headers, CONNECTIONS, seconds, server=free
            )
            m = measure_mock(
                ctx, f"retention-{name}-{r}", PATH, files, headers, CONNECTIONS, seconds, server=limited
            )
            twins[name].append(twin)
            measured[name].runs.append(m)
            measured[name].ratios.append(m.run.rate / twin.run.rate)

    def figure(number: str, name: str, what: str) -> Figure:
        v = measured[name]
        m = v.median
        twin = twins[name][v.runs.index(m)]
        return Figure(
            number, what, m.run.rate, "req/s", f"ratio >= {TARGET}", v.ratio >= TARGET,
            reference=twin.run.rate, reference_name="no limit", ratio=v.ratio,
            details={"maxMessages": limit, "rounds": rounds, "ratios": [round(x, 3) for x in v.ratios],
                     "server_cpu_us_per_request": round(m.cpu_us, 1),
                     "no_limit_cpu_us_per_request": round(twin.cpu_us, 1), "p99_ms": m.run.p99_ms},
        )  # fmt: skip

    return [
        figure("9a", "waiting", f"sendSingleSMS past maxMessages {limit:,}, every report an hour away"),
        figure("9b", "pruning", f"sendSingleSMS past maxMessages {limit:,}, pruning as reports arrive"),
    ]
