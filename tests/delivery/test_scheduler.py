"""The scheduler: one timer, jobs and report buckets in due order, a clock that advance pins,
jobs that survive a restart."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emay_mock.delivery.clock import Clock
from emay_mock.delivery.scheduler import BUCKET_MS, Scheduler
from emay_mock.store.jobs import Job
from emay_mock.store.state import Store


def make(path: str | None = None, speed: float = 1.0) -> tuple[Scheduler, list[tuple[str, int, int]]]:
    scheduler = Scheduler(Store(path).jobs, Clock(speed=speed))
    seen: list[tuple[str, int, int]] = []
    scheduler.on("mark", lambda job: seen.append((job.payload["name"], job.due, scheduler.clock.now_ms())))
    return scheduler, seen


async def test_advance_runs_due_jobs_in_time_order_at_their_due_time() -> None:
    scheduler, seen = make()
    scheduler.start()
    t0 = scheduler.clock.now_ms()
    for name, offset in (("c", 3000), ("a", 1000), ("b", 2000), ("later", 60_000)):
        scheduler.schedule(t0 + offset, "mark", None, {"name": name})
    ran = await scheduler.advance(5)
    assert ran == 3
    assert [s[0] for s in seen] == ["a", "b", "c"]
    assert all(due == now for _, due, now in seen)  # each job saw its own due time
    assert scheduler.clock.now_ms() >= t0 + 5000
    assert scheduler.pending() == 1
    await scheduler.stop()


async def test_jobs_scheduled_by_jobs_run_in_the_same_advance() -> None:
    scheduler, seen = make()

    def chain(job: Job) -> None:
        seen.append(("chain", job.due, scheduler.clock.now_ms()))
        if job.payload["left"]:
            scheduler.schedule(job.due + 1000, "chain", None, {"left": job.payload["left"] - 1})

    scheduler.on("chain", chain)
    scheduler.start()
    t0 = scheduler.clock.now_ms()
    scheduler.schedule(t0 + 1000, "chain", None, {"left": 4})
    await scheduler.advance(10)
    assert [due - t0 for _, due, _ in seen] == [1000, 2000, 3000, 4000, 5000]
    await scheduler.stop()


async def test_the_timer_fires_on_the_real_clock_without_advance() -> None:
    scheduler, seen = make()
    scheduler.start()
    scheduler.schedule(scheduler.clock.now_ms() + 100, "mark", None, {"name": "soon"})
    for _ in range(50):
        if seen:
            break
        await asyncio.sleep(0.02)
    assert [s[0] for s in seen] == ["soon"]
    await scheduler.stop()


async def test_clock_speed_makes_scheduled_time_pass_faster() -> None:
    scheduler, seen = make(speed=60)
    scheduler.start()
    scheduler.schedule(scheduler.clock.now_ms() + 6000, "mark", None, {"name": "six-seconds"})  # 0.1 s real
    for _ in range(50):
        if seen:
            break
        await asyncio.sleep(0.02)
    assert [s[0] for s in seen] == ["six-seconds"]
    await scheduler.stop()


async def test_async_jobs_are_awaited_by_advance_and_commit_atomically() -> None:
    scheduler, _seen = make()
    log: list[int] = []

    async def slow(job: Job) -> Callable[[], None]:
        await asyncio.sleep(0.05)
        return lambda: log.append(job.due)

    scheduler.on_async("slow", slow)
    scheduler.start()
    t0 = scheduler.clock.now_ms()
    scheduler.schedule(t0 + 1000, "slow", None, {})
    await scheduler.advance(2)
    assert log == [t0 + 1000]
    assert scheduler.pending() == 0
    await scheduler.stop()


async def test_a_job_still_in_the_file_when_the_process_died_runs_on_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    first = Store(path)
    scheduler = Scheduler(first.jobs, Clock())
    # Never run: as if it was due (or in flight, for an async job) when the process was killed.
    scheduler.schedule(scheduler.clock.now_ms() - 1, "mark", None, {"name": "x"})
    await first.committed()
    first.db.close()
    second = Store(path)
    restarted = Scheduler(second.jobs, Clock())
    seen: list[str] = []
    restarted.on("mark", lambda job: seen.append(job.payload["name"]))
    restarted.start()
    await restarted.advance(0)
    assert seen == ["x"]
    await second.committed()
    assert Store(path).jobs.loaded() == []  # done: its row is gone
    await restarted.stop()


async def test_a_failing_handler_is_counted_and_does_not_stop_the_others() -> None:
    scheduler, seen = make()

    def boom(job: Job) -> None:
        raise RuntimeError("bug")

    scheduler.on("boom", boom)
    scheduler.start()
    t0 = scheduler.clock.now_ms()
    scheduler.schedule(t0 + 10, "boom", None, {})
    scheduler.schedule(t0 + 20, "mark", None, {"name": "after"})
    await scheduler.advance(1)
    assert scheduler.failures == 1
    assert [s[0] for s in seen] == ["after"]
    await scheduler.stop()


async def test_100000_pending_jobs_hold_one_timer_and_no_task() -> None:
    scheduler, _seen = make()
    scheduler.start()
    loop = asyncio.get_running_loop()
    tasks_before = len(asyncio.all_tasks())
    now = scheduler.clock.now_ms()
    for i in range(100_000):
        scheduler.schedule(now + 3_600_000 + i, "mark", None, {"name": str(i)})
    # The loop's timer heap is private to asyncio and not in its stubs: the count is the point.
    timers = [h for h in loop._scheduled if not h.cancelled()]  # type: ignore[attr-defined]
    assert len(timers) == 1
    assert len(asyncio.all_tasks()) == tasks_before
    assert scheduler.pending() == 100_000
    await scheduler.stop()


Fired = list[tuple[str, list[Any], list[int], int]]  # (appId, items, due times, clock when fired)


def bucketed(speed: float = 1.0) -> tuple[Scheduler, Fired]:
    scheduler = Scheduler(Store().jobs, Clock(speed=speed))
    fired: Fired = []
    scheduler.on_bucket(
        "report", lambda app, items, dues: fired.append((app, items, dues, scheduler.clock.now_ms()))
    )
    return scheduler, fired


async def test_items_due_in_one_window_wait_in_one_bucket_and_fire_in_one_pass() -> None:
    scheduler, fired = bucketed()
    scheduler.start()
    t0 = (scheduler.clock.now_ms() // BUCKET_MS + 10) * BUCKET_MS  # the start of a window
    for i in range(1000):
        scheduler.add_to_bucket("report", "A", t0 + 1 + i % (BUCKET_MS - 1), i)
    scheduler.add_to_bucket("report", "B", t0 + 1, -1)  # another account: its own bucket
    assert scheduler.pending() == 2
    assert scheduler.bucketed == 1001
    await scheduler.advance(2)
    (a,) = [f for f in fired if f[0] == "A"]
    assert sorted(a[1]) == list(range(1000))
    assert a[2] == sorted(a[2])  # handed over in due order
    assert scheduler.pending() == 0 and scheduler.bucketed == 0
    await scheduler.stop()


async def test_advance_takes_a_bucket_only_up_to_where_it_stops() -> None:
    scheduler, fired = bucketed()
    scheduler.start()
    t0 = scheduler.clock.now_ms()
    for offset in (1000, 1020, 1040, 1060):  # a few windows
        scheduler.add_to_bucket("report", "A", t0 + offset, offset)
    await scheduler.advance(1.03)
    assert [item for f in fired for item in f[1]] == [1000, 1020]
    await scheduler.advance(0.1)
    assert [item for f in fired for item in f[1]] == [1000, 1020, 1040, 1060]
    await scheduler.stop()


async def test_a_bucket_runs_between_the_jobs_due_before_and_after_it() -> None:
    scheduler, _seen = make()
    order: list[str] = []
    scheduler.on("mark", lambda job: order.append(job.payload["name"]))
    scheduler.on_bucket("report", lambda app, items, dues: order.extend(items))
    scheduler.start()
    t0 = scheduler.clock.now_ms()
    scheduler.schedule(t0 + 1000, "mark", None, {"name": "job@1000"})
    scheduler.schedule(t0 + 1030, "mark", None, {"name": "job@1030"})
    for offset in (1010, 1020, 1040):
        scheduler.add_to_bucket("report", "A", t0 + offset, f"report@{offset}")
    await scheduler.advance(2)
    assert order == ["job@1000", "report@1010", "report@1020", "job@1030", "report@1040"]
    await scheduler.stop()


async def test_a_bucket_fires_on_the_real_clock_at_the_end_of_its_window() -> None:
    scheduler, fired = bucketed()
    scheduler.start()
    due = scheduler.clock.now_ms() + 50
    scheduler.add_to_bucket("report", "A", due, "x")
    for _ in range(100):
        if fired:
            break
        await asyncio.sleep(0.01)
    ((_app, items, dues, now),) = fired
    assert (items, dues) == (["x"], [due])
    assert due <= now <= -(-due // BUCKET_MS) * BUCKET_MS + 100  # at its window's end, not much later
    await scheduler.stop()


async def test_forget_drops_one_account_s_buckets() -> None:
    scheduler, fired = bucketed()
    scheduler.start()
    now = scheduler.clock.now_ms()
    scheduler.add_to_bucket("report", "A", now + 1000, "a")
    scheduler.add_to_bucket("report", "B", now + 1000, "b")
    scheduler.forget("A")
    assert scheduler.pending("A") == 0 and scheduler.pending("B") == 1
    await scheduler.advance(2)
    assert [f[1] for f in fired] == [["b"]]
    await scheduler.stop()


async def test_advance_holds_the_clock_so_work_it_schedules_on_the_way_stays_inside_it() -> None:
    ticks = itertools.count()
    # A busy machine, exaggerated: 5 ms of real time pass between any two looks at the clock.
    clock = Clock(monotonic=lambda: next(ticks) * 0.005)
    scheduler = Scheduler(Store().jobs, clock)
    order: list[str] = []

    def report(app: str, items: list[Any], dues: list[int]) -> None:
        order.append("report")  # as a report does, its push is scheduled for "now"
        scheduler.schedule(clock.now_ms(), "push", None, {})

    scheduler.on_bucket("report", report)
    scheduler.on("push", lambda job: order.append("push"))
    scheduler.start()
    scheduler.add_to_bucket("report", "A", clock.now_ms(), "x")
    await scheduler.advance(0)
    assert order == ["report", "push"]  # both inside advance(0): nothing left for later
    await scheduler.stop()
