"""The md5-signed families: /simpleinter/* (§2.2), /voice/*, and /report/retrieveReport (§2.4).

Parameters come from the query string, a form body, or both (merged; the body wins), by
GET or POST. Order of checks (docs/protocol.md#check-order): appId -> client IP -> rate -> timestamp ->
sign -> the family's service -> fields -> balance. Simple and voice answer JSON
`{"code", "data"}`; retrieveReport answers the bare code as text. Always HTTP 200.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from emay_mock.observe.journal import Entry, redact
from emay_mock.observe.recorder import Recorder
from emay_mock.platform.accounts import Account
from emay_mock.platform.service import Platform
from emay_mock.protocol import sign, simple_api
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.envelope import dump_json
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.fields import Fields
from emay_mock.protocol.notes import Notes, Observation
from emay_mock.web.edge import Diverter, Family, note_content_type, read_body

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_PARAMS = 2000


@dataclass
class Params:
    """The request's parameters: merged (body over query), and in arrival order."""

    merged: dict[str, str]
    pairs: list[tuple[str, str]]


# Each endpoint: decode its parameters, make one platform call, shape the answer's data.
Action = Callable[[Platform, Account, Entry, Fields, Params], Any]


async def read_params(request: web.Request, notes: Notes) -> Params:
    query = list(request.query.items())
    body: list[tuple[str, str]] = []
    ctype = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            await read_body(request)  # raises the family's ERROR_PARAMS
            raise
        except ValueError as exc:
            raise EmayError(ResultCode.ERROR_PARAMS, f"multipart body cannot be read: {exc}") from None
        body = [(k, v) for k, v in form.items() if isinstance(v, str)]
    elif request.body_exists:  # (read already when an upstream account made the edge look for its appId)
        raw = await read_body(request)
        if raw:
            if ctype != FORM_TYPES[0]:
                note_content_type(notes, request.headers.get("Content-Type"), FORM_TYPES)
            try:
                # The documented charset is UTF-8; a wrong one shows as U+FFFD, never a crash.
                body = parse_qsl(
                    raw.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=MAX_PARAMS
                )
            except ValueError as exc:
                raise EmayError(ResultCode.ERROR_PARAMS, f"form body: {exc}") from None
    if len(query) > MAX_PARAMS:
        raise EmayError(ResultCode.ERROR_PARAMS, f"more than {MAX_PARAMS} query parameters")
    merged: dict[str, str] = {}
    for key, value in query:
        merged.setdefault(key, value)
    from_body: set[str] = set()
    for key, value in body:
        if key in from_body:
            continue
        if key in merged:
            notes.observe(Observation.PARAM_IN_QUERY_AND_BODY, f"{key} in both query and body: body wins")
        merged[key] = value
        from_body.add(key)
    return Params(merged, query + body)


def _json(code: str, data: Any = None, *, with_data: bool = False) -> web.Response:
    payload: dict[str, Any] = {"code": code}
    if with_data:
        payload["data"] = data
    return web.Response(
        body=dump_json(payload).encode("utf-8"), content_type="application/json", charset="utf-8"
    )


def _text(code: str) -> web.Response:
    return web.Response(text=code, content_type="text/plain", charset="utf-8")


def check_signed(
    platform: Platform, account: Account, family: str, merged: dict[str, str], notes: Notes
) -> None:
    """A signed request's checks once its account is known: the timestamp within its window,
    the sign, and the account's service for the family (voice, retrieveReport)."""
    timestamp = merged.get("timestamp")
    sign.check_timestamp(timestamp, platform.clock.wall_ms(), platform.settings.timestamp_skew_s, platform.tz)
    assert timestamp is not None
    sign.check_sign(account.app_id, account.spec.secret_key, timestamp, merged.get("sign"), notes)
    if family == "voice" and not account.spec.voice:
        raise EmayError(ResultCode.ERROR_NO_VOICE_SERVICE, f"account {account.app_id} has voice: false")
    if family == "report" and not account.spec.retrieve_report:
        raise EmayError(
            ResultCode.ERROR_NO_RETRIEVE_SERVICE, f"account {account.app_id} has retrieveReport: false"
        )


class SignedFamily(Family):
    """One md5-signed family; `family` is simple, voice or report."""

    def __init__(
        self,
        platform: Platform,
        recorder: Recorder,
        family: str,
        prefix: str,
        push_due: Callable[[], Awaitable[None]],
        diverter: Diverter | None = None,
    ) -> None:
        super().__init__(platform, recorder, push_due, diverter)
        self.family = family
        self.prefix = prefix

    def routes(self, actions: dict[str, Action]) -> list[web.RouteDef]:
        out: list[web.RouteDef] = []
        for name, action in actions.items():
            handler = self.handler(name, action)
            out += [web.get(f"/{self.prefix}/{name}", handler, allow_head=False),
                    web.post(f"/{self.prefix}/{name}", handler)]  # fmt: skip
        return out

    def _refuse(self, exc: EmayError) -> web.Response:
        return _text(exc.code.value) if self.family == "report" else _json(exc.code.value)

    async def _run(self, request: web.Request, entry: Entry, action: Action) -> web.StreamResponse:
        platform = self.platform
        notes = entry.notes
        params = await read_params(request, notes)
        entry.request = redact(params.merged)
        app_id = entry.app_id = params.merged.get("appId")
        account = platform.gate.admit(app_id, entry.remote, notes)
        check_signed(platform, account, self.family, params.merged, notes)
        fields = simple_api.fields_of(params.merged, notes)
        data = await self._perform(request, action, self.family == "voice", account, entry, fields, params)
        if self.durable:
            await platform.committed()
        entry.code = ResultCode.SUCCESS.value
        if self.family == "report":
            return _text(ResultCode.SUCCESS.value)
        return _json(ResultCode.SUCCESS.value, data, with_data=True)


# -- actions ------------------------------------------------------------------------------


def _send(build: Callable[[Fields, Params, int], Any]) -> Action:
    def action(platform: Platform, account: Account, entry: Entry, fields: Fields, params: Params) -> Any:
        return platform.submit(account, entry, build(fields, params, platform.settings.rules.max_recipients))

    return action


def _pull(kind: str) -> Action:
    def action(platform: Platform, account: Account, entry: Entry, fields: Fields, params: Params) -> Any:
        return platform.pull(account, entry, kind, simple_api.pull_number(fields))

    return action


def _balance(platform: Platform, account: Account, entry: Entry, fields: Fields, params: Params) -> Any:
    simple_api.no_params(fields)
    return {"balance": platform.balance(account, entry)}


def _retrieve(platform: Platform, account: Account, entry: Entry, fields: Fields, params: Params) -> Any:
    start, end, sms_ids = simple_api.retrieve_range(fields, platform.clock.wall_ms(), platform.tz)
    platform.retrieve(account, entry, start, end, sms_ids)
    return None


SIMPLE_ACTIONS: dict[str, Action] = {
    "sendSMS": _send(lambda f, p, limit: simple_api.send_sms(f, limit)),
    "sendPersonalitySMS": _send(
        lambda f, p, limit: simple_api.send_personality(list(p.merged.items()), f, limit)
    ),
    "getReport": _pull("report"),
    "getMo": _pull("mo"),
    "getBalance": _balance,
}

VOICE_ACTIONS: dict[str, Action] = {
    "sendSMS": _send(lambda f, p, limit: simple_api.voice_send(f)),
    "getReport": _pull("voice-report"),
    "getBalance": _balance,
}

REPORT_ACTIONS: dict[str, Action] = {"retrieveReport": _retrieve}
