"""A checkpoint of the messages and the queues beside the file stays the base of every start,
clean stop or crash: the start reads it, then from the file only what came after and what
changed since. Whatever happened in between (sends, reports, queues taken, retention, a
reset, a checkpoint written in steps while all that went on), a start builds exactly what
reading every row builds; and it never trusts a checkpoint the file disagrees with."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from emay_mock.delivery.clock import Clock
from emay_mock.protocol.send import Recipient, SendOrder
from emay_mock.protocol.times import LONG_FORMAT
from emay_mock.server import Parts
from emay_mock.settings import AccountSpec, Settings
from emay_mock.store import checkpoint, checkpoints
from emay_mock.store.db import Database
from emay_mock.store.log import Log
from emay_mock.store.messages import MessageFilter, Messages
from emay_mock.store.queues import PullQueues
from emay_mock.store.rows import MESSAGES
from emay_mock.store.state import Store
from tests.store.test_state import snapshot, started, submit
from tests.support.platform import submitted


def crash_close(store: Store) -> None:
    """What a kill -9 after the last commit leaves: the file as it is, no checkpoint written."""
    store.log.flush()
    if store.checkpoints.writing is not None:
        store.checkpoints.writing.file.discard()
    store.db.close()


def held(m: Messages) -> dict[str, object]:
    """Everything the messages store holds and answers from, as plain values."""
    rows = list(m.all())
    mobiles = {r.mobile_norm for r in rows}
    customs = {r.custom_sms_id for r in rows if r.custom_sms_id is not None}
    return {
        "rows": [(MESSAGES.values(r), r.mobile_norm) for r in rows],
        "all": [r.msg_id for r in m._all.oldest_first()],
        "by_sms_id": {r.sms_id: getattr(m.by_sms_id(r.sms_id), "msg_id", None) for r in rows},
        "count": m.count(),
        "apps": {app: [r.msg_id for r in m.oldest(app)] for app in m.apps() if m.count(app)},
        "mobile": {k: [r.msg_id for r in m._mobile.rows(k)] for k in mobiles},
        "custom": {k: [r.msg_id for r in m._custom.rows(k)] for k in customs},
        "waiting": sorted(r.msg_id for r in m.waiting_at_start),
        "next": m.reserve(0),
    }


def queued(q: PullQueues) -> dict[tuple[str, str], tuple[list[int], list[int]]]:
    """Each queue's entries (row ids) and what they name, as plain values."""
    return {key: (seqs, q.refs(key[1], items)) for key, (seqs, items) in q.snapshot().items()}


def everything(store: Store) -> dict[str, object]:
    """What the stores a checkpoint stands for hold (the last smsId aside: a running store
    keeps it in its id sequence)."""
    return {"messages": held(store.messages), "queues": queued(store.queues), "seq": store.queues.highest}


def from_rows(path: Path, copy: Path) -> Store:
    """The same file read row by row: a copy without the checkpoint beside it."""
    with sqlite3.connect(path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    store = Store(copy)
    assert not store.messages.from_checkpoint
    return store


async def on(path: Path, **settings: object) -> Parts:
    """A platform on the file, with accounts A and B, running."""
    p = Parts(Store(path), Clock(), Settings(**settings))  # type: ignore[arg-type]
    for app_id in "AB":
        if app_id not in p.accounts:
            p.accounts.put(AccountSpec(app_id, "0123456789ABCDEF", balance=10_000))
    await p.start()
    return p


def send(p: Parts, app_id: str, mobiles: list[str], text: str, custom: str | None = None) -> list[str]:
    order = SendOrder(
        "sendBatchOnlySMS", [Recipient(m, text, custom_sms_id=custom) for m in mobiles], LONG_FORMAT
    )
    return [row.sms_id for row in submitted(p.platform, app_id, order)]


async def varied(path: Path) -> Parts:
    """Messages of two accounts: recurring mobiles and customSmsIds, some without one, some
    reported and queued, some taken, some waiting, some removed as retention does."""
    p = await started(path)
    p.accounts.put(AccountSpec("B", "0123456789ABCDEF", balance=100))
    batch = [
        Recipient(f"1380000000{i % 4}", "x", custom_sms_id=f"c{i % 3}" if i % 2 else None) for i in range(8)
    ]
    sent = await submit(p, SendOrder("sendBatchOnlySMS", batch, LONG_FORMAT))
    b_order = SendOrder("sendBatchOnlySMS", [Recipient("13800000001", "b", custom_sms_id="c1")], LONG_FORMAT)
    submitted(p.platform, "B", b_order)
    await p.advance(1)  # all reported and queued
    p.platform.sending.pull_reports(p.accounts["A"], 2)
    p.platform.messages.remove(p.platform.messages.by_sms_ids(sent[3:5]))
    await submit(p, SendOrder("sendBatchOnlySMS", [Recipient("13800000002", "late")], LONG_FORMAT))  # waits
    await p.stop()
    return p


async def test_a_start_from_the_checkpoint_builds_what_a_start_from_the_rows_builds(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    p = await varied(path)
    before = snapshot(p)
    p.store.close()
    assert Path(f"{path}-checkpoint").exists() and p.store.db.conn is None

    from_checkpoint = Store(path)
    rows = from_rows(path, tmp_path / "copy.db")
    assert from_checkpoint.messages.from_checkpoint and from_checkpoint.queues.from_checkpoint
    assert everything(from_checkpoint) == everything(rows)
    # A store's part alone, in memory, builds the same.
    part = from_checkpoint.messages.to_checkpoint()
    assert held(Messages(Database(None), Log(Database(None)), part)) == held(rows.messages)
    again = Parts(from_checkpoint, Clock(), Settings())
    assert snapshot(again) == snapshot(Parts(rows, Clock(), Settings())) == before
    other = Parts(from_rows(path, tmp_path / "copy2.db"), Clock(), Settings())
    pulled = [
        [r["smsId"] for r in q.platform.sending.pull_reports(q.accounts[app], 100)]
        for q in (again, other)
        for app in "AB"
    ]
    assert pulled[:2] == pulled[2:] and len(pulled[0]) == 4 and len(pulled[1]) == 1


async def test_after_a_checkpoint_a_crash_restarts_from_it_and_the_log_since(tmp_path: Path) -> None:
    """A checkpoint; then sends, reports, queues taken, retention, a checkpoint begun and
    written in steps while sends go on, more of everything; then kill -9. The start reads the
    last checkpoint and the file since, and holds exactly what reading every row holds."""
    path = tmp_path / "state.db"
    p = await on(path, max_messages=40)
    first = send(p, "A", [f"1380000{i:04d}" for i in range(30)], "one", custom="c")
    send(p, "B", ["13800000001", "13900000002"], "b")
    await p.advance(1)  # reported and queued
    p.store.checkpoints.begin()
    p.store.checkpoints.finish()
    assert p.store.db.meta(checkpoint.META_KEY) is not None

    send(p, "A", [f"1381000{i:04d}" for i in range(10)], "after", custom="c")  # above it
    waiting = send(p, "A", ["13800000003"], "before the next one")  # reported after the next begins
    p.platform.sending.pull_reports(p.accounts["A"], 7)  # taken from the front
    await p.advance(1)
    assert p.platform.retention.run() > 0  # over 40: the oldest final ones go, at or below it
    assert all(p.platform.messages.by_sms_id(s) is None for s in first[:3])

    p.store.checkpoints.begin()  # taken now; copied a step at a time while everything goes on
    monkey = p.store.checkpoints.writing
    assert monkey is not None
    monkey.step()
    await p.advance(1)  # `waiting` was reported: it is noted, for it is covered now
    send(p, "B", ["13700000000"] * 3, "during", custom="d")
    p.platform.sending.pull_reports(p.accounts["A"], 3)
    p.platform.retention.run()
    p.platform.messages.remove(p.platform.messages.by_sms_ids(waiting))  # as retention does
    while not monkey.step():
        send(p, "A", ["13600000000"], "between steps")
    p.store.checkpoints.finish()

    send(p, "B", ["13500000000", "13500000001"], "last", custom="e")
    p.platform.sending.pull_reports(p.accounts["B"], 1)
    await p.advance(1)
    p.platform.retention.run()
    expected = everything(p.store)
    await p.stop()
    assert p.store.db.conn is not None
    (noted,) = p.store.db.conn.execute("SELECT count(*) FROM touched").fetchone()
    assert noted > 0  # changes below the checkpoint, made while and after it was written
    crash_close(p.store)

    again, rows = Store(path), from_rows(path, tmp_path / "copy.db")
    assert again.messages.from_checkpoint and again.queues.from_checkpoint
    assert everything(again) == everything(rows) == expected
    assert again.messages.last_sms_id == rows.messages.last_sms_id > 0


async def test_a_reset_forgets_the_checkpoint_and_the_next_one_is_the_base_again(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    p = await on(path)
    send(p, "A", [f"1380000{i:04d}" for i in range(5)], "a")
    send(p, "B", ["13800000001"], "b")
    await p.advance(1)
    p.store.checkpoints.begin()
    p.store.checkpoints.finish()
    p.reset("B")  # one account's rows go below the checkpoint: it stands for nothing now
    assert p.store.db.meta(checkpoint.META_KEY) is None
    send(p, "A", ["13900000000"], "after the reset")
    await p.stop()
    crash_close(p.store)

    after_reset = Store(path)
    assert not after_reset.messages.from_checkpoint
    assert everything(after_reset) == everything(from_rows(path, tmp_path / "copy.db"))
    after_reset.db.close()

    p = await on(path)
    p.reset()
    send(p, "B", ["13700000000", "13700000001"], "fresh")
    p.store.checkpoints.begin()
    p.store.checkpoints.finish()
    send(p, "A", ["13700000002"], "above it")
    await p.advance(1)
    p.platform.sending.pull_reports(p.accounts["B"], 1)
    expected = everything(p.store)
    await p.stop()
    crash_close(p.store)
    again = Store(path)
    assert again.messages.from_checkpoint
    assert everything(again) == everything(from_rows(path, tmp_path / "copy2.db")) == expected


async def test_the_checkpoint_is_written_in_the_background_once_enough_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoints, "EVERY", 20)
    monkeypatch.setattr(checkpoints, "CHECK_EVERY_S", 0.01)
    monkeypatch.setattr(checkpoints, "STEP_ROWS", 3)
    path = tmp_path / "state.db"
    p = await on(path)
    send(p, "A", [f"1380000{i:04d}" for i in range(10)], "few")
    await _wait(lambda: False, 0.1)
    assert p.store.checkpoints.written == 0  # 10 changes: not yet
    send(p, "A", [f"1390000{i:04d}" for i in range(15)], "more")
    await _wait(lambda: p.store.checkpoints.written == 1, 5)
    named = p.store.db.meta(checkpoint.META_KEY)
    assert named is not None and named.split()[1] == str(p.store.messages.highest)
    await p.stop()
    crash_close(p.store)
    again = Store(path)
    assert again.messages.from_checkpoint and again.messages.count() == 25


async def _wait(done: object, seconds: float) -> None:
    import asyncio
    import time

    assert callable(done)
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


async def test_a_clean_stop_writes_one_only_when_enough_changed_since(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    p = await on(path)
    send(p, "A", [f"1380000{i:04d}" for i in range(300)], "many")
    await p.stop()
    p.store.close()  # 300 changes of 300 stored: written
    named = Store(path)
    assert named.messages.from_checkpoint
    token = named.db.meta(checkpoint.META_KEY)
    p = Parts(named, Clock(), Settings())
    await p.start()
    send(p, "A", ["13900000000"], "one more")  # 1 of 301: the next start reads it from the file
    await p.stop()
    p.store.close()
    again = Store(path)
    assert again.db.meta(checkpoint.META_KEY) == token and again.messages.from_checkpoint
    assert again.messages.count() == 301


def _damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _delete_a_message_behind_its_back(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM messages WHERE msg_id = (SELECT min(msg_id) FROM messages)")


def _delete_a_queued_entry_in_the_middle(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM pull_queue WHERE seq = (SELECT max(seq) - 1 FROM pull_queue)")


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda path: _damage(Path(f"{path}-checkpoint")), "checksum"),
        (lambda path: Path(f"{path}-checkpoint").write_bytes(b"EMAY"), "shorter than its header"),
        (lambda path: Path(f"{path}-checkpoint").unlink(), "No such file"),
        (_delete_a_message_behind_its_back, "but it holds"),
        (_delete_a_queued_entry_in_the_middle, "but it holds"),
    ],
    ids=["damaged", "cut short", "missing", "a message deleted", "a queued entry deleted"],
)
async def test_a_checkpoint_the_file_disagrees_with_is_not_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, change: object, why: str
) -> None:
    path = tmp_path / "state.db"
    p = await varied(path)
    p.store.close()
    assert callable(change)
    change(path)
    with caplog.at_level(logging.WARNING, logger="emay_mock.store"):
        store = Store(path)
    assert not (store.messages.from_checkpoint and store.queues.from_checkpoint)
    assert why in caplog.text and "reading the database" in caplog.text
    assert everything(store) == everything(from_rows(path, tmp_path / "copy.db"))
    assert store.db.meta(checkpoint.META_KEY) is None  # never again its base
    store.close()
    assert everything(Store(path)) == everything(from_rows(path, tmp_path / "copy2.db"))


async def test_a_checkpoint_of_another_time_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    p = await varied(path)
    p.store.close()
    stale = Path(f"{path}-checkpoint").read_bytes()
    p = Parts(Store(path), Clock(), Settings())
    send(p, "A", [f"1390000{i:04d}" for i in range(20)], "more")
    p.store.close()  # a new checkpoint: the old one names a token no longer in the file
    Path(f"{path}-checkpoint").write_bytes(stale)
    store = Store(path)
    assert not store.messages.from_checkpoint and not Path(f"{path}-checkpoint").exists()
    assert everything(store) == everything(from_rows(path, tmp_path / "copy.db"))


def test_a_database_in_memory_has_no_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Store(":memory:").close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("clean_stop", [True, False], ids=["from the checkpoint", "from the rows"])
async def test_keys_a_start_read_and_keys_sent_after_it_answer_as_one_index(
    tmp_path: Path, clean_stop: bool
) -> None:
    """The index keeps the keys a start read apart from those that arrive later (so that it
    never grows in one step): a filter still finds a key's old and new messages together,
    and removing either leaves the other."""
    path = tmp_path / "state.db"
    p = await started(path)
    twice = [Recipient("13800000001", "old", custom_sms_id="c1")] * 2
    old = await submit(p, SendOrder("sendBatchOnlySMS", twice, LONG_FORMAT))
    await p.stop()
    if clean_stop:
        p.store.close()
    else:
        crash_close(p.store)
    again = Parts(Store(path), Clock(), Settings())
    assert again.store.messages.from_checkpoint is clean_stop
    await again.start()
    pair = [
        Recipient("13800000001", "new", custom_sms_id="c1"),
        Recipient("13800000002", "new", custom_sms_id="c2"),
    ]
    new = await submit(again, SendOrder("sendBatchOnlySMS", pair, LONG_FORMAT))
    m = again.platform.messages

    def found(mobile: str, custom: str) -> tuple[list[str], list[str]]:
        return ([r.sms_id for r in m.find(MessageFilter(mobile=mobile), 10)],
                [r.sms_id for r in m.find(MessageFilter(custom_sms_id=custom), 10)])  # fmt: skip

    assert found("13800000001", "c1") == ([new[0], old[1], old[0]],) * 2
    assert found("13800000002", "c2") == ([new[1]],) * 2
    m.remove(m.by_sms_ids(old))
    assert found("13800000001", "c1") == ([new[0]],) * 2
    m.remove(m.by_sms_ids(new))
    assert found("13800000001", "c1") == found("13800000002", "c2") == ([], [])
    again.store.messages.forget(None)
    await again.stop()


@pytest.mark.parametrize("then", ["stop", "reset"])
async def test_a_checkpoint_synced_in_its_thread_is_put_in_place_by_the_stop_or_thrown_away_by_a_reset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, then: str
) -> None:
    """fsync runs in a thread (the loop never waits for the disk): a stop meanwhile waits for
    it and puts the checkpoint in place; a reset meanwhile throws it away once it is synced."""
    import asyncio
    import threading

    monkeypatch.setattr(checkpoints, "EVERY", 5)
    monkeypatch.setattr(checkpoints, "CHECK_EVERY_S", 0.01)
    syncing, release = threading.Event(), threading.Event()
    seal = checkpoint.File.seal

    def slow_seal(self: checkpoint.File) -> None:
        syncing.set()
        release.wait(5)
        seal(self)

    monkeypatch.setattr(checkpoint.File, "seal", slow_seal)
    path = tmp_path / "state.db"
    p = await on(path)
    send(p, "A", [f"1380000{i:04d}" for i in range(10)], "synced slowly")
    await _wait(syncing.is_set, 5)
    assert syncing.is_set() and p.store.checkpoints.writing is not None
    if then == "stop":
        stopping = asyncio.create_task(p.stop())
        await asyncio.sleep(0.05)
        assert not stopping.done()  # it waits for the thread
        release.set()
        await stopping
        p.store.close()
        again = Store(path)
        assert again.messages.from_checkpoint and again.messages.count() == 10
    else:
        monkeypatch.setattr(checkpoints, "EVERY", 10**9)  # no new one begins after it
        p.reset()
        assert p.store.checkpoints.writing is None
        release.set()
        await _wait(lambda: not Path(f"{path}-checkpoint.partial").exists(), 5)
        assert not Path(f"{path}-checkpoint.partial").exists() and not Path(f"{path}-checkpoint").exists()
        assert p.store.db.meta(checkpoint.META_KEY) is None
        await p.stop()
        crash_close(p.store)
