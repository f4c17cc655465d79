"""What every Emay endpoint family shares at the HTTP edge: the body cap, the journal
entry, scripted HTTP faults, and turning a refusal into the family's wire form."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from emay_mock.observe.journal import Entry
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.notes import Observation
from emay_mock.scenarios.outcomes import Fault, RequestDecision, RequestFacts

if TYPE_CHECKING:
    from emay_mock.platform.accounts import Account
    from emay_mock.platform.sending import Accepted
    from emay_mock.server import MockServer


class FaultNow(Exception):
    """A scripted fault that replaces the answer before anything is processed."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.kind)
        self.fault = fault


@dataclass
class Call:
    """One request in flight: what handlers need, and what the journal will keep."""

    mock: MockServer
    request: web.Request
    entry: Entry
    account: Account | None = None
    decision: RequestDecision = field(default_factory=RequestDecision)
    # Set when the body was refused unread: the rest of it must not be drained (and, with a
    # Content-Encoding, inflated) to keep the connection alive; the connection is closed.
    close: bool = False

    async def consult(self, facts: RequestFacts) -> None:
        """Ask scenarios about this request, before anything changes.

        A fault `before` delays (a timer, not a worker) and may replace the answer; a
        scripted code is then raised as the refusal.
        """
        self.decision = decision = self.mock.platform.consult(facts, self.entry.rules)
        fault = decision.fault
        if fault is not None and fault.when == "before":
            self.entry.fault = fault.kind
            if fault.latency_ms:
                await asyncio.sleep(fault.latency_ms / 1000)
            if fault.kind != "latency":
                raise FaultNow(fault)
        if decision.code is not None:
            names = ", ".join(str(f["rule"]) for f in decision.fired if "code" in f["outcomes"])
            raise EmayError(decision.code, f"scripted by scenario rule {names}", rule="scenario")

    async def delivered(self, accepted: Accepted) -> list[dict[str, Any]]:
        """The send's answer; a scenario's `push: {early: true}` reports go out first."""
        if accepted.early:
            await self.mock.platform.scheduler.advance(0)
        return accepted.results


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
        call.close = True
        if call.request.headers.get("Content-Encoding"):
            _no_lingering(call.request)
        limit = call.mock.settings.max_body_bytes
        raise EmayError(
            ResultCode.ERROR_PARAMS, f"request body exceeds the {limit}-byte limit", rule="max-body-bytes"
        ) from None


def _no_lingering(request: web.Request) -> None:
    """Close after the answer instead of draining the rest of the body.

    aiohttp drains an unread body for up to 10 s before closing ("lingering"), so that the
    client reads the answer before a reset. With a Content-Encoding, draining means inflating:
    a 1 MB gzip bomb of 1 GiB cost 2.5 s of CPU after it was refused. aiohttp has no public
    switch for one connection, hence the guarded private attribute.
    """
    protocol = request.protocol
    if hasattr(protocol, "_lingering_time"):
        protocol._lingering_time = 0.0


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
    """Run a request: journal it, turn a refusal into the family's wire form, apply faults."""
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
        except FaultNow as now:
            entry.reason = {
                "reason": f"scripted fault {now.fault.kind} by {now.fault.rule}; nothing processed"
            }
            return await _misbehave(call, now.fault)
        fault = call.decision.fault
        if fault is not None and fault.when == "after":
            entry.fault = fault.kind
            if fault.latency_ms:
                await asyncio.sleep(fault.latency_ms / 1000)
            if fault.kind != "latency":
                return await _misbehave(call, fault)
        if call.close:
            response.force_close()
        return response
    finally:
        entry.latency_ms = (time.perf_counter() - started) * 1000
        call.mock.record(entry)


async def _misbehave(call: Call, fault: Fault) -> web.StreamResponse:
    """Answer as a broken platform would: a 5xx, garbage bytes, nothing, or a reset."""
    if fault.kind == "status":
        call.entry.http_status = fault.status
        return web.Response(status=fault.status, text=f"{fault.status} scripted by {fault.rule}\n")
    call.entry.http_status = 0
    transport = call.request.transport
    if transport is not None:
        if fault.kind == "garbage":
            transport.write(os.urandom(64))  # not HTTP at all
        elif fault.kind == "reset":
            sock = transport.get_extra_info("socket")
            if sock is not None:  # linger 0: close with RST, the peer sees "connection reset"
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.close()
    # aiohttp drops whatever is written to a closed transport.
    return web.Response(status=204)
