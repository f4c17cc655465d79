"""The emulated Emay platform as the web layer calls it: one call per request.

Each call asks the scenarios about the request first (a scripted code or fault replaces
what follows), then does the work and returns what the answer needs; what the journal
needs (rules fired, smsIds issued) is left on the request's `Context`. Nothing here waits:
a fault scripted to play before the work is raised (`FaultNow`) for the web layer to play,
with the rest of the work to resume after its delay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from emay_mock.delivery.clock import Clock
from emay_mock.delivery.scheduler import Scheduler
from emay_mock.observe.events import EventHub
from emay_mock.platform.accounts import Account, Accounts
from emay_mock.platform.context import Context
from emay_mock.platform.gate import Gate, body_digest
from emay_mock.platform.inbound import Inbound
from emay_mock.platform.links import Links
from emay_mock.platform.replay import ReplayGuard
from emay_mock.platform.retention import Retention
from emay_mock.platform.retrieval import Retrieval
from emay_mock.platform.sending import REPORT, Accepted, Sender
from emay_mock.platform.templates import Templates
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.notes import Notes
from emay_mock.protocol.secure_api import PlainSingle
from emay_mock.protocol.send import Recipient, SendOrder
from emay_mock.scenarios.outcomes import FaultNow, Outcomes, RequestDecision, RequestFacts, endpoint_path
from emay_mock.settings import Settings
from emay_mock.store.rows import MessageRow
from emay_mock.store.state import Store

PULL_KINDS = (REPORT, "voice-report", "mo", "click")
SINGLE = "sendSingleSMS"
SINGLE_PATH = endpoint_path("secure", SINGLE)  # what its messages record as their endpoint
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

    def context(
        self, account: Account, family: str, endpoint: str, notes: Notes, base_url: Callable[[], str] = str
    ) -> Context:
        return Context(account, family, endpoint, notes, base_url)

    # -- asking the scenarios --------------------------------------------------------------

    def _facts(
        self, ctx: Context, recipients: list[Recipient] | None = None, template_id: str | None = None
    ) -> RequestFacts:
        return RequestFacts(ctx.family, ctx.endpoint, ctx.account.app_id, recipients or [], template_id)

    def _consult(self, ctx: Context, facts: RequestFacts, work: Callable[[], T]) -> T:
        """Ask scenarios about a request before anything changes, then do its `work`.

        The rules that fired go to `ctx.fired`, the fault to `ctx.fault`. A scripted code is
        raised as the refusal; a fault `before` is raised (FaultNow) for the web layer to play
        first, and a fault `after` is the web layer's to play with the answer.
        """
        decision = self.scenarios.on_request(facts)
        if decision.fired:
            ctx.fired.extend(decision.fired)
        fault = ctx.fault = decision.fault
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

    # -- the calls of the Emay endpoints ----------------------------------------------------

    def submit(self, ctx: Context, order: SendOrder) -> Accepted:
        """A send of any family: the text made final, scenarios asked, then accepted or refused whole.

        `Accepted.early`: a scenario wants some report pushed before the answer is returned."""
        links = self.sending.prepare(ctx.account, order, ctx.base_url)
        facts = self._facts(ctx, order.recipients, order.template_id)

        def accept() -> Accepted:
            accepted = self.sending.send(ctx, order, facts, links)
            self.retention.after_accept(len(accepted.results))
            return accepted

        return self._consult(ctx, facts, accept)

    def submit_plain(
        self, account: Account, remote: str | None, plain: PlainSingle, body: bytes
    ) -> MessageRow | None:
        """A sendSingleSMS with nothing to refuse, note, normalise or script, in one step.

        What admit, check_window, consult and send would find is asked as plain questions
        first: the address allowed, the window open and not ahead, the balance enough, no
        scenario rule able to match, not a replay, the rate within its limit. Then the message
        is accepted as `submit` accepts it. None, with nothing changed, as soon as one of them
        has something to say: the general path then decides, and explains.
        """
        now = self.clock.wall_ms()
        expires = plain.request_time + plain.valid_period * 1000
        ahead = plain.request_time - now
        if expires <= now or ahead > self.settings.future_tolerance_s * 1000:
            return None
        if plain.segments > account.balance or not account.allows(remote):
            return None
        if not self.scenarios.ignores_one(plain.mobile, plain.content):
            return None
        app_id = account.app_id
        digest = body_digest(body, SINGLE) if self.settings.replay_protection else None
        if digest is not None and self.replay.seen(app_id, digest, now):
            return None
        if not account.limiter.admit():
            return None
        if digest is not None:
            self.replay.remember(app_id, digest, expires)
        row = self.sending.send_plain(account, plain, SINGLE_PATH, now)
        self.retention.after_accept(1)
        return row

    def balance(self, ctx: Context) -> int:
        return self._consult(ctx, self._facts(ctx), lambda: ctx.account.balance)

    def pull(self, ctx: Context, kind: str, number: int) -> list[dict[str, Any]]:
        """Up to `number` reports, MO or clicks from the account's queue, oldest first, each once."""

        def take() -> list[dict[str, Any]]:
            if kind == "mo":
                return self.inbound.pull(ctx.account, number)
            if kind == "click":
                return self.links.pull(ctx.account, number)
            return self.sending.pull_reports(ctx.account, number, kind)

        return self._consult(ctx, self._facts(ctx), take)

    def create_template(self, ctx: Context, content: str) -> str:
        facts = self._facts(ctx, [Recipient(None, content)])
        return self._consult(
            ctx, facts, lambda: self.templates.create(ctx.account, content, facts).template_id
        )

    def delete_template(self, ctx: Context, template_id: str) -> bool:
        facts = self._facts(ctx, template_id=template_id)
        return self._consult(ctx, facts, lambda: self.templates.delete(ctx.account, template_id))

    def query_template(self, ctx: Context, template_id: str) -> int:
        facts = self._facts(ctx, template_id=template_id)
        return self._consult(ctx, facts, lambda: self.templates.status(ctx.account, template_id))

    def retrieve(self, ctx: Context, start_wall: int, end_wall: int, sms_ids: list[str] | None) -> int:
        return self._consult(
            ctx, self._facts(ctx), lambda: self.retrieval.retrieve(ctx.account, start_wall, end_wall, sms_ids)
        )

    # -- resetting --------------------------------------------------------------------------

    def reset(self, app_id: str | None = None) -> None:
        """Forget messages, queues, pending work, templates and links; restore balances.
        (The push engine and the scheduler forget their part: the server asks them.)"""
        self.store.forget(app_id)
        for account in self.accounts.values():
            if app_id is None or account.app_id == app_id:
                self.accounts.set_balance(account, account.spec.balance)
        self.replay.forget(app_id)
        if app_id is None:
            self.scenarios.restart()
        self.scheduler.forget(app_id)
        self.events.publish("reset", app_id, {"appId": app_id})
