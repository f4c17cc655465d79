"""What every Emay endpoint family shares at the HTTP edge: the body cap, the journal
entry, scripted HTTP faults, and turning a refusal into the family's wire form."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web

from emay_mock.observe.journal import Entry
from emay_mock.platform.context import Context
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.notes import Observation
from emay_mock.scenarios.outcomes import Fault, FaultNow

# The body cap, read by the edge when it refuses a body as too large.
MAX_BODY_KEY = web.AppKey("max_body_bytes", int)
T = TypeVar("T")


@dataclass
class Call:
    """One request in flight: what handlers need, and what the journal will keep."""

    request: web.Request
    entry: Entry
    ctx: Context | None = None  # once the account is known: the platform's view of the request
    # Set when the body was refused unread: the rest of it must not be drained (and, with a
    # Content-Encoding, inflated) to keep the connection alive; the connection is closed.
    close: bool = False


def open_call(request: web.Request, family: str, endpoint: str, wall_ms: int) -> Call:
    entry = Entry(
        family=family,
        endpoint=endpoint,
        method=request.method,
        remote=request.remote,
        at=wall_ms,
        content_type=request.headers.get("Content-Type"),
    )
    return Call(request, entry)


def origin(request: web.Request) -> str:
    """Where this mock is reached, for the short URLs it issues (unless publicUrl says otherwise)."""
    return f"{request.scheme}://{request.host}"


async def read_body(call: Call) -> bytes:
    try:
        return await call.request.read()
    except web.HTTPRequestEntityTooLarge:
        call.close = True
        if call.request.headers.get("Content-Encoding"):
            _no_lingering(call.request)
        limit = call.request.app[MAX_BODY_KEY]
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


def expected_content_type(ctype: str | None, expected: tuple[str, ...]) -> bool:
    return (ctype or "").split(";")[0].strip().lower() in expected


def note_content_type(call: Call, expected: tuple[str, ...]) -> None:
    ctype = call.request.headers.get("Content-Type")
    if not expected_content_type(ctype, expected):
        call.entry.notes.observe(
            Observation.CONTENT_TYPE, f"Content-Type {ctype!r}" if ctype else "no Content-Type header"
        )


async def resumed(work: Callable[[], T]) -> T:
    """Run a platform call; a scripted `latency` fault before the work is played here (a
    timer, not a worker), then the work resumes. Any other fault goes on to `respond`."""
    try:
        return work()
    except FaultNow as now:
        if now.resume is None:
            raise
        await asyncio.sleep(now.fault.latency_ms / 1000)
        result: T = now.resume()
        return result


async def respond(
    call: Call,
    work: Callable[[], Awaitable[web.StreamResponse]],
    refuse: Callable[[EmayError], web.StreamResponse],
    record: Callable[[Entry], None],
    committed: Callable[[], Awaitable[None]],
) -> web.StreamResponse:
    """Run a request: journal it, turn a refusal into the family's wire form, apply faults.

    A successful answer waits for the commit of what its loop turn changed: nothing is
    answered SUCCESS that a crash could still take back.
    """
    started = time.perf_counter()
    entry = call.entry
    try:
        try:
            response = await work()
            await committed()
            entry.code = entry.code or ResultCode.SUCCESS.value
        except EmayError as exc:
            entry.code = exc.code.value
            entry.reason = exc.explain()
            response = refuse(exc)
        except FaultNow as now:
            entry.reason = {
                "reason": f"scripted fault {now.fault.kind} by {now.fault.rule}; nothing processed"
            }
            if now.fault.latency_ms:
                await asyncio.sleep(now.fault.latency_ms / 1000)
            return await _misbehave(call, now.fault)
        fault = call.ctx.fault if call.ctx is not None else None
        if fault is not None and fault.when == "after":
            if fault.latency_ms:
                await asyncio.sleep(fault.latency_ms / 1000)
            if fault.kind != "latency":
                return await _misbehave(call, fault)
        if call.close:
            response.force_close()
        return response
    finally:
        entry.latency_ms = (time.perf_counter() - started) * 1000
        ctx = call.ctx
        if ctx is not None:
            entry.rules = ctx.fired
            entry.fault = None if ctx.fault is None else ctx.fault.kind
            if ctx.sms_id_first is not None:
                entry.issued(ctx.sms_id_first, ctx.sms_id_count)
        record(entry)


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
