"""An account's rate limiter and its allowed addresses."""

from __future__ import annotations

from emay_mock.platform.accounts import Account, RateLimiter
from emay_mock.settings import AccountSpec


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
