"""Figure 4: reports pushed to a local receiver that answers `success`, per second."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bench import bodies, harness, load
from bench.figures.throughput import bench_account
from bench.harness import Context
from bench.report import Figure
from emay_mock.protocol import envelope
from emay_mock.protocol.times import LONG_FORMAT, format_long, parse

BATCH = 500
REPORT_DELAY_MS = 1000  # the default reportDelaySeconds


@dataclass
class Sink:
    """A callback receiver on the load core: answers `success` at once, decodes later."""

    arrivals: list[tuple[float, bytes]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.arrivals.append((time.time(), await request.read()))
        return web.Response(text="success")

    def reports(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for _, body in self.arrivals:
            out += envelope.decode_response(body, bodies.KEY, gzip_on=True)
        return out


async def _measure(ctx: Context, count: int) -> dict[str, Any]:
    sink = Sink()
    app = web.Application()
    app.router.add_post("/emay/report", sink.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    account = {**bench_account(), "push": {"reportUrl": f"http://127.0.0.1:{port}/emay/report"}}
    config = ctx.config("push", [account])
    try:
        with harness.emay_mock(config, "push", ctx.logs) as mock:
            # Every report falls due at the same moment: a scheduled (timerTime) campaign.
            timer = format_long((int(time.time()) + 4) * 1000)
            due = (parse(timer, LONG_FORMAT) + REPORT_DELAY_MS) / 1000

            def payload(i: int) -> dict[str, Any]:
                return {**bodies.batch(BATCH)(i), "timerTime": timer}

            requests = list(bodies.generate(payload, count // BATCH))
            answers = await load.post_all(
                mock.url + "/inter/sendBatchSMS", requests, bodies.secure_headers(), concurrency=4
            )
            bad = load.refused(answers)
            if bad:
                raise RuntimeError(f"push fill: {bad[0]}")
            sent_by = time.time()
            if sent_by > due - 0.5:
                raise RuntimeError("the sends took too long: the reports fell due before they were all sent")
            deadline = due + 120
            while sum(1 for _ in sink.arrivals) * BATCH < count and time.time() < deadline:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            cpu = mock.cpu_seconds()
    finally:
        await runner.cleanup()
    reports = sink.reports()
    last = max(at for at, _ in sink.arrivals)
    first = min(at for at, _ in sink.arrivals)
    return {
        "reports": len(reports),
        "distinct": len({r["smsId"] for r in reports}),
        "batches": len(sink.arrivals),
        "seconds_from_due_to_last": last - due,
        "seconds_first_to_last": last - first,
        "server_cpu_s_total": cpu,
    }


def push(ctx: Context) -> list[Figure]:
    count = ctx.n(50_000, 2_000) // BATCH * BATCH
    result = asyncio.run(_measure(ctx, count))
    if result["distinct"] != count:
        raise RuntimeError(f"push: {result['distinct']} distinct reports arrived, {count} expected")
    rate = count / result["seconds_from_due_to_last"]
    return [
        Figure("4", "reports pushed to a receiver answering success", rate, "reports/s",
               ">= 5,000 reports/s", rate >= 5000,
               details={**result, "how": f"{count} messages with one timerTime, so every report falls "
                        "due at once; from that moment to the last push received"}),
    ]  # fmt: skip
