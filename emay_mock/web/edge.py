"""What every Emay endpoint family shares at the HTTP edge: the journal entry of each
request, the body cap, scripted HTTP faults, and turning a refusal into the family's wire
form. A family says how to answer (`_run`) and how to refuse (`_refuse`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from emay_mock.observe.journal import Entry
from emay_mock.observe.recorder import Recorder
from emay_mock.platform.service import Platform
from emay_mock.protocol import payloads
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.notes import Notes, Observation
from emay_mock.scenarios.outcomes import Fault, FaultNow

# The body cap, read by the edge when it refuses a body as too large.
MAX_BODY_KEY = web.AppKey("max_body_bytes", int)
# Set when the server begins to stop: what waits in a handler (a scripted delay, a long-poll,
# an event stream) ends at once, so that a stop never waits for a timeout.
STOPPING_KEY = web.AppKey("stopping", asyncio.Event)
_BODY_CAP = "max-body-bytes"  # the rule of a body refused as too large


class Diverter(Protocol):
    """Answers the requests of the accounts the platform lists as diverted (web.upstream)."""

    async def answer(
        self, family: Family, request: web.Request, entry: Entry, action: Any
    ) -> web.StreamResponse: ...


class Family:
    """One family of Emay endpoints (`family`: secure | simple | voice | report)."""

    family = ""

    def __init__(
        self,
        platform: Platform,
        recorder: Recorder,
        push_due: Callable[[], Awaitable[None]],
        diverter: Diverter | None = None,
    ) -> None:
        """`push_due`: runs what is due now, pushes included (a report a scenario wants pushed
        before its send is answered); `diverter`: answers for the accounts that forward
        upstream or replay a recording."""
        self.platform = platform
        self.record = recorder.record
        self.push_due = push_due
        self.diverter = diverter
        # A successful answer leaves once what its loop turn changed is in the file (the group
        # commit): nothing is answered SUCCESS that a crash could still take back.
        self.durable = platform.durable
        self.max_inflated = platform.settings.max_inflated_bytes  # what a gzip body may inflate to

    def handler(self, endpoint: str, action: Any) -> Callable[[web.Request], Any]:
        family, clock, record = self.family, self.platform.clock, self.record
        run, refuse = self._run, self._refuse
        # Empty unless an account forwards or replays: then its requests go to the diverter.
        diverted, diverter = self.platform.accounts.diverted, self.diverter

        async def handle(request: web.Request) -> web.StreamResponse:
            started = time.perf_counter()
            entry = Entry(family, endpoint, request.method, request.remote, clock.wall_ms(),
                          None, request.headers.get("Content-Type"))  # fmt: skip
            try:
                if diverted and diverter is not None:
                    response = await diverter.answer(self, request, entry, action)
                else:
                    response = await run(request, entry, action)
                if entry.fault is not None and entry.fault.when == "after":
                    response = await _after(request, entry, entry.fault, response)
            except EmayError as exc:
                entry.code = exc.code.value
                entry.reason = exc.explain()
                response = refuse(exc)
                if exc.detail.get("rule") == _BODY_CAP:
                    # The rest of the body must not be drained (and, with a Content-Encoding,
                    # inflated) to keep the connection alive: it is closed.
                    response.force_close()
            except FaultNow as now:
                entry.reason = {
                    "reason": f"scripted fault {now.fault.kind} by {now.fault.rule}; nothing processed"
                }
                if now.fault.latency_ms:
                    await pause(request, now.fault.latency_ms)
                response = _misbehave(request, entry, now.fault)
            entry.latency_ms = (time.perf_counter() - started) * 1000
            record(entry)
            return response

        return handle

    async def _run(self, request: web.Request, entry: Entry, action: Any) -> web.StreamResponse:
        """Answer the request (SUCCESS, with `entry.code` set), or raise its refusal."""
        raise NotImplementedError

    async def _perform(self, request: web.Request, action: Any, single: bool, *args: Any) -> Any:
        """The endpoint's one platform call (`action(platform, *args)`), a scripted latency
        played before it; a send's messages as the wire shows them (`single`: its one)."""
        try:
            result = action(self.platform, *args)
        except FaultNow as now:
            result = await played(request, now)
        if type(result) is not tuple:
            return result
        rows, early = result
        if early:
            await self.push_due()
        if single:
            return payloads.send_result(rows[0].mobile, rows[0].sms_id, rows[0].custom_sms_id)
        return [payloads.send_result(row.mobile, row.sms_id, row.custom_sms_id) for row in rows]

    def _refuse(self, exc: EmayError) -> web.StreamResponse:
        raise NotImplementedError


async def played(request: web.Request, now: FaultNow) -> Any:
    """A scripted `latency` before the work: its delay (a timer, not a worker), then the work.
    Any other fault goes on to the handler, which answers as the fault says."""
    if now.resume is None:
        raise now
    await pause(request, now.fault.latency_ms)
    return now.resume()


async def pause(request: web.Request, ms: int) -> None:
    """A scripted delay, cut short if the server stops meanwhile (then the answer goes at once)."""
    stopping = request.app[STOPPING_KEY]
    if not stopping.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), ms / 1000)


def origin(request: web.Request) -> str:
    """Where this mock is reached, for the short URLs it issues (unless publicUrl says otherwise)."""
    return f"{request.scheme}://{request.host}"


async def read_body(request: web.Request) -> bytes:
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large(request) from None


def too_large(request: web.Request) -> EmayError:
    """The refusal of a body over the cap (aiohttp stopped reading it)."""
    if request.headers.get("Content-Encoding"):
        _no_lingering(request)
    limit = request.app[MAX_BODY_KEY]
    return EmayError(ResultCode.ERROR_PARAMS, f"request body exceeds the {limit}-byte limit", rule=_BODY_CAP)


def _no_lingering(request: web.Request) -> None:
    """Close after the answer instead of draining the rest of the body.

    aiohttp drains an unread body for up to 10 s before closing ("lingering"), so that the
    client reads the answer before a reset. With a Content-Encoding, draining means inflating:
    a gzip bomb refused unread would still cost seconds of CPU. aiohttp has no public switch
    for one connection, hence the guarded private attribute.
    """
    protocol = request.protocol
    if hasattr(protocol, "_lingering_time"):
        protocol._lingering_time = 0.0


def expected_content_type(ctype: str | None, expected: tuple[str, ...]) -> bool:
    return (ctype or "").split(";")[0].strip().lower() in expected


def note_content_type(notes: Notes, ctype: str | None, expected: tuple[str, ...]) -> None:
    if not expected_content_type(ctype, expected):
        notes.observe(
            Observation.CONTENT_TYPE, f"Content-Type {ctype!r}" if ctype else "no Content-Type header"
        )


async def _after(
    request: web.Request, entry: Entry, fault: Fault, response: web.StreamResponse
) -> web.StreamResponse:
    """A fault scripted for after the work: the work is done (and committed); then the delay,
    and the answer, or the fault in its place."""
    if fault.latency_ms:
        await pause(request, fault.latency_ms)
    if fault.kind == "latency":
        return response
    return _misbehave(request, entry, fault)


def _misbehave(request: web.Request, entry: Entry, fault: Fault) -> web.StreamResponse:
    """Answer as a broken platform would: a 5xx, garbage bytes, nothing, or a reset."""
    if fault.kind == "status":
        entry.http_status = fault.status
        return web.Response(status=fault.status, text=f"{fault.status} scripted by {fault.rule}\n")
    entry.http_status = 0
    transport = request.transport
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
