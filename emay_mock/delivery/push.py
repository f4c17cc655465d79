"""Pushing reports and MO to the customer's callback, with the 10 s / 1 min / 10 min retries.

Items wait in the outbox until a flush gathers up to `push_batch_max` of them into a
batch (after a short real-time window, so bursts travel together). Each batch is then
attempted; every attempt is recorded with its timing, status and body. A failure
schedules the next attempt by the account's retry schedule, counted from the failed
attempt; after the last one the batch is dead: kept, visible, and redeliverable by hand.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

from emay_mock.delivery.clock import Clock
from emay_mock.delivery.scheduler import Scheduler
from emay_mock.observe.events import EventHub
from emay_mock.observe.outcomes import PUSH_DELIVERED, PUSH_GIVEN_UP, PUSH_RETRIED, OutcomeBook
from emay_mock.protocol import envelope
from emay_mock.settings import Settings
from emay_mock.store.jobs import Job
from emay_mock.store.pushes import Batch, OutboxItem, Pushes
from emay_mock.store.queues import PullQueues

log = logging.getLogger("emay_mock.push")

FLUSH = "push-flush"
ATTEMPT = "push-attempt"
_FORM_FIELD = {"report": "reports", "mo": "mos"}
_MAX_BODY_KEPT = 2000


@dataclass(frozen=True)
class PushTarget:
    url: str
    mode: str
    key: bytes
    retry_schedule: tuple[float, ...]
    timeout_s: float


TargetLookup = Callable[[str, str], PushTarget | None]


@dataclass
class Outcome:
    http_status: int | None
    error: str | None
    body: str | None
    latency_ms: float

    @property
    def ok(self) -> bool:
        return (
            self.http_status is not None
            and 200 <= self.http_status < 300
            and (self.body or "").strip().lower() == "success"
        )


def encode_body(kind: str, mode: str, key: bytes, items_json: str) -> tuple[bytes, str]:
    """The request body of a push and its Content-Type, per §2.3."""
    if mode == "plain":
        return (
            urlencode({_FORM_FIELD[kind]: items_json}).encode("ascii"),
            "application/x-www-form-urlencoded; charset=UTF-8",
        )
    data = envelope.aes_encrypt(key, envelope.gzip_bytes(items_json.encode("utf-8")))
    return data, "application/octet-stream"


class PushEngine:
    def __init__(
        self,
        store: Pushes,
        clock: Clock,
        scheduler: Scheduler,
        settings: Settings,
        events: EventHub,
        lookup: TargetLookup,
        queues: PullQueues,
        outcomes: OutcomeBook,
    ) -> None:
        self.store = store
        self.queues = queues
        self.outcomes = outcomes
        self.clock = clock
        self.scheduler = scheduler
        self.settings = settings
        self.events = events
        self.lookup = lookup
        self._flushing: set[tuple[str, str]] = set()
        self._session: aiohttp.ClientSession | None = None
        # Each account gets its own few connections: a receiver that hangs holds only its own
        # account's slots, never the pushes of the others.
        self._slots: dict[str, asyncio.Semaphore] = {}
        self.attempts: Counter[tuple[str, str]] = Counter()  # (kind, outcome): ok | failed
        self.failed = 0  # attempts that failed, of every kind
        self.dead = 0
        scheduler.on(FLUSH, self._flush)
        scheduler.on_async(ATTEMPT, self._attempt)

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, limit_per_host=0),
            auto_decompress=True,
        )
        for job in self.scheduler.pending_jobs(FLUSH):
            if job.kind == FLUSH and job.app_id is not None:
                self._flushing.add((job.app_id, job.payload["kind"]))
        for app_id, kind in self.store.outbox_keys():
            self._schedule_flush(app_id, kind)

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def forget(self, app_id: str | None) -> None:
        """After a reset: no flush is pending any more for these accounts."""
        self._flushing = {key for key in self._flushing if app_id is not None and key[0] != app_id}

    # -- into the outbox --------------------------------------------------------------------

    def enqueue(
        self,
        app_id: str,
        kind: str,
        items: list[tuple[Any, dict[str, Any], str | None]],
    ) -> None:
        """Queue (object, payload, chaos) items for the account's callback.

        Chaos flags an item whose batch must misbehave for the receiver: "duplicate" (the
        batch is delivered twice) and "reverse" (its items in reversed order).
        """
        self.store.enqueue(
            app_id, kind, [(obj, envelope.dump_json(item), chaos) for obj, item, chaos in items]
        )
        self._schedule_flush(app_id, kind)

    def _schedule_flush(self, app_id: str, kind: str, *, now: bool = False) -> None:
        if (app_id, kind) in self._flushing and not now:
            return
        self._flushing.add((app_id, kind))
        window = 0 if now or self.clock.pinned else self.clock.scaled(self.settings.push_batch_window_s)
        self.scheduler.schedule(self.clock.now_ms() + window, FLUSH, app_id, {"kind": kind})

    def _flush(self, job: Job) -> None:
        app_id = job.app_id or ""
        kind = str(job.payload["kind"])
        self._flushing.discard((app_id, kind))
        taken = self.store.take_outbox(app_id, kind, self.settings.push_batch_max)
        if not taken:
            return
        target = self.lookup(app_id, kind)
        if target is None:
            # The account lost its callback while items waited: they go to the pull queue.
            refs = [item.ref for item in taken]
            self.store.unhold(kind, refs)
            self.queues.append(app_id, kind, refs)
        else:
            self.create_batch(app_id, kind, target, taken)
        if self.store.outbox_has(app_id, kind):
            self._schedule_flush(app_id, kind, now=True)

    def create_batch(self, app_id: str, kind: str, target: PushTarget, taken: list[OutboxItem]) -> int:
        now = self.clock.now_ms()
        flags = sorted({flag for item in taken if item.chaos for flag in item.chaos.split(",")})
        texts = [item.item for item in taken]
        if "reverse" in flags:
            texts.reverse()
        batch = self.store.create_batch(
            app_id=app_id,
            kind=kind,
            url=target.url,
            mode=target.mode,
            items="[" + ",".join(texts) + "]",
            refs=[item.ref for item in taken],
            created_at=now,
            chaos=",".join(flags) or None,
        )
        self.scheduler.schedule(now, ATTEMPT, app_id, {"batch": batch.batch_id, "n": 1})
        self.events.publish("push", app_id, {"batchId": batch.batch_id, "status": "pending", "kind": kind})
        return batch.batch_id

    # -- attempts ---------------------------------------------------------------------------

    async def _attempt(self, job: Job) -> Callable[[], None]:
        batch_id = int(job.payload["batch"])
        n = int(job.payload["n"])
        manual = bool(job.payload.get("manual", False))
        note = job.payload.get("note")
        batch = self.store.batch(batch_id)
        if batch is None:  # removed by a reset while the job waited
            return lambda: None
        target = self.lookup(batch.app_id, batch.kind)
        url = target.url if target is not None else batch.url
        sent_at = self.clock.now_ms()
        if target is None:
            outcome = Outcome(None, "the account no longer exists or has no callback URL", None, 0.0)
        else:
            outcome = await self._post(batch, url, target)

        def commit() -> None:
            self._record(batch, n, job.due, sent_at, url, outcome, manual, target, note)

        return commit

    async def _post(self, batch: Batch, url: str, target: PushTarget) -> Outcome:
        assert self._session is not None, "push engine not started"
        body, content_type = encode_body(batch.kind, target.mode, target.key, batch.items)
        headers = {"appId": batch.app_id, "Content-Type": content_type}
        slots = self._slots.get(batch.app_id)
        if slots is None:
            slots = self._slots[batch.app_id] = asyncio.Semaphore(self.settings.push_concurrency_per_account)
        async with slots:
            return await self._send(url, body, headers, target)

    async def _send(self, url: str, body: bytes, headers: dict[str, str], target: PushTarget) -> Outcome:
        assert self._session is not None, "push engine not started"
        started = time.perf_counter()
        try:
            async with self._session.post(
                url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=target.timeout_s),
                allow_redirects=False,
            ) as resp:
                raw = await resp.content.read(_MAX_BODY_KEPT)
                text = raw.decode("utf-8", errors="replace")
                return Outcome(resp.status, None, text, (time.perf_counter() - started) * 1000)
        except TimeoutError:
            error = f"timeout: no answer within {target.timeout_s:g} s"
        except aiohttp.ClientError as exc:
            error = f"{type(exc).__name__}: {exc}"
        except (OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        return Outcome(None, error, None, (time.perf_counter() - started) * 1000)

    def _record(
        self,
        batch: Batch,
        n: int,
        scheduled_at: int,
        sent_at: int,
        url: str,
        outcome: Outcome,
        manual: bool,
        target: PushTarget | None,
        note: str | None = None,
    ) -> None:
        current = self.store.batch(batch.batch_id)
        if current is None:
            return
        ok = outcome.ok
        self.store.record_attempt(
            current,
            n=n,
            scheduled_at=scheduled_at,
            sent_at=sent_at,
            http_status=outcome.http_status,
            error=outcome.error,
            body=outcome.body,
            latency_ms=outcome.latency_ms,
            ok=ok,
            manual=manual,
            note=note,
        )
        schedule = target.retry_schedule if target is not None else ()
        changes: dict[str, Any] = {"attempts": max(n, current.attempts), "url": url}
        self.attempts[(batch.kind, "ok" if ok else "failed")] += 1
        if not ok:
            self.failed += 1
        if n > 1 and not manual and note is None:
            self.outcomes.saw(batch.app_id, PUSH_RETRIED)
        if note == "chaos:duplicate":
            # The scripted second delivery changes nothing about the batch's own outcome.
            changes = {"attempts": changes["attempts"]}
        elif ok:
            self.outcomes.saw(batch.app_id, PUSH_DELIVERED)
            changes.update(status="delivered", next_at=None)
            if "duplicate" in (current.chaos or "").split(","):
                self.scheduler.schedule(
                    self.clock.now_ms(), ATTEMPT, batch.app_id,
                    {"batch": batch.batch_id, "n": n + 1, "manual": False, "note": "chaos:duplicate"},
                )  # fmt: skip
        elif manual:
            changes.update(next_at=None)
        elif n <= len(schedule):
            # Counted from the failed attempt; `advance` pins the clock, so this is exact there.
            next_at = self.clock.now_ms() + int(schedule[n - 1] * 1000)
            changes.update(next_at=next_at)
            self.scheduler.schedule(next_at, ATTEMPT, batch.app_id, {"batch": batch.batch_id, "n": n + 1})
        else:
            changes.update(status="dead", next_at=None)
            self.dead += 1
            self.outcomes.saw(batch.app_id, PUSH_GIVEN_UP)
            log.warning(
                "push batch %s (%s, %d items) to %s is dead after %d attempts",
                batch.batch_id, batch.kind, batch.size, url, n,
            )  # fmt: skip
        self.store.update_batch(current, **changes)
        self.events.publish(
            "push",
            batch.app_id,
            {
                "batchId": batch.batch_id,
                "kind": batch.kind,
                "n": n,
                "ok": ok,
                "status": changes.get("status", batch.status),
                "httpStatus": outcome.http_status,
                "error": outcome.error,
            },
        )

    def redeliver(self, batch_id: int) -> int:
        """One more attempt, now, by hand (a dead or delivered batch); returns its number."""
        batch = self.store.batch(batch_id)
        if batch is None:
            raise KeyError(batch_id)
        if batch.status == "pending":
            raise ValueError(f"batch {batch_id} is still pending; its retries are scheduled")
        n = batch.attempts + 1
        self.scheduler.schedule(
            self.clock.now_ms(), ATTEMPT, batch.app_id, {"batch": batch_id, "n": n, "manual": True}
        )
        return n
