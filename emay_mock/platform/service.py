"""The emulated Emay platform as the web layer calls it: one call per request.

Each call asks the scenarios about the request first (a scripted code or fault replaces
what follows), then does the work and returns what the answer needs; what the journal
needs (the notes, the rules that fired, the smsIds issued, a scripted fault) is left on
the request's journal entry. Nothing here waits: a fault scripted to play before the work
is raised (`FaultNow`) for the web layer to play, with the rest of the work to resume.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from emay_mock.delivery.clock import Clock
from emay_mock.delivery.scheduler import Scheduler
from emay_mock.observe.events import EventHub
from emay_mock.observe.journal import Entry
from emay_mock.platform.accounts import Account, Accounts
from emay_mock.platform.gate import Gate
from emay_mock.platform.inbound import Inbound
from emay_mock.platform.links import Links
from emay_mock.platform.replay import ReplayGuard
from emay_mock.platform.retention import Retention
from emay_mock.platform.retrieval import Retrieval
from emay_mock.platform.sending import REPORT, Sender, Sent
from emay_mock.platform.templates import Templates
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.send import Recipient, SendOrder
from emay_mock.scenarios.outcomes import FaultNow, Outcomes, RequestDecision, RequestFacts
from emay_mock.settings import Settings
from emay_mock.store.state import Store

PULL_KINDS = (REPORT, "voice-report", "mo", "click")
T = TypeVar("T")


class Platform:
    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        settings: Settings,
        events: EventHub,
        scenarios: Outcomes,
        scheduler: Scheduler,
        accounts: Accounts,
        replay: ReplayGuard,
        gate: Gate,
        sending: Sender,
        templates: Templates,
        links: Links,
        inbound: Inbound,
        retrieval: Retrieval,
        retention: Retention,
    ) -> None:
        self.store = store
        self.durable = store.durable  # changes wait for the group commit (`committed`)
        self.messages = store.messages
        self.clock = clock
        self.settings = settings
        self.tz = settings.rules.tz
        self.events = events
        self.scenarios = scenarios
        self.scheduler = scheduler
        self.accounts = accounts
        self.replay = replay
        self.gate = gate
        self.sending = sending
        self.templates = templates
        self.links = links
        self.inbound = inbound
        self.retrieval = retrieval
        self.retention = retention

    async def committed(self) -> None:
        """Wait until what this loop turn changed is in the file (the group commit)."""
        await self.store.log.committed()

    def save_clock(self) -> None:
        """Remember where the scheduler's clock is, so a durable store resumes it (never backward)."""
        self.store.save_clock(self.clock.now_ms(), self.clock.wall_ms())

    # -- asking the scenarios --------------------------------------------------------------

    def _consult(self, entry: Entry, facts: RequestFacts, work: Callable[[], T]) -> T:
        """Ask scenarios about a request before anything changes, then do its `work`.

        The rules that fired and the fault go to the entry. A scripted code is raised as the
        refusal; a fault `before` is raised (FaultNow) for the web layer to play first, and
        a fault `after` is the web layer's to play with the answer.
        """
        decision = self.scenarios.on_request(facts)
        if decision.fired:
            entry.rules = decision.fired
        fault = entry.fault = decision.fault
        if fault is not None and fault.when == "before":
            resume = None if fault.kind != "latency" else lambda: self._decided(decision, work)
            raise FaultNow(fault, resume)
        return self._decided(decision, work)

    @staticmethod
    def _decided(decision: RequestDecision, work: Callable[[], T]) -> T:
        if decision.code is not None:
            names = ", ".join(str(f["rule"]) for f in decision.fired if "code" in f["outcomes"])
            raise EmayError(decision.code, f"scripted by scenario rule {names}", rule="scenario")
        return work()

    def _asked(
        self, account: Account, entry: Entry, work: Callable[[], T], template_id: str | None = None
    ) -> T:
        """A request that sends nothing: scenarios asked (when a rule may match), then `work`."""
        if self.scenarios.ignores([]):
            return work()
        facts = RequestFacts(entry.family, entry.endpoint, account.app_id, [], template_id)
        return self._consult(entry, facts, work)

    # -- the calls of the Emay endpoints ----------------------------------------------------

    def submit(self, account: Account, entry: Entry, order: SendOrder) -> Sent:
        """A send of any family: the text made final, scenarios asked, then accepted or refused
        whole. Returns the messages, one per recipient, and whether a scenario wants some of
        their reports pushed before the answer is returned."""
        links = None
        if order.template_id is not None or order.short_link is not None:
            links = self.sending.prepare(account, order)
        recipients = order.recipients
        if self.scenarios.ignores(recipients):  # nearly always: no rule can match
            return self.sending.send(account, entry, order, None, links)
        facts = RequestFacts(entry.family, entry.endpoint, account.app_id, recipients, order.template_id)
        return self._consult(entry, facts, lambda: self.sending.send(account, entry, order, facts, links))

    def balance(self, account: Account, entry: Entry) -> int:
        return self._asked(account, entry, lambda: account.balance)

    def pull(self, account: Account, entry: Entry, kind: str, number: int) -> list[dict[str, Any]]:
        """Up to `number` reports, MO or clicks from the account's queue, oldest first, each once."""

        def take() -> list[dict[str, Any]]:
            if kind == "mo":
                return self.inbound.pull(account, number)
            if kind == "click":
                return self.links.pull(account, number)
            return self.sending.pull_reports(account, number, kind)

        return self._asked(account, entry, take)

    def create_template(self, account: Account, entry: Entry, content: str) -> str:
        facts = RequestFacts(entry.family, entry.endpoint, account.app_id, [Recipient(None, content)])
        return self._consult(entry, facts, lambda: self.templates.create(account, content, facts).template_id)

    def delete_template(self, account: Account, entry: Entry, template_id: str) -> bool:
        return self._asked(account, entry, lambda: self.templates.delete(account, template_id), template_id)

    def query_template(self, account: Account, entry: Entry, template_id: str) -> int:
        return self._asked(account, entry, lambda: self.templates.status(account, template_id), template_id)

    def retrieve(
        self, account: Account, entry: Entry, start_wall: int, end_wall: int, sms_ids: list[str] | None
    ) -> int:
        return self._asked(
            account, entry, lambda: self.retrieval.retrieve(account, start_wall, end_wall, sms_ids)
        )

    # -- resetting --------------------------------------------------------------------------

    def reset(self, app_id: str | None = None) -> None:
        """Forget messages, queues, pending work, templates and links; restore balances.
        (The push engine forgets its part: the server asks it.)"""
        self.store.forget(app_id)
        for account in self.accounts.values():
            if app_id is None or account.app_id == app_id:
                self.accounts.set_balance(account, account.spec.balance)
        self.replay.forget(app_id)
        if app_id is None:
            self.scenarios.restart()
        self.scheduler.forget(app_id)
        self.events.publish("reset", app_id, {"appId": app_id})
