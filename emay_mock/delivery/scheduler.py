"""One scheduler for everything that happens later, driven by a single timer.

Two kinds of pending work, both held in memory and ordered by due time:

- **jobs**: one-off work (a push attempt, a scenario's MO reply, a template review) kept
  durable through the jobs store, so a restart runs what was pending;
- **buckets**: the messages whose reports fall due in the same window of `BUCKET_MS` on the
  scheduler's clock, per account: one entry and one firing for all of them, however many
  requests they came from. Buckets are rebuilt at start from what they hold (a message
  without its report), so they need no rows of their own.

Only the earliest firing is armed on the event loop, so 100,000 waiting items cost nothing
until they fall due. A sync job handler runs, then its job is done; an async handler (a
push) runs as a task, then returns the step that records its outcome, and the job is done
with it (the durable log writes both in the same group).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from bisect import bisect_right
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from emay_mock.delivery.clock import Clock
from emay_mock.store.jobs import Job, Jobs

log = logging.getLogger("emay_mock.scheduler")

SyncHandler = Callable[[Job], None]
AsyncHandler = Callable[[Job], Awaitable[Callable[[], None]]]
# A bucket handler gets the account and the items due, in due order, with their due times.
BucketHandler = Callable[[str, list[Any], list[int]], None]

# Reports falling due within this much of each other are fired together, at the end of their
# window: at most this late on the real clock (each report still carries its exact due time),
# and exact under `advance`, which takes a window's members up to the time it stops at. Small
# enough that one firing's work (the reports of 10 ms of sends) never holds answers up for long.
BUCKET_MS = 10
_NEVER = 2**63


class Bucket:
    """The items of one kind and account due in one window, kept in due order."""

    __slots__ = ("app_id", "dues", "items", "key", "kind", "ordered", "window_end")

    def __init__(self, kind: str, app_id: str, window_end: int) -> None:
        self.kind = kind
        self.app_id = app_id
        self.window_end = window_end
        self.dues: list[int] = []
        self.items: list[Any] = []
        self.ordered = True

    @property
    def first_due(self) -> int:
        if not self.ordered:
            self._sort()
        return self.dues[0]

    def _sort(self) -> None:
        order = sorted(range(len(self.dues)), key=self.dues.__getitem__)  # stable: equal dues keep order
        self.dues = [self.dues[i] for i in order]
        self.items = [self.items[i] for i in order]
        self.ordered = True

    def take(self, upto: int) -> tuple[list[Any], list[int]]:
        """Remove and return the items due at or before `upto`."""
        if not self.ordered:
            self._sort()
        cut = bisect_right(self.dues, upto)
        if cut == len(self.dues):
            items, dues = self.items, self.dues
            self.items, self.dues = [], []
        else:
            items, dues = self.items[:cut], self.dues[:cut]
            del self.items[:cut], self.dues[:cut]
        return items, dues

    def __len__(self) -> int:
        return len(self.items)


class Scheduler:
    def __init__(self, jobs: Jobs, clock: Clock) -> None:
        self.jobs = jobs
        self.clock = clock
        self._sync: dict[str, SyncHandler] = {}
        self._async: dict[str, AsyncHandler] = {}
        self._bucket_handlers: dict[str, BucketHandler] = {}
        self._seq = itertools.count()
        self._job_heap: list[tuple[int, int, Job]] = []
        self._bucket_heap: list[tuple[int, int, Bucket]] = []
        self._open: dict[Hashable, Bucket] = {}
        self.bucketed = 0  # items waiting in buckets
        self._timer: asyncio.TimerHandle | None = None
        self._armed_at: int | None = None
        self._lock = asyncio.Lock()
        self._running: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped = True
        self.failures = 0
        for job in self.jobs.loaded():
            # A job still in the file was pending, or running when the last process stopped:
            # either way it runs (again).
            heapq.heappush(self._job_heap, (job.due, next(self._seq), job))

    def on(self, kind: str, handler: SyncHandler) -> None:
        self._sync[kind] = handler

    def on_async(self, kind: str, handler: AsyncHandler) -> None:
        self._async[kind] = handler

    def on_bucket(self, kind: str, handler: BucketHandler) -> None:
        self._bucket_handlers[kind] = handler

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = False
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
        """Add a durable job."""
        job = self.jobs.add(due, kind, app_id, payload)
        heapq.heappush(self._job_heap, (due, next(self._seq), job))
        self._arm_if_sooner(due)
        return job.job_id

    def add_to_bucket(self, kind: str, app_id: str, due: int, item: Any) -> None:
        """Add an item to the bucket of its due window (not stored: its owner rebuilds it at start)."""
        window_end = -(-due // BUCKET_MS) * BUCKET_MS
        key = (kind, app_id, window_end)
        bucket = self._open.get(key)
        if bucket is None:
            bucket = self._open[key] = Bucket(kind, app_id, window_end)
            heapq.heappush(self._bucket_heap, (window_end, next(self._seq), bucket))
            self._arm_if_sooner(window_end)
        dues = bucket.dues  # the bucket's add, written out: this runs for every message
        if dues and due < dues[-1]:
            bucket.ordered = False
        dues.append(due)
        bucket.items.append(item)
        self.bucketed += 1

    def pending(self, app_id: str | None = None) -> int:
        """Entries waiting: jobs, and buckets (each counts once, whatever it holds)."""
        jobs = [j for _, _, j in self._job_heap]
        if app_id is None:
            return len(jobs) + len(self._bucket_heap)
        return sum(1 for j in jobs if j.app_id == app_id) + sum(
            1 for _, _, b in self._bucket_heap if b.app_id == app_id
        )

    def pending_jobs(self, kind: str) -> list[Job]:
        return [job for _, _, job in self._job_heap if job.kind == kind]

    def forget(self, app_id: str | None = None) -> None:
        """Drop what is pending for an account (all, when None); its job rows are the caller's."""
        keep_job = (lambda job: False) if app_id is None else (lambda job: job.app_id != app_id)
        self._job_heap = [e for e in self._job_heap if keep_job(e[2])]
        heapq.heapify(self._job_heap)
        gone = [b for _, _, b in self._bucket_heap if app_id is None or b.app_id == app_id]
        for bucket in gone:
            self.bucketed -= len(bucket)
            del self._open[(bucket.kind, bucket.app_id, bucket.window_end)]
        self._bucket_heap = [e for e in self._bucket_heap if app_id is not None and e[2].app_id != app_id]
        heapq.heapify(self._bucket_heap)
        self._arm()

    # -- the timer --------------------------------------------------------------------------

    def _next_firing(self) -> int:
        """When the real-time timer must fire: a job at its due time, a bucket at its window's end."""
        job = self._job_heap[0][0] if self._job_heap else _NEVER
        bucket = self._bucket_heap[0][0] if self._bucket_heap else _NEVER
        return min(job, bucket)

    def _arm_if_sooner(self, at: int) -> None:
        if not self._stopped and (self._armed_at is None or at < self._armed_at):
            self._arm_at(at)

    def _arm(self) -> None:
        if self._stopped:
            return
        at = self._next_firing()
        if at == _NEVER:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = None
            self._armed_at = None
            return
        self._arm_at(at)

    def _arm_at(self, at: int) -> None:
        loop = self._loop
        if loop is None:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._armed_at = at
        self._timer = loop.call_later(self.clock.real_delay(at), self._fire)

    def _fire(self) -> None:
        self._timer = None
        self._armed_at = None
        if self._running is not None and not self._running.done():
            return
        if not self._lock.locked():
            # Running due work never awaits: with nobody holding the lock, run it in this
            # callback rather than in a task of its own.
            self._run_until(self.clock.now_ms())
            self._arm()
            return
        self._running = asyncio.ensure_future(self._run_due())

    async def _run_due(self) -> None:
        async with self._lock:
            self._run_until(self.clock.now_ms())
            self._arm()

    # -- running ----------------------------------------------------------------------------

    def _run_until(self, limit: int) -> int:
        """Run everything due at or before `limit`, earliest first; returns how much ran."""
        ran = 0
        while (step := self._step(limit, pin=False)) is not None:
            ran += step
        return ran

    def _step(self, limit: int, *, pin: bool) -> int | None:
        """Run the earliest entry due at or before `limit` (None when nothing is due).

        A bucket's items due before the next job are handled in one pass. With `pin`, the
        clock is pinned to the entry's due time (for a bucket: the last item's) while it runs.
        """
        job_due = self._job_heap[0][0] if self._job_heap else _NEVER
        bucket = self._bucket_heap[0][2] if self._bucket_heap else None
        bucket_due = bucket.first_due if bucket is not None else _NEVER
        if min(job_due, bucket_due) > limit:
            return None
        if bucket is not None and bucket_due <= job_due:
            items, dues = bucket.take(min(limit, job_due))
            if not bucket:
                heapq.heappop(self._bucket_heap)
                del self._open[(bucket.kind, bucket.app_id, bucket.window_end)]
            self.bucketed -= len(items)
            if pin:
                self.clock.pin(dues[-1])
            self._fire_bucket(bucket, items, dues)
            return 1
        _, _, job = heapq.heappop(self._job_heap)
        if pin:
            self.clock.pin(job.due)
        self._dispatch(job)
        return 1

    def _fire_bucket(self, bucket: Bucket, items: list[Any], dues: list[int]) -> None:
        handler = self._bucket_handlers.get(bucket.kind)
        if handler is None:
            log.error("no handler for bucket kind %r; %d items dropped", bucket.kind, len(items))
            return
        try:
            handler(bucket.app_id, items, dues)
        except Exception:
            self.failures += 1
            log.exception("%d %s items of %s failed; dropped", len(items), bucket.kind, bucket.app_id)

    def _dispatch(self, job: Job) -> None:
        handler = self._sync.get(job.kind)
        if handler is not None:
            try:
                handler(job)
            except Exception:
                self.failures += 1
                log.exception("job %s (%s) failed; it is dropped", job.job_id, job.kind)
            self.jobs.done(job)
            return
        runner = self._async.get(job.kind)
        if runner is None:
            log.error("no handler for job kind %r; job %s dropped", job.kind, job.job_id)
            self.jobs.done(job)
            return
        task = asyncio.ensure_future(self._run_async(runner, job))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _run_async(self, runner: AsyncHandler, job: Job) -> None:
        try:
            commit = await runner(job)
            commit()
        except asyncio.CancelledError:
            raise  # stopping: the job stays in the file and runs again at the next start
        except Exception:
            self.failures += 1
            log.exception("job %s (%s) failed; it is dropped", job.job_id, job.kind)
        self.jobs.done(job)
        self._arm()

    # -- the controllable clock ---------------------------------------------------------------

    async def advance(self, seconds: float) -> int:
        """Move the clock forward, running everything that falls due in time order. Returns what ran."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        ran = 0
        async with self._lock:
            # Held from here on: work done on the way (a push awaited, say) must not let real
            # time carry the clock past what it was asked to reach.
            try:
                self.clock.pin(0)  # at the clock's time now: pinning never moves it back
                target = self.clock.now_ms() + int(seconds * 1000)
                while True:
                    ran += await self._settle()
                    step = self._step(target, pin=True)
                    if step is None:
                        break
                    ran += step
                self.clock.pin(target)
                ran += self._run_until(target)
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
            ran += self._run_until(self.clock.now_ms())
        return ran

    async def drain(self) -> None:
        """Wait until no async job is in flight (used on shutdown and by tests)."""
        await asyncio.gather(*list(self._inflight), return_exceptions=True)
