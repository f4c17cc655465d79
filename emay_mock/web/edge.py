"""What every Emay endpoint family shares at the HTTP edge: the body cap, the journal
entry, one log line per request, and turning a refusal into the family's wire form."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from emay_mock.observe.journal import Entry
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.notes import Observation
from emay_mock.scenarios.outcomes import RequestDecision, RequestFacts

if TYPE_CHECKING:
    from emay_mock.platform.accounts import Account
    from emay_mock.server import MockServer


@dataclass
class Call:
    """One request in flight: what handlers need, and what the journal will keep."""

    mock: MockServer
    request: web.Request
    entry: Entry
    account: Account | None = None
    decision: RequestDecision = field(default_factory=RequestDecision)

    def consult(self, facts: RequestFacts) -> None:
        self.decision = self.mock.platform.consult(facts, self.entry.rules)


def open_call(mock: MockServer, request: web.Request, family: str, endpoint: str) -> Call:
    entry = Entry(
        family=family,
        endpoint=endpoint,
        method=request.method,
        remote=request.remote,
        at=mock.clock.wall_ms(),
        content_type=request.headers.get("Content-Type"),
    )
    return Call(mock, request, entry)


async def read_body(call: Call) -> bytes:
    try:
        return await call.request.read()
    except web.HTTPRequestEntityTooLarge:
        limit = call.mock.settings.max_body_bytes
        raise EmayError(
            ResultCode.ERROR_PARAMS, f"request body exceeds the {limit}-byte limit", rule="max-body-bytes"
        ) from None


def note_content_type(call: Call, expected: tuple[str, ...]) -> None:
    ctype = call.request.headers.get("Content-Type")
    base = (ctype or "").split(";")[0].strip().lower()
    if base not in expected:
        call.entry.notes.observe(
            Observation.CONTENT_TYPE, f"Content-Type {ctype!r}" if ctype else "no Content-Type header"
        )


async def respond(
    call: Call,
    work: Callable[[], Awaitable[web.StreamResponse]],
    refuse: Callable[[EmayError], web.StreamResponse],
) -> web.StreamResponse:
    """Run a request: journal it, and turn a refusal into the family's wire form."""
    started = time.perf_counter()
    entry = call.entry
    try:
        try:
            response = await work()
            entry.code = entry.code or ResultCode.SUCCESS.value
        except EmayError as exc:
            entry.code = exc.code.value
            entry.reason = exc.explain()
            response = refuse(exc)
        return response
    finally:
        entry.latency_ms = (time.perf_counter() - started) * 1000
        call.mock.record(entry)
