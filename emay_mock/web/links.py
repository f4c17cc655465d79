"""Short URLs the mock serves itself: GET records a click and redirects (302) to the long URL."""

from __future__ import annotations

from aiohttp import web

from emay_mock.platform.links import PATH_PREFIX, Links
from emay_mock.web.jsonapi import ApiError, body_object, reply, text_field
from emay_mock.web.views import Views

# Who can say it made a simulated click: a script (the default) or the UI. A real browser's
# click is "http", a scenario's "scenario": never claimed by a request.
SIMULATED_BY = ("api", "console")


def links_routes(links: Links, views: Views) -> list[web.RouteDef]:
    async def follow(request: web.Request) -> web.StreamResponse:
        code = request.match_info["code"]
        click = await links.click(code, request.headers.get("User-Agent"), source="http")
        if click is None:
            return web.Response(status=404, text=f"no short link {code}\n")
        raise web.HTTPFound(click.long_link)

    async def simulate(request: web.Request) -> web.Response:
        """POST /_mock/shortlinks/{code}/click {"userAgent"?, "source"?}: a click without a
        browser, recorded as made by `source` ("api", or "console" from the UI)."""
        data = await body_object(request, optional=True)
        agent = text_field(data, "userAgent", required=False)
        source = text_field(data, "source", required=False) or "api"
        if source not in SIMULATED_BY:
            raise ApiError(400, f"source must be one of {', '.join(SIMULATED_BY)}, got {source[:40]!r}")
        code = request.match_info["code"]
        click = await links.click(code, agent, source=source)
        if click is None:
            raise ApiError(404, f"no short link {code!r}")
        return reply({"click": views.click(click)}, 201)

    return [
        web.get(PATH_PREFIX + "{code}", follow, allow_head=False),
        web.post("/_mock/shortlinks/{code}/click", simulate),
    ]
