"""Figure 7: 1,000 requests each delayed 1 s by a scenario, beside plain traffic."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from bench import bodies, harness, load
from bench.figures.throughput import CONNECTIONS, MAX_SINGLE_RATE, PATH, bench_account
from bench.harness import Context, WrkRun
from bench.report import Figure

DELAYED = 1000
SLOW_PREFIX = "1399"  # the scenario delays these mobiles; plain traffic uses 1380…
SCENARIO = """\
name: bench-one-second
rules:
  - name: one-second
    match: {mobile: {prefix: "1399"}}
    then: {fault: {kind: latency, latency: 1}}
"""


def _slow(i: int) -> dict[str, Any]:
    return {"mobile": f"{SLOW_PREFIX}{i:07d}", "content": bodies.CONTENT}


def delays(ctx: Context) -> list[Figure]:
    window = 2.0  # the delayed requests must all be answered inside it
    delayed = ctx.n(DELAYED, 100)
    scenario = ctx.work / "one-second.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    config = ctx.config("delays", [bench_account()], scenarios=[str(scenario)])
    per_run = int(MAX_SINGLE_RATE * window)
    files = []
    for n in range(4):
        path = ctx.work / f"plain-{n}.bin"
        bodies.write(path, bodies.generate(bodies.single, per_run, start=30_000_000 + n * per_run))
        files.append(path)
    slow = list(bodies.generate(_slow, delayed))
    headers = bodies.secure_headers()

    def plain(mock: harness.Server, n: int) -> WrkRun:
        run = harness.run_wrk(mock.url, PATH, files[n], headers, connections=CONNECTIONS, seconds=window)
        if not run.clean:
            raise RuntimeError(f"plain requests: {run.refused} refused ({run.first_refusal})")
        return run

    with harness.emay_mock(config, "delays", ctx.logs) as mock:
        plain(mock, 0)  # warm-up
        alone_before = plain(mock, 1)
        beside: list[WrkRun] = []
        thread = threading.Thread(target=lambda: beside.append(plain(mock, 2)))
        thread.start()
        time.sleep(0.05)
        launched = time.perf_counter()
        answers = asyncio.run(load.post_all(mock.url + PATH, slow, headers, concurrency=delayed))
        thread.join()
        alone_after = plain(mock, 3)
    bad = load.refused(answers)
    if bad:
        raise RuntimeError(f"delayed requests: {bad[0]} ({len(bad)} refused)")
    all_done = max(a.ended for a in answers) - launched
    fastest = min(a.seconds for a in answers)
    alone = (alone_before.rate + alone_after.rate) / 2
    ratio = beside[0].rate / alone
    return [
        Figure("7a", f"{delayed:,} concurrent requests delayed 1 s: all answered", all_done, "s",
               "< 2 s (each >= 1 s)", all_done < 2.0 and fastest >= 1.0,
               details={"fastest_s": fastest, "slowest_s": max(a.seconds for a in answers)}),
        Figure("7b", "plain sendSingleSMS beside them", beside[0].rate, "req/s", "ratio >= 0.8",
               ratio >= 0.8, reference=alone, reference_name="alone", ratio=ratio,
               details={"alone_before": alone_before.public(), "alone_after": alone_after.public(),
                        "beside": beside[0].public(), "window_s": window}),
    ]  # fmt: skip
