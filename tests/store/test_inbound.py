"""The MO store: listings by account and mobile, newest first, with mo_id cursors, without HTTP."""

from __future__ import annotations

from emay_mock.store.db import Database
from emay_mock.store.inbound import MoRow, MoStore
from emay_mock.store.log import Log


def filled() -> MoStore:
    store = MoStore(Database(None), Log(Database(None)))
    for i in range(1, 13):  # A and B take turns; mobiles 0, 1, 2 in turn
        store.insert(app_id="AB"[i % 2], mobile=f"1380000000{i % 3}", content=f"mo {i}", extended_code=None,
                     mo_at=i, reply_to=None, source="api")  # fmt: skip
    return store


def ids(rows: list[MoRow]) -> list[int]:
    return [r.mo_id for r in rows]


def test_by_mobile_and_account_newest_first_paged_back_and_forward() -> None:
    store = filled()
    assert ids(store.find(mobile="13800000000")) == [12, 9, 6, 3]
    assert ids(store.find(mobile="13800000000", app_id="A")) == [12, 6]
    assert ids(store.find(app_id="B", limit=2)) == [11, 9]
    assert ids(store.find(app_id="B", before=9, limit=2)) == [7, 5]
    assert ids(store.find(app_id="B", after=7)) == [11, 9]
    assert ids(store.find(mobile="13800000001", before=10, after=1)) == [7, 4]
    assert ids(store.find(before=3)) == [2, 1]
    assert store.find(mobile="13900000000") == []


def test_forgetting_an_account_leaves_the_others_listings_whole() -> None:
    store = filled()
    assert len(store.forget("A")) == 6
    assert ids(store.find(mobile="13800000000")) == [9, 3]
    assert store.find(app_id="A") == []
    assert ids(store.find(limit=3)) == [11, 9, 7]
    store.insert(app_id="A", mobile="13800000000", content="again", extended_code=None, mo_at=13,
                 reply_to=None, source="api")  # fmt: skip
    assert ids(store.find(mobile="13800000000")) == [13, 9, 3]
