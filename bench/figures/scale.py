"""Figure 8: a million stored messages with --db: restart to healthy after a clean stop and
after a kill -9, the clean stop itself, the control API's filters (the UI's searches) at
that size and the memory it takes, and sends while a checkpoint is written."""

from __future__ import annotations

import asyncio
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench import bodies, harness
from bench.figures.throughput import CONNECTIONS, MAX_SINGLE_RATE, PATH, bench_account, fresh_bodies
from bench.harness import Context
from bench.report import Figure
from emay_mock.client import EmayClient

PENDING = 1000  # the newest still wait for their report: state=PENDING has something to find
QUERIES = 7  # each filter is asked this many times; the median is the figure
# Before the kill -9: this many messages sent (sendBatchSMS of 500) and reports taken
# (getReport) since the checkpoint the start read, which the next start reads from the file.
SENT_BEFORE_KILL = 20_000
TAKEN_BEFORE_KILL = 2_000
ROUNDS = 5  # 8h: with and without a checkpoint being written take turns this many times
# 8h's servers: `emay-mock serve` with checkpoints begun back to back (or never), through
# the module's own thresholds; and a limit no send reaches (a retention round at 1,000,000
# would be measured instead).
_CHECKPOINTS = (
    "import sys, emay_mock.store.checkpoints as c; c.EVERY = int(sys.argv.pop(1)); c.CHECK_EVERY_S = 0.05; "
    "from emay_mock.cli import main; raise SystemExit(main())"
)


def _median_ms(server: harness.Server, path: str, params: dict[str, str]) -> tuple[float, int]:
    url = f"{server.url}{path}?{urllib.parse.urlencode(params)}"
    times, found = [], 0
    for _ in range(QUERIES):
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=60) as resp:
            body = resp.read()
        times.append((time.perf_counter() - started) * 1000)
        found = body.count(b'"smsId"') + body.count(b'"mobile"')
    return statistics.median(times), found


async def _traffic(url: str, sends: int, takes: int) -> str:
    """Sends since the checkpoint, then reports taken from the queue's front; the last smsId."""
    last = ""
    async with EmayClient(url, bodies.APP_ID, bodies.SECRET_KEY) as client:
        for first in range(0, sends, 500):
            mobiles = [str(13_900_000_000 + n) for n in range(first, min(first + 500, sends))]
            last = (await client.send_batch_only_sms(mobiles, "【压测】after the checkpoint"))[-1]["smsId"]
        while takes > 0:
            takes -= len(await client.get_report(min(takes, 500)))
    return last


def _copy(db: Path, to: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-checkpoint"):
        target = Path(f"{to}{suffix}")
        target.unlink(missing_ok=True)
        if Path(f"{db}{suffix}").exists():
            shutil.copy(f"{db}{suffix}", target)


def _sends_while_checkpointing(ctx: Context, db: Path) -> dict[str, list[tuple[float, float]]]:
    """Figure 1's load with --db on a copy of the million, with checkpoints written back to
    back, and with none: (p99 ms, requests/s) of each round."""
    seconds = (ctx.seconds(2), ctx.seconds(5))
    files = fresh_bodies(ctx, "scale-single", bodies.single, MAX_SINGLE_RATE, seconds, start=200_000_000)
    headers = bodies.secure_headers()
    config = ctx.config("scale-sends", [bench_account()], server={"maxMessages": 10**9})
    runs: dict[str, list[tuple[float, float]]] = {"writing": [], "none": []}
    for r in range(ROUNDS if ctx.scale >= 1 else 1):
        for mode, every in (("writing", "0"), ("none", str(10**12))):
            copy = ctx.work / f"scale-{mode}.db"
            _copy(db, copy)
            argv = [sys.executable, "-c", _CHECKPOINTS, every, "serve", "--config", str(config),
                    "--port", "0", "--db", str(copy)]  # fmt: skip
            with harness.Server(argv, f"scale-sends-{mode}-{r}", ctx.logs) as server:
                server.healthy_after(time.perf_counter())
                harness.run_wrk(
                    server.url, PATH, files[0], headers, connections=CONNECTIONS, seconds=seconds[0]
                )
                run = harness.run_wrk(server.url, PATH, files[1], headers, connections=CONNECTIONS,
                                      seconds=seconds[1])  # fmt: skip
            if not run.clean:
                raise RuntimeError(f"8h {mode}: {run.refused} refused, first: {run.first_refusal}")
            runs[mode].append((run.p99_ms, run.rate))
    return runs


def scale(ctx: Context) -> list[Figure]:
    count = ctx.n(1_000_000, 20_000)
    app_id = str(bench_account()["appId"])
    config = ctx.config("scale", [bench_account()])
    db = ctx.work / "scale.db"
    argv = [sys.executable, "-m", "bench.prefill", "--config", str(config), "--messages", str(count),
            "--db", str(db), "--pending", str(PENDING)]  # fmt: skip
    subprocess.run(argv, check=True, cwd=harness.ROOT)
    base = ctx.work / "scale-base.db"
    _copy(db, base)  # for 8h: the million as the clean stop left it
    started = time.perf_counter()
    with harness.emay_mock(config, "scale", ctx.logs, "--db", str(db)) as server:
        restart_s = server.healthy_after(started)
        rss = server.rss_bytes()
        some = count // 2
        sms_id = server.get_json(f"/_mock/messages?appId={app_id}&limit=1&customSmsId=prefill-{some}")
        sms = sms_id["messages"][0]["smsId"]
        queries = {
            "smsId": ("/_mock/messages", {"smsId": sms}),
            "mobile": ("/_mock/messages", {"mobile": str(13_800_000_000 + some + 1)}),
            "customSmsId": ("/_mock/messages", {"customSmsId": f"prefill-{some}"}),
            "recurring mobile (1,000 messages, page of 100)": ("/_mock/messages", {"mobile": "13800000000"}),
            "conversations": ("/_mock/conversations", {"appId": app_id}),
            "q (content, no match: every message searched)": ("/_mock/messages", {"q": "不在其中"}),
            "state=PENDING (the newest 1,000 of 1M)": (
                "/_mock/messages",
                {"state": "PENDING", "limit": "100"},
            ),
            "state=FAIL_MOBILE (none: every message looked at)": (
                "/_mock/messages",
                {"state": "FAIL_MOBILE"},
            ),
        }
        measured = {name: _median_ms(server, path, params) for name, (path, params) in queries.items()}
        # Then the traffic the next start reads from the file beside the checkpoint, and kill -9.
        last = asyncio.run(_traffic(server.url, SENT_BEFORE_KILL, TAKEN_BEFORE_KILL))
        server.proc.kill()
        server.proc.wait()
    started = time.perf_counter()
    with harness.emay_mock(config, "scale-recovered", ctx.logs, "--db", str(db)) as server:
        crash_s = server.healthy_after(started)
        kept = server.get_json(f"/_mock/messages?smsId={last}")["messages"]
        if len(kept) != 1:
            raise RuntimeError(f"8f: the last message sent before the kill -9 ({last}) is not there after it")
        stopping = time.perf_counter()
        server.stop()  # a clean stop: what changed since the checkpoint is over 1%, so it writes one
        stop_s = time.perf_counter() - stopping
    started = time.perf_counter()
    with harness.emay_mock(config, "scale-again", ctx.logs, "--db", str(db)) as server:
        again_s = server.healthy_after(started)
    sends = _sends_while_checkpointing(ctx, base)
    p99 = {mode: statistics.median(p for p, _ in runs) for mode, runs in sends.items()}
    rate = {mode: statistics.median(r for _, r in runs) for mode, runs in sends.items()}
    p99_ratio = p99["writing"] / p99["none"]
    indexed = max(measured[k][0] for k in ("smsId", "mobile", "customSmsId"))
    scans = max(v[0] for k, v in measured.items() if k.startswith(("q ", "state=")))
    details = {"stored": count, "restart_s": restart_s, "rss_mib": rss / 2**20, "stop_s": stop_s,
               "restart_after_kill_9_s": crash_s, "restart_after_that_stop_s": again_s,
               "sent_before_kill_9": SENT_BEFORE_KILL, "taken_before_kill_9": TAKEN_BEFORE_KILL,
               "sends_while_checkpointing": sends, "rate_ratio": rate["writing"] / rate["none"],
               "queries_ms": {k: round(v[0], 2) for k, v in measured.items()}}  # fmt: skip
    return [
        Figure("8a", f"restart with --db, {count:,} stored: to /_mock/health 200", restart_s, "s", "< 2 s",
               restart_s < 2, details=details),
        Figure("8f", f"as 8a after a kill -9, {SENT_BEFORE_KILL:,} sends since the checkpoint", crash_s, "s",
               "< 3 s", crash_s < 3, details=details),
        Figure("8g", f"clean stop with {count + SENT_BEFORE_KILL:,} stored (writes a checkpoint)", stop_s,
               "s", "< 2 s", stop_s < 2, details=details),
        Figure("8b", "indexed filters (smsId, mobile, customSmsId), slowest median", indexed, "ms", "< 10 ms",
               indexed < 10, details=details),
        Figure("8c", "content search q and state filters, slowest median", scans, "ms", "< 200 ms",
               scans < 200, details=details),
        Figure("8d", f"conversations at {count:,}", measured["conversations"][0], "ms", "-", True,
               details=details),
        Figure("8e", f"RSS with {count:,} stored (after restart)", rss / 2**20, "MiB", "<= 1 KiB/message",
               rss <= 1024 * count + 60 * 2**20, details=details),
        Figure("8h", "sendSingleSMS p99 with --db while a checkpoint is written: ratio to none", p99_ratio,
               "", "<= 1.1", p99_ratio <= 1.1, reference=p99["none"], reference_name="p99 ms, none written",
               ratio=p99_ratio, details=details),
    ]  # fmt: skip
