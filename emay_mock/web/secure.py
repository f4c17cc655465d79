"""The secure family, /inter/* (§2.1): AES-enveloped JSON in, `result` header and AES body out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from emay_mock.observe.journal import KEEP_WHOLE, Entry, redact
from emay_mock.platform.accounts import Account
from emay_mock.platform.service import Platform
from emay_mock.protocol import envelope, secure_api
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.fields import Fields
from emay_mock.protocol.notes import Observation
from emay_mock.web.edge import Family, note_content_type, origin, too_large

# The official Java SDK reads this header through a case-sensitive map: it must be lower case.
RESULT_HEADER = "result"
# What real clients label the binary body with: Java/PHP form-urlencoded, Node octet-stream, Go none.
OBSERVED_CONTENT_TYPES = ("application/x-www-form-urlencoded", "application/octet-stream", "")
# The same, as real clients' headers spell them (nothing to note): seen at once.
AS_SENT = frozenset({None, "application/x-www-form-urlencoded", "application/octet-stream"})

# Each endpoint: decode its fields, make one platform call, shape the answer. A send answers
# its messages (and whether a report must be pushed first), which the family shapes.
Action = Callable[[Platform, Account, Entry, dict[str, Any], web.Request], Any]
SUCCESS = ResultCode.SUCCESS.value
# aiohttp copies a response's headers into a CIMultiDict of its own: from one, at less cost.
_SUCCESS_HEADERS = CIMultiDict({RESULT_HEADER: SUCCESS})
READ_ONLY = frozenset({"getBalance", "getReport", "getMo", "getShortLink", "queryTemplateSMS"})


def _send(endpoint: str) -> Action:
    mapper = secure_api.SEND_MAPPERS[endpoint]
    links = endpoint == "sendShortLinkSMS"

    def action(
        platform: Platform, account: Account, entry: Entry, data: dict[str, Any], request: web.Request
    ) -> Any:
        order = mapper(data, entry.notes, platform.settings.rules.max_recipients)
        if links:
            order.base_url = origin(request)
        return platform.submit(account, entry, order)

    return action


def _get_balance(
    platform: Platform, account: Account, entry: Entry, data: dict[str, Any], _: web.Request
) -> Any:
    Fields(data, entry.notes, known=secure_api.WINDOW_FIELDS)
    return {"balance": platform.balance(account, entry)}


def _pull(kind: str) -> Action:
    def action(
        platform: Platform, account: Account, entry: Entry, data: dict[str, Any], _: web.Request
    ) -> Any:
        fields = Fields(data, entry.notes, known=("number", *secure_api.WINDOW_FIELDS))
        return platform.pull(account, entry, kind, secure_api.pull_number(fields))

    return action


def _create_template(
    platform: Platform, account: Account, entry: Entry, data: dict[str, Any], _: web.Request
) -> Any:
    content = secure_api.template_content(data, entry.notes)
    return {"templateId": platform.create_template(account, entry, content)}


def _delete_template(
    platform: Platform, account: Account, entry: Entry, data: dict[str, Any], _: web.Request
) -> Any:
    template_id = secure_api.template_id_only(data, entry.notes)
    deleted = platform.delete_template(account, entry, template_id)
    return {"templateId": template_id, "code": "true" if deleted else "false"}


def _query_template(
    platform: Platform, account: Account, entry: Entry, data: dict[str, Any], _: web.Request
) -> Any:
    template_id = secure_api.template_id_only(data, entry.notes)
    # The vendor's table types status as String: "0", "1", "2" or "-1".
    return {"templateId": template_id, "status": str(platform.query_template(account, entry, template_id))}


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


class SecureFamily(Family):
    family = "secure"

    def routes(self, actions: dict[str, Action]) -> list[web.RouteDef]:
        return [web.post(f"/inter/{name}", self.handler(name, action)) for name, action in actions.items()]

    def _refuse(self, exc: EmayError) -> web.StreamResponse:
        # HTTP 200, an empty body, the code in the header: Java clients throw on any other status.
        return web.Response(body=b"", headers={RESULT_HEADER: exc.code.value})

    async def _run(self, request: web.Request, entry: Entry, action: Action) -> web.StreamResponse:
        platform = self.platform
        headers = request.headers
        notes = entry.notes
        endpoint = entry.endpoint
        # The raw body whatever the Content-Type: Java/PHP label it form-urlencoded, Node
        # octet-stream, Go sends none. It is never form-parsed.
        if entry.content_type not in AS_SENT:
            note_content_type(notes, entry.content_type, OBSERVED_CONTENT_TYPES)
        app_id = entry.app_id = headers.get("appId")
        account = platform.gate.admit(app_id, entry.remote, notes)
        entry.app_id = account.app_id  # the same text, the account's (kept for good) rather than the header's
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise too_large(request) from None
        gzip_on = headers.get("gzip", "").strip().lower() == "on"
        charset = headers.get("encode")
        if charset is None:
            notes.observe(Observation.MISSING_ENCODE, "no encode header: UTF-8 assumed")
        data, codec, plain = envelope.decode_request(
            body, account.key, gzip_on=gzip_on, charset=charset, inflate_limit=self.max_inflated
        )
        # A small request is kept as its JSON text, read again when the entry is shown: one
        # object for the journal to hold and let go of, where the parsed request is many.
        if len(plain) > KEEP_WHOLE:
            entry.request = redact(data)
        else:
            entry.request = plain if codec == "utf-8" else data
        platform.gate.check_window(
            account, notes, data, body, endpoint, entry.at, submits=endpoint not in READ_ONLY
        )
        result = await self._perform(
            request, action, endpoint == "sendSingleSMS", account, entry, data, request
        )
        out = envelope.encode_response(result, account.key, gzip_on=gzip_on, charset=codec)
        if self.durable:
            await platform.committed()
        entry.code = SUCCESS
        return web.Response(body=out, headers=_SUCCESS_HEADERS)
