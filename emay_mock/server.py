"""The composition root: builds the platform, its features and the web app from a Config."""

from __future__ import annotations

import logging
import socket
from collections import Counter
from typing import Any

from aiohttp import web

from emay_mock import __version__
from emay_mock.config import Config, demo_account
from emay_mock.delivery.clock import Clock
from emay_mock.observe.contract import ContractBook
from emay_mock.observe.events import EventHub
from emay_mock.observe.journal import Entry, Journal
from emay_mock.observe.metrics import Metrics
from emay_mock.platform.accounts import AccountSpec
from emay_mock.platform.core import Platform
from emay_mock.platform.inbound import Inbound
from emay_mock.platform.links import Links
from emay_mock.platform.retrieval import Retrieval
from emay_mock.platform.sending import Sender
from emay_mock.platform.templates import Templates
from emay_mock.scenarios.engine import ScenarioBook
from emay_mock.scenarios.loader import default_scenario, load_file
from emay_mock.store.db import Database

log = logging.getLogger("emay_mock")
requests_log = logging.getLogger("emay_mock.requests")

_CLOCK_ANCHOR = "clock_anchor"
# A load test may open a thousand connections at once. With aiohttp's default accept queue
# (128) the overflow waits for the client's SYN retry, a full second later; the kernel caps
# this at net.core.somaxconn.
LISTEN_BACKLOG = 4096


class MockServer:
    def __init__(self, config: Config | None = None, *, db: str | None = None) -> None:
        self.config = config or Config()
        self.settings = self.config.settings
        self.db = Database(db or self.config.db)
        self.clock = self._restore_clock()
        self.events = EventHub()
        self.journal = Journal(self.settings.journal_size)
        self.contract = ContractBook()
        self.scenarios = ScenarioBook()
        if self.settings.default_scenarios:
            self.scenarios.load(default_scenario())
        for path in self.config.scenario_files:
            self.scenarios.load(load_file(path))
        self.codes: Counter[str] = Counter()
        self.platform = Platform(
            self.db, self.clock, self.settings, events=self.events, scenarios=self.scenarios
        )
        self.templates = Templates(self.platform)
        self.links = Links(self.platform)
        self.sending = Sender(self.platform, self.templates, self.links)
        self.inbound = Inbound(self.platform)
        self.retrieval = Retrieval(self.platform, self.sending)
        accounts = self.config.accounts or ([demo_account()] if self.config.demo else [])
        for spec in accounts:
            self._install(spec)
        self.metrics = Metrics(self)
        self.url: str | None = None
        self._runner: web.AppRunner | None = None

    def _restore_clock(self) -> Clock:
        """A durable database keeps the scheduler's clock where it was: it never runs backward."""
        clock = Clock(speed=self.settings.clock_speed)
        anchor = self.db.meta(_CLOCK_ANCHOR)
        if anchor is not None:
            sched_ms, wall_ms = (int(x) for x in anchor.split(","))
            resumed = sched_ms + int((clock.wall_ms() - wall_ms) * clock.speed)
            clock = Clock(speed=self.settings.clock_speed, start_ms=max(resumed, sched_ms))
        return clock

    def save_clock(self) -> None:
        self.db.set_meta(_CLOCK_ANCHOR, f"{self.clock.now_ms()},{self.clock.wall_ms()}")

    def _install(self, spec: AccountSpec) -> None:
        """Config accounts at start: an unchanged account keeps its stored balance."""
        existing = self.platform.accounts.get(spec.app_id)
        if existing is not None and existing.spec == spec:
            return
        self.platform.put_account(spec)

    # -- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self.save_clock()
        await self.platform.start()

    async def stop(self) -> None:
        await self.platform.stop()
        if self.db.durable:
            self.save_clock()

    def app(self) -> web.Application:
        from emay_mock.web.app import build_app

        return build_app(self)

    async def listen(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0: a free port) and return the base URL."""
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_address=True, backlog=LISTEN_BACKLOG)
        await site.start()
        bound = port
        sockets = getattr(site._server, "sockets", None)
        if sockets:
            bound = sockets[0].getsockname()[1]
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

    # -- observation --------------------------------------------------------------------------

    def record(self, entry: Entry) -> None:
        self.journal.record(entry)
        self.contract.record(entry)
        self.metrics.observe(entry)
        if entry.code is not None:
            self.codes[entry.code] += 1
        level = logging.INFO if entry.code == "SUCCESS" else logging.WARNING
        if requests_log.isEnabledFor(level):
            requests_log.log(
                level,
                "%s /%s appId=%s %s %.1fms%s",
                entry.family,
                entry.endpoint,
                entry.app_id,
                entry.code,
                entry.latency_ms,
                entry.log_tail(),
            )

    def banner(self) -> list[str]:
        lines = [f"emay-mock {__version__} listening on {self.url}"]
        if self.config.demo:
            demo = demo_account()
            lines.append(f"demo account: appId={demo.app_id} secretKey={demo.secret_key}")
        else:
            lines.append(f"config: {self.config.source} ({len(self.platform.accounts)} accounts)")
        lines.append(f"control API: {self.url}/_mock/health   store: {self.db.path}")
        return lines

    def summary(self) -> dict[str, Any]:
        return {"version": __version__, "url": self.url, "accounts": len(self.platform.accounts)}
