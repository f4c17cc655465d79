"""The replay guard: a secure body seen again inside its validity window."""

from __future__ import annotations

from emay_mock.platform.replay import ReplayGuard


def test_replay_guard_remembers_until_the_window_closes() -> None:
    guard = ReplayGuard(10)
    assert guard.check_and_remember("A", b"x", expires_ms=2000, now_ms=1000) is False
    assert guard.check_and_remember("A", b"x", expires_ms=2000, now_ms=1500) is True
    assert guard.check_and_remember("B", b"x", expires_ms=2000, now_ms=1500) is False
    assert guard.check_and_remember("A", b"x", expires_ms=9000, now_ms=2500) is False  # window closed


def test_replay_guard_is_bounded() -> None:
    guard = ReplayGuard(3)
    for i in range(10):
        guard.check_and_remember("A", bytes([i]), 10**15, 0)
    assert guard.evicted == 7
    assert guard.check_and_remember("A", bytes([9]), 10**15, 0) is True
    assert guard.check_and_remember("A", bytes([0]), 10**15, 0) is False


def test_a_body_remembered_again_after_its_window_is_the_newest_and_counts_once() -> None:
    guard = ReplayGuard(2)
    guard.remember("A", b"a", expires_ms=1000)
    guard.remember("A", b"b", expires_ms=9000)
    assert guard.check_and_remember("A", b"a", expires_ms=9000, now_ms=1500) is False  # window closed
    guard.remember("A", b"c", expires_ms=9000)  # over the bound: the oldest is now b, not a
    assert guard.evicted == 1
    assert [guard.seen("A", d, 2000) for d in (b"a", b"b", b"c")] == [True, False, True]


def test_forgetting_an_account_frees_its_room_and_never_evicts_another_s_bodies() -> None:
    guard = ReplayGuard(3)
    for digest in (b"1", b"2"):
        guard.remember("A", digest, 10**15)
    guard.remember("B", b"1", 10**15)
    guard.forget("A")
    guard.remember("B", b"2", 10**15)
    guard.remember("B", b"3", 10**15)
    assert guard.evicted == 0 and all(guard.seen("B", d, 0) for d in (b"1", b"2", b"3"))
    guard.remember("B", b"4", 10**15)
    assert guard.evicted == 1 and not guard.seen("B", b"1", 0) and guard.seen("B", b"4", 0)
    assert not guard.seen("A", b"1", 0)


def test_what_forgotten_or_re_remembered_bodies_leave_behind_stays_bounded() -> None:
    guard = ReplayGuard(10)
    for i in range(3_000):
        guard.remember("A", i.to_bytes(4, "big"), 10**15)
        guard.forget("A")
    for now in range(3_000):  # the same body, each time after its window closed
        assert guard.check_and_remember("B", b"again", expires_ms=now + 1, now_ms=now) is False
    assert len(guard._order) <= 2 * 10 + 1000 + 1
    assert guard.evicted == 0 and guard.seen("B", b"again", 2_999)
    for digest in range(10):  # the bound still counts the body once
        guard.remember("B", bytes([digest]), 10**15)
    assert guard.evicted == 1 and not guard.seen("B", b"again", 0)


def test_an_account_s_bodies_are_found_and_evicted_in_order_across_its_split() -> None:
    """An account's bodies move from one dict to many when it has sent enough of them."""
    guard = ReplayGuard(5_000)
    digests = [i.to_bytes(4, "big") for i in range(5_100)]
    for digest in digests[:4_500]:  # past the split
        guard.remember("A", digest, 10**15)
    guard.remember("B", b"b", 10**15)
    assert all(guard.seen("A", d, 0) for d in digests[:4_500]) and guard.seen("B", b"b", 0)
    for digest in digests[4_500:]:
        guard.remember("A", digest, 10**15)
    assert guard.evicted == 101  # 5,101 remembered, 5,000 kept: the oldest went first
    assert not any(guard.seen("A", d, 0) for d in digests[:101])
    assert all(guard.seen("A", d, 0) for d in digests[101:]) and guard.seen("B", b"b", 0)
