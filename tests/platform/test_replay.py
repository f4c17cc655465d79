"""The replay guard: a secure body seen again inside its validity window."""

from __future__ import annotations

from emay_mock.platform.replay import ReplayGuard


def test_replay_guard_remembers_until_the_window_closes() -> None:
    guard = ReplayGuard(10)
    assert guard.check_and_remember("A", b"x", expires_ms=2000, now_ms=1000) is False
    assert guard.check_and_remember("A", b"x", expires_ms=2000, now_ms=1500) is True
    assert guard.check_and_remember("B", b"x", expires_ms=2000, now_ms=1500) is False
    assert guard.check_and_remember("A", b"x", expires_ms=9000, now_ms=2500) is False  # window closed


def test_replay_guard_is_bounded_and_forgets_the_oldest_first() -> None:
    guard = ReplayGuard(8)  # dicts of one body: the oldest goes one at a time
    for i in range(20):
        guard.check_and_remember("A", bytes([i]), 10**15, 0)
    assert len(guard) == 8 and guard.evicted == 12
    assert guard.check_and_remember("A", bytes([19]), 10**15, 0) is True
    assert [guard.seen("A", bytes([i]), 0) for i in range(20)] == [False] * 12 + [True] * 8


def test_a_large_guard_forgets_a_dict_at_a_time_and_never_holds_more_than_its_bound() -> None:
    guard = ReplayGuard(80_000)  # dicts of 10,000 bodies
    digests = list(range(100_000))
    for digest in digests:
        guard.remember("A", digest, 10**15)
        assert len(guard) <= 80_000
    # At 80,001 the first dict went (70,001 left); at 90,001 the second.
    assert guard.evicted == 20_000 and len(guard) == 80_000
    assert not any(guard.seen("A", d, 0) for d in digests[:20_000])
    assert all(guard.seen("A", d, 0) for d in digests[20_000:])


def test_a_body_remembered_again_after_its_window_is_the_newest() -> None:
    guard = ReplayGuard(16)
    guard.remember("A", b"a", expires_ms=1000)
    guard.remember("A", b"b", expires_ms=9000)
    assert guard.check_and_remember("A", b"a", expires_ms=9000, now_ms=1500) is False  # window closed
    assert guard.seen("A", b"a", 2000)  # and its new window is the one remembered


def test_the_oldest_of_all_accounts_goes_first() -> None:
    guard = ReplayGuard(8)
    guard.remember("A", b"1", 10**15)
    for digest in (b"1", b"2", b"3", b"4", b"5", b"6", b"7"):
        guard.remember("B", digest, 10**15)
    guard.remember("A", b"2", 10**15)  # over the bound: A's first body is the oldest
    assert guard.evicted == 1 and not guard.seen("A", b"1", 0) and guard.seen("A", b"2", 0)
    assert all(guard.seen("B", d, 0) for d in (b"1", b"2", b"3", b"4", b"5", b"6", b"7"))


def test_forgetting_an_account_frees_its_room_and_never_evicts_another_s_bodies() -> None:
    guard = ReplayGuard(8)
    for digest in (b"1", b"2"):
        guard.remember("A", digest, 10**15)
    guard.remember("B", b"1", 10**15)
    guard.forget("A")
    assert len(guard) == 1
    for digest in (b"2", b"3", b"4", b"5", b"6", b"7", b"8"):
        guard.remember("B", digest, 10**15)
    assert guard.evicted == 0 and all(guard.seen("B", bytes([49 + i]), 0) for i in range(8))
    guard.remember("B", b"9", 10**15)
    assert guard.evicted == 1 and not guard.seen("B", b"1", 0) and guard.seen("B", b"9", 0)
    assert not guard.seen("A", b"1", 0)


def test_what_forgotten_or_re_remembered_bodies_leave_behind_stays_bounded() -> None:
    guard = ReplayGuard(10)
    for i in range(3_000):
        guard.remember("A", i.to_bytes(4, "big"), 10**15)
        guard.forget("A")
    assert len(guard) == 0
    for now in range(3_000):  # the same body, each time after its window closed
        assert guard.check_and_remember("B", b"again", expires_ms=now + 1, now_ms=now) is False
    assert len(guard) == 1 and guard.seen("B", b"again", 2_999)
