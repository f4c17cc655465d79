"""/_mock/openapi.json describes exactly the control routes the app serves."""

from __future__ import annotations

import aiohttp
from openapi_spec_validator import validate

from emay_mock.server import MockServer

CONTROL_PREFIXES = ("/_mock/", "/s/")


def live_routes(mock: MockServer) -> set[tuple[str, str]]:
    routes = set()
    for route in mock.web_app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method in ("HEAD", "*") or not path.startswith(CONTROL_PREFIXES):
            continue  # "*": the JSON 404/405 for any other path (tests/wire/test_control_api.py)
        routes.add((route.method.lower(), path))
    return routes


async def test_the_document_is_valid_openapi_3(mock: MockServer, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{mock.url}/_mock/openapi.json") as resp:
        assert resp.status == 200
        document = await resp.json()
    validate(document)
    assert document["openapi"].startswith("3.")


async def test_every_route_is_documented_and_every_documented_route_is_served(
    mock: MockServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{mock.url}/_mock/openapi.json") as resp:
        document = await resp.json()
    documented = {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "delete", "patch")
    }
    served = live_routes(mock)
    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"
