"""The aiohttp application: every family's routes on one app, each given the services it uses."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from emay_mock.control_auth import Credentials
from emay_mock.delivery.push import PushEngine
from emay_mock.observe.metrics import Metrics
from emay_mock.observe.recorder import Recorder
from emay_mock.platform.readmodel import ReadModel
from emay_mock.platform.service import Platform
from emay_mock.scenarios.engine import ScenarioBook
from emay_mock.web import secure, signed
from emay_mock.web.auth import guard
from emay_mock.web.console import ConsoleApi
from emay_mock.web.control import ControlApi, Steering
from emay_mock.web.edge import MAX_BODY_KEY, STOPPING_KEY
from emay_mock.web.events import EventStream
from emay_mock.web.inspect import InspectApi
from emay_mock.web.jsonapi import json_routes
from emay_mock.web.links import links_routes
from emay_mock.web.scenarios import ScenarioApi
from emay_mock.web.ui import ui_routes
from emay_mock.web.upstream import Upstream, drift_routes, push_routes
from emay_mock.web.views import Views
from emay_mock.web.waits import WaitApi


def build_app(
    platform: Platform,
    read: ReadModel,
    push: PushEngine,
    recorder: Recorder,
    metrics: Metrics,
    scenarios: ScenarioBook,
    steering: Steering,
    *,
    on_startup: Callable[[], Awaitable[None]],
    on_cleanup: Callable[[], Awaitable[None]],
    control_auth: Credentials | None = None,
    upstream: Upstream | None = None,
) -> web.Application:
    """`upstream`: answers for the accounts that forward or replay (and the drift report)."""
    max_body = platform.settings.max_body_bytes
    app = web.Application(client_max_size=max_body)
    app[MAX_BODY_KEY] = max_body
    views = Views(platform.tz)
    push_due = steering.push_due
    app.add_routes(secure.SecureFamily(platform, recorder, push_due, upstream).routes(secure.ACTIONS))
    for family, prefix, actions in (
        ("simple", "simpleinter", signed.SIMPLE_ACTIONS),
        ("voice", "voice", signed.VOICE_ACTIONS),
        ("report", "report", signed.REPORT_ACTIONS),
    ):
        app.add_routes(
            signed.SignedFamily(platform, recorder, family, prefix, push_due, upstream).routes(actions)
        )
    # Set when the server begins to stop: the long-polls and event streams answer at once
    # (503), a scripted delay ends, instead of holding the stop until their timeout.
    stopping = app[STOPPING_KEY] = asyncio.Event()
    events = EventStream(platform.events, views, stopping)
    control = [
        *links_routes(platform.links, views),
        *ControlApi(platform, read, push, metrics.render, steering, recorder.contract.expect).routes(),
        *ConsoleApi(platform, read, views, recorder.contract.expect).routes(),
        *ScenarioApi(scenarios, metrics.codes, read.report_states()).routes(),
        *InspectApi(read, recorder, views).routes(),
        *WaitApi(read, platform.events, views, stopping).routes(),
        *ui_routes(),
        *events.routes(),
        *(drift_routes(upstream.drift) if upstream is not None else []),
    ]
    # The real platform's pushes come without the control API's credentials: not guarded.
    pushes = push_routes(upstream) if upstream is not None else []
    app.add_routes(json_routes([*guard(control, control_auth), *pushes], platform.committed))

    async def shutdown(_: web.Application) -> None:
        stopping.set()

    app.on_shutdown.append(shutdown)

    async def startup(_: web.Application) -> None:
        await on_startup()

    async def cleanup(_: web.Application) -> None:
        await on_cleanup()

    app.on_startup.append(startup)
    app.on_cleanup.append(cleanup)
    return app
