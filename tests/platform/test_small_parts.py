"""Id sequences, the replay guard, the rate limiter, address checks."""

from __future__ import annotations

from emay_mock.platform.accounts import Account, AccountSpec, RateLimiter
from emay_mock.platform.ids import IdSequence
from emay_mock.platform.replay import ReplayGuard

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


def test_rate_limiter_is_a_sliding_second() -> None:
    limiter = RateLimiter(2)
    assert [limiter.admit(t) for t in (0.0, 0.1, 0.2, 0.99, 1.05, 1.11)] == [
        True,
        True,
        False,
        False,
        True,
        True,
    ]
    assert all(RateLimiter(0).admit(0.0) for _ in range(100))


def test_allowed_ips_accept_cidrs_and_ipv4_mapped_ipv6() -> None:
    account = Account(AccountSpec("A", "0123456789ABCDEF", allowed_ips=("10.0.0.0/8", "::1")), 0)
    assert account.allows("10.1.2.3")
    assert account.allows("::ffff:10.1.2.3")
    assert account.allows("::1")
    assert not account.allows("192.168.0.1")
    assert not account.allows(None)
    assert not account.allows("garbage")
