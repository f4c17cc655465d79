"""The push store's per-account counts follow every batch's life: created, decided, dropped, forgotten."""

from __future__ import annotations

import random

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


def test_the_push_log_filters_and_pages_as_a_walk_of_every_batch_would() -> None:
    pushes = Pushes(Database(None), Log(Database(None)), lambda *_: None)
    rng = random.Random(7)
    made = []
    for n in range(5000):
        b = batch(pushes, "AB"[n % 2])
        made.append(b)
        if rng.random() < 0.9:
            pushes.update_batch(b, status=rng.choice(["delivered"] * 8 + ["dead"]))
    for b in made[:4000]:  # as retention does: the final ones among them go
        pushes.release([b.batch_id])
    pushes.forget("B")
    assert len(pushes._ids) < 5000  # the ids of dropped batches were let go
    assert {s: len(few) for s, few in pushes._few.items()} == {
        s: pushes.counts[s] for s in ("pending", "dead")
    }

    def walk(app_id: str | None, status: str | None, before: int | None, limit: int) -> list[int]:
        alive = [b for b in made if pushes.batch(b.batch_id) is b]
        kept = [
            b.batch_id for b in reversed(alive)
            if (app_id is None or b.app_id == app_id) and (status is None or b.status == status)
            and (before is None or b.batch_id < before)
        ]  # fmt: skip
        return kept[:limit]

    for app_id in (None, "A", "B"):
        for status in (None, "pending", "delivered", "dead"):
            for before in (None, 1, 2, 3999, 4001, 4500, 4999, 5001, 10**9):
                for limit in (1, 100, 5000):
                    found = [b.batch_id for b in pushes.batches(app_id=app_id, status=status, before=before,
                                                                 limit=limit)]  # fmt: skip
                    assert found == walk(app_id, status, before, limit), (app_id, status, before, limit)
