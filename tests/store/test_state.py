"""Everything the store holds survives a restart from its file, in the same order and state."""

from __future__ import annotations

import gc
from pathlib import Path

from emay_mock.delivery.clock import Clock
from emay_mock.protocol.send import Recipient, SendOrder, ShortLinkSpec
from emay_mock.protocol.times import LONG_FORMAT
from emay_mock.scenarios.outcomes import RequestFacts
from emay_mock.server import Parts
from emay_mock.settings import AccountSpec, Settings
from emay_mock.store.state import Store
from emay_mock.web.views import Views
from tests.support.platform import submitted


async def submit(p: Parts, order: SendOrder) -> list[str]:
    return [row.sms_id for row in submitted(p.platform, "A", order)]


async def started(path: Path) -> Parts:
    """A platform on a new file, with account A, running."""
    p = Parts(Store(path), Clock(), Settings())
    p.accounts.put(AccountSpec("A", "0123456789ABCDEF", balance=100))
    await p.start()
    return p


def snapshot(p: Parts) -> dict[str, object]:
    views = Views(p.platform.tz)
    store = p.store
    codes = [m.short_url.rsplit("/", 1)[-1] for m in store.messages.all() if m.short_url]
    return {
        "messages": [views.message(m) for m in store.messages.all()],
        "queue": [r.sms_id for r in store.queues.peek("A", "report")],
        "mo": [views.mo(r) for r in store.mo.find()],
        "templates": [views.template(t) for t in store.templates.list(None)],
        "clicks": [views.click(c) for code in codes for c in store.links.clicks_of(code)],
        "balance": p.accounts["A"].balance,
        "jobs": sorted((j.kind, j.due) for j in p.scheduler.pending_jobs("mo-reply")),
    }


async def test_a_restart_from_the_file_rebuilds_what_was_held(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    p = await started(path)
    five = [Recipient(f"1380000000{i}", "x") for i in range(5)]
    await submit(p, SendOrder("sendBatchOnlySMS", five, LONG_FORMAT))
    await p.advance(1)  # five reports final and queued
    later = await submit(p, SendOrder("sendBatchOnlySMS", [Recipient("13900000000", "y")], LONG_FORMAT))
    link = SendOrder("sendShortLinkSMS", [Recipient("13700000000", "go {#短网址#}")], LONG_FORMAT,
                     short_link=ShortLinkSpec("https://example.com", "2"))  # fmt: skip
    await submit(p, link)
    code = next(m.short_url for m in p.platform.messages.all() if m.short_url).rsplit("/", 1)[-1]
    await p.platform.links.click(code, "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", source="http")
    p.platform.inbound.receive("A", "13800000001", "reply", None, source="api")
    p.platform.templates.create(
        p.accounts["A"], "您好 {#name#}", RequestFacts("secure", "createTemplateSMS", "A")
    )
    p.platform.sending.pull_reports(p.accounts["A"], 2)  # two taken from the queue
    before = snapshot(p)
    await p.stop()
    p.store.close()

    again = Parts(Store(path), Clock(), Settings())
    assert snapshot(again) == before
    assert again.platform.messages.by_sms_id(later[0]) is not None and again.scheduler.bucketed == 2


async def test_a_queue_read_back_is_resolved_when_taken_and_skips_what_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    p = await started(path)
    six = [Recipient(f"1380000000{i}", "x") for i in range(6)]
    sent = await submit(p, SendOrder("sendBatchOnlySMS", six, LONG_FORMAT))
    await p.advance(1)  # six reports queued
    p.platform.messages.remove(
        p.platform.messages.by_sms_ids(sent[1:3])
    )  # as retention does: their queue rows stay
    await p.stop()
    p.store.close()

    again = Parts(Store(path), Clock(), Settings())
    assert [r.sms_id for r in again.store.queues.peek("A", "report")] == [sent[0], *sent[3:]]
    taken = again.platform.sending.pull_reports(again.accounts["A"], 2)
    assert [r["smsId"] for r in taken] == [sent[0], sent[3]]  # the two gone are skipped, not counted
    again.store.close()

    third = Parts(Store(path), Clock(), Settings())
    assert [r["smsId"] for r in third.platform.sending.pull_reports(third.accounts["A"], 10)] == sent[4:]
    third.store.close()


async def test_reading_a_file_leaves_the_collector_as_it_was(tmp_path: Path) -> None:
    """The pytest plugin runs the mock in the user's own process: no freezing there."""
    path = tmp_path / "state.db"
    p = await started(path)
    await submit(p, SendOrder("sendBatchOnlySMS", [Recipient("13800000000", "x")], LONG_FORMAT))
    await p.stop()
    p.store.close()
    frozen = gc.get_freeze_count()
    again = Store(path)
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    assert again.messages.count() == 1
