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


def json_routes(
    routes: Iterable[web.RouteDef], committed: Callable[[], Awaitable[None]]
) -> list[web.RouteDef]:
    """The control API's routes as served: an ApiError becomes its JSON answer, and an answer
    waits for the commit of what its loop turn changed.

    Per route rather than as middleware, so that the Emay endpoints, which do both in their
    own edge, run without a middleware at all.
    """

    def wrap(handler: Handler) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            try:
                response = await handler(request)
            except ApiError as exc:
                return exc.response()
            await committed()
            return response

        return handle

    return [web.RouteDef(r.method, r.path, wrap(r.handler), r.kwargs) for r in routes]
