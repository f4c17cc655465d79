"""A mock whose store already holds N messages, each with its DELIVRD report waiting in the
account's getReport queue, for figures 3 and 8.

Sending a million messages over HTTP would take minutes, so this fills the store directly
through the platform's own store API (the rows a sendBatchSMS of 500 would write, and
the queue entries its report jobs would add), then serves exactly like `emay-mock serve`.

python -m bench.prefill --config FILE --messages N [--db FILE --pending K]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time

from emay_mock.config import load
from emay_mock.platform.sending import message_row
from emay_mock.protocol.send import Recipient
from emay_mock.scenarios.outcomes import RecipientPlan
from emay_mock.server import MockServer

CHUNK = 10_000
REPORT = "report"
ENDPOINT = "/inter/sendBatchSMS"


def fill(mock: MockServer, app_id: str, count: int, *, pending: int = 0) -> None:
    """`count` messages with their DELIVRD reports queued; the last `pending` still waiting (a
    report due in a day). Every message has a customSmsId, and every 1,000th mobile recurs."""
    p = mock.platform
    content = "【压测】您的验证码是 123456，5 分钟内有效。"
    now, wall = p.clock.now_ms(), p.clock.wall_ms()
    delivered, waiting = RecipientPlan("DELIVRD", 1000), RecipientPlan("DELIVRD", 86_400_000)
    done = 0
    while done < count:
        size = min(CHUNK, count - done)
        first_sms = p.sending.sms_ids.take(size, wall)
        first_row = p.messages.reserve(size)
        rows = []
        for k in range(size):
            n = done + k
            mobile = str(13_800_000_000 + (n if n % 1000 else 0))
            final = n < count - pending
            recipient = Recipient(mobile, content, f"prefill-{n}", mobile_norm=mobile, segments=1)
            plan = delivered if final else waiting
            endpoint = "/inter/sendBatchSMS"
            rows.append(
                message_row(first_row + k, first_sms + k, app_id, endpoint, recipient, None, wall, now, plan)
            )
            if final:  # reported: as the report bucket would
                rows[-1].state, rows[-1].report_at = "DELIVRD", rows[-1].report_due
        p.messages.add(rows)
        final_rows = [row for row in rows if row.state is not None]
        p.store.queues.append(app_id, REPORT, final_rows)
        for row in rows:
            if row.state is None:
                p.scheduler.add_to_bucket(REPORT, app_id, row.report_due, row)
        done += size


def write(config_path: str, count: int, db: str, pending: int) -> None:
    """Fill a --db file and stop: a later `emay-mock serve --db` starts from it."""
    mock = MockServer(load(config_path), db=db)
    fill(mock, mock.config.accounts[0].app_id, count, pending=pending)
    mock.store.close()


async def serve(config_path: str, count: int) -> None:
    config = load(config_path)
    mock = MockServer(config)
    started = time.perf_counter()
    fill(mock, config.accounts[0].app_id, count)
    print(f"prefilled {count} messages in {time.perf_counter() - started:.1f} s", flush=True)
    await mock.listen("127.0.0.1", 0)
    for line in mock.banner():
        print(line, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await mock.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--messages", type=int, required=True)
    parser.add_argument("--db", help="write the messages to this --db file and stop, instead of serving")
    parser.add_argument("--pending", type=int, default=0, help="with --db: how many still wait for a report")
    args = parser.parse_args()
    if args.db:
        write(args.config, args.messages, args.db, args.pending)
    else:
        asyncio.run(serve(args.config, args.messages))


if __name__ == "__main__":
    main()
