"""The push outbox, push batches and every delivery attempt, in memory and in the file.

An outbox item and a batch hold the platform's objects (a message for a report, an MO);
their rows name them by id. A message's `hold` counts its pushes not yet final, so
retention never removes a message whose report is still on its way.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from emay_mock.store.db import Database
from emay_mock.store.log import Log
from emay_mock.store.queues import REF_ATTRIBUTE, Resolve

_BATCH_COLS = "batch_id, app_id, kind, url, mode, items, refs, status, created_at, next_at, attempts, chaos"
_ATTEMPT_COLS = (
    "attempt_id, batch_id, n, scheduled_at, sent_at, http_status, error, body, latency_ms, ok, manual, note"
)
INSERT_OUTBOX = "INSERT INTO push_outbox(seq, app_id, kind, ref, item, chaos) VALUES (?, ?, ?, ?, ?, ?)"
DELETE_OUTBOX = "DELETE FROM push_outbox WHERE seq = ?"
UPSERT_BATCH = f"INSERT OR REPLACE INTO push_batches({_BATCH_COLS}) VALUES ({', '.join('?' * 12)})"
DELETE_BATCH = "DELETE FROM push_batches WHERE batch_id = ?"
INSERT_ATTEMPT = f"INSERT INTO push_attempts({_ATTEMPT_COLS}) VALUES ({', '.join('?' * 12)})"
DELETE_ATTEMPTS = "DELETE FROM push_attempts WHERE batch_id = ?"
FINAL = ("delivered", "dead")


@dataclass(slots=True)
class Attempt:
    attempt_id: int
    batch_id: int
    n: int
    scheduled_at: int
    sent_at: int
    http_status: int | None
    error: str | None
    body: str | None
    latency_ms: float
    ok: bool
    manual: bool
    note: str | None = None


@dataclass(slots=True, eq=False)
class Batch:
    batch_id: int
    app_id: str
    kind: str
    url: str
    mode: str
    items: str  # the JSON array pushed
    size: int
    status: str  # pending | delivered | dead
    created_at: int
    next_at: int | None
    attempts: int
    chaos: str | None
    refs: list[Any] = field(default_factory=list)  # the messages (or MO) it carries
    tried: list[Attempt] = field(default_factory=list)
    live: int = 0  # refs retention has not removed


@dataclass(slots=True)
class OutboxItem:
    ref: Any
    item: str  # JSON
    chaos: str | None
    seq: int


class Pushes:
    def __init__(
        self, db: Database, log: Log, resolve: Resolve, settled: Callable[[Sequence[Any]], None] | None = None
    ) -> None:
        self.log = log
        self._settled = settled  # told of the messages whose last pending push has just ended
        self._outbox: dict[tuple[str, str], deque[OutboxItem]] = {}
        self._batches: dict[int, Batch] = {}
        self._seq = 0
        self._last_batch = 0
        self._last_attempt = 0
        self.counts: dict[str, int] = {"pending": 0, "delivered": 0, "dead": 0}
        self._per_account: Counter[tuple[str, str]] = Counter()  # (appId, status) -> batches
        # The push log's indexes: every batch id in creation (= id) order, for its `before`
        # cursor, with the ids of batches dropped since skipped, then compacted away; and the
        # statuses a filter looks for among many delivered batches, by id.
        self._ids: list[int] = []
        self._few: dict[str, dict[int, Batch]] = {"pending": {}, "dead": {}}
        self._load(db, resolve)

    def _load(self, db: Database, resolve: Resolve) -> None:
        for seq, app_id, kind, ref, item, chaos in db.rows(
            "SELECT seq, app_id, kind, ref, item, chaos FROM push_outbox ORDER BY seq"
        ):
            self._seq = seq
            obj = resolve(app_id, kind, ref)
            if obj is not None:
                obj.hold += 1
                self._outbox.setdefault((app_id, kind), deque()).append(OutboxItem(obj, item, chaos, seq))
        for values in db.rows(f"SELECT {_BATCH_COLS} FROM push_batches ORDER BY batch_id"):
            batch_id, app_id, kind, url, mode, items, refs, status, created_at, next_at, tries, chaos = values
            ids = [int(x) for x in refs.split(",") if x]
            kept = [obj for obj in (resolve(app_id, kind, i) for i in ids) if obj is not None]
            self._adopt(Batch(batch_id, app_id, kind, url, mode, items, len(ids), status, created_at, next_at,
                              tries, chaos, kept))  # fmt: skip
        for values in db.rows(f"SELECT {_ATTEMPT_COLS} FROM push_attempts ORDER BY attempt_id"):
            attempt = Attempt(*values)
            attempt.ok, attempt.manual = bool(attempt.ok), bool(attempt.manual)
            self._last_attempt = attempt.attempt_id
            owner = self._batches.get(attempt.batch_id)
            if owner is not None:
                owner.tried.append(attempt)

    def _adopt(self, batch: Batch) -> None:
        self._batches[batch.batch_id] = batch
        self._ids.append(batch.batch_id)
        self._last_batch = max(self._last_batch, batch.batch_id)
        self._count(batch, batch.status, 1)
        batch.live = len(batch.refs)
        for obj in batch.refs:
            obj.batches += (batch.batch_id,)
            if batch.status == "pending":
                obj.hold += 1

    def _write(self, batch: Batch) -> None:
        if self.log.durable:
            attribute = REF_ATTRIBUTE[batch.kind]
            refs = ",".join(str(getattr(obj, attribute)) for obj in batch.refs)
            self.log.update(UPSERT_BATCH, batch.batch_id, (
                batch.batch_id, batch.app_id, batch.kind, batch.url, batch.mode, batch.items, refs,
                batch.status, batch.created_at, batch.next_at, batch.attempts, batch.chaos,
            ))  # fmt: skip

    # -- outbox ---------------------------------------------------------------------------

    def enqueue(self, app_id: str, kind: str, items: Sequence[tuple[Any, str, str | None]]) -> None:
        """(object, item JSON, chaos flags) per item."""
        queue = self._outbox.setdefault((app_id, kind), deque())
        first = self._seq + 1
        self._seq += len(items)
        attribute = REF_ATTRIBUTE[kind]
        for i, (obj, item, chaos) in enumerate(items):
            obj.hold += 1
            queue.append(OutboxItem(obj, item, chaos, first + i))
        if self.log.durable:
            self.log.insert_many(INSERT_OUTBOX, [
                (first + i, app_id, kind, getattr(obj, attribute), item, chaos)
                for i, (obj, item, chaos) in enumerate(items)
            ])  # fmt: skip

    def take_outbox(self, app_id: str, kind: str, limit: int) -> list[OutboxItem]:
        queue = self._outbox.get((app_id, kind))
        if not queue:
            return []
        taken = [queue.popleft() for _ in range(min(limit, len(queue)))]
        if not queue:
            del self._outbox[(app_id, kind)]
        self.log.delete_many(DELETE_OUTBOX, [(item.seq,) for item in taken])
        return taken

    def outbox_has(self, app_id: str, kind: str) -> bool:
        return bool(self._outbox.get((app_id, kind)))

    def outbox_keys(self) -> list[tuple[str, str]]:
        return list(self._outbox)

    def outbox_depth(self, app_id: str | None = None) -> int:
        return sum(len(q) for (app, _), q in self._outbox.items() if app_id is None or app == app_id)

    # -- batches --------------------------------------------------------------------------

    def create_batch(
        self, *, app_id: str, kind: str, url: str, mode: str, items: str, refs: Sequence[Any],
        created_at: int, chaos: str | None = None,
    ) -> Batch:  # fmt: skip
        """A pending batch of items taken from the outbox (their hold passes to it)."""
        self._last_batch += 1
        batch = Batch(self._last_batch, app_id, kind, url, mode, items, len(refs), "pending", created_at,
                      created_at, 0, chaos, list(refs), [], len(refs))  # fmt: skip
        self._batches[batch.batch_id] = batch
        self._ids.append(batch.batch_id)
        self._count(batch, "pending", 1)
        for obj in refs:
            obj.batches += (batch.batch_id,)
        self._write(batch)
        return batch

    def unhold(self, kind: str, objs: Sequence[Any]) -> None:
        """The pushes of these objects ended (or will not happen): each holds one fewer."""
        for obj in objs:
            obj.hold -= 1
        if self._settled is not None and REF_ATTRIBUTE[kind] == "msg_id":
            self._settled(objs)

    def batch(self, batch_id: int) -> Batch | None:
        return self._batches.get(batch_id)

    def update_batch(self, batch: Batch, **changes: Any) -> None:
        status = changes.get("status", batch.status)
        if status != batch.status:
            self._count(batch, batch.status, -1)
            self._count(batch, status, 1)
            if batch.status == "pending" and status in FINAL:
                self.unhold(batch.kind, batch.refs)
        for name, value in changes.items():
            setattr(batch, name, value)
        self._write(batch)

    def batches(
        self,
        *,
        app_id: str | None = None,
        status: str | None = None,
        kind: str | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> list[Batch]:
        """Newest first."""
        few = None if status is None else self._few.get(status)
        ids = self._ids if few is None else sorted(few)
        out: list[Batch] = []
        for i in range((len(ids) if before is None else bisect_left(ids, before)) - 1, -1, -1):
            batch = self._batches.get(ids[i])
            if batch is None:  # dropped since
                continue
            if (app_id is not None and batch.app_id != app_id) or (
                status is not None and batch.status != status
            ):
                continue
            if kind is not None and batch.kind != kind:
                continue
            out.append(batch)
            if len(out) >= limit:
                break
        return out

    def _count(self, batch: Batch, status: str, change: int) -> None:
        self.counts[status] += change
        self._per_account[(batch.app_id, status)] += change
        few = self._few.get(status)
        if few is not None:
            if change > 0:
                few[batch.batch_id] = batch
            else:
                few.pop(batch.batch_id, None)

    def status_counts(self) -> dict[tuple[str, str], int]:
        """(appId, status) -> batches, for the console's account counts (kept, not counted)."""
        return {key: n for key, n in self._per_account.items() if n}

    def of(self, obj: Any) -> list[Batch]:
        """The batches that carried this message's report (or this MO)."""
        return [b for b in (self._batches.get(i) for i in obj.batches) if b is not None]

    # -- attempts -------------------------------------------------------------------------

    def record_attempt(self, batch: Batch, **fields: Any) -> Attempt:
        self._last_attempt += 1
        attempt = Attempt(self._last_attempt, batch.batch_id, **fields)
        batch.tried.append(attempt)
        if self.log.durable:
            a = attempt
            self.log.insert(INSERT_ATTEMPT, (a.attempt_id, a.batch_id, a.n, a.scheduled_at, a.sent_at,
                                             a.http_status, a.error, a.body, a.latency_ms, a.ok, a.manual,
                                             a.note))  # fmt: skip
        return attempt

    # -- retention and reset ----------------------------------------------------------------

    def release(self, batch_ids: Iterator[int] | Sequence[int]) -> int:
        """A carried message was removed: a final batch whose every message is gone goes too."""
        removed = 0
        for batch_id in batch_ids:
            batch = self._batches.get(batch_id)
            if batch is None:
                continue
            batch.live -= 1
            if batch.live <= 0 and batch.status in FINAL:
                self._drop(batch)
                removed += 1
        return removed

    def _drop(self, batch: Batch) -> None:
        del self._batches[batch.batch_id]
        self._count(batch, batch.status, -1)
        self._compact()
        self.log.delete(DELETE_BATCH, (batch.batch_id,))
        self.log.delete(DELETE_ATTEMPTS, (batch.batch_id,))

    def forget(self, app_id: str | None) -> None:
        for key in [k for k in self._outbox if app_id is None or k[0] == app_id]:
            del self._outbox[key]
        for batch in [b for b in self._batches.values() if app_id is None or b.app_id == app_id]:
            del self._batches[batch.batch_id]
            self._count(batch, batch.status, -1)
        self._compact()

    def _compact(self) -> None:
        """Let go of the ids of dropped batches once they are most of the list."""
        if len(self._ids) > 2 * len(self._batches) + 1000:
            self._ids = [i for i in self._ids if i in self._batches]
