"""The control API's JSON edge: a refusal becomes its JSON answer, an answer waits for the commit."""

from __future__ import annotations

import json

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from emay_mock.web.jsonapi import ApiError, int_query, json_routes


async def test_a_route_answers_an_api_error_as_json_and_waits_for_the_commit_before_answering() -> None:
    events: list[str] = []

    async def committed() -> None:
        events.append("committed")

    async def ok(request: web.Request) -> web.StreamResponse:
        events.append("handled")
        return web.json_response({"ok": True})

    async def refused(request: web.Request) -> web.StreamResponse:
        raise ApiError(409, "still pending", batch=7)

    good, bad, last = json_routes([web.get("/ok", ok), web.get("/bad", refused)], committed)
    assert (last.method, last.path) == ("*", "/_mock/{tail:.*}")  # any other path under /_mock/
    response = await good.handler(make_mocked_request("GET", "/ok"))
    assert response.status == 200 and events == ["handled", "committed"]
    answer = await bad.handler(make_mocked_request("GET", "/bad"))
    assert isinstance(answer, web.Response) and answer.status == 409
    assert isinstance(answer.body, bytes)
    assert json.loads(answer.body) == {"error": "still pending", "batch": 7}
    assert events == ["handled", "committed"]  # a refusal changed nothing: no wait


@pytest.mark.parametrize(("raw", "expected"), [(None, 5), ("", 5), ("12", 12)])
def test_int_query_reads_integers_with_a_default(raw: str | None, expected: int) -> None:
    path = "/x" if raw is None else f"/x?n={raw}"
    assert int_query(make_mocked_request("GET", path), "n", 5) == expected


@pytest.mark.parametrize("raw", ["ten", "-1", "1000"])
def test_int_query_refuses_what_is_not_an_integer_in_bounds_with_a_400(raw: str) -> None:
    with pytest.raises(ApiError) as err:
        int_query(make_mocked_request("GET", f"/x?n={raw}"), "n", 5, lo=0, hi=100)
    assert err.value.status == 400
