"""The message store: indexes, smsId cursors, time ranges and removal, without HTTP."""

from __future__ import annotations

import pytest

from emay_mock.store import generations
from emay_mock.store.db import Database
from emay_mock.store.log import Log
from emay_mock.store.messages import MessageFilter, Messages
from emay_mock.store.rows import MessageRow


def row(msg_id: int, app: str = "A", mobile: str | None = None, custom: str | None = None,
        wall: int = 0, state: str | None = None) -> MessageRow:  # fmt: skip
    m = mobile or f"1380000{msg_id:04d}"
    return MessageRow(msg_id, str(10**19 + msg_id), app, m, m, f"text {msg_id}", custom, None, "/inter/x",
                      None, wall, wall, None, wall, 1, "DELIVRD", wall + 1000, state)  # fmt: skip


def store(*rows: MessageRow) -> Messages:
    messages = Messages(Database(None), Log(Database(None)))
    messages.add(list(rows))
    return messages


def ids(found: list[MessageRow]) -> list[int]:
    return [r.msg_id for r in found]


def test_find_is_newest_first_and_pages_by_sms_id_cursors() -> None:
    m = store(*(row(i) for i in range(1, 11)))
    page = m.find(MessageFilter(app_id="A"), 4)
    assert ids(page) == [10, 9, 8, 7]
    older = m.find(MessageFilter(app_id="A", before=int(page[-1].sms_id)), 4)
    assert ids(older) == [6, 5, 4, 3]
    newer = m.find(MessageFilter(app_id="A", after=int(older[-1].sms_id)), 2)
    assert ids(newer) == [5, 4]  # the two just after the cursor, newest first


def test_indexed_filters_name_only_their_messages_and_accounts_merge_in_order() -> None:
    m = store(row(1, "A", mobile="13800000000", custom="c"), row(2, "B", mobile="13800000000"),
              row(3, "A", custom="c"), row(4, "B"))  # fmt: skip
    assert ids(m.find(MessageFilter(mobile="13800000000"), 10)) == [2, 1]
    assert ids(m.find(MessageFilter(custom_sms_id="c", app_id="A"), 10)) == [3, 1]
    assert ids(m.find(MessageFilter(), 10)) == [4, 3, 2, 1]  # every account, newest first
    assert ids(m.find(MessageFilter(state="PENDING", text="text 3"), 10)) == [3]


def test_submitted_takes_a_time_range_and_a_cursor_by_bisection() -> None:
    m = store(*(row(i, wall=i * 100) for i in range(1, 11)))
    assert ids(list(m.submitted("A", 300, 600))) == [3, 4, 5, 6]
    assert ids(list(m.submitted("A", 300, 600, after=4))) == [5, 6]


def test_removed_messages_leave_every_index_and_are_compacted_away() -> None:
    rows = [row(i, custom="same") for i in range(1, 3001)]
    m = store(*rows)
    assert m.remove(rows[:2000]) == 2000
    assert m.count("A") == 1000 and m.count() == 1000
    assert m.by_sms_id(rows[0].sms_id) is None
    assert ids(m.find(MessageFilter(custom_sms_id="same"), 3)) == [3000, 2999, 2998]
    assert [r.msg_id for r in m.oldest("A")][:1] == [2001]
    assert m.by_msg_id("A", 2001) is rows[2000] and m.by_msg_id("A", 5) is None


def test_an_indexed_filter_pages_by_cursors_as_the_timeline_does() -> None:
    m = store(*(row(i, mobile="13800000000" if i % 2 else None) for i in range(1, 21)))
    first = m.find(MessageFilter(mobile="13800000000"), 3)
    assert ids(first) == [19, 17, 15]
    older = m.find(MessageFilter(mobile="13800000000", before=int(first[-1].sms_id)), 3)
    assert ids(older) == [13, 11, 9]
    newer = m.find(MessageFilter(mobile="13800000000", after=int(older[-1].sms_id)), 2)
    assert ids(newer) == [13, 11]  # the two just after the cursor, newest first
    assert (
        ids(
            m.find(MessageFilter(mobile="13800000000", before=int(m.find(MessageFilter(), 20)[-1].sms_id)), 5)
        )
        == []
    )


def test_by_sms_id_finds_any_accounts_message_and_nothing_removed_or_unknown() -> None:
    m = store(*(row(i, app="AB"[i % 2]) for i in range(1, 3001)))
    assert [m.by_sms_id(str(10**19 + i)).msg_id for i in (1, 2, 1500, 3000)] == [1, 2, 1500, 3000]  # type: ignore[union-attr]
    for unknown in ("", "abc", str(10**19), str(10**19 + 3001), "1", f" {10**19 + 5}", "0" + str(10**19 + 5)):
        assert m.by_sms_id(unknown) is None, unknown
    m.remove([r for r in (m.by_sms_id(str(10**19 + i)) for i in range(1, 2001)) if r is not None])
    assert m.by_sms_id(str(10**19 + 2000)) is None and m.by_sms_id(str(10**19 + 2001)).msg_id == 2001  # type: ignore[union-attr]
    assert m.count() == 1000 and len(m.by_sms_ids([str(10**19 + i) for i in (5, 2500, 2500, 2999)])) == 2
    m.forget("A")
    assert m.count() == 500 and m.by_sms_id(str(10**19 + 2002)) is None
    assert m.by_sms_id(str(10**19 + 2001)) is not None  # account B's stay
    m.forget(None)
    assert m.count() == 0 and m.by_sms_id(str(10**19 + 2001)) is None


def test_an_index_over_many_generations_answers_removes_and_checkpoints_as_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Keys go to a new dict every GENERATION keys (4 here): a key recurring across them is
    still found whole and in order, removed from the dict that holds it, and saved whole."""
    monkeypatch.setattr(generations, "GENERATION", 4)
    rows = [row(i, mobile=f"1380000{i // 2 % 7:04d}", custom=f"c{i // 3 % 5}") for i in range(1, 61)]
    m = store(*rows)

    def check(live: list[MessageRow], found: Messages) -> None:
        for key in {r.mobile for r in rows}:
            assert ids(found.find(MessageFilter(mobile=key), 100)) == [
                r.msg_id for r in reversed(live) if r.mobile == key
            ]
        for key in {r.custom_sms_id for r in rows if r.custom_sms_id}:
            assert ids(found.find(MessageFilter(custom_sms_id=key), 100)) == [
                r.msg_id for r in reversed(live) if r.custom_sms_id == key
            ]

    check(rows, m)
    gone = rows[:20] + rows[20::4]
    m.remove(gone)
    live = [r for r in rows if r not in gone]
    check(live, m)
    again = Messages(Database(None), Log(Database(None)), m.to_checkpoint())
    check(live, again)
    extra = row(1000, mobile=live[-1].mobile, custom=live[-1].custom_sms_id)  # keys the start read, again
    again.add([extra])
    check([*live, extra], again)


@pytest.mark.parametrize("filled", ["never", "a dict at a time", "all at once"])
def test_the_keys_a_start_read_answer_whatever_is_filled_when(
    monkeypatch: pytest.MonkeyPatch, filled: str
) -> None:
    """The start's keys wait in dicts filled after the mock is ready: messages added and
    removed before, during or after that, and a lookup at any point, give what an index
    filled at once gives."""
    monkeypatch.setattr(generations, "GENERATION", 4)
    rows = [row(i, mobile=f"1380000{i % 5:04d}", custom=f"c{i % 3}" if i % 2 else None) for i in range(1, 31)]
    again = Messages(Database(None), Log(Database(None)), store(*rows).to_checkpoint())
    held = list(again.all())
    extra = [row(100 + i, mobile=f"1380000{i:04d}", custom=f"c{i}") for i in range(3)]
    again.add(extra)  # keys the start read, again, before any is filled
    gone = held[2:9:3] + held[20:22]
    again.remove(gone)  # before a lookup: only the dicts holding them are filled
    if filled == "a dict at a time":
        while again.fill_indexes():
            again.remove([next(r for r in again.all() if r.mobile.endswith("4"))])
    elif filled == "all at once":
        while again.fill_indexes():
            pass
    live = [r for r in [*held, *extra] if not r.gone]
    for key in {r.mobile for r in [*rows, *extra]}:
        expected = [r.msg_id for r in reversed(live) if r.mobile == key]
        assert ids(again.find(MessageFilter(mobile=key), 100)) == expected
    for key in {r.custom_sms_id for r in [*rows, *extra] if r.custom_sms_id}:
        expected = [r.msg_id for r in reversed(live) if r.custom_sms_id == key]
        assert ids(again.find(MessageFilter(custom_sms_id=key), 100)) == expected
