"""The secure family, /inter/* (§2.1): AES-enveloped JSON in, `result` header and AES body out."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any

from aiohttp import web

from emay_mock.observe.journal import MAX_TEXT, Entry, redact
from emay_mock.observe.recorder import Recorder
from emay_mock.platform.context import Context
from emay_mock.platform.sending import Accepted
from emay_mock.platform.service import Platform
from emay_mock.protocol import envelope, payloads, secure_api
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.fields import Fields
from emay_mock.protocol.notes import Notes, Observation
from emay_mock.web.edge import (
    Call,
    expected_content_type,
    note_content_type,
    open_call,
    origin,
    read_body,
    respond,
    resumed,
)

# The official Java SDK reads this header through a case-sensitive map: it must be lower case.
RESULT_HEADER = "result"
# What real clients label the binary body with: Java/PHP form-urlencoded, Node octet-stream, Go none.
OBSERVED_CONTENT_TYPES = ("application/x-www-form-urlencoded", "application/octet-stream", "")

# Each endpoint: decode its fields, make one platform call, shape the answer.
Action = Callable[[Platform, Context, Fields], Any]
SUCCESS = ResultCode.SUCCESS.value
READ_ONLY = frozenset({"getBalance", "getReport", "getMo", "getShortLink", "queryTemplateSMS"})


def _gzip_on(headers: Mapping[str, str]) -> bool:
    return headers.get("gzip", "").strip().lower() == "on"


def _refuse(exc: EmayError) -> web.Response:
    # HTTP 200, an empty body, the code in the header: Java clients throw on any other status.
    return web.Response(body=b"", headers={RESULT_HEADER: exc.code.value})


def _send(endpoint: str) -> Action:
    mapper = secure_api.SEND_MAPPERS[endpoint]

    def action(platform: Platform, ctx: Context, fields: Fields) -> Any:
        accepted = platform.submit(ctx, mapper(fields, platform.settings.rules.max_recipients))
        return accepted

    return action


def _get_balance(platform: Platform, ctx: Context, fields: Fields) -> Any:
    Fields(fields.data, fields.notes, known=secure_api.WINDOW_FIELDS)
    return {"balance": platform.balance(ctx)}


def _pull(kind: str) -> Action:
    def action(platform: Platform, ctx: Context, fields: Fields) -> Any:
        fields = Fields(fields.data, fields.notes, known=("number", *secure_api.WINDOW_FIELDS))
        return platform.pull(ctx, kind, secure_api.pull_number(fields))

    return action


def _create_template(platform: Platform, ctx: Context, fields: Fields) -> Any:
    return {"templateId": platform.create_template(ctx, secure_api.template_content(fields))}


def _delete_template(platform: Platform, ctx: Context, fields: Fields) -> Any:
    template_id = secure_api.template_id_only(fields)
    deleted = platform.delete_template(ctx, template_id)
    return {"templateId": template_id, "code": "true" if deleted else "false"}


def _query_template(platform: Platform, ctx: Context, fields: Fields) -> Any:
    template_id = secure_api.template_id_only(fields)
    # The vendor's table types status as String: "0", "1", "2" or "-1".
    return {"templateId": template_id, "status": str(platform.query_template(ctx, template_id))}


ACTIONS: dict[str, Action] = {
    "sendSingleSMS": _send("sendSingleSMS"),
    "sendBatchSMS": _send("sendBatchSMS"),
    "sendBatchOnlySMS": _send("sendBatchOnlySMS"),
    "sendPersonalitySMS": _send("sendPersonalitySMS"),
    "sendPersonalityAllSMS": _send("sendPersonalityAllSMS"),
    "getBalance": _get_balance,
    "getReport": _pull("report"),
    "getMo": _pull("mo"),
    "createTemplateSMS": _create_template,
    "deleteTemplateSMS": _delete_template,
    "queryTemplateSMS": _query_template,
    "sendTemplateNormalSMS": _send("sendTemplateNormalSMS"),
    "sendTemplateVariableSMS": _send("sendTemplateVariableSMS"),
    "sendShortLinkSMS": _send("sendShortLinkSMS"),
    "getShortLink": _pull("click"),
}


class SecureFamily:
    def __init__(
        self, platform: Platform, recorder: Recorder, push_due: Callable[[], Awaitable[None]]
    ) -> None:
        self.platform = platform
        self.recorder = recorder
        self.push_due = push_due

    def routes(self, actions: dict[str, Action]) -> list[web.RouteDef]:
        return [web.post(f"/inter/{name}", self._handler(name, action)) for name, action in actions.items()]

    def _handler(self, endpoint: str, action: Action) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.StreamResponse:
            call = open_call(request, "secure", endpoint, self.platform.clock.wall_ms())
            work = lambda: self._run(call, action)  # noqa: E731
            return await respond(call, work, _refuse, self.recorder.record, self.platform.committed)

        if endpoint != "sendSingleSMS" or not self.platform.settings.plain_lane:
            return handle

        async def handle_single(request: web.Request) -> web.StreamResponse:
            answer = await self._plain_single(request)
            return answer if answer is not None else await handle(request)

        return handle_single

    async def _plain_single(self, request: web.Request) -> web.StreamResponse | None:
        """sendSingleSMS as clients send it nearly always, in one straight step: the same
        answer, message, journal entry, notes and counts as the general path, at a fraction of
        its cost (docs/DECISIONS.md, "The plain lane"). None as soon as anything is not plain,
        before anything has changed: `_run` then takes the request from the start."""
        started = time.perf_counter()
        platform = self.platform
        headers = request.headers
        app_id = headers.get("appId")
        account = platform.accounts.get(app_id or "")
        charset = headers.get("encode")
        content_type = headers.get("Content-Type")
        length = request.content_length
        if account is None or charset is None:
            return None  # refused, or a note to write
        if not expected_content_type(content_type, OBSERVED_CONTENT_TYPES):
            return None  # a note to write
        if length is None or length > platform.settings.max_body_bytes or "Content-Encoding" in headers:
            return None  # the body's own limits, checked while it is read
        at = platform.clock.wall_ms()
        body = await request.read()
        gzip_on = _gzip_on(headers)
        try:
            codec = envelope.resolve_charset(charset)
        except EmayError:
            return None
        payload = None
        if codec == "utf-8":
            payload = envelope.decode_plain(
                body, account.key, gzip_on=gzip_on, inflate_limit=platform.settings.max_inflated_bytes
            )
        if payload is None:
            return None
        notes = Notes(strict=account.spec.strict)
        plain = secure_api.plain_single(payload, notes, platform.settings.rules)
        if plain is None:
            return None
        row = platform.submit_plain(account, request.remote, plain, body)
        if row is None:
            return None
        answer = payloads.send_result(row.mobile, row.sms_id, row.custom_sms_id)
        out = envelope.encode_response(answer, account.key, gzip_on=gzip_on, charset=codec)
        if platform.durable:
            await platform.committed()
        # The lane's fields are numbers, nulls, "" or the strings below: within the journal's
        # bounds, the request is kept as it is, as `redact` would keep it.
        short = max(len(plain.mobile), len(plain.content), len(plain.custom_sms_id or "")) <= MAX_TEXT
        entry = Entry("secure", "sendSingleSMS", request.method, request.remote, at, app_id, content_type,
                      payload if short else redact(payload), SUCCESS, None, notes)  # fmt: skip
        entry.issued(int(row.sms_id), 1)
        entry.latency_ms = (time.perf_counter() - started) * 1000
        self.recorder.record(entry)
        return web.Response(body=out, headers={RESULT_HEADER: SUCCESS})

    async def _run(self, call: Call, action: Action) -> web.StreamResponse:
        platform = self.platform
        settings = platform.settings
        request = call.request
        entry = call.entry
        # The raw body whatever the Content-Type: Java/PHP label it form-urlencoded, Node
        # octet-stream, Go sends none. It is never form-parsed.
        note_content_type(call, OBSERVED_CONTENT_TYPES)
        app_id = request.headers.get("appId")
        entry.app_id = app_id
        account = platform.gate.admit(app_id, request.remote, entry.notes)
        call.ctx = ctx = platform.context(
            account, "secure", entry.endpoint, entry.notes, partial(origin, request)
        )
        body = await read_body(call)
        gzip_on = _gzip_on(request.headers)
        if "encode" not in request.headers:
            entry.notes.observe(Observation.MISSING_ENCODE, "no encode header: UTF-8 assumed")
        payload, charset = envelope.decode_request(
            body,
            account.key,
            gzip_on=gzip_on,
            charset=request.headers.get("encode"),
            inflate_limit=settings.max_inflated_bytes,
        )
        entry.request = redact(payload)
        fields = Fields(payload, entry.notes)
        platform.gate.check_window(
            account, entry.endpoint, fields, body, submits=entry.endpoint not in READ_ONLY
        )
        result = await resumed(lambda: action(platform, ctx, fields))
        if isinstance(result, Accepted):  # a send: one result, or a list for the batch sends
            if result.early:
                await self.push_due()
            result = result.results[0] if entry.endpoint == "sendSingleSMS" else result.results
        out = envelope.encode_response(result, account.key, gzip_on=gzip_on, charset=charset)
        entry.code = SUCCESS
        return web.Response(body=out, headers={RESULT_HEADER: SUCCESS})
