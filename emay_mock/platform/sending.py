"""Accepting messages: validate, bill, store, and plan each recipient's report.

Every accepted message gets exactly one final report: its planned state and due time
are stored with it, and the scheduler's report buckets fire them (EMAY_API §7.8).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from emay_mock.platform.accounts import Account
from emay_mock.platform.core import Context, Core
from emay_mock.platform.links import Links, PlannedLinks
from emay_mock.platform.templates import Templates
from emay_mock.protocol import payloads
from emay_mock.protocol.codes import ReportState, ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.send import Planned, SendOrder, validate
from emay_mock.scenarios.outcomes import RecipientPlan, RequestFacts
from emay_mock.store.messages import MessageRow

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


@dataclass
class Accepted:
    results: list[dict[str, Any]]  # the wire's {mobile, smsId, customSmsId}, one per recipient
    early: bool = False  # a scenario wants some report pushed before this answer is returned


class Sender:
    def __init__(self, platform: Core, templates: Templates, links: Links) -> None:
        self.p = platform
        self.templates = templates
        self.links = links
        self.accepted: Counter[str] = Counter()  # messages accepted, per appId
        self.states: Counter[str] = Counter()  # final reports, per state
        platform.scheduler.on_bucket(REPORT, self._fire)
        # Reports still due when the last process stopped (their messages have no state yet).
        for row in platform.messages.unreported():
            platform.scheduler.add_to_bucket(REPORT, row.app_id, row.report_due, row)

    def prepare(self, account: Account, order: SendOrder, base_url: str) -> PlannedLinks | None:
        """Make the text final (template filled, short link written) before anyone matches on it."""
        if order.template_id is not None:
            self.templates.fill(account, order)
        if order.short_link is None:
            return None
        return self.links.plan(order, self.p.settings.public_url or base_url)

    def send(
        self, ctx: Context, order: SendOrder, facts: RequestFacts, links: PlannedLinks | None = None
    ) -> Accepted:
        """Accept a prepared order whole, or refuse it whole with nothing stored or charged."""
        p = self.p
        account = ctx.account
        wall_now = p.clock.wall_ms()
        planned = validate(order, p.settings.rules, wall_now, ctx.notes)
        cost = sum(item.segments for item in planned)
        if cost > account.balance:
            raise EmayError(
                ResultCode.ERROR_BALANCE,
                f"the request costs {cost} segments, the balance is {account.balance}",
                expected=cost,
                got=account.balance,
            )
        now = p.clock.now_ms()
        first = p.sms_ids.take(len(planned), wall_now)
        first_row = p.messages.reserve(len(planned))
        default_delay = p.settings.report_delay_ms
        rows: list[MessageRow] = []
        plans: list[RecipientPlan] = []
        dues: list[int] = []
        # The platform's own plans, shared by the recipients no rule decides (most of them):
        # four empty lists less per recipient. A plan is not changed once decided; the only
        # change below is for an early push, which only a scenario's own plan can carry.
        repeated = RecipientPlan(ReportState.FAIL_MOBILE_REPEAT, default_delay)
        delivered = RecipientPlan(ReportState.DELIVRD, default_delay)
        for item in planned:
            msg_id = first_row + item.index
            plan = repeated if item.repeat else p.scenarios.plan(facts, item, delivered)
            if "early" in plan.push:
                assert plan is not delivered and plan is not repeated
                plan.delay_ms = 0
            # timerTime is a wall-clock time: it is kept at the same distance on the
            # scheduler's clock, so `advance` by that distance reaches it.
            send_at = now if item.timer_ms is None else now + max(0, item.timer_ms - wall_now)
            due = send_at + plan.delay_ms
            dues.append(due)
            plans.append(plan)
            rows.append(
                MessageRow(
                    msg_id=msg_id,
                    sms_id=str(first + item.index),
                    app_id=account.app_id,
                    mobile=item.mobile,
                    mobile_norm=item.mobile_norm,
                    content=item.content,
                    custom_sms_id=item.custom_sms_id,
                    extended_code=item.extended_code,
                    endpoint=facts.path,
                    template_id=order.template_id,
                    submit_wall=wall_now,
                    submit_at=now,
                    timer_time=item.timer_ms,
                    send_at=send_at,
                    segments=item.segments,
                    planned_state=plan.state.value,
                    report_due=due,
                    short_url=links.short_urls[item.index] if links else None,
                    rules=",".join(plan.fired) if plan.fired else None,
                    chaos=(",".join(sorted(plan.push - {"early"})) or None) if plan.push else None,
                )
            )
        p.messages.add(rows)
        if links is not None:
            self.links.save(account, links, rows)
        p.set_balance(account, account.balance - cost)
        add_to_bucket = p.scheduler.add_to_bucket
        app_id = account.app_id
        for row, due in zip(rows, dues, strict=True):
            add_to_bucket(REPORT, app_id, due, row)
        self._plan_followups(account, rows, plans, planned)
        self.accepted[account.app_id] += len(rows)
        if rows:
            ctx.sms_id_first, ctx.sms_id_count = first, len(rows)
        ctx.fired.extend(_recipient_firings(plans))
        if p.events.listening:
            for row in rows[:50]:
                p.events.publish("message", account.app_id, row)
        return Accepted(
            [payloads.send_result(row.mobile, row.sms_id, row.custom_sms_id) for row in rows],
            early=any("early" in plan.push for plan in plans),
        )

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
                self.p.scheduler.schedule(
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
                    self.p.scheduler.schedule(
                        row.send_at + click.delay_ms,
                        "click",
                        account.app_id,
                        {"smsId": row.sms_id, "userAgent": click.user_agent},
                    )

    def _fire(self, app_id: str, due: list[MessageRow], dues: list[int]) -> None:
        """Reports due: each message takes its planned state, then goes to queue or callback."""
        p = self.p
        # A report carries the time it was due, not when the timer happened to fire: exact
        # under any clock speed, and true after a restart that ran it late.
        reported = p.messages.report(due)
        if not reported:
            return
        # Voice reports wait for /voice/getReport; they are never pushed to the SMS callback.
        voice = [row for row in reported if row.endpoint.startswith("/voice/")]
        sms = [row for row in reported if not row.endpoint.startswith("/voice/")] if voice else reported
        for kind, rows in ((REPORT, sms), (VOICE_REPORT, voice)):
            if rows:
                self._route_reports(app_id, kind, rows)
        self.states.update(row.state for row in reported if row.state is not None)
        if p.events.listening:
            for row in reported[:50]:
                p.events.publish("report", app_id, row)

    def _route_reports(self, app_id: str, kind: str, rows: list[MessageRow]) -> None:
        self.p.route(app_id, kind, rows, self.report_item, _chaos)

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
            tz=self.p.tz,
        )

    def pull_reports(self, account: Account, number: int, kind: str = REPORT) -> list[dict[str, Any]]:
        return [self.report_item(row) for row in self.p.queues.take(account.app_id, kind, number)]


def _chaos(row: MessageRow) -> str | None:
    return row.chaos
