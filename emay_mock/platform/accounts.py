"""Customer accounts: credentials, balance, allowed addresses, rate limit, push channel."""

from __future__ import annotations

import ipaddress
import time
from collections import deque
from dataclasses import dataclass, field

from emay_mock.delivery.push_settings import PushSettings
from emay_mock.protocol.envelope import key_bytes

# How an account's new templates are reviewed: after `templateReviewSeconds`, or by hand
# (the UI or POST /_mock/templates/{templateId}/review), as the real platform's people do.
AUTO_REVIEW, MANUAL_REVIEW = "auto", "manual"


@dataclass(frozen=True)
class AccountSpec:
    app_id: str
    secret_key: str
    balance: int = 100_000
    allowed_ips: tuple[str, ...] = ()
    max_requests_per_second: int = 0
    retrieve_report: bool = True
    voice: bool = True
    push: PushSettings | None = None
    strict: bool = False
    template_review: str = AUTO_REVIEW


class RateLimiter:
    """At most `limit` admitted requests in any sliding second of real time."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._stamps: deque[float] = deque(maxlen=max(limit, 1))

    def admit(self, now: float | None = None) -> bool:
        if self.limit <= 0:
            return True
        now = time.monotonic() if now is None else now
        if len(self._stamps) == self.limit and now - self._stamps[0] < 1.0:
            return False
        self._stamps.append(now)
        return True


@dataclass
class Account:
    spec: AccountSpec
    balance: int
    key: bytes = field(init=False)
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(init=False)
    limiter: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.key = key_bytes(self.spec.secret_key)
        self.networks = tuple(ipaddress.ip_network(ip, strict=False) for ip in self.spec.allowed_ips)
        self.limiter = RateLimiter(self.spec.max_requests_per_second)

    @property
    def app_id(self) -> str:
        return self.spec.app_id

    def allows(self, remote: str | None) -> bool:
        if not self.networks:
            return True
        if remote is None:
            return False
        try:
            address = ipaddress.ip_address(remote)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in net for net in self.networks)

    def push_url(self, kind: str) -> str | None:
        return None if self.spec.push is None else self.spec.push.url_for(kind)
