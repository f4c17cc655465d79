"""JSON in and out for the control API, with 4xx answers that say what was wrong."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from emay_mock.protocol.envelope import dump_json


def reply(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=dump_json(data).encode("utf-8"), status=status, content_type="application/json", charset="utf-8"
    )


# What a wait or an event stream answers when the server stops under it (503).
STOPPING = "the mock is stopping: ask again once it has started again"


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra

    def response(self) -> web.Response:
        return reply({"error": self.message, **self.extra}, self.status)


async def body_object(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        if optional:
            return {}
        raise ApiError(400, "a JSON object body is required")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, f"body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "body must be a JSON object")
    return data


def text_field(data: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise ApiError(400, f"{name} is required")
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"{name} must be a string")
    return value


def int_query(
    request: web.Request, name: str, default: int | None = None, *, lo: int = 0, hi: int = 10**19
) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"query parameter {name} must be an integer, got {raw[:40]!r}") from None
    if not lo <= value <= hi:
        raise ApiError(400, f"query parameter {name} must be between {lo} and {hi}")
    return value


def float_field(data: dict[str, Any], name: str) -> float:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ApiError(400, f"{name} must be a number")
    try:
        return float(value)
    except OverflowError:  # an integer literal of hundreds of digits
        raise ApiError(400, f"{name} is too large a number") from None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


CONTROL_PREFIX = "/_mock/"


def http_error(exc: web.HTTPException) -> web.Response:
    """aiohttp's HTTP error (404, 405, 413, ...) as the control API's JSON, its headers kept."""
    text = exc.text or ""
    default = f"{exc.status}: {exc.reason}"
    message = exc.reason.lower() if text.strip() == default else text.strip()
    response = reply({"error": message}, exc.status)
    for name, value in exc.headers.items():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response


async def _fallback(request: web.Request) -> web.StreamResponse:
    """A path under /_mock/ no route serves: 405 naming the methods if another serves the
    path, 404 otherwise."""
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource is not request.match_info.route.resource:
            allowed |= (await resource.resolve(request))[1]
    if not allowed:
        return reply({"error": f"no such path: {request.path} (the control API: /_mock/openapi.json)"}, 404)
    methods = ", ".join(sorted(allowed))
    response = reply({"error": f"{request.method} is not allowed on {request.path}; use {methods}"}, 405)
    response.headers["Allow"] = methods
    return response


def json_routes(
    routes: Iterable[web.RouteDef], committed: Callable[[], Awaitable[None]]
) -> list[web.RouteDef]:
    """The control API's routes as served: an ApiError becomes its JSON answer, so does an
    aiohttp HTTP error under /_mock/ (413 for a body too large), and an answer waits for the
    commit of what its loop turn changed. A last route answers any other path under /_mock/
    (404, or 405 when the path exists for another method) in JSON too.

    Per route rather than as middleware, so that the Emay endpoints, which do both in their
    own edge, run without a middleware at all.
    """

    def wrap(handler: Handler) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            try:
                response = await handler(request)
            except ApiError as exc:
                return exc.response()
            except web.HTTPException as exc:
                if exc.status < 400 or not request.path.startswith(CONTROL_PREFIX):
                    raise  # a redirect; a short link's page, opened in a browser
                return http_error(exc)
            await committed()
            return response

        return handle

    wrapped = [web.RouteDef(r.method, r.path, wrap(r.handler), r.kwargs) for r in routes]
    return [*wrapped, web.RouteDef("*", CONTROL_PREFIX + "{tail:.*}", _fallback, {})]
