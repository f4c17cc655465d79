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
