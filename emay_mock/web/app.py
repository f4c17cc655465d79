"""The aiohttp application: every family's routes on one app, sharing one MockServer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from emay_mock.web import secure, signed
from emay_mock.web.control import ControlApi
from emay_mock.web.events import EventStream
from emay_mock.web.inspect import InspectApi
from emay_mock.web.jsonapi import api_errors
from emay_mock.web.links import links_routes
from emay_mock.web.scenarios import ScenarioApi
from emay_mock.web.ui import ui_routes
from emay_mock.web.waits import WaitApi

if TYPE_CHECKING:
    from emay_mock.server import MockServer

MOCK_KEY = web.AppKey("mock", object)


def build_app(mock: MockServer) -> web.Application:
    app = web.Application(client_max_size=mock.settings.max_body_bytes, middlewares=[api_errors])
    app[MOCK_KEY] = mock
    app.add_routes(secure.SecureFamily(mock).routes(secure.ACTIONS))
    app.add_routes(signed.SignedFamily(mock, "simple", "simpleinter").routes(signed.SIMPLE_ACTIONS))
    app.add_routes(signed.SignedFamily(mock, "voice", "voice").routes(signed.VOICE_ACTIONS))
    app.add_routes(signed.SignedFamily(mock, "report", "report").routes(signed.REPORT_ACTIONS))
    app.add_routes(links_routes(mock))
    app.add_routes(ControlApi(mock).routes())
    app.add_routes(ScenarioApi(mock).routes())
    app.add_routes(InspectApi(mock).routes())
    app.add_routes(WaitApi(mock).routes())
    app.add_routes(ui_routes())
    events = EventStream(mock)
    app.add_routes(events.routes())
    app.on_shutdown.append(events.on_shutdown)

    async def on_startup(_: web.Application) -> None:
        await mock.start()

    async def on_cleanup(_: web.Application) -> None:
        await mock.stop()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app
