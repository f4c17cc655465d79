"""The emulated Emay platform as the web layer calls it: one call per request.

Each call asks the scenarios about the request first (a scripted code or fault replaces
what follows), then does the work and returns what the answer needs; what the journal
needs (rules fired, smsIds issued) is left on the request's `Context`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emay_mock.delivery.clock import Clock
from emay_mock.observe.events import EventHub
from emay_mock.platform.accounts import Account
from emay_mock.platform.core import Context, Core, body_digest
from emay_mock.platform.inbound import Inbound
from emay_mock.platform.links import Links
from emay_mock.platform.retention import Retention
from emay_mock.platform.retrieval import Retrieval
from emay_mock.platform.sending import REPORT, Accepted, Sender
from emay_mock.platform.templates import Templates
from emay_mock.protocol.notes import Notes
from emay_mock.protocol.secure_api import PlainSingle
from emay_mock.protocol.send import Recipient, SendOrder
from emay_mock.scenarios.outcomes import Outcomes, RequestFacts, endpoint_path
from emay_mock.settings import Settings
from emay_mock.store.messages import MessageRow
from emay_mock.store.state import Store

PULL_KINDS = (REPORT, "voice-report", "mo", "click")
SINGLE = "sendSingleSMS"
SINGLE_PATH = endpoint_path("secure", SINGLE)  # what its messages record as their endpoint


class Platform(Core):
    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: Settings,
        *,
        events: EventHub | None = None,
        scenarios: Outcomes | None = None,
    ) -> None:
        super().__init__(store, clock, settings, events=events, scenarios=scenarios)
        self.templates = Templates(self)
        self.links = Links(self)
        self.sending = Sender(self, self.templates, self.links)
        self.inbound = Inbound(self)
        self.retrieval = Retrieval(self, self.sending)
        self.retention = Retention(self)

    async def start(self) -> None:
        await super().start()
        self.retention.start()

    async def stop(self) -> None:
        self.retention.stop()
        await super().stop()

    async def advance(self, seconds: float) -> int:
        """Move the scheduler's clock, running what falls due (and letting what is too old go)."""
        ran = await self.scheduler.advance(seconds)
        if self.retention.max_age_ms is not None:
            self.retention.run()
        return ran

    def context(
        self, account: Account, family: str, endpoint: str, notes: Notes, base_url: Callable[[], str] = str
    ) -> Context:
        return Context(account, family, endpoint, notes, base_url)

    def _facts(
        self, ctx: Context, recipients: list[Recipient] | None = None, template_id: str | None = None
    ) -> RequestFacts:
        return RequestFacts(ctx.family, ctx.endpoint, ctx.account.app_id, recipients or [], template_id)

    async def submit(self, ctx: Context, order: SendOrder) -> Accepted:
        """A send of any family: the text made final, scenarios asked, then accepted or refused whole."""
        links = self.sending.prepare(ctx.account, order, ctx.base_url)
        facts = self._facts(ctx, order.recipients, order.template_id)
        await self.consult(ctx, facts)
        accepted = self.sending.send(ctx, order, facts, links)
        self.retention.after_accept(len(accepted.results))
        if accepted.early:  # a scenario's `push: {early: true}`: those reports go out before the answer
            await self.scheduler.advance(0)
        return accepted

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

    async def balance(self, ctx: Context) -> int:
        await self.consult(ctx, self._facts(ctx))
        return ctx.account.balance

    async def pull(self, ctx: Context, kind: str, number: int) -> list[dict[str, Any]]:
        """Up to `number` reports, MO or clicks from the account's queue, oldest first, each once."""
        await self.consult(ctx, self._facts(ctx))
        if kind == "mo":
            return self.inbound.pull(ctx.account, number)
        if kind == "click":
            return self.links.pull(ctx.account, number)
        return self.sending.pull_reports(ctx.account, number, kind)

    async def create_template(self, ctx: Context, content: str) -> str:
        facts = self._facts(ctx, [Recipient(None, content)])
        await self.consult(ctx, facts)
        return self.templates.create(ctx.account, content, facts).template_id

    async def delete_template(self, ctx: Context, template_id: str) -> bool:
        await self.consult(ctx, self._facts(ctx, template_id=template_id))
        return self.templates.delete(ctx.account, template_id)

    async def query_template(self, ctx: Context, template_id: str) -> int:
        await self.consult(ctx, self._facts(ctx, template_id=template_id))
        return self.templates.status(ctx.account, template_id)

    async def retrieve(self, ctx: Context, start_wall: int, end_wall: int, sms_ids: list[str] | None) -> int:
        await self.consult(ctx, self._facts(ctx))
        return self.retrieval.retrieve(ctx.account, start_wall, end_wall, sms_ids)
