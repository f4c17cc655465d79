"""smsIds and templateIds as Emay shapes them: a Beijing timestamp prefix, never repeating."""

from __future__ import annotations

from emay_mock.platform.ids import IdSequence

WALL = 1_795_000_000_000  # 2026-11-18 ...


def test_sms_ids_are_20_digits_with_a_beijing_timestamp_and_never_repeat() -> None:
    seq = IdSequence(20)
    first = seq.take(1500, WALL)  # more than 1000 in one millisecond borrows the next
    second = seq.take(1, WALL)
    assert len(str(first)) == 20 and str(first).startswith("2026")
    assert second == first + 1500


def test_ids_keep_increasing_after_a_restart_and_a_clock_going_back() -> None:
    seq = IdSequence(20, last=IdSequence(20).take(1, WALL + 10_000))
    assert seq.take(1, WALL) > seq.last - 1 > 0
    assert len(str(IdSequence(18).take(1, WALL))) == 18
