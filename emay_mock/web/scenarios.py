"""Scenarios through the control API: load, list, read, remove, and their coverage."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from emay_mock.protocol.codes import ReportState, ResultCode
from emay_mock.scenarios.engine import ScenarioBook
from emay_mock.scenarios.loader import MAX_BYTES, ScenarioError, parse
from emay_mock.web.jsonapi import ApiError, reply


class ScenarioApi:
    def __init__(
        self, book: ScenarioBook, codes: Callable[[], Mapping[str, int]], states: Mapping[str, int]
    ) -> None:
        """`codes`: the result codes answered so far (read when asked); `states`: final reports
        produced, by state."""
        self.book = book
        self.codes = codes
        self.states = states
        self._loaded = 0

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/_mock/scenarios", self.list),
            web.post("/_mock/scenarios", self.load),
            web.get("/_mock/scenarios/coverage", self.coverage),
            web.get("/_mock/scenarios/{name}", self.get),
            web.delete("/_mock/scenarios/{name}", self.remove),
        ]

    async def list(self, request: web.Request) -> web.Response:
        book = self.book
        return reply({"scenarios": [book.describe(s) for s in book.scenarios]})

    async def load(self, request: web.Request) -> web.Response:
        """The body is the scenario file (YAML, or JSON which is YAML); `?name=` names it."""
        raw = await request.read()
        if len(raw) > MAX_BYTES:
            raise ApiError(413, f"a scenario is at most {MAX_BYTES} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(400, "the scenario must be UTF-8 text") from None
        self._loaded += 1
        name = request.query.get("name")
        fallback = name or f"scenario-{self._loaded}"
        try:
            scenario = parse(text, f"api:{fallback}", default_name=fallback)
        except ScenarioError as exc:
            raise ApiError(
                400, "invalid scenario: nothing of it was applied", problems=exc.problems
            ) from None
        if name:
            scenario.name = name
            for rule in scenario.rules:
                rule.scenario = name
        replaced = self.book.load(scenario)
        return reply(
            {"scenario": self.book.describe(scenario), "replaced": replaced},
            200 if replaced else 201,
        )

    async def get(self, request: web.Request) -> web.Response:
        scenario = self.book.get(request.match_info["name"])
        if scenario is None:
            raise ApiError(404, f"no scenario {request.match_info['name']!r}")
        return reply({**self.book.describe(scenario), "text": scenario.text})

    async def remove(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if not self.book.remove(name):
            raise ApiError(404, f"no scenario {name!r}")
        return reply({"removed": name})

    async def coverage(self, request: web.Request) -> web.Response:
        """Each rule and how often it fired; which codes and states the run produced, and which never."""
        answered = self.codes()
        codes: dict[str, int] = {c.value: answered.get(c.value, 0) for c in ResultCode}
        states: dict[str, int] = {s.value: self.states.get(s.value, 0) for s in ReportState}
        coverage = self.book.coverage()
        body: dict[str, Any] = {
            "rules": coverage,
            "resultCodes": codes,
            "reportStates": states,
            "neverProduced": {
                "resultCodes": [c for c, n in codes.items() if n == 0],
                "reportStates": [s for s, n in states.items() if n == 0],
                "rules": [f"{r['scenario']}/{r['rule']}" for r in coverage if r["fired"] == 0],
            },
        }
        return reply(body)
