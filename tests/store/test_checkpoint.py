"""A clean stop leaves a checkpoint of the messages and the queues beside the file; the next
start reads it instead of the rows, and builds exactly what reading the rows builds. It is
read once, and never trusted when the file it goes with says otherwise."""

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
from emay_mock.store import checkpoint
from emay_mock.store.db import Database
from emay_mock.store.log import Log
from emay_mock.store.messages import MessageFilter, Messages
from emay_mock.store.rows import MESSAGES
from emay_mock.store.state import Store
from tests.store.test_state import snapshot, started, submit
from tests.support.platform import submitted


def crash_close(store: Store) -> None:
    """What a kill -9 after the last commit leaves: the file, and no checkpoint."""
    store.log.flush()
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
        "apps": {app: [r.msg_id for r in m.oldest(app)] for app in m.apps()},
        "mobile": {k: [r.msg_id for r in m._mobile.rows(k)] for k in mobiles},
        "custom": {k: [r.msg_id for r in m._custom.rows(k)] for k in customs},
        "waiting": [r.msg_id for r in m.waiting_at_start],
        "linked": [r.msg_id for r in m.linked_at_start],
        "next": (m.reserve(0), m.last_sms_id),
    }


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
    path, copy = tmp_path / "state.db", tmp_path / "copy.db"
    p = await varied(path)
    with sqlite3.connect(copy) as target:  # the same file, as a crash would leave it
        assert p.store.db.conn is not None
        p.store.db.conn.backup(target)
    before = snapshot(p)
    p.store.close()
    assert Path(f"{path}-checkpoint").exists() and p.store.db.conn is None

    from_checkpoint = Store(path)
    from_rows = Store(copy)
    assert from_checkpoint.messages.from_checkpoint and not from_rows.messages.from_checkpoint
    assert held(from_checkpoint.messages) == held(from_rows.messages)
    # Without the part's list of recurring keys, they are found from the columns: the same.
    part = from_checkpoint.messages.to_checkpoint()
    del part["repeated"]
    assert held(Messages(Database(None), Log(Database(None)), part)) == held(from_rows.messages)
    again = Parts(from_checkpoint, Clock(), Settings())
    assert snapshot(again) == snapshot(Parts(from_rows, Clock(), Settings())) == before
    other = Parts(Store(copy), Clock(), Settings())
    pulled = [
        [r["smsId"] for r in q.platform.sending.pull_reports(q.accounts[app], 100)]
        for q in (again, other)
        for app in "AB"
    ]
    assert pulled[:2] == pulled[2:] and len(pulled[0]) == 4 and len(pulled[1]) == 1


async def test_a_checkpoint_is_read_once_and_a_crash_after_falls_back_to_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    p = await varied(path)
    p.store.close()
    again = Parts(Store(path), Clock(), Settings())
    assert again.store.messages.from_checkpoint
    assert not Path(f"{path}-checkpoint").exists() and again.store.db.meta(checkpoint.META_KEY) is None
    await again.start()
    more = await submit(
        again, SendOrder("sendBatchOnlySMS", [Recipient("13900000009", "after")], LONG_FORMAT)
    )
    await again.stop()
    held_then = held(again.store.messages)
    crash_close(again.store)

    third = Store(path)
    assert not third.messages.from_checkpoint
    assert third.messages.by_sms_id(more[0]) is not None
    assert held(third.messages)["rows"] == held_then["rows"]


def _damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _delete_newest_message(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM messages WHERE msg_id = (SELECT max(msg_id) FROM messages)")


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda path: _damage(Path(f"{path}-checkpoint")), "checksum"),
        (lambda path: Path(f"{path}-checkpoint").write_bytes(b"EMAY"), "shorter than its header"),
        (lambda path: Path(f"{path}-checkpoint").unlink(), "No such file"),
        (_delete_newest_message, "the database holds"),
    ],
    ids=["damaged", "cut short", "missing", "database edited"],
)
async def test_a_checkpoint_the_file_disagrees_with_is_not_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, change: object, why: str
) -> None:
    path, copy = tmp_path / "state.db", tmp_path / "copy.db"
    p = await varied(path)
    p.store.close()
    assert callable(change)
    change(path)
    with sqlite3.connect(path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    with caplog.at_level(logging.WARNING, logger="emay_mock.store"):
        store = Store(path)
    assert not store.messages.from_checkpoint
    assert why in caplog.text and "reading the database" in caplog.text
    assert held(store.messages) == held(Store(copy).messages)
    assert not Path(f"{path}-checkpoint").exists()


async def test_a_checkpoint_of_an_earlier_stop_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    p = await varied(path)
    p.store.close()
    stale = Path(f"{path}-checkpoint").read_bytes()
    Store(path).close()  # read, then written anew: the old one names a token no longer in the file
    Path(f"{path}-checkpoint").write_bytes(stale)
    store = Store(path)
    assert not store.messages.from_checkpoint and not Path(f"{path}-checkpoint").exists()


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
