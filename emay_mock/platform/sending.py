"""Accepting messages: validate, bill, store, and plan each recipient's report.

Every accepted message gets exactly one final report: its planned state and due time
are stored with it, and the scheduler's report buckets fire them (docs/protocol.md#report-plan).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from emay_mock.delivery.clock import Clock
from emay_mock.delivery.scheduler import Scheduler
from emay_mock.observe.events import EventHub
from emay_mock.observe.journal import Entry
from emay_mock.observe.outcomes import OutcomeBook
from emay_mock.platform.accounts import Account, Accounts
from emay_mock.platform.ids import IdSequence
from emay_mock.platform.links import Links, PlannedLinks
from emay_mock.platform.routing import Router
from emay_mock.platform.templates import Templates
from emay_mock.protocol import payloads
from emay_mock.protocol.codes import ReportState, ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.send import Recipient, SendOrder, validate
from emay_mock.scenarios.outcomes import Outcomes, RecipientPlan, RequestFacts, endpoint_path
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
    msg_id: int, sms_id: int, app_id: str, endpoint: str, recipient: Recipient, template_id: str | None,
    wall_now: int, now: int, plan: RecipientPlan, short_url: str | None = None,
) -> MessageRow:  # fmt: skip
    """An accepted message, its report planned: every message row is made here."""
    # timerTime is a wall-clock time: it is kept at the same distance on the scheduler's
    # clock, so `advance` by that distance reaches it.
    timer_ms = recipient.timer_ms
    send_at = now if timer_ms is None else now + max(0, timer_ms - wall_now)
    fired, push = plan.fired, plan.push
    return MessageRow(
        msg_id, str(sms_id), app_id, recipient.mobile or "", recipient.mobile_norm, recipient.content or "",
        recipient.custom_sms_id, recipient.extended_code, endpoint, template_id, wall_now, now, timer_ms,
        send_at, recipient.segments, plan.state, send_at + plan.delay_ms, None, None, short_url,
        ",".join(fired) if fired else None, (",".join(sorted(push - {"early"})) or None) if push else None,
    )  # fmt: skip


# What a send returns: the messages accepted, one per recipient in order, and whether a
# scenario wants some of their reports pushed before the answer is returned.
Sent = tuple[list[MessageRow], bool]


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
        stored: Callable[[int], None],
        outcomes: OutcomeBook,
    ) -> None:
        """`stored(count)`: told after `count` more messages are stored (retention's check)."""
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
        self.rules = settings.rules
        self.tz = settings.rules.tz
        self.templates = templates
        self.links = links
        self.stored = stored
        self.outcomes = outcomes
        self.accepted: Counter[str] = Counter()  # messages accepted, per appId
        self.states: Counter[str] = Counter()  # final reports, per state
        # The platform's own plans, shared by the recipients no rule decides: never changed.
        delay = settings.report_delay_ms
        self._delivered = RecipientPlan(ReportState.DELIVRD.value, delay)
        self._repeated = RecipientPlan(ReportState.FAIL_MOBILE_REPEAT.value, delay)
        scheduler.on_bucket(REPORT, self._fire)
        # Reports still due when the last process stopped (their messages have no state yet).
        for row in messages.waiting_at_start:
            scheduler.add_to_bucket(REPORT, row.app_id, row.report_due, row)
        messages.waiting_at_start = []

    def prepare(self, account: Account, order: SendOrder) -> PlannedLinks | None:
        """Make the text final (template filled, short link written) before anyone matches on it."""
        if order.template_id is not None:
            self.templates.fill(account, order)
        if order.short_link is None:
            return None
        return self.links.plan(order, self.settings.public_url or order.base_url)

    def send(
        self, account: Account, entry: Entry, order: SendOrder, facts: RequestFacts | None,
        links: PlannedLinks | None = None,
    ) -> Sent:  # fmt: skip
        """Accept a prepared order whole, or refuse it whole with nothing stored or charged.

        `facts`: the request as the scenarios saw it, when a rule may match it (else None)."""
        app_id = account.app_id
        wall_now = entry.at  # the request's arrival, on the wall clock
        cost = validate(order, self.rules, wall_now, entry.notes)
        if cost > account.balance:
            raise EmayError(
                ResultCode.ERROR_BALANCE,
                f"the request costs {cost} segments, the balance is {account.balance}",
                expected=cost,
                got=account.balance,
            )
        now = self.clock.now_ms()
        recipients = order.recipients
        count = len(recipients)
        first = self.sms_ids.take(count, wall_now)
        first_row = self.messages.reserve(count)
        endpoint = endpoint_path(entry.family, entry.endpoint)
        template_id = order.template_id
        short_urls = links.short_urls if links is not None else None
        delivered, repeated = self._delivered, self._repeated
        # With no scenario rule matching the request (nearly always), every recipient gets the
        # platform's own plan, shared, and nothing is attached to it.
        plans = None if facts is None or not facts.matched else self._plans(facts, recipients)
        rows = []
        for i, rc in enumerate(recipients):
            plan = repeated if rc.repeat else delivered if plans is None else plans[i]
            short_url = None if short_urls is None else short_urls[i]
            rows.append(
                message_row(
                    first_row + i,
                    first + i,
                    app_id,
                    endpoint,
                    rc,
                    template_id,
                    wall_now,
                    now,
                    plan,
                    short_url,
                )
            )
        self._keep(account, rows, cost)
        if links is not None:
            self.links.save(account, links, rows)
        early = False
        if plans is not None:
            self._plan_followups(account, rows, plans)
            entry.rules = [*entry.rules, *_recipient_firings(plans)]
            early = any("early" in plan.push for plan in plans)
        entry.sms_id_first, entry.sms_id_count = first, count
        return rows, early

    def _plans(self, facts: RequestFacts, recipients: list[Recipient]) -> list[RecipientPlan]:
        """Each recipient's plan, as the scenario rules that match the request decide it."""
        plans = []
        for rc in recipients:
            if rc.repeat:
                plan = self._repeated
            else:
                plan = self.scenarios.plan(facts, rc, self._delivered)
                if "early" in plan.push:
                    plan.delay_ms = 0  # only a scenario's own plan carries it: never a shared one
            plans.append(plan)
        return plans

    def _keep(self, account: Account, rows: Sequence[MessageRow], cost: int) -> None:
        """Store accepted messages, charge them, put each in the bucket of its report, and
        tell retention how many more are stored."""
        app_id = account.app_id
        self.messages.add(rows)
        self.stored(len(rows))
        self.accounts.set_balance(account, account.balance - cost)
        add_to_bucket = self.scheduler.add_to_bucket
        for row in rows:
            add_to_bucket(REPORT, app_id, row.report_due, row)
        self.accepted[app_id] += len(rows)
        if self.events.listening:
            for row in rows[:50]:
                self.events.publish("message", app_id, row)

    def _plan_followups(self, account: Account, rows: list[MessageRow], plans: list[RecipientPlan]) -> None:
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
        states = Counter(row.state for row in reported if row.state is not None)
        self.states.update(states)
        self.outcomes.saw_states(app_id, states)
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
