"""One scheduler for everything that happens later, driven by a single timer.

Pending work lives in the jobs table; only the earliest due time is armed on the event
loop, so 100,000 waiting items cost nothing until they fall due. Handlers are
registered by kind: a sync handler runs inside the transaction that deletes its job; an
async handler (a push) runs as a task while its job is leased, then returns the commit
step that records its outcome and deletes the job, atomically.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from emay_mock.delivery.clock import Clock
from emay_mock.store.db import Database
from emay_mock.store.jobs import Job, Jobs

log = logging.getLogger("emay_mock.scheduler")

SyncHandler = Callable[[Job], None]
AsyncHandler = Callable[[Job], Awaitable[Callable[[], None]]]
_BATCH = 500


class Scheduler:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.jobs = Jobs(db)
        self.clock = clock
        self._sync: dict[str, SyncHandler] = {}
        self._async: dict[str, AsyncHandler] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._armed_due: int | None = None
        self._lock = asyncio.Lock()
        self._running: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped = True
        self.failures = 0
        self._added = 0  # jobs scheduled so far (tells _dispatch_due that handlers added some)

    def on(self, kind: str, handler: SyncHandler) -> None:
        self._sync[kind] = handler

    def on_async(self, kind: str, handler: AsyncHandler) -> None:
        self._async[kind] = handler

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = False
        with self.db.tx():
            released = self.jobs.release_all()
        if released:
            log.info("%d jobs were running when the last process stopped: running them again", released)
        self._arm()

    async def stop(self) -> None:
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        tasks = list(self._inflight)
        if self._running is not None:
            tasks.append(self._running)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- scheduling -------------------------------------------------------------------------

    def schedule(self, due: int, kind: str, app_id: str | None, payload: dict[str, Any]) -> int:
        """Add a job (inside the caller's transaction, if any) and arm the timer if it is sooner."""
        job_id = self.jobs.add(due, kind, app_id, payload)
        self._added += 1
        if not self._stopped and (self._armed_due is None or due < self._armed_due):
            self._arm_at(due)
        return job_id

    def rearm(self) -> None:
        """Re-read the earliest due time (after jobs were removed behind the scheduler's back)."""
        self._arm()

    def _arm(self) -> None:
        if self._stopped:
            return
        due = self.jobs.next_due()
        if due is None:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = None
            self._armed_due = None
            return
        self._arm_at(due)

    def _arm_at(self, due: int) -> None:
        loop = self._loop
        if loop is None:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._armed_due = due
        self._timer = loop.call_later(self.clock.real_delay(due), self._fire)

    def _fire(self) -> None:
        self._timer = None
        self._armed_due = None
        if self._running is not None and not self._running.done():
            return
        if not self._lock.locked():
            # Dispatching never awaits: with nobody holding the lock, run it in this
            # callback rather than in a task of its own (a task per due time, under load).
            self._dispatch_due(self.clock.now_ms())
            self._arm()
            return
        self._running = asyncio.ensure_future(self._run_due())

    async def _run_due(self) -> None:
        async with self._lock:
            self._dispatch_due(self.clock.now_ms())
            self._arm()

    def _dispatch_due(self, now: int) -> int:
        ran = 0
        while True:
            added = self._added
            batch = self.jobs.due(now, _BATCH)
            for job in batch:
                self._dispatch(job)
                ran += 1
            # A short batch was all that was due, unless a handler scheduled more meanwhile:
            # no second query to find nothing (once per timer firing, under load).
            if len(batch) < _BATCH and self._added == added:
                return ran

    def _dispatch(self, job: Job) -> None:
        handler = self._sync.get(job.kind)
        if handler is not None:
            try:
                with self.db.tx():
                    handler(job)
                    self.jobs.delete(job.job_id)
            except Exception:
                self.failures += 1
                log.exception("job %s (%s) failed; it is dropped", job.job_id, job.kind)
                with self.db.tx():
                    self.jobs.delete(job.job_id)
            return
        runner = self._async.get(job.kind)
        if runner is None:
            log.error("no handler for job kind %r; job %s dropped", job.kind, job.job_id)
            with self.db.tx():
                self.jobs.delete(job.job_id)
            return
        with self.db.tx():
            self.jobs.lease(job.job_id)
        task = asyncio.ensure_future(self._run_async(runner, job))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _run_async(self, runner: AsyncHandler, job: Job) -> None:
        try:
            commit = await runner(job)
            with self.db.tx():
                commit()
                self.jobs.delete(job.job_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.failures += 1
            log.exception("job %s (%s) failed; it is dropped", job.job_id, job.kind)
            with self.db.tx():
                self.jobs.delete(job.job_id)
        self._arm()

    # -- the controllable clock ---------------------------------------------------------------

    async def advance(self, seconds: float) -> int:
        """Move the clock forward, running everything that falls due in time order. Returns jobs run."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        ran = 0
        async with self._lock:
            target = self.clock.now_ms() + int(seconds * 1000)
            try:
                while True:
                    ran += await self._settle()
                    due = self.jobs.next_due()
                    if due is None or due > target:
                        break
                    self.clock.pin(due)
                    ran += self._dispatch_due(self.clock.now_ms())
                self.clock.pin(target)
                ran += self._dispatch_due(target)
                ran += await self._settle()
            finally:
                self.clock.release()
            self._arm()
        return ran

    async def _settle(self) -> int:
        """Wait for every in-flight async job, and run what they made due meanwhile."""
        ran = 0
        while self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)
            ran += self._dispatch_due(self.clock.now_ms())
        return ran

    async def drain(self) -> None:
        """Wait until no async job is in flight (used on shutdown and by tests)."""
        await asyncio.gather(*list(self._inflight), return_exceptions=True)
