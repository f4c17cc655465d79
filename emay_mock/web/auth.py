"""HTTP Basic authentication on the control API and the UI, for a sandbox shared beyond loopback.

Applied per route, like `jsonapi.json_routes`, so the Emay endpoints keep running without a
middleware. The short links (/s/…) stay open, as on the real platform, and so does
/_mock/health, which says nothing but "ok" and is what container health checks ask.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from emay_mock.control_auth import REALM, Credentials
from emay_mock.web.jsonapi import Handler, reply

OPEN_PATHS = frozenset({"/_mock/health"})


def _protected(path: str) -> bool:
    return path.startswith("/_mock") and path not in OPEN_PATHS


def guard(routes: Iterable[web.RouteDef], credentials: Credentials | None) -> list[web.RouteDef]:
    """The routes, those under /_mock/ answering 401 unless the request carries the credentials."""
    if credentials is None:
        return list(routes)

    def wrap(handler: Handler) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            if not credentials.allows(request.headers.get("Authorization")):
                response = reply({"error": "authentication required (emay-mock serve --control-auth)"}, 401)
                response.headers["WWW-Authenticate"] = REALM
                return response
            return await handler(request)

        return handle

    return [
        web.RouteDef(r.method, r.path, wrap(r.handler) if _protected(r.path) else r.handler, r.kwargs)
        for r in routes
    ]
