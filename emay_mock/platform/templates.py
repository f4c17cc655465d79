"""SMS templates: created pending, reviewed after a delay, by hand, or as scenarios say; used by sends.

Status codes are the vendor's (§2.1.8): 0 pending review, 1 approved, 2 rejected, and -1
for a template that does not exist (never created, deleted, or another account's).
"""

from __future__ import annotations

from emay_mock.delivery.clock import Clock
from emay_mock.delivery.scheduler import Scheduler
from emay_mock.observe.events import EventHub
from emay_mock.observe.outcomes import TEMPLATE_APPROVED, TEMPLATE_REJECTED, OutcomeBook
from emay_mock.platform.accounts import Account
from emay_mock.platform.ids import IdSequence
from emay_mock.protocol import diagnose, rules
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.send import SendOrder
from emay_mock.protocol.templates import render
from emay_mock.scenarios.outcomes import Outcomes, RequestFacts
from emay_mock.settings import MANUAL_REVIEW, Settings
from emay_mock.store.jobs import Job
from emay_mock.store.templates import TemplateRow, TemplateStore

REVIEW = "template-review"
PENDING, APPROVED, REJECTED, MISSING = 0, 1, 2, -1
_STATUS_NAMES = {PENDING: "pending review", APPROVED: "approved", REJECTED: "rejected"}
# As the control API and the UI name them (a deleted template answers -1 on the wire).
STATUS_WORDS = {PENDING: "pending", APPROVED: "approved", REJECTED: "rejected", MISSING: "deleted"}


class ReviewRefused(Exception):
    """A review by hand that cannot be made: the template was deleted."""


class Templates:
    def __init__(
        self,
        store: TemplateStore,
        scheduler: Scheduler,
        clock: Clock,
        settings: Settings,
        scenarios: Outcomes,
        events: EventHub,
        outcomes: OutcomeBook,
    ) -> None:
        self.store = store
        self.scheduler = scheduler
        self.clock = clock
        self.settings = settings
        self.scenarios = scenarios
        self.events = events
        self.outcomes = outcomes
        self.ids = IdSequence(18, store.last_id())
        scheduler.on(REVIEW, self._review_due)

    def create(self, account: Account, content: str, facts: RequestFacts) -> TemplateRow:
        rules.check_content(content, self.settings.rules, "templateContent")
        manual = account.spec.template_review == MANUAL_REVIEW
        # A scripted review applies in both modes; under manual review it takes no
        # templateReviewSeconds of its own, and without one the template waits for a person.
        default_s = 0.0 if manual else self.settings.template_review_s
        scripted = self.scenarios.template_review(facts, default_s)
        status, delay_s = scripted or (APPROVED, default_s)
        now = self.clock.now_ms()
        template_id = str(self.ids.take(1, self.clock.wall_ms()))
        waits = manual and scripted is None
        immediate = delay_s <= 0 and not waits
        row = TemplateRow(template_id, account.app_id, content, status if immediate else PENDING, now,
                          now if immediate else None, 0)  # fmt: skip
        self.store.insert(row)
        if immediate:
            self._met(row.app_id, status)
        if not immediate and not waits:
            due = now + int(delay_s * 1000)
            self.scheduler.schedule(
                due, REVIEW, account.app_id, {"templateId": template_id, "status": status}
            )
        self.events.publish("template", account.app_id, row)
        return row

    def _review_due(self, job: Job) -> None:
        row = self.store.get(str(job.payload["templateId"]))
        # Reviewed by hand meanwhile: the person's decision stands.
        if row is None or row.deleted or row.reviewed_at is not None:
            return
        self._decide(row, int(job.payload["status"]))

    def _decide(self, row: TemplateRow, status: int) -> None:
        self.store.set_status(row.template_id, status, self.clock.now_ms())
        self._met(row.app_id, status)
        self.events.publish("template", row.app_id, row)

    def _met(self, app_id: str, status: int) -> None:
        if status == APPROVED:
            self.outcomes.saw(app_id, TEMPLATE_APPROVED)
        elif status == REJECTED:
            self.outcomes.saw(app_id, TEMPLATE_REJECTED)

    def review(self, template_id: str, status: int) -> tuple[TemplateRow, int]:
        """The platform's reviewer decides, by hand: (the template, its status before).

        Any template not deleted may be decided again (a reviewer may change their mind);
        KeyError when there is no such template, ReviewRefused when it was deleted.
        """
        assert status in (APPROVED, REJECTED)
        row = self.store.get(template_id)
        if row is None:
            raise KeyError(template_id)
        if row.deleted:
            raise ReviewRefused(f"template {template_id} was deleted")
        before = row.status
        self._decide(row, status)
        return row, before

    def listing(
        self, app_id: str | None, status: int | None, before: str | None, limit: int
    ) -> list[TemplateRow]:
        """Newest first, older than the templateId `before`; `status` MISSING: the deleted ones."""

        def wanted(row: TemplateRow) -> bool:
            return status is None or (MISSING if row.deleted else row.status) == status

        return self.store.list(app_id, limit, before=before, keep=wanted)

    def _own(self, account: Account, template_id: str) -> TemplateRow | None:
        row = self.store.get(template_id)
        if row is None or row.deleted or row.app_id != account.app_id:
            return None
        return row

    def status(self, account: Account, template_id: str) -> int:
        row = self._own(account, template_id)
        return MISSING if row is None else row.status

    def delete(self, account: Account, template_id: str) -> bool:
        row = self._own(account, template_id)
        if row is None:
            return False
        self.store.delete(template_id)
        self.events.publish("template", account.app_id, row)
        return True

    def fill(self, account: Account, order: SendOrder) -> None:
        """Render the order's template into each recipient's content, or refuse with ERROR_PARAMS."""
        assert order.template_id is not None
        row = self._own(account, order.template_id)
        if row is None:
            raise EmayError(
                ResultCode.ERROR_PARAMS, f"template {order.template_id!r} does not exist", field="templateId"
            )
        if row.status != APPROVED:
            raise EmayError(
                ResultCode.ERROR_PARAMS,
                f"template {order.template_id} is {_STATUS_NAMES[row.status]}, not approved",
                field="templateId",
            )
        for i, recipient in enumerate(order.recipients):
            recipient.content = render(row.content, recipient.variables, order.paths.at("content", i))
        now = self.clock.now_ms()
        diagnose.fresh_template(order.notes, row.template_id, row.created_at, row.reviewed_at, now)
