"""What the control API, the UI and the metrics read of the platform: plain questions,
answered from the stores; nothing here changes anything."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from emay_mock.delivery.clock import Clock
from emay_mock.delivery.push import PushEngine
from emay_mock.delivery.scheduler import Scheduler
from emay_mock.observe.events import EventHub
from emay_mock.observe.metrics import Figures
from emay_mock.platform.accounts import Account, Accounts
from emay_mock.platform.forwarded import Forwarded
from emay_mock.platform.retention import Retention
from emay_mock.platform.sending import Sender
from emay_mock.platform.templates import Templates
from emay_mock.store.inbound import MoRow
from emay_mock.store.links import ClickRow, LinkRow
from emay_mock.store.messages import MessageFilter
from emay_mock.store.pushes import Batch
from emay_mock.store.rows import MessageRow
from emay_mock.store.state import Store
from emay_mock.store.templates import TemplateRow


@dataclass(frozen=True, slots=True)
class Story:
    """One message and what became of it: the pushes that carried its report, the MO that
    replied to it, the clicks on its short link."""

    message: MessageRow
    pushes: list[Batch]
    replies: list[MoRow]
    clicks: list[ClickRow]


@dataclass(frozen=True, slots=True)
class LinkStory:
    """A short link, its newest clicks and their count, and the message that carries it
    (rule 1: the request's first) while it is held."""

    link: LinkRow
    clicks: list[ClickRow]
    click_count: int
    message: MessageRow | None


class ReadModel:
    def __init__(
        self,
        store: Store,
        accounts: Accounts,
        templates: Templates,
        sending: Sender,
        retention: Retention,
        scheduler: Scheduler,
        push: PushEngine,
        events: EventHub,
        clock: Clock,
        forwarded: Forwarded | None = None,
    ) -> None:
        """`forwarded`: what the real platform accepted for the accounts that forward to it,
        shown beside the mock's own messages and MO."""
        self.store = store
        self._accounts = accounts
        self.templates = templates
        self.sending = sending
        self.retention = retention
        self.scheduler = scheduler
        self.push = push
        self.events = events
        self.clock = clock
        self.forwarded = forwarded if forwarded is not None else Forwarded()

    # -- accounts ---------------------------------------------------------------------------

    def account(self, app_id: str | None) -> Account | None:
        return self._accounts.get(app_id or "")

    def accounts(self) -> list[Account]:
        return list(self._accounts.values())

    def counts(self) -> dict[str, dict[str, int]]:
        """Per account, what it holds now: messages, what waits in its pull queues, its pushes."""
        pushes = self.store.pushes.status_counts()
        depth = self.store.queues.depth
        messages = self.store.messages
        return {
            app_id: {
                "messages": messages.count(app_id) + self.forwarded.count(app_id),
                "queuedReports": depth(app_id, "report"),
                "queuedVoiceReports": depth(app_id, "voice-report"),
                "queuedMo": depth(app_id, "mo"),
                "queuedClicks": depth(app_id, "click"),
                "pendingPushes": pushes.get((app_id, "pending"), 0),
                "deadPushes": pushes.get((app_id, "dead"), 0),
            }
            for app_id in self._accounts
        }

    # -- messages and what became of them ----------------------------------------------------

    def messages(self, f: MessageFilter, limit: int) -> list[MessageRow]:
        found = self.store.messages.find(f, limit)
        if not self.forwarded:
            return found
        # The platform's messages among the mock's, by submit time (newest first, or oldest
        # first with `after`, as the store answers).
        newer_first = f.after is None
        merged = sorted(
            [*found, *self.forwarded.messages(f, limit)],
            key=lambda row: (row.submit_wall, row.sms_id),
            reverse=newer_first,
        )
        return merged[:limit]

    def message(self, sms_id: str) -> MessageRow | None:
        return self.store.messages.by_sms_id(sms_id) or self.forwarded.message(sms_id)

    def story(self, sms_id: str) -> Story | None:
        row = self.store.messages.by_sms_id(sms_id)
        if row is None:
            forwarded = self.forwarded.message(sms_id)
            return None if forwarded is None else Story(forwarded, [], [], [])
        clicks = []
        if row.short_url:
            clicks = self.store.links.clicks_of(row.short_url.rsplit("/", 1)[-1])
        return Story(row, self.store.pushes.of(row), self.store.mo.replies_to(row.sms_id), clicks)

    def pushes_of(self, row: MessageRow) -> list[Batch]:
        return self.store.pushes.of(row)

    def mo(
        self,
        app_id: str | None = None,
        mobile: str | None = None,
        *,
        after: int | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> list[MoRow]:
        """Newest first; `before` and `after` are moId cursors (of the mock's own MO: the
        platform's, which forwarded pulls returned, come on the first page)."""
        found = self.store.mo.find(app_id=app_id, mobile=mobile, after=after, before=before, limit=limit)
        if not self.forwarded or after is not None or before is not None:
            return found
        merged = sorted(
            [*found, *self.forwarded.mo(app_id, mobile, limit)], key=lambda r: r.mo_at, reverse=True
        )
        return merged[:limit]

    # -- pushes, templates, short links ------------------------------------------------------

    def pushes(
        self, app_id: str | None, status: str | None, kind: str | None, before: int | None, limit: int
    ) -> list[Batch]:
        return self.store.pushes.batches(app_id=app_id, status=status, kind=kind, before=before, limit=limit)

    def push_batch(self, batch_id: int) -> Batch | None:
        return self.store.pushes.batch(batch_id)

    def templates_listed(
        self, app_id: str | None, status: int | None, before: str | None, limit: int
    ) -> list[TemplateRow]:
        return self.templates.listing(app_id, status, before, limit)

    def links(self, app_id: str | None, before: int | None, limit: int, clicks: int) -> list[LinkStory]:
        """Newest first, each with its `clicks` newest clicks."""
        store, messages = self.store.links, self.store.messages
        return [
            LinkStory(
                link,
                store.clicks_of(link.code, clicks),
                store.click_count(link.code),
                None if link.sms_id is None else messages.by_sms_id(link.sms_id),
            )
            for link in store.links(app_id, before=before, limit=limit)
        ]

    # -- the scheduler and the figures -------------------------------------------------------

    def report_states(self) -> Mapping[str, int]:
        """Final reports produced so far, by state (kept up to date: read it when needed)."""
        return self.sending.states

    def pending(self) -> tuple[int, int]:
        """Entries waiting on the scheduler (jobs, and report buckets), and the reports in them."""
        return self.scheduler.pending(), self.scheduler.bucketed

    def figures(self) -> Figures:
        store = self.store
        return Figures(
            accepted=self.sending.accepted,
            stored=store.messages.count(),
            pruned=self.retention.pruned,
            reports=self.sending.states,
            push_attempts=self.push.attempts,
            push_dead=self.push.dead,
            queue_depth=store.queues.sizes,
            outbox_depth=store.pushes.outbox_depth(),
            scheduled=self.scheduler.pending(),
            reports_pending=self.scheduler.bucketed,
            events_dropped=self.events.dropped,
            clock_offset_s=self.clock.offset_ms / 1000,
        )
