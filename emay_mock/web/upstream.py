"""The web edge's other answer, for an account with `upstream:` or `replay:`
(docs/upstream.md): the request forwarded to the real platform as it came and its answer
returned as it went (passthrough; shadow also compares it with the mock's own verdict), or
the answer taken from a recording (replay). Every family's requests of such an account come
here instead of to the family's own answer (`Family.handler`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
from aiohttp import web

from emay_mock.observe import drift as shapes
from emay_mock.observe.drift import DriftBook
from emay_mock.observe.journal import Entry, redact
from emay_mock.observe.recording import RecordFile, Replayer, read, without_secrets
from emay_mock.platform.accounts import Account
from emay_mock.platform.forwarded import Accepted, Forwarded
from emay_mock.platform.service import Platform
from emay_mock.protocol import envelope, payloads, secure_api, simple_api
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.envelope import dump_json
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.fields import Fields
from emay_mock.protocol.notes import Notes
from emay_mock.protocol.send import SendOrder, validate
from emay_mock.settings import SHADOW, UpstreamSettings
from emay_mock.web.edge import STOPPING_KEY, Family, too_large
from emay_mock.web.jsonapi import reply
from emay_mock.web.signed import check_signed, read_params

log = logging.getLogger("emay_mock.upstream")

SUCCESS = ResultCode.SUCCESS.value
# The request headers that matter to the platform (§2.1): everything else stays here.
FORWARDED_HEADERS = ("appId", "encode", "gzip", "Content-Type")
PULLS = {"getReport": "report", "getMo": "mo", "getShortLink": "click"}
_SIMPLE_SENDS = {("simple", "sendSMS"), ("simple", "sendPersonalitySMS"), ("voice", "sendSMS")}
_FORM = "application/x-www-form-urlencoded"


class UpstreamFailed(Exception):
    """The upstream gave no answer to pass on: down, too slow, not HTTP, or too large."""


class Upstream:
    def __init__(
        self,
        platform: Platform,
        forwarded: Forwarded,
        drift: DriftBook,
        record: RecordFile | None,
        max_body: int,
        journal: Callable[[Entry], Any] | None = None,
    ) -> None:
        """`record`: where every upstream exchange is appended (`serve --record`), if anywhere;
        `journal`: keeps the entry of each push the platform makes to the mock."""
        self.platform = platform
        self.journal = journal
        self.forwarded = forwarded
        self.drift = drift
        self.record = record
        self.max_body = max_body
        self.session: aiohttp.ClientSession | None = None
        self._replays: dict[str, tuple[float, Replayer]] = {}
        self._announced: set[tuple[str, str]] = set()  # (appId, url) said once in the log

    async def start(self) -> None:
        if self.session is None:
            # No cookies kept between requests, no proxy from the environment: each request goes
            # to the platform as the client sent it.
            self.session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())

    async def stop(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None
        if self.record is not None:
            self.record.close()

    # -- the edge's choice ------------------------------------------------------------------

    async def answer(
        self, family: Family, request: web.Request, entry: Entry, action: Any
    ) -> web.StreamResponse:
        """Forward, replay, or (an account that does neither) the family's own answer."""
        account = self.platform.accounts.get(await _app_id(family.family, request) or "")
        spec = None if account is None else account.spec
        if account is None or spec is None or (spec.upstream is None and spec.replay is None):
            return await family._run(request, entry, action)
        if spec.upstream is not None:
            return await self._forward(family, request, entry, action, account, spec.upstream)
        assert spec.replay is not None
        return await self._replay(family, request, entry, action, account, spec.replay)

    # -- passthrough and shadow -------------------------------------------------------------

    async def _forward(
        self, family: Family, request: web.Request, entry: Entry, action: Any, account: Account,
        up: UpstreamSettings,
    ) -> web.StreamResponse:  # fmt: skip
        entry.app_id = account.app_id
        where = up.shown_url
        shown: dict[str, Any] = {"mode": up.mode, "url": where}
        entry.upstream = shown
        # Said when it begins: a test's mock has no start banner.
        if (account.app_id, where) not in self._announced:
            self._announced.add((account.app_id, where))
            log.warning(
                "appId %s forwards to %s (%s): real messages, real cost", account.app_id, where, up.mode
            )
        body, form = await _body(request)
        decoded = await _decode(
            family.family, request, body, account, self.platform.settings.max_inflated_bytes
        )
        if decoded.request is not None:
            entry.request = redact(decoded.request)
        if decoded.problem is not None:
            shown["note"] = decoded.problem
        verdict = None
        if up.mode == SHADOW:
            # Before the platform answers: the mock's verdict on its state as the request found it.
            verdict = await self._verdict(family.family, entry, request, body, account)
        started = time.perf_counter()
        try:
            status, headers, answer = await self._send(request, body, form, up)
        except UpstreamFailed as exc:
            why = _scrubbed(str(exc), up.url)
            shown["error"] = why
            entry.reason = {"reason": f"upstream {where}: {why}; the client's connection was closed"}
            entry.http_status = 0
            self.drift.exchange(up.mode, "failed")
            self._write(entry, decoded, up.mode, started, error=why)
            log.warning("upstream %s for appId %s: %s", where, account.app_id, why)
            return closed(request)
        entry.http_status = status
        result, plain = _decode_answer(family.family, status, headers, answer, account, decoded, shown)
        entry.code = result
        shown["latencyMs"] = round((time.perf_counter() - started) * 1000, 3)
        self.drift.exchange(up.mode, "answered")
        if result == SUCCESS:
            self._learn(family.family, entry, decoded, plain)
        if verdict is not None and status == 200:  # a failing platform is not a different one
            self._compare(family.family, entry, verdict, result, plain, shown)
        self._write(entry, decoded, up.mode, started, status=status, result=result, answer=plain)
        kept = {k: v for k, v in headers.items() if k.lower() in ("result", "content-type")}
        out = web.Response(status=status, body=answer)
        for key, value in kept.items():  # `result` as the platform spelled it: Java reads it so
            out.headers[key] = value
        return out

    async def _send(
        self, request: web.Request, body: bytes, form: list[tuple[str, str]] | None, up: UpstreamSettings
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {
            name: value for name in FORWARDED_HEADERS if (value := request.headers.get(name)) is not None
        }
        data: Any = body
        if form is not None:  # a multipart form, forwarded as the plain form it carries
            data = form
            headers["Content-Type"] = _FORM
        url = up.url.rstrip("/") + request.path_qs
        # A stop does not wait for the platform: the request ends as a failed one.
        exchange = asyncio.ensure_future(self._exchange(request.method, url, data, headers, up))
        stopping = asyncio.ensure_future(request.app[STOPPING_KEY].wait())
        try:
            await asyncio.wait({exchange, stopping}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            exchange.cancel()
            raise
        finally:
            stopping.cancel()
        if not exchange.done():
            exchange.cancel()
            raise UpstreamFailed("the mock is stopping")
        return exchange.result()

    async def _exchange(
        self, method: str, url: str, data: Any, headers: dict[str, str], up: UpstreamSettings
    ) -> tuple[int, dict[str, str], bytes]:
        assert self.session is not None, "the upstream session starts with the server"
        try:
            async with self.session.request(
                method, url, data=data, headers=headers, allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=up.timeout_s),
            ) as response:  # fmt: skip
                answer = await _capped(response, self.max_body)
                return response.status, dict(response.headers), answer
        except TimeoutError:
            raise UpstreamFailed(f"no answer within timeoutSeconds {up.timeout_s:g}") from None
        except aiohttp.ClientConnectorError as exc:
            raise UpstreamFailed(f"cannot connect: {exc.os_error.strerror or exc.os_error}") from None
        except aiohttp.ClientError as exc:
            raise UpstreamFailed(f"not an HTTP answer: {type(exc).__name__}: {exc}") from None

    def _learn(self, family: str, entry: Entry, decoded: Decoded, plain: Any) -> None:
        """What the platform accepted: its messages (with its smsIds), its reports and MO."""
        endpoint, app_id = entry.endpoint, entry.app_id
        assert app_id is not None
        data = plain.get("data") if family in ("simple", "voice") and isinstance(plain, dict) else plain
        clock = self.platform.clock
        if endpoint in secure_api.SEND_MAPPERS or (family, endpoint) in _SIMPLE_SENDS:
            items = data if isinstance(data, list) else [data]
            accepted = _accepted(
                family, endpoint, decoded, items, self.platform.settings.rules.max_recipients
            )
            self.forwarded.accepted(
                app_id, f"/{_PREFIXES[family]}/{endpoint}", accepted, entry.at, clock.now_ms()
            )
        elif endpoint == "getReport" and isinstance(data, list):
            self.forwarded.reported(data, clock.now_ms())
        elif endpoint == "getMo" and isinstance(data, list):
            self.forwarded.replied(app_id, data, clock.now_ms())

    def _compare(
        self, family: str, entry: Entry, verdict: tuple[str, Any], result: str | None, plain: Any,
        shown: dict[str, Any],
    ) -> None:  # fmt: skip
        mine_code, mine = verdict
        theirs = plain.get("data") if family in ("simple", "voice") and isinstance(plain, dict) else plain
        found = []
        if mine_code != result:
            found.append(f"result: mock {mine_code}, upstream {result}")
        elif result == SUCCESS and family != "report":
            found += shapes.differences(mine, theirs, items=entry.endpoint in PULLS)
        shown["drift"] = found
        if found:
            self.drift.add(
                entry,
                found,
                {"result": mine_code, "answer": shapes.shown(mine)},
                {"result": result, "answer": theirs},
            )

    def _write(
        self, entry: Entry, decoded: Decoded, mode: str, started: float, *, status: int | None = None,
        result: str | None = None, answer: Any = None, error: str | None = None,
    ) -> None:  # fmt: skip
        if self.record is None:
            return
        exchange: dict[str, Any] = {
            "at": entry.at, "appId": entry.app_id, "family": entry.family, "endpoint": entry.endpoint,
            "method": entry.method, "mode": mode, "request": without_secrets(decoded.request),
            "gzip": decoded.gzip_on, "encode": decoded.charset, "status": status, "result": result,
            "answer": answer, "latencyMs": round((time.perf_counter() - started) * 1000, 3),
        }  # fmt: skip
        if error is not None:
            exchange["error"] = error
        try:
            self.record.write(exchange)
        except (OSError, ValueError) as exc:  # a full disk must not stop the answer
            log.error("cannot write to the recording %s: %s", self.record.path, exc)

    # -- the platform's pushes ---------------------------------------------------------------

    async def relay_push(
        self, request: web.Request, body: bytes, account: Account, kind: str, shown: dict[str, Any]
    ) -> tuple[int, str]:
        """The push, as it came, to the account's own push URL; its answer, for the platform."""
        push = account.spec.push
        url = None if push is None else push.url_for(kind)
        if push is None or not url:
            shown["relayedTo"] = None
            return 200, "success"  # kept here: nobody else to tell
        shown["relayedTo"] = url
        headers = {n: v for n in FORWARDED_HEADERS if (v := request.headers.get(n)) is not None}
        assert self.session is not None, "the upstream session starts with the server"
        try:
            async with self.session.post(
                url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=push.timeout_s)
            ) as response:
                text = (await _capped(response, self.max_body)).decode("utf-8", "replace")
                return response.status, text
        except (TimeoutError, aiohttp.ClientError, UpstreamFailed) as exc:
            shown["error"] = f"relay to {url} failed: {type(exc).__name__}"
            return 502, "the account's push URL did not answer"

    def write_push(self, entry: Entry, decoded: Decoded, status: int, text: str) -> None:
        started = time.perf_counter() - entry.latency_ms / 1000
        self._write(entry, decoded, "push", started, status=status, result=entry.code, answer=text)

    # -- the mock's own verdict (shadow) ----------------------------------------------------

    async def _verdict(
        self, family: str, entry: Entry, request: web.Request, body: bytes, account: Account
    ) -> tuple[str, Any] | None:
        """The result code the mock would give and an answer of the shape it would have,
        changing nothing (no message stored, nothing charged, no scenario asked); None where
        it cannot say (a template send: the templates are the platform's)."""
        platform = self.platform
        notes = Notes()
        try:
            platform.gate.admit(account.app_id, request.remote, notes)
            if family == "secure":
                data, _, _ = envelope.decode_request(
                    body, account.key, gzip_on=_gzip_on(request), charset=request.headers.get("encode"),
                    inflate_limit=platform.settings.max_inflated_bytes,
                )  # fmt: skip
                platform.gate.check_window(
                    account, notes, data, body, entry.endpoint, entry.at, submits=False
                )
                return _secure_verdict(platform, account, entry, data, notes)
            # The parameters and checks as the family's own path reads and makes them.
            params = (await read_params(request, notes)).merged
            check_signed(platform, account, family, params, notes)
            return _signed_verdict(platform, account, entry, family, params, notes)
        except EmayError as exc:
            return exc.code.value, None

    # -- replay ------------------------------------------------------------------------------

    async def _replay(
        self, family: Family, request: web.Request, entry: Entry, action: Any, account: Account, path: str
    ) -> web.StreamResponse:
        entry.app_id = account.app_id
        body, _ = await _body(request)
        decoded = await _decode(
            family.family, request, body, account, self.platform.settings.max_inflated_bytes
        )
        replayer = self._replayer(path)
        exchange = (
            None
            if decoded.request is None
            else replayer.answer(family.family, entry.endpoint, decoded.request)
        )
        if exchange is None:
            entry.upstream = {
                "mode": "replay", "file": path, "matched": False,
                "note": "not in the recording: answered by the mock itself",
            }  # fmt: skip
            self.drift.exchange("replay", "unmatched")
            return await family._run(request, entry, action)
        entry.upstream = {"mode": "replay", "file": path, "matched": True, "recordedAt": exchange.get("at")}
        entry.request = redact(decoded.request)
        self.drift.exchange("replay", "matched")
        error = exchange.get("error")
        if error is not None:
            entry.reason = {
                "reason": f"replayed: the recorded exchange had no answer ({error}); connection closed"
            }
            entry.http_status = 0
            return closed(request)
        status, result, answer = int(exchange["status"]), exchange.get("result"), exchange.get("answer")
        entry.code = result
        entry.http_status = status
        if family.family == "secure":
            out = b""
            if result == SUCCESS and answer is not None:
                out = envelope.encode_response(
                    answer,
                    account.key,
                    gzip_on=decoded.gzip_on,
                    charset=envelope.resolve_charset(decoded.charset),
                )
            response = web.Response(status=status, body=out)
            if result is not None:
                response.headers["result"] = result
            return response
        if family.family == "report":
            return web.Response(status=status, text=str(answer if answer is not None else result or ""))
        text = dump_json(answer if answer is not None else {"code": result})
        return web.Response(
            status=status, body=text.encode("utf-8"), content_type="application/json", charset="utf-8"
        )

    def _replayer(self, path: str) -> Replayer:
        """The recording as a replay reads it: read again when the file changed."""
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            mtime = -1.0
        held = self._replays.get(path)
        if held is None or held[0] != mtime:
            exchanges, problems = read(path)
            for problem in problems[:10]:
                log.warning("replay: %s", problem)
            held = self._replays[path] = (mtime, Replayer.of(exchanges))
        return held[1]


def _scrubbed(text: str, url: str) -> str:
    """An error's text without the URL's user and password, should it quote the URL."""
    netloc = urlsplit(url).netloc
    return text.replace(netloc.rsplit("@", 1)[0] + "@", "") if "@" in netloc else text


def closed(request: web.Request) -> web.StreamResponse:
    """What a network failure looks like to the client: the connection closed, no answer."""
    transport = request.transport
    if transport is not None:
        transport.close()
    return web.Response(status=204)  # aiohttp drops what is written to a closed transport


async def _capped(response: aiohttp.ClientResponse, cap: int) -> bytes:
    """The answer's body, refused beyond `cap` bytes (the cap of request bodies)."""
    length = response.content_length
    if length is not None and length > cap:
        raise UpstreamFailed(f"answer of {length} bytes, over the {cap}-byte cap")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > cap:
                raise UpstreamFailed(f"answer over the {cap}-byte cap")
            chunks.append(chunk)
    except aiohttp.ClientPayloadError as exc:
        raise UpstreamFailed(f"the answer's body broke off: {exc}") from None
    return b"".join(chunks)


# -- reading the request and the answer ---------------------------------------------------

_PREFIXES = {"secure": "inter", "simple": "simpleinter", "voice": "voice", "report": "report"}


class Decoded:
    """A forwarded request as the mock reads it (for the journal, the recording, the ledger):
    the secure family's decrypted JSON, or the signed families' parameters without the sign."""

    __slots__ = ("charset", "gzip_on", "problem", "request")

    def __init__(self, request: dict[str, Any] | None, gzip_on: bool = False, charset: str | None = None,
                 problem: str | None = None) -> None:  # fmt: skip
        self.request = request
        self.gzip_on = gzip_on
        self.charset = charset
        self.problem = problem


def _gzip_on(request: web.Request) -> bool:
    return request.headers.get("gzip", "").strip().lower() == "on"


def _is_multipart(request: web.Request) -> bool:
    return (request.headers.get("Content-Type") or "").split(";")[0].strip().lower() == "multipart/form-data"


async def _body(request: web.Request) -> tuple[bytes, list[tuple[str, str]] | None]:
    """The body as received; for a multipart form, the fields it carries instead."""
    if _is_multipart(request):
        form = await request.post()
        return b"", [(k, v) for k, v in form.items() if isinstance(v, str)]
    if not request.body_exists:
        return b"", None
    try:
        return await request.read(), None
    except web.HTTPRequestEntityTooLarge:
        raise too_large(request) from None


async def _params(request: web.Request) -> dict[str, str]:
    """Query and form merged, the body's winning (as the signed families read them)."""
    merged = dict(request.query)
    if _is_multipart(request):
        form = await request.post()
        merged.update({k: v for k, v in form.items() if isinstance(v, str)})
    elif request.body_exists:
        raw = await request.read()
        if raw:
            with contextlib.suppress(ValueError):  # too many fields: the family's own reading says so
                merged.update(
                    parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=2000)
                )
    return merged


async def _app_id(family: str, request: web.Request) -> str | None:
    if family == "secure":
        return request.headers.get("appId")
    app_id = request.query.get("appId")
    if app_id is None and request.method == "POST":
        app_id = (await _params(request)).get("appId")
    return app_id


async def _decode(family: str, request: web.Request, body: bytes, account: Account, inflate: int) -> Decoded:
    if family != "secure":
        return Decoded(without_secrets(await _params(request)))
    gzip_on, charset = _gzip_on(request), request.headers.get("encode")
    try:
        data, _, _ = envelope.decode_request(
            body, account.key, gzip_on=gzip_on, charset=charset, inflate_limit=inflate
        )
    except EmayError as exc:
        return Decoded(
            None, gzip_on, charset, f"the request does not decode with the account's key: {exc.reason}"
        )
    return Decoded(data, gzip_on, charset)


def _decode_answer(
    family: str, status: int, headers: dict[str, str], answer: bytes, account: Account, decoded: Decoded,
    shown: dict[str, Any],
) -> tuple[str | None, Any]:  # fmt: skip
    """The upstream's result code and its decoded answer (None where there is none to read)."""
    if status != 200:
        shown["note"] = f"the upstream answered HTTP {status}"
        return None, answer[:500].decode("utf-8", "replace")
    if family == "secure":
        result = next((v for k, v in headers.items() if k.lower() == "result"), None)
        if result != SUCCESS or not answer:
            return result, None
        try:
            charset = envelope.resolve_charset(decoded.charset)
            return result, envelope.decode_response(
                answer, account.key, gzip_on=decoded.gzip_on, charset=charset
            )
        except (EmayError, ValueError, OSError, EOFError) as exc:
            shown["note"] = f"the answer does not decrypt with the account's key: {type(exc).__name__}"
            return result, None
    text = answer.decode("utf-8", "replace")
    if family == "report":
        return text.strip(), text.strip()
    try:
        plain = json.loads(text)
    except ValueError:
        shown["note"] = "the answer is not JSON"
        return None, text[:500]
    code = plain.get("code") if isinstance(plain, dict) else None
    return (code if isinstance(code, str) else None), plain


def _accepted(family: str, endpoint: str, decoded: Decoded, items: list[Any], limit: int) -> list[Accepted]:
    """A forwarded send's messages: the answer's smsIds, with what the request said of each
    recipient (content, customSmsId, extendedCode) where the mock can read it."""
    order: SendOrder | None = None
    if decoded.request is not None:
        try:
            order = _order(family, endpoint, decoded.request, Notes(), limit)
        except EmayError:
            order = None
    recipients = order.recipients if order is not None else []
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not item.get("smsId"):
            continue
        rc = recipients[i] if len(recipients) == len(items) else None
        content = (rc.content if rc is not None else None) or str(
            (decoded.request or {}).get("content") or ""
        )
        out.append(
            Accepted(
                mobile=str(item.get("mobile") or (rc.mobile if rc is not None else "") or ""),
                sms_id=str(item["smsId"]),
                content=content,
                custom_sms_id=None if item.get("customSmsId") is None else str(item["customSmsId"]),
                extended_code=None if rc is None else rc.extended_code,
                template_id=None if order is None else order.template_id,
            )
        )
    return out


def _order(family: str, endpoint: str, request: dict[str, Any], notes: Notes, limit: int) -> SendOrder:
    if family == "secure":
        return secure_api.SEND_MAPPERS[endpoint](request, notes, limit)
    fields = simple_api.fields_of(request, notes)
    if family == "voice":
        return simple_api.voice_send(fields)
    if endpoint == "sendPersonalitySMS":
        return simple_api.send_personality(list(request.items()), fields, limit)
    return simple_api.send_sms(fields, limit)


# -- the mock's verdict, endpoint by endpoint ------------------------------------------------

_SMS_ID = "0" * 20  # an smsId's shape, as the mock issues them (20 digits)
_TEMPLATE_ID = "0" * 18


def _sent(platform: Platform, account: Account, entry: Entry, order: SendOrder, notes: Notes) -> Any:
    """A send's verdict: the rules and the balance, nothing stored; the answer's shape."""
    cost = validate(order, platform.settings.rules, entry.at, notes)
    if cost > account.balance:
        raise EmayError(ResultCode.ERROR_BALANCE, f"costs {cost}, balance {account.balance}")
    return [payloads.send_result(rc.mobile or "", _SMS_ID, rc.custom_sms_id) for rc in order.recipients]


def _pull_item(platform: Platform, kind: str, app_id: str) -> dict[str, Any]:
    """One item of a pull, as the mock shapes it; the customer's own values loose."""
    now, tz = platform.clock.wall_ms(), platform.tz
    if kind == "report":
        item = payloads.report(mobile="13800000000", sms_id=_SMS_ID, custom_sms_id=None, state="DELIVRD",
                               receive_ms=now, submit_ms=now, extended_code=None, tz=tz)  # fmt: skip
        return {**item, "customSmsId": shapes.TEXT_OR_NULL, "extendedCode": shapes.TEXT_OR_NULL,
                "mobile": shapes.ANY_TEXT, "state": shapes.ANY_TEXT, "desc": shapes.ANY_TEXT}  # fmt: skip
    if kind == "mo":
        item = payloads.mo(mobile="13800000000", content="", mo_ms=now, extended_code=None, tz=tz)
        return {
            **item,
            "mobile": shapes.ANY_TEXT,
            "content": shapes.ANY_TEXT,
            "extendedCode": shapes.TEXT_OR_NULL,
        }
    item = payloads.click(
        mobile=None, access_ms=now, equipment="", browser="", long_link="", access_address="",
        user_agent="", app_id=app_id, tz=tz,
    )  # fmt: skip
    loose = {
        k: shapes.ANY_TEXT
        for k in ("equipment", "browser", "longLink", "accessAddress", "userAgent", "appId")
    }
    return {**item, **loose, "mobile": shapes.TEXT_OR_NULL}


def _secure_verdict(
    platform: Platform, account: Account, entry: Entry, data: dict[str, Any], notes: Notes
) -> tuple[str, Any] | None:
    endpoint = entry.endpoint
    limit = platform.settings.rules.max_recipients
    if endpoint in secure_api.SEND_MAPPERS:
        order = secure_api.SEND_MAPPERS[endpoint](data, notes, limit)
        if order.template_id is not None:
            return None  # the template is the platform's: the mock cannot fill it
        answer = _sent(platform, account, entry, order, notes)
        return SUCCESS, answer[0] if endpoint == "sendSingleSMS" else answer
    if endpoint == "getBalance":
        Fields(data, notes, known=secure_api.WINDOW_FIELDS)
        return SUCCESS, {"balance": account.balance}
    if endpoint in PULLS:
        secure_api.pull_number(Fields(data, notes, known=("number", *secure_api.WINDOW_FIELDS)))
        return SUCCESS, [_pull_item(platform, PULLS[endpoint], account.app_id)]
    if endpoint == "createTemplateSMS":
        secure_api.template_content(data, notes)
        return SUCCESS, {"templateId": _TEMPLATE_ID}
    template_id = secure_api.template_id_only(data, notes)
    if endpoint == "deleteTemplateSMS":
        return SUCCESS, {"templateId": template_id, "code": "true"}
    return SUCCESS, {"templateId": template_id, "status": "1"}


def _signed_verdict(
    platform: Platform, account: Account, entry: Entry, family: str, params: dict[str, str], notes: Notes
) -> tuple[str, Any]:
    fields = simple_api.fields_of(params, notes)
    endpoint = entry.endpoint
    limit = platform.settings.rules.max_recipients
    if (family, endpoint) in _SIMPLE_SENDS:
        answer = _sent(platform, account, entry, _order(family, endpoint, params, notes, limit), notes)
        return SUCCESS, answer[0] if family == "voice" else answer
    if endpoint == "getBalance":
        simple_api.no_params(fields)
        return SUCCESS, {"balance": account.balance}
    if endpoint == "retrieveReport":
        simple_api.retrieve_range(fields, platform.clock.wall_ms(), platform.tz)
        return SUCCESS, None
    simple_api.pull_number(fields)
    return SUCCESS, [_pull_item(platform, "mo" if endpoint == "getMo" else "report", account.app_id)]


# -- the platform's pushes, relayed -------------------------------------------------------------

PUSH_KINDS = {"report": "reports", "mo": "mos"}


def _pushed_items(body: bytes, content_type: str | None, account: Account, kind: str) -> list[Any]:
    """A push's items: the plain form's `reports=`/`mos=`, or the encrypted body (gzip or not)."""
    if (content_type or "").split(";")[0].strip().lower() == _FORM:
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        items = json.loads(form.get(PUSH_KINDS[kind], "[]"))
    else:
        plain = envelope.aes_decrypt(account.key, body)
        if plain.startswith(b"\x1f\x8b"):
            plain = envelope.gunzip(plain, 64 * 1024 * 1024)
        items = json.loads(plain.decode("utf-8"))
    return items if isinstance(items, list) else []


def push_routes(upstream: Upstream) -> list[web.RouteDef]:
    """Where the real platform's pushes can be pointed, for an account that forwards: each is
    read into what the platform accepted, recorded, and relayed to the account's own push URL
    (answered `success` when it has none)."""

    async def relay(request: web.Request) -> web.Response:
        app_id, kind = request.match_info["appId"], request.match_info["kind"]
        account = upstream.platform.accounts.get(app_id)
        if kind not in PUSH_KINDS:
            return reply({"error": "kind must be report or mo"}, 404)
        if account is None or account.spec.upstream is None:
            return reply({"error": f"no account with upstream: has appId {app_id!r}"}, 404)
        body = await request.read()
        entry = Entry("push", kind, request.method, request.remote, upstream.platform.clock.wall_ms(), app_id,
                      request.headers.get("Content-Type"))  # fmt: skip
        shown: dict[str, Any] = {"mode": "push", "url": account.spec.upstream.shown_url}
        entry.upstream = shown
        try:
            items = _pushed_items(body, entry.content_type, account, kind)
        except (EmayError, ValueError, OSError, RecursionError) as exc:
            items = []
            shown["note"] = f"the push does not decode with the account's key: {type(exc).__name__}"
        entry.request = redact(items)
        now = upstream.platform.clock.now_ms()
        if kind == "report":
            upstream.forwarded.reported(items, now)
        else:
            upstream.forwarded.replied(app_id, items, now)
        started = time.perf_counter()
        status, text = await upstream.relay_push(request, body, account, kind, shown)
        entry.http_status, entry.code = status, text.strip()[:40] or None
        entry.latency_ms = (time.perf_counter() - started) * 1000
        decoded = Decoded({PUSH_KINDS[kind]: items})
        upstream.write_push(entry, decoded, status, text)
        if upstream.journal is not None:
            upstream.journal(entry)
        return web.Response(status=status, text=text)

    return [web.post("/_mock/upstream/push/{appId}/{kind}", relay)]


# -- the drift report ---------------------------------------------------------------------------


def drift_routes(drift: DriftBook) -> list[web.RouteDef]:
    async def report(request: web.Request) -> web.Response:
        app_id = request.query.get("appId") or None
        found = drift.report(app_id)
        counts = drift.counts
        total = sum(n for (app, _), n in counts.items() if app_id is None or app == app_id)
        return reply({"drift": [d.as_dict() for d in found], "count": total, "dropped": drift.dropped})

    return [web.get("/_mock/drift", report)]
