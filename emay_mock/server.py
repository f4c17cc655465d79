"""The composition root: every part of a mock is built here, from a Config, and handed the
few collaborators it uses; then the web app on top."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web

from emay_mock import __version__
from emay_mock.config import Config, demo_account
from emay_mock.delivery.clock import Clock
from emay_mock.delivery.push import PushEngine
from emay_mock.delivery.scheduler import Scheduler
from emay_mock.observe.contract import ContractBook
from emay_mock.observe.drift import DriftBook
from emay_mock.observe.events import EventHub
from emay_mock.observe.journal import Journal
from emay_mock.observe.logs import GatheringHandler
from emay_mock.observe.metrics import Metrics
from emay_mock.observe.outcomes import OutcomeBook
from emay_mock.observe.recorder import Recorder
from emay_mock.observe.recording import RecordFile
from emay_mock.platform.accounts import Accounts
from emay_mock.platform.forwarded import Forwarded
from emay_mock.platform.gate import Gate
from emay_mock.platform.ids import IdSequence
from emay_mock.platform.inbound import Inbound
from emay_mock.platform.links import Links
from emay_mock.platform.readmodel import ReadModel
from emay_mock.platform.replay import ReplayGuard
from emay_mock.platform.retention import CHECK_EVERY_S, Retention
from emay_mock.platform.retrieval import Retrieval
from emay_mock.platform.routing import Router
from emay_mock.platform.sending import Sender
from emay_mock.platform.service import Platform
from emay_mock.platform.templates import Templates
from emay_mock.scenarios.engine import ScenarioBook
from emay_mock.scenarios.loader import default_scenario, load_file
from emay_mock.scenarios.outcomes import NoScenarios, Outcomes
from emay_mock.settings import AccountSpec, Settings
from emay_mock.store.state import Store
from emay_mock.web.app import build_app
from emay_mock.web.site import HEAD_LIMITS, TurnSite
from emay_mock.web.upstream import Upstream

log = logging.getLogger("emay_mock")

# A load test may open a thousand connections at once. With aiohttp's default accept queue
# (128) the overflow waits for the client's SYN retry, a full second later; the kernel caps
# this at net.core.somaxconn.
LISTEN_BACKLOG = 4096


class Parts:
    """Everything of a mock but its HTTP side: the emulated platform and what delivers for it
    (the scheduler, the push engine), over one store and one clock. A test may build one
    with a clock of its own and drive it without a server."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: Settings,
        *,
        scenarios: Outcomes | None = None,
        events: EventHub | None = None,
        on_pruned: Callable[[int, str], None] | None = None,
        outcomes: OutcomeBook | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.events = events = events or EventHub()
        self.scenarios = scenarios = scenarios or NoScenarios()
        # What the platform delivers to each account, beside its answers (the outcomes report).
        self.outcomes = outcomes = outcomes or OutcomeBook()
        self.scheduler = scheduler = Scheduler(store.jobs, clock)
        self.accounts = accounts = Accounts(store.accounts, events)
        self.push = PushEngine(
            store.pushes, clock, scheduler, settings, events, accounts.push_target, store.queues, outcomes
        )
        # ua-parser compiles its regexes on first use: off the event loop, one at a time.
        self.user_agents = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ua-parser")
        router = Router(accounts.push_target, self.push.enqueue, store.queues)
        replay = ReplayGuard(settings.replay_cache_size)
        tz = settings.rules.tz
        templates = Templates(store.templates, scheduler, clock, settings, scenarios, events, outcomes)
        links = Links(
            store.links,
            store.messages,
            scheduler,
            clock,
            router,
            store.queues,
            outcomes,
            events,
            tz,
            self.user_agents,
        )
        self.retention = retention = Retention(
            store.messages, store.links, store.pushes, store.queues, clock, settings, on_pruned
        )
        sending = Sender(
            store.messages, accounts, IdSequence(20, store.messages.last_sms_id), scheduler, clock, router,
            store.queues, scenarios, events, settings, templates, links, retention.after_accept, outcomes,
        )  # fmt: skip
        inbound = Inbound(
            store.mo, accounts, scheduler, clock, router, store.queues, outcomes, events, settings.rules
        )
        retrieval = Retrieval(store.messages, accounts, scheduler, clock, router, sending.report_item)
        self.platform = Platform(
            store=store, clock=clock, settings=settings, events=events, scenarios=scenarios,
            scheduler=scheduler, accounts=accounts, replay=replay,
            gate=Gate(accounts, clock, settings, replay), sending=sending, templates=templates,
            links=links, inbound=inbound, retrieval=retrieval, retention=retention,
        )  # fmt: skip
        self.forwarded = Forwarded()  # what the real platform accepted, for accounts that forward
        self.read = ReadModel(
            store,
            accounts,
            templates,
            sending,
            retention,
            scheduler,
            self.push,
            events,
            clock,
            self.forwarded,
        )
        self._aging: asyncio.TimerHandle | None = None

    async def start(self) -> None:
        self.scheduler.start()
        await self.push.start()
        self.store.start()
        if self.retention.max_age_ms is not None:
            self._age()

    def _age(self) -> None:
        """With maxAgeHours, a retention round every CHECK_EVERY_S of real time."""
        if self._aging is not None:
            self.retention.run()
        self._aging = asyncio.get_running_loop().call_later(CHECK_EVERY_S, self._age)

    async def stop(self) -> None:
        if self._aging is not None:
            self._aging.cancel()
            self._aging = None
        await self.scheduler.stop()
        await self.push.stop()
        await self.store.stop()  # a checkpoint it began is finished by store.close()
        self.store.log.flush()
        self.user_agents.shutdown(wait=False)

    async def advance(self, seconds: float) -> int:
        """Move the scheduler's clock, running what falls due (and letting what is too old go)."""
        ran = await self.scheduler.advance(seconds)
        if self.retention.max_age_ms is not None:
            self.retention.run()
        return ran

    async def push_due(self) -> None:
        """Run what is due now, pushes included (a scenario's early report, before its answer)."""
        await self.scheduler.advance(0)

    def reset(self, app_id: str | None = None) -> None:
        self.platform.reset(app_id)
        self.push.forget(app_id)
        self.forwarded.forget(app_id)


def restore_clock(settings: Settings, store: Store) -> Clock:
    """A durable database keeps the scheduler's clock where it was: it never runs backward."""
    clock = Clock(speed=settings.clock_speed)
    anchor = store.clock_anchor()
    if anchor is not None:
        sched_ms, wall_ms = anchor
        resumed = sched_ms + int((clock.wall_ms() - wall_ms) * clock.speed)
        clock = Clock(speed=settings.clock_speed, start_ms=max(resumed, sched_ms))
    return clock


class MockServer:
    def __init__(
        self,
        config: Config | None = None,
        *,
        db: str | None = None,
        clock: Clock | None = None,
        log_lines: GatheringHandler | None = None,
        record: str | None = None,
    ) -> None:
        """`clock`: the mock's clocks (by default the real ones, resumed from the store);
        `log_lines`: where `serve` writes its log lines (`observe.logs.configure`);
        `record`: a file every upstream exchange is appended to (`serve --record`)."""
        self.config = config or Config()
        self.settings = settings = self.config.settings
        self.store = Store(db or self.config.db)
        self.clock = clock or restore_clock(settings, self.store)
        self.recorder = Recorder(settings.journal_size, log_lines)
        self.scenarios = ScenarioBook()
        if settings.default_scenarios:
            self.scenarios.load(default_scenario())
        for path in self.config.scenario_files:
            self.scenarios.load(load_file(path))
        self.parts = Parts(
            self.store, self.clock, settings, scenarios=self.scenarios, on_pruned=self._pruned,
            outcomes=self.recorder.outcomes,
        )  # fmt: skip
        self.platform = self.parts.platform
        self.events = self.parts.events
        self.push = self.parts.push
        accounts = self.config.accounts or ([demo_account()] if self.config.demo else [])
        for spec in accounts:
            self._install(spec)
        self.drift = DriftBook()
        self.upstream = Upstream(
            self.platform, self.parts.forwarded, self.drift, RecordFile(record) if record else None,
            settings.max_body_bytes, self.recorder.journal.record,
        )  # fmt: skip
        self.metrics = Metrics(self.parts.read.figures, self.recorder, self.drift)
        self.url = ""  # the base URL once listen() has bound a port
        self._runner: web.AppRunner | None = None

    def _install(self, spec: AccountSpec) -> None:
        """Config accounts at start: an unchanged account keeps its stored balance."""
        existing = self.platform.accounts.get(spec.app_id)
        if existing is not None and existing.spec == spec:
            return
        self.platform.accounts.put(spec)

    # -- life cycle ---------------------------------------------------------------------------

    def _pruned(self, count: int, why: str) -> None:
        kept = self.store.messages.count()
        self.recorder.housekeeping(
            "retention", self.clock.wall_ms(), f"{count} messages pruned ({why}); {kept} kept"
        )

    @property
    def journal(self) -> Journal:
        return self.recorder.journal

    @property
    def contract(self) -> ContractBook:
        return self.recorder.contract

    async def start(self) -> None:
        self.platform.save_clock()
        await self.parts.start()
        await self.upstream.start()

    async def stop(self) -> None:
        self.platform.save_clock()
        await self.upstream.stop()
        await self.parts.stop()  # and what is pending goes to the file

    def reset(self, app_id: str | None = None) -> None:
        self.parts.reset(app_id)
        self.recorder.forget(app_id)
        self.drift.forget(app_id)

    def app(self) -> web.Application:
        return build_app(
            self.platform, self.parts.read, self.push, self.recorder, self.metrics, self.scenarios, self,
            on_startup=self.start, on_cleanup=self.stop, control_auth=self.config.control_auth,
            upstream=self.upstream,
        )  # fmt: skip

    async def advance(self, seconds: float) -> int:
        """Move the scheduler's clock (see Parts.advance), keep where it is, and tell live views."""
        ran = await self.parts.advance(seconds)
        self.platform.save_clock()
        self.events.publish("clock", None, {"nowMs": self.clock.now_ms(), "advancedSeconds": seconds})
        return ran

    async def push_due(self) -> None:
        await self.parts.push_due()

    async def listen(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0: a free port) and return the base URL."""
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False, **HEAD_LIMITS)
        await self._runner.setup()
        site = TurnSite(self._runner, host, port, backlog=LISTEN_BACKLOG)
        await site.start()
        bound = site.bound_port
        shown = host if host not in ("0.0.0.0", "::", "") else socket.gethostname()
        if ":" in shown and not shown.startswith("["):
            shown = f"[{shown}]"
        self.url = f"http://{shown}:{bound}"
        return self.url

    @property
    def web_app(self) -> web.Application:
        assert self._runner is not None, "not listening"
        return self._runner.app

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.store.close()

    # -- what is printed ------------------------------------------------------------------

    def banner(self) -> list[str]:
        lines = [f"emay-mock {__version__} listening on {self.url}"]
        if self.config.demo:
            demo = demo_account()
            lines.append(f"demo account: appId={demo.app_id} secretKey={demo.secret_key}")
        else:
            count = len(self.platform.accounts)
            lines.append(f"config: {self.config.source} ({count} account{'' if count == 1 else 's'})")
        auth = self.config.control_auth
        guarded = f"   basic auth: user {auth.user}" if auth is not None else ""
        lines.append(f"control API: {self.url}/_mock/health   store: {self.store.path or 'memory'}{guarded}")
        return lines + self.diverted_lines()

    def diverted_lines(self) -> list[str]:
        """Each account answered otherwise than by the mock: forwarding sends real messages."""
        lines = []
        for account in self.platform.accounts.values():
            spec = account.spec
            if spec.upstream is not None:
                lines.append(
                    f"FORWARDING: appId {spec.app_id} sends every request to {spec.upstream.shown_url} "
                    f"({spec.upstream.mode}): real messages, real cost"
                )
            elif spec.replay is not None:
                lines.append(f"replay: appId {spec.app_id} answers from the recording {spec.replay}")
        record = self.upstream.record
        if record is not None:
            lines.append(
                f"recording every upstream exchange to {record.path} (mobiles and contents included)"
            )
        return lines

    def summary(self) -> dict[str, Any]:
        return {"version": __version__, "url": self.url, "accounts": len(self.platform.accounts)}
