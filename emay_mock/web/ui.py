"""The sandbox web UI: static HTML, CSS and JavaScript from the package, served under /_mock/ui/."""

from __future__ import annotations

from functools import cache
from importlib import resources

from aiohttp import web

UI_PATH = "/_mock/ui/"

# Only these files are served: a request names one of them or gets 404, so no path a client
# sends is ever joined onto the file system.
_ASSETS = {
    "index.html": "text/html",
    "ui.css": "text/css",
    "ui.js": "text/javascript",
    "favicon.svg": "image/svg+xml",
}


@cache
def _asset(name: str) -> bytes:
    return resources.files("emay_mock").joinpath("web", "static", name).read_bytes()


def _serve(name: str) -> web.Response:
    # no-cache: the browser revalidates, so an upgraded mock never shows a stale UI.
    return web.Response(
        body=_asset(name),
        content_type=_ASSETS[name],
        charset="utf-8" if _ASSETS[name].startswith("text/") else None,
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


def ui_routes() -> list[web.RouteDef]:
    async def to_ui(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(UI_PATH)

    async def index(request: web.Request) -> web.Response:
        return _serve("index.html")

    async def asset(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in _ASSETS:
            raise web.HTTPNotFound(text=f"no UI file {name!r}\n")
        return _serve(name)

    return [
        web.get("/", to_ui, allow_head=False),
        web.get(UI_PATH.rstrip("/"), to_ui, allow_head=False),
        web.get(UI_PATH, index, allow_head=False),
        web.get(UI_PATH + "{name}", asset, allow_head=False),
    ]
