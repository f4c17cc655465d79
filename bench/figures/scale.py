"""Figure 8: a million stored messages with --db: restart to healthy, and the control API's
filters (the UI's searches) at that size, and the memory it takes."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench import harness
from bench.figures.throughput import bench_account
from bench.harness import Context
from bench.report import Figure

PENDING = 1000  # the newest still wait for their report: state=PENDING has something to find
QUERIES = 7  # each filter is asked this many times; the median is the figure


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


def _restart_after_kill_9(ctx: Context, config: Path, db: Path) -> float:
    """Start (which reads the checkpoint and lets it go), kill -9, then time the next start:
    a restart after a crash reads every row from the database."""
    with harness.emay_mock(config, "scale-crashed", ctx.logs, "--db", str(db)) as server:
        server.healthy_after(time.perf_counter())
        server.proc.kill()
        server.proc.wait()
    started = time.perf_counter()
    with harness.emay_mock(config, "scale-recovered", ctx.logs, "--db", str(db)) as server:
        return server.healthy_after(started)


def scale(ctx: Context) -> list[Figure]:
    count = ctx.n(1_000_000, 20_000)
    app_id = str(bench_account()["appId"])
    config = ctx.config("scale", [bench_account()])
    db = ctx.work / "scale.db"
    argv = [sys.executable, "-m", "bench.prefill", "--config", str(config), "--messages", str(count),
            "--db", str(db), "--pending", str(PENDING)]  # fmt: skip
    subprocess.run(argv, check=True, cwd=harness.ROOT)
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
        stopping = time.perf_counter()
        server.stop()  # a clean stop: it writes the checkpoint the next start reads
        stop_s = time.perf_counter() - stopping
    crash_s = _restart_after_kill_9(ctx, config, db)
    indexed = max(measured[k][0] for k in ("smsId", "mobile", "customSmsId"))
    scans = max(v[0] for k, v in measured.items() if k.startswith(("q ", "state=")))
    details = {"stored": count, "restart_s": restart_s, "rss_mib": rss / 2**20, "stop_s": stop_s,
               "restart_after_kill_9_s": crash_s,
               "queries_ms": {k: round(v[0], 2) for k, v in measured.items()}}  # fmt: skip
    return [
        Figure("8a", f"restart with --db, {count:,} stored: to /_mock/health 200", restart_s, "s", "< 3 s",
               restart_s < 3, details=details),
        Figure("8f", "as 8a after a kill -9 (no checkpoint: every row read back)", crash_s, "s", "-", True,
               details=details),
        Figure("8g", f"clean stop with {count:,} stored (writes the checkpoint)", stop_s, "s", "-", True,
               details=details),
        Figure("8b", "indexed filters (smsId, mobile, customSmsId), slowest median", indexed, "ms", "< 10 ms",
               indexed < 10, details=details),
        Figure("8c", "content search q and state filters, slowest median", scans, "ms", "< 200 ms",
               scans < 200, details=details),
        Figure("8d", f"conversations at {count:,}", measured["conversations"][0], "ms", "-", True,
               details=details),
        Figure("8e", f"RSS with {count:,} stored (after restart)", rss / 2**20, "MiB", "<= 1 KiB/message",
               rss <= 1024 * count + 60 * 2**20, details=details),
    ]  # fmt: skip
