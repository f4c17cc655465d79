"""The secure family, /inter/* (§2.1): AES-enveloped JSON in, `result` header and AES body out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from emay_mock.observe.journal import redact
from emay_mock.protocol import envelope, secure_api
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.fields import Fields
from emay_mock.protocol.notes import Observation
from emay_mock.protocol.send import Recipient
from emay_mock.scenarios.outcomes import RequestFacts
from emay_mock.web.edge import Call, note_content_type, open_call, read_body, respond

if TYPE_CHECKING:
    from emay_mock.platform.accounts import Account
    from emay_mock.server import MockServer

# The official Java SDK reads this header through a case-sensitive map: it must be lower case.
RESULT_HEADER = "result"
# What real clients label the binary body with: Java/PHP form-urlencoded, Node octet-stream, Go none.
OBSERVED_CONTENT_TYPES = ("application/x-www-form-urlencoded", "application/octet-stream", "")

Action = Callable[[Call, "Account", Fields], Awaitable[Any]]
READ_ONLY = frozenset({"getBalance", "getReport", "getMo", "getShortLink", "queryTemplateSMS"})


def _refuse(exc: EmayError) -> web.Response:
    # HTTP 200, an empty body, the code in the header: Java clients throw on any other status.
    return web.Response(body=b"", headers={RESULT_HEADER: exc.code.value})


def _send(endpoint: str) -> Action:
    mapper = secure_api.SEND_MAPPERS[endpoint]

    async def action(call: Call, account: Account, fields: Fields) -> Any:
        mock = call.mock
        order = mapper(fields, mock.settings.rules.max_recipients)
        links = mock.sending.prepare(account, order, str(call.request.url.origin()))
        facts = RequestFacts("secure", endpoint, account.app_id, order.recipients, order.template_id)
        await call.consult(facts)
        results = await call.delivered(mock.sending.send(account, order, call.entry, facts, links))
        return results[0] if endpoint == "sendSingleSMS" else results

    return action


async def _get_balance(call: Call, account: Account, fields: Fields) -> Any:
    Fields(fields.data, fields.notes, known=secure_api.WINDOW_FIELDS)
    await call.consult(RequestFacts("secure", "getBalance", account.app_id))
    return {"balance": account.balance}


def _pull(kind: str, endpoint: str) -> Action:
    async def action(call: Call, account: Account, fields: Fields) -> Any:
        fields = Fields(fields.data, fields.notes, known=("number", *secure_api.WINDOW_FIELDS))
        number = secure_api.pull_number(fields)
        await call.consult(RequestFacts("secure", endpoint, account.app_id))
        mock = call.mock
        if kind == "report":
            return mock.sending.pull_reports(account, number)
        if kind == "click":
            return mock.links.pull(account, number)
        return mock.inbound.pull(account, number)

    return action


async def _create_template(call: Call, account: Account, fields: Fields) -> Any:
    content = secure_api.template_content(fields)
    facts = RequestFacts("secure", "createTemplateSMS", account.app_id, [Recipient(None, content)])
    await call.consult(facts)
    row = call.mock.templates.create(account, content, facts)
    return {"templateId": row.template_id}


async def _delete_template(call: Call, account: Account, fields: Fields) -> Any:
    template_id = secure_api.template_id_only(fields)
    await call.consult(RequestFacts("secure", "deleteTemplateSMS", account.app_id, template_id=template_id))
    deleted = call.mock.templates.delete(account, template_id)
    return {"templateId": template_id, "code": "true" if deleted else "false"}


async def _query_template(call: Call, account: Account, fields: Fields) -> Any:
    template_id = secure_api.template_id_only(fields)
    await call.consult(RequestFacts("secure", "queryTemplateSMS", account.app_id, template_id=template_id))
    # The vendor's table types status as String: "0", "1", "2" or "-1".
    return {"templateId": template_id, "status": str(call.mock.templates.status(account, template_id))}


ACTIONS: dict[str, Action] = {
    "sendSingleSMS": _send("sendSingleSMS"),
    "sendBatchSMS": _send("sendBatchSMS"),
    "sendBatchOnlySMS": _send("sendBatchOnlySMS"),
    "sendPersonalitySMS": _send("sendPersonalitySMS"),
    "sendPersonalityAllSMS": _send("sendPersonalityAllSMS"),
    "getBalance": _get_balance,
    "getReport": _pull("report", "getReport"),
    "getMo": _pull("mo", "getMo"),
    "createTemplateSMS": _create_template,
    "deleteTemplateSMS": _delete_template,
    "queryTemplateSMS": _query_template,
    "sendTemplateNormalSMS": _send("sendTemplateNormalSMS"),
    "sendTemplateVariableSMS": _send("sendTemplateVariableSMS"),
    "sendShortLinkSMS": _send("sendShortLinkSMS"),
    "getShortLink": _pull("click", "getShortLink"),
}


class SecureFamily:
    def __init__(self, mock: MockServer) -> None:
        self.mock = mock

    def routes(self, actions: dict[str, Action]) -> list[web.RouteDef]:
        return [web.post(f"/inter/{name}", self._handler(name, action)) for name, action in actions.items()]

    def _handler(self, endpoint: str, action: Action) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.StreamResponse:
            call = open_call(self.mock, request, "secure", endpoint)
            return await respond(call, lambda: self._run(call, action), _refuse)

        return handle

    async def _run(self, call: Call, action: Action) -> web.StreamResponse:
        mock = self.mock
        request = call.request
        entry = call.entry
        # The raw body whatever the Content-Type: Java/PHP label it form-urlencoded, Node
        # octet-stream, Go sends none. It is never form-parsed.
        note_content_type(call, OBSERVED_CONTENT_TYPES)
        app_id = request.headers.get("appId")
        entry.app_id = app_id
        account = mock.platform.admit(app_id, request.remote, entry.notes)
        call.account = account
        body = await read_body(call)
        gzip_on = request.headers.get("gzip", "").strip().lower() == "on"
        if "encode" not in request.headers:
            entry.notes.observe(Observation.MISSING_ENCODE, "no encode header: UTF-8 assumed")
        payload, charset = envelope.decode_request(
            body,
            account.key,
            gzip_on=gzip_on,
            charset=request.headers.get("encode"),
            inflate_limit=mock.settings.max_inflated_bytes,
        )
        entry.request = redact(payload)
        fields = Fields(payload, entry.notes)
        mock.platform.check_window(
            account, call.entry.endpoint, fields, body, submits=call.entry.endpoint not in READ_ONLY
        )
        result = await action(call, account, fields)
        out = envelope.encode_response(result, account.key, gzip_on=gzip_on, charset=charset)
        entry.code = ResultCode.SUCCESS.value
        return web.Response(body=out, headers={RESULT_HEADER: ResultCode.SUCCESS.value})
