"""Retention: a long-running sandbox stays bounded (server.maxMessages, server.maxAgeHours).

The oldest messages whose report is final and whose pushes are done go first, with their
queue entries, their short links (once no message carries them) and those links' clicks,
and the push batches that carried only messages gone; a message still waiting for its
report or for a push is never removed. Counting is by the messages stored; age is on the
scheduler's clock, so `advance` ages them too. A round's cost is what it removes and what
was sent or settled since the last one (`Messages.removable`), never the messages still
waiting in front: a sandbox over its limit with a million reports outstanding pays nothing
per send for them.
"""

from __future__ import annotations

from collections.abc import Callable

from emay_mock.delivery.clock import Clock
from emay_mock.settings import Settings
from emay_mock.store.links import LinkStore
from emay_mock.store.messages import Messages
from emay_mock.store.pushes import Pushes
from emay_mock.store.queues import PullQueues
from emay_mock.store.rows import MessageRow

CHECK_EVERY_S = 60.0  # real time: how often a server with maxAgeHours runs a round by itself


class Retention:
    def __init__(
        self,
        messages: Messages,
        links: LinkStore,
        pushes: Pushes,
        queues: PullQueues,
        clock: Clock,
        settings: Settings,
        on_pruned: Callable[[int, str], None] | None = None,
    ) -> None:
        """`on_pruned(count, why)`: told after each round that removed something."""
        self.messages = messages
        self.links = links
        self.pushes = pushes
        self.queues = queues
        self.clock = clock
        self.max_messages = settings.max_messages
        self.max_age_ms = None if settings.max_age_hours is None else int(settings.max_age_hours * 3_600_000)
        # Pruned in steps: at most 1% over the limit between two rounds, so the check after a
        # send is one comparison and a round's cost is shared by the messages that caused it.
        self.slack = max(1, self.max_messages // 100)
        self._room = self.max_messages + self.slack - messages.count()
        self.pruned = 0
        self.on_pruned = on_pruned

    def after_accept(self, accepted: int) -> None:
        """`accepted` messages were just stored: a round once they take the count past the
        limit and its slack. The room left is counted down, and found again after a round
        (removals elsewhere only make the count lower: a round then comes early, and finds
        nothing to do)."""
        self._room -= accepted
        if self._room < 0:
            self.run()
            self._room = self.max_messages + self.slack - self.messages.count()

    def run(self) -> int:
        """One round: remove what is over the count or the age, oldest first; returns how many."""
        messages = self.messages
        over = messages.count() - self.max_messages
        cutoff = None if self.max_age_ms is None else self.clock.now_ms() - self.max_age_ms
        if over <= 0 and cutoff is None:
            return 0
        gone = messages.removable(max(over, 0), cutoff)
        if gone:
            self._remove(gone)
            reasons = [f"more than maxMessages {self.max_messages}"] if over > 0 else []
            if self.max_age_ms is not None:
                reasons.append(f"older than maxAgeHours {self.max_age_ms / 3_600_000:g}")
            why = " and ".join(reasons)
            if self.on_pruned is not None:
                self.on_pruned(len(gone), why)
        return len(gone)

    def _remove(self, rows: list[MessageRow]) -> None:
        self.pruned += self.messages.remove(rows)
        codes = []
        for row in rows:
            if row.short_url is not None:
                link = self.links.get(row.short_url.rsplit("/", 1)[-1])
                if link is not None:
                    link.users -= 1
                    if link.users <= 0:
                        codes.append(link.code)
            if row.batches:
                self.pushes.release(row.batches)
        self.links.remove(codes)
        self.queues.drop_removed()
