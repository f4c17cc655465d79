"""The emulated platform's shared state and its gatekeeping: accounts, admission, windows.

`Core` owns the store, the clocks and the collaborators; the feature modules (sending,
inbound, templates, short links, retrieval) hang off it and share them, and `Platform`
(service.py) puts them together behind the calls the web layer makes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from emay_mock.delivery.clock import Clock
from emay_mock.delivery.push import PushEngine, PushTarget
from emay_mock.delivery.scheduler import Scheduler
from emay_mock.observe.events import EventHub
from emay_mock.platform.accounts import Account, AccountSpec
from emay_mock.platform.ids import IdSequence
from emay_mock.platform.replay import ReplayGuard
from emay_mock.protocol import diagnose
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.fields import Fields, fits_long
from emay_mock.protocol.notes import Deviation, Notes
from emay_mock.protocol.times import format_long
from emay_mock.scenarios.outcomes import Fault, FaultNow, NoScenarios, Outcomes, RequestFacts
from emay_mock.settings import Settings
from emay_mock.store.state import Store


def body_digest(body: bytes, endpoint: str) -> int:
    """What the replay guard remembers of a body: Python's own 64-bit hash (SipHash, keyed
    at random per process; the guard is never stored), a tenth of the cost of a 128-bit
    BLAKE2 digest. A body is taken for a replay by mistake only if its hash equals one of
    the at most `replayCacheSize` remembered: under 10^-14 a request at the default size
    (docs/DECISIONS.md#replay-digest). The endpoint is part of it:
    `{requestTime, requestValidPeriod}` alone is the whole body of both getBalance and
    getReport, and may repeat within a millisecond."""
    return hash((endpoint, body))


@dataclass(slots=True)
class Context:
    """One request as the platform sees it: who asks, through which endpoint; and what the
    platform did that the journal reports (the rules that fired, the smsIds issued, the
    fault a scenario scripted: played before the work, or left to play with the answer)."""

    account: Account
    family: str  # secure | simple | voice | report
    endpoint: str
    notes: Notes
    # Where the mock is reached (for the short URLs it issues), asked only when one is.
    base_url: Callable[[], str] = str
    fired: list[dict[str, Any]] = field(default_factory=list)
    sms_id_first: int | None = None
    sms_id_count: int = 0
    fault: Fault | None = None


class Core:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: Settings,
        *,
        events: EventHub | None = None,
        scenarios: Outcomes | None = None,
    ) -> None:
        self.store = store
        self.durable = store.log.durable  # changes wait for the group commit (`committed`)
        self.clock = clock
        self.settings = settings
        self.tz = settings.rules.tz
        self.events = events or EventHub()
        self.scenarios: Outcomes = scenarios or NoScenarios()
        self.scheduler = Scheduler(store.jobs, clock)
        self.messages = store.messages
        self.queues = store.queues
        self.push = PushEngine(
            store.pushes, clock, self.scheduler, settings, self.events, self._push_target, self.queues
        )
        self.replay = ReplayGuard(settings.replay_cache_size)
        self.sms_ids = IdSequence(20, self.messages.last_sms_id)
        self.accounts: dict[str, Account] = {
            spec.app_id: Account(spec, balance) for spec, balance in store.accounts.load()
        }

    async def start(self) -> None:
        self.scheduler.start()
        await self.push.start()

    async def stop(self) -> None:
        await self.scheduler.stop()
        await self.push.stop()
        self.store.log.flush()

    async def committed(self) -> None:
        """Wait until what this loop turn changed is in the file (the group commit)."""
        await self.store.log.committed()

    def save_clock(self) -> None:
        """Remember where the scheduler's clock is, so a durable store resumes it (never backward)."""
        self.store.save_clock(self.clock.now_ms(), self.clock.wall_ms())

    # -- accounts ---------------------------------------------------------------------------

    def put_account(self, spec: AccountSpec) -> Account:
        """Add or replace an account; replacing keeps its messages and sets the new balance."""
        account = Account(spec, spec.balance)
        self.store.accounts.put(spec, spec.balance)
        self.accounts[spec.app_id] = account
        self.events.publish("account", spec.app_id, account)
        return account

    def account(self, app_id: str | None) -> Account:
        account = self.accounts.get(app_id or "")
        if account is None:
            raise EmayError(
                ResultCode.ERROR_APPID,
                "appId is missing" if not app_id else f"no account has appId {app_id[:64]!r}",
                field="appId",
            )
        return account

    def set_balance(self, account: Account, balance: int) -> None:
        account.balance = balance
        if self.durable:
            self.store.accounts.set_balance(account.app_id, balance)

    def give_balance(self, account: Account, balance: int) -> None:
        """A balance set by hand (the console): stored, and told to live views. Sends, which
        change it far more often, tell nobody: a view reads it again when messages arrive."""
        self.set_balance(account, balance)
        self.events.publish("account", account.app_id, account)

    def counts(self) -> dict[str, dict[str, int]]:
        """Per account, what it holds now: messages, what waits in its pull queues, its pushes."""
        pushes = self.push.store.status_counts()
        depth = self.queues.depth
        return {
            app_id: {
                "messages": self.messages.count(app_id),
                "queuedReports": depth(app_id, "report"),
                "queuedVoiceReports": depth(app_id, "voice-report"),
                "queuedMo": depth(app_id, "mo"),
                "queuedClicks": depth(app_id, "click"),
                "pendingPushes": pushes.get((app_id, "pending"), 0),
                "deadPushes": pushes.get((app_id, "dead"), 0),
            }
            for app_id in self.accounts
        }

    def _push_target(self, app_id: str, kind: str) -> PushTarget | None:
        account = self.accounts.get(app_id)
        if account is None or account.spec.push is None:
            return None
        url = account.spec.push.url_for(kind)
        if not url:
            return None
        push = account.spec.push
        return PushTarget(url, push.mode, account.key, push.retry_schedule, push.timeout_s)

    # -- the gate of every request (docs/protocol.md#check-order) ---------------------------

    def admit(self, app_id: str | None, remote: str | None, notes: Notes) -> Account:
        """appId known -> client address allowed -> rate within the limit."""
        account = self.account(app_id)
        notes.strict = account.spec.strict
        if not account.allows(remote):
            raise EmayError(
                ResultCode.ERROR_CLIENT_IP,
                f"client address {remote} is not in allowedIps",
                expected=list(account.spec.allowed_ips),
                got=remote,
            )
        if not account.limiter.admit():
            raise EmayError(
                ResultCode.ERROR_OVER_SPEED,
                f"more than {account.spec.max_requests_per_second} requests in the last second",
                limit=account.spec.max_requests_per_second,
            )
        return account

    def check_window(
        self, account: Account, endpoint: str, fields: Fields, body: bytes, *, submits: bool
    ) -> None:
        """requestTime + requestValidPeriod*1000 > now; a submission's body not seen inside it.

        Replays are refused only where a request submits something (sends, templates): the
        document's purpose is "防止同一个请求重复提交", and a poll repeated within the same
        millisecond by a fast client is legitimate.
        """
        notes = fields.notes
        request_time = fields.integer("requestTime", float_note=Deviation.REQUEST_TIME_FLOAT)
        period = fields.integer("requestValidPeriod")
        if request_time is None:
            raise EmayError(ResultCode.ERROR_PARAMS, "requestTime is missing", field="requestTime")
        if period is None:
            raise EmayError(
                ResultCode.ERROR_PARAMS, "requestValidPeriod is missing", field="requestValidPeriod"
            )
        for name, value in (("requestTime", request_time), ("requestValidPeriod", period)):
            # Beyond a long no Java client could have sent it, and the skew arithmetic below
            # would overflow a float.
            if not fits_long(value):
                raise EmayError(ResultCode.ERROR_PARAMS, f"{name} does not fit a long (64 bits)", field=name)
        now = self.clock.wall_ms()
        tolerance = self.settings.future_tolerance_s * 1000
        expires = request_time + period * 1000
        if expires <= now:
            raise EmayError(
                ResultCode.ERROR_REQUEST_NO_VALID,
                f"request expired: requestTime {request_time} + requestValidPeriod {period} s "
                f"ended {(now - expires) / 1000:.3f} s ago (platform time "
                f"{format_long(now, self.tz)})",
                field="requestTime",
                diagnosis=diagnose.epoch_time(request_time - now, tolerance, self.tz, now),
                skewSeconds=round((request_time - now) / 1000, 3),
            )
        ahead = request_time - now
        if ahead > tolerance:
            notes.deviate(
                Deviation.REQUEST_TIME_FUTURE,
                f"requestTime {request_time} is {ahead / 1000:.0f} s in the future",
                field_name="requestTime",
                diagnosis=diagnose.future_request_time(request_time, ahead, tolerance, self.tz, now),
            )
        digest = body_digest(body, endpoint) if submits and self.settings.replay_protection else None
        if digest is not None and self.replay.check_and_remember(account.app_id, digest, expires, now):
            raise EmayError(
                ResultCode.ERROR_REQUEST_NO_VALID,
                "replay: this exact ciphertext was already received inside its validity window",
                rule="replay",
            )

    # -- shared helpers for features --------------------------------------------------------

    def route(
        self,
        app_id: str,
        kind: str,
        items: Sequence[Any],
        payload: Callable[[Any], dict[str, Any]],
        chaos: Callable[[Any], str | None] | None = None,
    ) -> None:
        """Send reports / MO / clicks where the account wants them: its callback or its queue.

        `payload` is called only for a push: a pull queue keeps the objects and makes the
        payloads when they are taken. `chaos` names an item's scripted push misbehaviour.
        """
        target = self._push_target(app_id, kind) if kind in ("report", "mo") else None  # never clicks
        if target is not None:
            self.push.enqueue(
                app_id, kind, [(obj, payload(obj), None if chaos is None else chaos(obj)) for obj in items]
            )
        else:
            self.queues.append(app_id, kind, items)

    # -- scenarios ------------------------------------------------------------------------

    async def consult(self, ctx: Context, facts: RequestFacts) -> None:
        """Ask scenarios about a request, before anything changes.

        The rules that fired go to `ctx.fired`, the fault to `ctx.fault`. A fault `before`
        delays (a timer, not a worker) and may replace the answer (FaultNow); a scripted
        code is raised as the refusal; a fault `after` is the web layer's to play.
        """
        decision = self.scenarios.on_request(facts)
        ctx.fired.extend(decision.fired)
        fault = ctx.fault = decision.fault
        if fault is not None and fault.when == "before":
            if fault.latency_ms:
                await asyncio.sleep(fault.latency_ms / 1000)
            if fault.kind != "latency":
                raise FaultNow(fault)
        if decision.code is not None:
            names = ", ".join(str(f["rule"]) for f in decision.fired if "code" in f["outcomes"])
            raise EmayError(decision.code, f"scripted by scenario rule {names}", rule="scenario")

    # -- reset ----------------------------------------------------------------------------

    def reset(self, app_id: str | None = None) -> None:
        """Forget messages, queues, pending work, pushes, templates and links; restore balances."""
        self.store.forget(app_id)
        for account in self.accounts.values():
            if app_id is None or account.app_id == app_id:
                self.set_balance(account, account.spec.balance)
        self.replay.forget(app_id)
        self.push.forget(app_id)
        if app_id is None:
            self.scenarios.restart()
        self.scheduler.forget(app_id)
        self.events.publish("reset", app_id, {"appId": app_id})
