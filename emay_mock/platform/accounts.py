"""Customer accounts: credentials, balance, allowed addresses, rate limit, push channel."""

from __future__ import annotations

import ipaddress
import time
from collections import deque
from dataclasses import dataclass, field

from emay_mock.delivery.push import PushTarget
from emay_mock.observe.events import EventHub
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.envelope import key_bytes
from emay_mock.protocol.errors import EmayError
from emay_mock.settings import AccountSpec
from emay_mock.store.accounts import AccountStore


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
    app_id: str = field(init=False)
    key: bytes = field(init=False)
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(init=False)
    limiter: RateLimiter | None = field(init=False)  # None: no limit

    def __post_init__(self) -> None:
        self.app_id = self.spec.app_id
        self.key = key_bytes(self.spec.secret_key)
        self.networks = tuple(ipaddress.ip_network(ip, strict=False) for ip in self.spec.allowed_ips)
        limit = self.spec.max_requests_per_second
        self.limiter = RateLimiter(limit) if limit > 0 else None

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


def _diverted(spec: AccountSpec) -> bool:
    return spec.upstream is not None or spec.replay is not None


class Accounts(dict[str, Account]):
    """Every account by appId, as stored; a balance is written to the file only with --db
    (sends change it far more often than anything reads it back)."""

    def __init__(self, store: AccountStore, events: EventHub) -> None:
        super().__init__((spec.app_id, Account(spec, balance)) for spec, balance in store.load())
        self.store = store
        self.durable = store.durable
        self.events = events
        # The accounts whose requests the web edge answers otherwise (forwarded upstream, or
        # from a recording): while it is empty, a request costs one look at it.
        self.diverted: set[str] = {a.app_id for a in self.values() if _diverted(a.spec)}

    def require(self, app_id: str | None) -> Account:
        account = self.get(app_id or "")
        if account is None:
            raise EmayError(
                ResultCode.ERROR_APPID,
                "appId is missing" if not app_id else f"no account has appId {app_id[:64]!r}",
                field="appId",
            )
        return account

    def put(self, spec: AccountSpec) -> Account:
        """Add or replace an account; replacing keeps its messages and sets the new balance."""
        account = Account(spec, spec.balance)
        self.store.put(spec, spec.balance)
        self[spec.app_id] = account
        if _diverted(spec):
            self.diverted.add(spec.app_id)
        else:
            self.diverted.discard(spec.app_id)
        self.events.publish("account", spec.app_id, account)
        return account

    def set_balance(self, account: Account, balance: int) -> None:
        account.balance = balance
        if self.durable:
            self.store.set_balance(account.app_id, balance)

    def give_balance(self, account: Account, balance: int) -> None:
        """A balance set by hand (the console): stored, and told to live views. Sends, which
        change it far more often, tell nobody: a view reads it again when messages arrive."""
        self.set_balance(account, balance)
        self.events.publish("account", account.app_id, account)

    def push_target(self, app_id: str, kind: str) -> PushTarget | None:
        """Where the account's reports or MO are pushed; None: they wait in its pull queue."""
        account = self.get(app_id)
        push = None if account is None else account.spec.push
        url = None if push is None else push.url_for(kind)
        if push is None or account is None or not url:
            return None
        return PushTarget(url, push.mode, account.key, push.retry_schedule, push.timeout_s)
