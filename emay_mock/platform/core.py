"""The emulated platform's shared state and its gatekeeping: accounts, admission, windows.

`Platform` owns the store, the clocks and the collaborators; the feature modules
(sending, inbound, templates, short links, retrieval) hang off it and share them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
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
from emay_mock.protocol.fields import Fields
from emay_mock.protocol.notes import Deviation, Notes
from emay_mock.protocol.times import format_long
from emay_mock.scenarios.outcomes import NoScenarios, Outcomes, RequestDecision, RequestFacts
from emay_mock.settings import Settings
from emay_mock.store.db import Database
from emay_mock.store.jobs import Jobs
from emay_mock.store.messages import Messages
from emay_mock.store.pushes import Pushes
from emay_mock.store.queues import PullQueues

# The document types requestTime and requestValidPeriod as Java longs.
_LONG = 2**63


class Platform:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: Settings,
        *,
        events: EventHub | None = None,
        scenarios: Outcomes | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.tz = settings.rules.tz
        self.events = events or EventHub()
        self.scenarios: Outcomes = scenarios or NoScenarios()
        self.scheduler = Scheduler(db, clock)
        self.queues = PullQueues(db)
        self.push = PushEngine(
            db, clock, self.scheduler, settings, self.events, self._push_target, self.queues
        )
        self.messages = Messages(db)
        self.jobs = Jobs(db)
        self.pushes = Pushes(db)
        self.replay = ReplayGuard(settings.replay_cache_size)
        self.sms_ids = IdSequence(20, self.messages.last_sms_id)
        self.accounts: dict[str, Account] = {}
        for row in db.conn.execute("SELECT spec, balance FROM accounts"):
            spec = AccountSpec.from_stored(json.loads(row[0]))
            self.accounts[spec.app_id] = Account(spec, int(row[1]))

    async def start(self) -> None:
        self.scheduler.start()
        await self.push.start()

    async def stop(self) -> None:
        await self.scheduler.stop()
        await self.push.stop()

    # -- accounts ---------------------------------------------------------------------------

    def put_account(self, spec: AccountSpec) -> Account:
        """Add or replace an account; replacing keeps its messages and sets the new balance."""
        account = Account(spec, spec.balance)
        with self.db.tx():
            self.db.conn.execute(
                "INSERT INTO accounts(app_id, spec, balance) VALUES (?, ?, ?) "
                "ON CONFLICT(app_id) DO UPDATE SET spec = excluded.spec, balance = excluded.balance",
                (spec.app_id, json.dumps(spec.stored()), spec.balance),
            )
        self.accounts[spec.app_id] = account
        self.events.publish("account", spec.app_id, spec.public())
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
        self.db.conn.execute("UPDATE accounts SET balance = ? WHERE app_id = ?", (balance, account.app_id))

    def _push_target(self, app_id: str, kind: str) -> PushTarget | None:
        account = self.accounts.get(app_id)
        if account is None or account.spec.push is None:
            return None
        url = account.spec.push.url_for(kind)
        if not url:
            return None
        push = account.spec.push
        return PushTarget(url, push.mode, account.key, push.retry_schedule, push.timeout_s)

    # -- the gate of every request (EMAY_API §7.1) ------------------------------------------

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
            if not -_LONG <= value < _LONG:
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
        if submits and self.settings.replay_protection:
            # The endpoint is part of the key: `{requestTime, requestValidPeriod}` alone is the
            # whole body of both getBalance and getReport, and may repeat within a millisecond.
            digest = hashlib.blake2b(body, digest_size=16, person=endpoint.encode()[:16]).digest()
            if self.replay.check_and_remember(account.app_id, digest, expires, now):
                raise EmayError(
                    ResultCode.ERROR_REQUEST_NO_VALID,
                    "replay: this exact ciphertext was already received inside its validity window",
                    rule="replay",
                )

    # -- shared helpers for features --------------------------------------------------------

    def route(
        self,
        account_id: str,
        kind: str,
        refs: list[int],
        items: Callable[[], list[dict[str, Any]]],
        chaos: Mapping[int, str] | None = None,
    ) -> None:
        """Send reports / MO / clicks where the account wants them: its callback or its queue.

        `items()` gives the payloads in the order of `refs`; it is called only for a push,
        as a pull queue keeps references and builds the payloads when they are taken.
        """
        target = self._push_target(account_id, kind) if kind in ("report", "mo") else None  # never clicks
        if target is not None:
            self.push.enqueue(account_id, kind, list(zip(refs, items(), strict=True)), chaos)
        else:
            self.queues.append(account_id, kind, refs)

    def now_text(self) -> str:
        return format_long(self.clock.now_ms(), self.tz)

    # -- scenarios ------------------------------------------------------------------------

    def consult(self, facts: RequestFacts, rules_fired: list[dict[str, Any]]) -> RequestDecision:
        """What scenarios decide about a request, before anything changes; the rules are journaled."""
        decision = self.scenarios.on_request(facts)
        rules_fired.extend(decision.fired)
        return decision

    # -- reset ----------------------------------------------------------------------------

    _RESET_TABLES = (
        "messages", "mo", "pull_queue", "jobs", "push_outbox", "push_batches", "templates",
        "short_links", "clicks",
    )  # fmt: skip

    def reset(self, app_id: str | None = None) -> None:
        """Forget messages, queues, pending work, pushes, templates and links; restore balances."""
        conn = self.db.conn
        with self.db.tx():
            if app_id is None:
                for table in (*self._RESET_TABLES, "push_members", "push_attempts"):
                    conn.execute(f"DELETE FROM {table}")
            else:
                conn.execute(
                    "DELETE FROM push_attempts WHERE batch_id IN "
                    "(SELECT batch_id FROM push_batches WHERE app_id = ?)",
                    (app_id,),
                )
                conn.execute(
                    "DELETE FROM push_members WHERE batch_id IN "
                    "(SELECT batch_id FROM push_batches WHERE app_id = ?)",
                    (app_id,),
                )
                for table in self._RESET_TABLES:
                    conn.execute(f"DELETE FROM {table} WHERE app_id = ?", (app_id,))
            for account in self.accounts.values():
                if app_id is None or account.app_id == app_id:
                    self.set_balance(account, account.spec.balance)
        self.replay.forget(app_id)
        self.push.forget(app_id)
        self.queues.recount()
        if app_id is None:
            self.scenarios.restart()
        self.scheduler.rearm()
        self.events.publish("reset", app_id, {"appId": app_id})
