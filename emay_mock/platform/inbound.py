"""MO: messages from phones to the customer, delivered like reports (queue or callback)."""

from __future__ import annotations

from typing import Any

from emay_mock.delivery.clock import Clock
from emay_mock.delivery.scheduler import Scheduler
from emay_mock.observe.events import EventHub
from emay_mock.observe.outcomes import MO_RECEIVED, OutcomeBook
from emay_mock.platform.accounts import Account, Accounts
from emay_mock.platform.routing import Router
from emay_mock.protocol import payloads
from emay_mock.protocol.notes import Notes
from emay_mock.protocol.rules import Rules, check_extended_code, normalize_mobile
from emay_mock.store.inbound import MoRow, MoStore
from emay_mock.store.jobs import Job
from emay_mock.store.queues import PullQueues

MO_REPLY = "mo-reply"


class Inbound:
    def __init__(
        self,
        store: MoStore,
        accounts: Accounts,
        scheduler: Scheduler,
        clock: Clock,
        router: Router,
        queues: PullQueues,
        outcomes: OutcomeBook,
        events: EventHub,
        rules: Rules,
    ) -> None:
        self.store = store
        self.accounts = accounts
        self.clock = clock
        self.router = router
        self.queues = queues
        self.outcomes = outcomes
        self.events = events
        self.rules = rules
        scheduler.on(MO_REPLY, self._reply_due)

    def receive(
        self,
        app_id: str,
        mobile: str,
        content: str,
        extended_code: str | None,
        *,
        source: str,
        reply_to: str | None = None,
        at: int | None = None,
    ) -> MoRow:
        """A phone sends `content` (at `at`, default now), to the account's callback or queue."""
        row = self.store.insert(
            app_id=app_id,
            mobile=mobile,
            content=content,
            extended_code=extended_code,
            mo_at=self.clock.now_ms() if at is None else at,
            reply_to=reply_to,
            source=source,
        )
        self.router.route(app_id, "mo", [row], self.item)
        self.outcomes.saw(app_id, MO_RECEIVED)
        self.events.publish("mo", app_id, row)
        return row

    def inject(self, account: Account, mobile: str, content: str, extended_code: str | None) -> MoRow:
        """From the control API: a real number and an extended code a send could have used."""
        normalize_mobile(mobile, self.rules, Notes(), "mobile")
        check_extended_code(extended_code, self.rules, "extendedCode")
        return self.receive(account.app_id, mobile.strip(), content, extended_code, source="api")

    def _reply_due(self, job: Job) -> None:
        data = job.payload
        if job.app_id is None or job.app_id not in self.accounts:
            return
        self.receive(
            job.app_id,
            str(data["mobile"]),
            str(data["content"]),
            data.get("extendedCode"),
            source="scenario",
            reply_to=str(data["smsId"]),
            at=job.due,
        )

    def item(self, row: MoRow) -> dict[str, Any]:
        return payloads.mo(
            mobile=row.mobile,
            content=row.content,
            mo_ms=row.mo_at,
            extended_code=row.extended_code,
            tz=self.rules.tz,
        )

    def pull(self, account: Account, number: int) -> list[dict[str, Any]]:
        return [self.item(row) for row in self.queues.take(account.app_id, "mo", number)]
