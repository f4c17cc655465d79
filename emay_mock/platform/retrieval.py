"""/report/retrieveReport (§2.4): re-deliver the final reports of messages submitted in a range.

The reports go out again through the account's channel (its callback or its queue). A
range of up to ten minutes may hold many messages, so they are re-delivered in pages of
500: the first page before the request is answered, the rest as scheduled jobs.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from typing import Any

from emay_mock.delivery.clock import Clock
from emay_mock.delivery.scheduler import Scheduler
from emay_mock.platform.accounts import Account, Accounts
from emay_mock.platform.routing import Router
from emay_mock.store.jobs import Job
from emay_mock.store.messages import Messages
from emay_mock.store.rows import MessageRow

RETRIEVE = "retrieve"
_PAGE = 500


class Retrieval:
    def __init__(
        self,
        messages: Messages,
        accounts: Accounts,
        scheduler: Scheduler,
        clock: Clock,
        router: Router,
        report_item: Callable[[MessageRow], dict[str, Any]],
    ) -> None:
        self.messages = messages
        self.accounts = accounts
        self.scheduler = scheduler
        self.clock = clock
        self.router = router
        self.report_item = report_item
        scheduler.on(RETRIEVE, self._page_due)

    def retrieve(self, account: Account, start_wall: int, end_wall: int, sms_ids: list[str] | None) -> int:
        """Re-deliver what matches; returns how many reports went out before answering."""
        if sms_ids is not None:
            rows = [
                m
                for m in self.messages.by_sms_ids(sms_ids)
                if m.app_id == account.app_id and start_wall <= m.submit_wall <= end_wall
            ]
            return self._redeliver(account.app_id, rows)
        return self._page(account.app_id, start_wall, end_wall, 0)

    def _page(self, app_id: str, start: int, end: int, after: int) -> int:
        rows = list(islice(self.messages.submitted(app_id, start, end, after), _PAGE))
        sent = self._redeliver(app_id, rows)
        if len(rows) == _PAGE:
            self.scheduler.schedule(
                self.clock.now_ms(),
                RETRIEVE,
                app_id,
                {"start": start, "end": end, "after": rows[-1].msg_id},
            )
        return sent

    def _page_due(self, job: Job) -> None:
        data = job.payload
        if job.app_id is None or job.app_id not in self.accounts:
            return
        self._page(job.app_id, int(data["start"]), int(data["end"]), int(data["after"]))

    def _redeliver(self, app_id: str, rows: list[MessageRow]) -> int:
        """Final reports only (a message still waiting will report anyway); SMS only, not voice."""
        done = [m for m in rows if m.state is not None and not m.endpoint.startswith("/voice/")]
        if done:
            self.router.route(app_id, "report", done, self.report_item, None)
        return len(done)
