"""The composition root: builds the platform, its features and the web app from a Config."""

from __future__ import annotations

import logging
import socket
from typing import Any

from aiohttp import web

from emay_mock import __version__
from emay_mock.config import Config, demo_account
from emay_mock.delivery.clock import Clock
from emay_mock.observe.contract import ContractBook
from emay_mock.observe.events import EventHub
from emay_mock.observe.journal import Journal
from emay_mock.observe.metrics import Metrics
from emay_mock.observe.recorder import Recorder
from emay_mock.platform.accounts import AccountSpec
from emay_mock.platform.service import Platform
from emay_mock.scenarios.engine import ScenarioBook
from emay_mock.scenarios.loader import default_scenario, load_file
from emay_mock.store.state import Store
from emay_mock.web.app import build_app
from emay_mock.web.site import HEAD_LIMITS, TurnSite

log = logging.getLogger("emay_mock")

# A load test may open a thousand connections at once. With aiohttp's default accept queue
# (128) the overflow waits for the client's SYN retry, a full second later; the kernel caps
# this at net.core.somaxconn.
LISTEN_BACKLOG = 4096


class MockServer:
    def __init__(self, config: Config | None = None, *, db: str | None = None) -> None:
        self.config = config or Config()
        self.settings = self.config.settings
        self.store = Store(db or self.config.db)
        self.clock = self._restore_clock()
        self.events = EventHub()
        self.recorder = Recorder(self.settings.journal_size)
        self.scenarios = ScenarioBook()
        if self.settings.default_scenarios:
            self.scenarios.load(default_scenario())
        for path in self.config.scenario_files:
            self.scenarios.load(load_file(path))
        self.platform = Platform(
            self.store, self.clock, self.settings, events=self.events, scenarios=self.scenarios
        )
        accounts = self.config.accounts or ([demo_account()] if self.config.demo else [])
        for spec in accounts:
            self._install(spec)
        self.metrics = Metrics(self.platform, self.recorder)
        self.platform.retention.on_pruned = self._pruned
        self.url = ""  # the base URL once listen() has bound a port
        self._runner: web.AppRunner | None = None

    def _restore_clock(self) -> Clock:
        """A durable database keeps the scheduler's clock where it was: it never runs backward."""
        clock = Clock(speed=self.settings.clock_speed)
        anchor = self.store.clock_anchor()
        if anchor is not None:
            sched_ms, wall_ms = anchor
            resumed = sched_ms + int((clock.wall_ms() - wall_ms) * clock.speed)
            clock = Clock(speed=self.settings.clock_speed, start_ms=max(resumed, sched_ms))
        return clock

    def _install(self, spec: AccountSpec) -> None:
        """Config accounts at start: an unchanged account keeps its stored balance."""
        existing = self.platform.accounts.get(spec.app_id)
        if existing is not None and existing.spec == spec:
            return
        self.platform.put_account(spec)

    # -- life cycle ---------------------------------------------------------------------------

    def _pruned(self, count: int, why: str) -> None:
        kept = self.platform.messages.count()
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
        await self.platform.start()

    async def stop(self) -> None:
        self.platform.save_clock()
        await self.platform.stop()  # and what is pending goes to the file

    def app(self) -> web.Application:
        return build_app(
            self.platform, self.recorder, self.metrics, self.scenarios,
            on_startup=self.start, on_cleanup=self.stop, control_auth=self.config.control_auth,
        )  # fmt: skip

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
        return lines

    def summary(self) -> dict[str, Any]:
        return {"version": __version__, "url": self.url, "accounts": len(self.platform.accounts)}
