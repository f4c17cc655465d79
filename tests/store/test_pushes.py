"""The push store's per-account counts follow every batch's life: created, decided, dropped, forgotten."""

from __future__ import annotations

from emay_mock.store.db import Database
from emay_mock.store.log import Log
from emay_mock.store.pushes import Batch, Pushes


class Carried:
    """What a batch carries (a message or an MO), as far as the push store looks at it."""

    def __init__(self) -> None:
        self.batches: tuple[int, ...] = ()
        self.hold = 0
        self.gone = False


def batch(pushes: Pushes, app_id: str) -> Batch:
    return pushes.create_batch(app_id=app_id, kind="report", url="http://receiver", mode="plain", items="[]",
                               refs=[Carried()], created_at=0)  # fmt: skip


def test_counts_per_account_follow_each_batch() -> None:
    pushes = Pushes(Database(None), Log(Database(None)), lambda *_: None)
    a1, a2, b1 = batch(pushes, "A"), batch(pushes, "A"), batch(pushes, "B")
    assert pushes.status_counts() == {("A", "pending"): 2, ("B", "pending"): 1}
    pushes.update_batch(a1, status="dead")
    pushes.update_batch(b1, status="delivered")
    assert pushes.status_counts() == {("A", "pending"): 1, ("A", "dead"): 1, ("B", "delivered"): 1}
    assert pushes.release([b1.batch_id]) == 1  # its one message is gone
    assert pushes.status_counts() == {("A", "pending"): 1, ("A", "dead"): 1}
    pushes.forget("A")
    assert pushes.status_counts() == {}
    assert pushes.counts == {"pending": 0, "delivered": 0, "dead": 0}
    assert a2.status == "pending"
