"""Accepting messages: validate, bill, store, and plan each recipient's report.

Every accepted message gets exactly one final report: its planned state and due time
are stored with it, and the scheduler's report buckets fire them (docs/protocol.md#report-plan).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from emay_mock.delivery.clock import Clock
from emay_mock.delivery.scheduler import Scheduler
from emay_mock.observe.events import EventHub
from emay_mock.platform.accounts import Account, Accounts
from emay_mock.platform.context import Context
from emay_mock.platform.ids import IdSequence
from emay_mock.platform.links import Links, PlannedLinks
from emay_mock.platform.routing import Router
from emay_mock.platform.templates import Templates
from emay_mock.protocol import payloads
from emay_mock.protocol.codes import ReportState, ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.secure_api import PlainSingle
from emay_mock.protocol.send import Planned, SendOrder, validate
from emay_mock.scenarios.outcomes import Outcomes, RecipientPlan, RequestFacts
from emay_mock.settings import Settings
from emay_mock.store.messages import Messages
from emay_mock.store.queues import PullQueues
from emay_mock.store.rows import MessageRow

REPORT = "report"


def _recipient_firings(plans: list[RecipientPlan]) -> list[dict[str, Any]]:
    """One journal line per rule at recipient level: how many it decided, and its first draws."""
    summary: dict[str, dict[str, Any]] = {}

    def line(label: str) -> dict[str, Any]:
        return summary.setdefault(label, {"rule": label, "scope": "recipient", "count": 0, "draws": []})

    for plan in plans:
        for label in plan.fired:
            line(label)["count"] += 1
        for label, draw, fired in plan.draws:
            draws = line(label)["draws"]
            if len(draws) < 20:
                draws.append({"draw": draw, "fired": fired})
    return list(summary.values())


VOICE_REPORT = "voice-report"


def message_row(
    msg_id: int, sms_id: int, app_id: str, endpoint: str, mobile: str, mobile_norm: str, content: str,
    custom_sms_id: str | None, extended_code: str | None, template_id: str | None, wall_now: int, now: int,
    timer_ms: int | None, segments: int, state: str, delay_ms: int, short_url: str | None = None,
    rules: str | None = None, chaos: str | None = None,
) -> MessageRow:  # fmt: skip
    """An accepted message, its report planned: every message row is made here."""
    # timerTime is a wall-clock time: it is kept at the same distance on the scheduler's
    # clock, so `advance` by that distance reaches it.
    send_at = now if timer_ms is None else now + max(0, timer_ms - wall_now)
    return MessageRow(msg_id, str(sms_id), app_id, mobile, mobile_norm, content, custom_sms_id, extended_code,
                      endpoint, template_id, wall_now, now, timer_ms, send_at, segments, state,
                      send_at + delay_ms, None, None, short_url, rules, chaos)  # fmt: skip


@dataclass
class Accepted:
    results: list[dict[str, Any]]  # the wire's {mobile, smsId, customSmsId}, one per recipient
    early: bool = False  # a scenario wants some report pushed before this answer is returned


class Sender:
    def __init__(
        self,
        messages: Messages,
        accounts: Accounts,
        sms_ids: IdSequence,
        scheduler: Scheduler,
        clock: Clock,
        router: Router,
        queues: PullQueues,
        scenarios: Outcomes,
        events: EventHub,
        settings: Settings,
        templates: Templates,
        links: Links,
    ) -> None:
        self.messages = messages
        self.accounts = accounts
        self.sms_ids = sms_ids
        self.scheduler = scheduler
        self.clock = clock
        self.router = router
        self.queues = queues
        self.scenarios = scenarios
        self.events = events
        self.settings = settings
        self.tz = settings.rules.tz
        self.templates = templates
        self.links = links
        self.accepted: Counter[str] = Counter()  # messages accepted, per appId
        self.states: Counter[str] = Counter()  # final reports, per state
        # The platform's own plans, shared by the recipients no rule decides: never changed.
        delay = settings.report_delay_ms
        self._delivered = RecipientPlan(ReportState.DELIVRD, delay)
        self._delivered_state = ReportState.DELIVRD.value
        self._repeated = RecipientPlan(ReportState.FAIL_MOBILE_REPEAT, delay)
        scheduler.on_bucket(REPORT, self._fire)
        # Reports still due when the last process stopped (their messages have no state yet).
        for row in messages.waiting_at_start:
            scheduler.add_to_bucket(REPORT, row.app_id, row.report_due, row)
        messages.waiting_at_start = []

    def prepare(self, account: Account, order: SendOrder, base_url: Callable[[], str]) -> PlannedLinks | None:
        """Make the text final (template filled, short link written) before anyone matches on it."""
        if order.template_id is not None:
            self.templates.fill(account, order)
        if order.short_link is None:
            return None
        return self.links.plan(order, self.settings.public_url or base_url())

    def send(
        self, ctx: Context, order: SendOrder, facts: RequestFacts, links: PlannedLinks | None = None
    ) -> Accepted:
        """Accept a prepared order whole, or refuse it whole with nothing stored or charged."""
        account = ctx.account
        app_id = account.app_id
        wall_now = self.clock.wall_ms()
        planned = validate(order, self.settings.rules, wall_now, ctx.notes)
        cost = sum(item.segments for item in planned)
        if cost > account.balance:
            raise EmayError(
                ResultCode.ERROR_BALANCE,
                f"the request costs {cost} segments, the balance is {account.balance}",
                expected=cost,
                got=account.balance,
            )
        now = self.clock.now_ms()
        count = len(planned)
        first = self.sms_ids.take(count, wall_now)
        first_row = self.messages.reserve(count)
        # With no scenario rule matching the request (nearly always), every recipient gets the
        # platform's own plan, shared, and nothing is attached to it.
        scripted = bool(facts.matched)
        plan_of = self.scenarios.plan
        delivered, repeated = self._delivered, self._repeated
        endpoint = facts.path
        template_id = order.template_id
        short_urls = links.short_urls if links is not None else None
        rows: list[MessageRow] = []
        plans: list[RecipientPlan] = []
        early = False
        for item in planned:
            if item.repeat:
                plan = repeated
            elif scripted:
                plan = plan_of(facts, item, delivered)
                if "early" in plan.push:
                    plan.delay_ms = 0  # only a scenario's own plan carries it: never a shared one
                    early = True
            else:
                plan = delivered
            index = item.index
            short_url = None if short_urls is None else short_urls[index]
            push = plan.push
            rows.append(message_row(
                first_row + index, first + index, app_id, endpoint, item.mobile, item.mobile_norm,
                item.content, item.custom_sms_id, item.extended_code, template_id, wall_now, now,
                item.timer_ms, item.segments, plan.state.value, plan.delay_ms, short_url,
                ",".join(plan.fired) if plan.fired else None,
                (",".join(sorted(push - {"early"})) or None) if push else None,
            ))  # fmt: skip
            plans.append(plan)
        self._keep(account, rows, cost)
        if links is not None:
            self.links.save(account, links, rows)
        if scripted:
            self._plan_followups(account, rows, plans, planned)
            ctx.fired.extend(_recipient_firings(plans))
        if rows:
            ctx.sms_id_first, ctx.sms_id_count = first, count
        return Accepted([payloads.send_result(r.mobile, r.sms_id, r.custom_sms_id) for r in rows], early)

    def send_plain(self, account: Account, plain: PlainSingle, endpoint: str, wall_now: int) -> MessageRow:
        """What `send` does for one recipient that no rule, timer, template or link touches,
        once the platform has found nothing to refuse (Platform.submit_plain)."""
        sms_id = self.sms_ids.take(1, wall_now)
        now = self.clock.now_ms()
        mobile = plain.mobile
        row = message_row(self.messages.reserve(1), sms_id, account.app_id, endpoint, mobile, mobile,
                          plain.content, plain.custom_sms_id, None, None, wall_now, now, None,
                          plain.segments, self._delivered_state, self._delivered.delay_ms)  # fmt: skip
        self._keep(account, (row,), plain.segments)
        return row

    def _keep(self, account: Account, rows: Sequence[MessageRow], cost: int) -> None:
        """Store accepted messages, charge them, and put each in the bucket of its report."""
        app_id = account.app_id
        self.messages.add(rows)
        self.accounts.set_balance(account, account.balance - cost)
        add_to_bucket = self.scheduler.add_to_bucket
        for row in rows:
            add_to_bucket(REPORT, app_id, row.report_due, row)
        self.accepted[app_id] += len(rows)
        if self.events.listening:
            for row in rows[:50]:
                self.events.publish("message", app_id, row)

    def _plan_followups(
        self,
        account: Account,
        rows: list[MessageRow],
        plans: list[RecipientPlan],
        planned: list[Planned],
    ) -> None:
        """MO replies and short-link clicks that scenarios attach to a recipient."""
        for row, plan in zip(rows, plans, strict=True):
            for reply in plan.replies:
                self.scheduler.schedule(
                    row.report_due + reply.delay_ms,
                    "mo-reply",
                    account.app_id,
                    {
                        "smsId": row.sms_id,
                        "mobile": row.mobile,
                        "content": reply.content,
                        "extendedCode": reply.extended_code
                        if reply.extended_code is not None
                        else row.extended_code,
                    },
                )
            for click in plan.clicks:
                if row.short_url:
                    self.scheduler.schedule(
                        row.send_at + click.delay_ms,
                        "click",
                        account.app_id,
                        {"smsId": row.sms_id, "userAgent": click.user_agent},
                    )

    def _fire(self, app_id: str, due: list[MessageRow], dues: list[int]) -> None:
        """Reports due: each message takes its planned state, then goes to queue or callback."""
        # A report carries the time it was due, not when the timer happened to fire: exact
        # under any clock speed, and true after a restart that ran it late.
        reported = self.messages.report(due)
        if not reported:
            return
        # Voice reports wait for /voice/getReport; they are never pushed to the SMS callback.
        voice = [row for row in reported if row.endpoint.startswith("/voice/")]
        sms = [row for row in reported if not row.endpoint.startswith("/voice/")] if voice else reported
        for kind, rows in ((REPORT, sms), (VOICE_REPORT, voice)):
            if rows:
                self._route_reports(app_id, kind, rows)
        self.states.update(row.state for row in reported if row.state is not None)
        if self.events.listening:
            for row in reported[:50]:
                self.events.publish("report", app_id, row)

    def _route_reports(self, app_id: str, kind: str, rows: list[MessageRow]) -> None:
        self.router.route(app_id, kind, rows, self.report_item, _chaos)

    def report_item(self, row: MessageRow) -> dict[str, Any]:
        assert row.state is not None and row.report_at is not None
        return payloads.report(
            mobile=row.mobile,
            sms_id=row.sms_id,
            custom_sms_id=row.custom_sms_id,
            state=row.state,
            receive_ms=row.report_at,
            submit_ms=row.submit_at,
            extended_code=row.extended_code,
            tz=self.tz,
        )

    def pull_reports(self, account: Account, number: int, kind: str = REPORT) -> list[dict[str, Any]]:
        return [self.report_item(row) for row in self.queues.take(account.app_id, kind, number)]


def _chaos(row: MessageRow) -> str | None:
    return row.chaos
