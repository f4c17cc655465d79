"""Real async Emay clients, usable against the real platform too: `EmayClient` speaks the
secure family (§2.1), `SimpleClient` the md5-signed ones (§2.2, §2.4, voice).

    async with EmayClient("http://127.0.0.1:8999", app_id, secret_key) as emay:
        result = await emay.send_single_sms("13800000000", "【签名】您的验证码是 1234")
        reports = await emay.get_report()

Every method raises `EmayApiError` (with `.code`) when the platform answers anything but
SUCCESS; `call()` gives the raw answer for tests that want to look at it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp

from emay_mock.protocol import envelope
from emay_mock.protocol.sign import make_sign
from emay_mock.protocol.times import BEIJING, COMPACT_FORMAT, LONG_FORMAT

Sms = Mapping[str, Any]


class EmayApiError(Exception):
    def __init__(self, endpoint: str, code: str) -> None:
        super().__init__(f"{endpoint}: {code}")
        self.endpoint = endpoint
        self.code = code


@dataclass
class SecureAnswer:
    status: int
    code: str | None
    data: Any
    body: bytes
    headers: Mapping[str, str]


def _timer(value: str | datetime | None) -> str | None:
    if isinstance(value, datetime):
        return value.strftime(LONG_FORMAT)
    return value


def _clean(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if v is not None}


class EmayClient:
    def __init__(
        self,
        base_url: str,
        app_id: str,
        secret_key: str,
        *,
        gzip: bool = True,
        charset: str = "UTF-8",
        valid_period: int = 60,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self.secret_key = secret_key
        self.key = envelope.key_bytes(secret_key)
        self.gzip = gzip
        self.charset = charset
        self.valid_period = valid_period
        self._session = session
        self._own_session = session is None
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._last_request_time = 0

    async def __aenter__(self) -> EmayClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    # -- the envelope -------------------------------------------------------------------------

    def envelope(self, payload: Mapping[str, Any], *, request_time: int | None = None) -> bytes:
        if request_time is None:
            # Strictly increasing, so two identical requests in one millisecond differ on the
            # wire and are not taken for a replay.
            request_time = max(int(time.time() * 1000), self._last_request_time + 1)
            self._last_request_time = request_time
        body = {**_clean(payload), "requestTime": request_time, "requestValidPeriod": self.valid_period}
        return envelope.encode_request(body, self.key, gzip_on=self.gzip, charset=self.charset)

    def headers(self) -> dict[str, str]:
        headers = {"appId": self.app_id, "encode": self.charset}
        if self.gzip:
            headers["gzip"] = "on"
        return headers

    async def post(
        self, endpoint: str, body: bytes, headers: Mapping[str, str] | None = None
    ) -> SecureAnswer:
        """POST raw bytes to /inter/<endpoint> and decode the answer if it is SUCCESS."""
        async with self.session.post(
            f"{self.base_url}/inter/{endpoint}",
            data=body,
            headers=dict(self.headers() if headers is None else headers),
        ) as resp:
            raw = await resp.read()
            code = resp.headers.get("result")
            data = None
            if resp.status == 200 and code == "SUCCESS" and raw:
                data = envelope.decode_response(raw, self.key, gzip_on=self.gzip, charset=self.charset)
            return SecureAnswer(resp.status, code, data, raw, dict(resp.headers))

    async def call(self, endpoint: str, payload: Mapping[str, Any] | None = None) -> SecureAnswer:
        return await self.post(endpoint, self.envelope(payload or {}))

    async def _ok(self, endpoint: str, payload: Mapping[str, Any] | None = None) -> Any:
        answer = await self.call(endpoint, payload)
        if answer.code != "SUCCESS":
            raise EmayApiError(endpoint, answer.code or f"HTTP {answer.status}")
        return answer.data

    # -- sending ------------------------------------------------------------------------------

    async def send_single_sms(
        self,
        mobile: str,
        content: str,
        *,
        timer_time: str | datetime | None = None,
        custom_sms_id: str | None = None,
        extended_code: str | None = None,
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self._ok(
            "sendSingleSMS",
            {
                "mobile": mobile,
                "content": content,
                "timerTime": _timer(timer_time),
                "customSmsId": custom_sms_id,
                "extendedCode": extended_code,
            },
        )
        return result

    async def send_batch_sms(
        self,
        smses: Iterable[Sms],
        content: str,
        *,
        timer_time: str | datetime | None = None,
        extended_code: str | None = None,
    ) -> list[dict[str, Any]]:
        """smses: [{"mobile": ..., "customSmsId": ...}, ...]"""
        result: list[dict[str, Any]] = await self._ok(
            "sendBatchSMS",
            {
                "smses": [dict(s) for s in smses],
                "content": content,
                "timerTime": _timer(timer_time),
                "extendedCode": extended_code,
            },
        )
        return result

    async def send_batch_only_sms(
        self,
        mobiles: Iterable[str],
        content: str,
        *,
        timer_time: str | datetime | None = None,
        extended_code: str | None = None,
    ) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._ok(
            "sendBatchOnlySMS",
            {
                "mobiles": list(mobiles),
                "content": content,
                "timerTime": _timer(timer_time),
                "extendedCode": extended_code,
            },
        )
        return result

    async def send_personality_sms(
        self,
        smses: Iterable[Sms],
        *,
        timer_time: str | datetime | None = None,
        extended_code: str | None = None,
    ) -> list[dict[str, Any]]:
        """smses: [{"mobile": ..., "content": ..., "customSmsId": ...}, ...]"""
        result: list[dict[str, Any]] = await self._ok(
            "sendPersonalitySMS",
            {
                "smses": [dict(s) for s in smses],
                "timerTime": _timer(timer_time),
                "extendedCode": extended_code,
            },
        )
        return result

    async def send_personality_all_sms(self, smses: Iterable[Sms]) -> list[dict[str, Any]]:
        """smses: [{"mobile", "content", "customSmsId"?, "timerTime"?, "extendedCode"?}, ...]"""
        items = [{**s, "timerTime": _timer(s.get("timerTime"))} for s in smses]
        result: list[dict[str, Any]] = await self._ok("sendPersonalityAllSMS", {"smses": items})
        return result

    async def send_template_normal_sms(
        self,
        template_id: str,
        smses: Iterable[Sms],
        *,
        timer_time: str | datetime | None = None,
        extended_code: str | None = None,
    ) -> list[dict[str, Any]]:
        """smses: [{"mobile": ..., "customSmsId": ...}, ...]"""
        result: list[dict[str, Any]] = await self._ok(
            "sendTemplateNormalSMS",
            {
                "templateId": template_id,
                "smses": [dict(s) for s in smses],
                "timerTime": _timer(timer_time),
                "extendedCode": extended_code,
            },
        )
        return result

    async def send_template_variable_sms(
        self,
        template_id: str,
        smses: Iterable[Sms],
        *,
        timer_time: str | datetime | None = None,
        extended_code: str | None = None,
    ) -> list[dict[str, Any]]:
        """smses: [{"mobile": ..., "customSmsId": ..., "content": {"name": "value"}}, ...]"""
        result: list[dict[str, Any]] = await self._ok(
            "sendTemplateVariableSMS",
            {
                "templateId": template_id,
                "smses": [dict(s) for s in smses],
                "timerTime": _timer(timer_time),
                "extendedCode": extended_code,
            },
        )
        return result

    async def send_short_link_sms(
        self,
        smses: Iterable[Sms],
        content: str,
        url: str,
        *,
        rule: str = "1",
        timer_time: str | datetime | None = None,
        extended_code: str | None = None,
    ) -> list[dict[str, Any]]:
        """content must contain {#短网址#}; rule "1" one link per request, "2" one per recipient."""
        result: list[dict[str, Any]] = await self._ok(
            "sendShortLinkSMS",
            {
                "smses": [dict(s) for s in smses],
                "content": content,
                "url": url,
                "shortLinkRule": rule,
                "timerTime": _timer(timer_time),
                "extendedCode": extended_code,
            },
        )
        return result

    # -- templates ----------------------------------------------------------------------------

    async def create_template(self, content: str) -> str:
        data = await self._ok("createTemplateSMS", {"templateContent": content})
        return str(data["templateId"])

    async def query_template(self, template_id: str) -> int:
        data = await self._ok("queryTemplateSMS", {"templateId": template_id})
        return int(data["status"])

    async def delete_template(self, template_id: str) -> bool:
        data = await self._ok("deleteTemplateSMS", {"templateId": template_id})
        return bool(data["code"] == "true")

    # -- reading ------------------------------------------------------------------------------

    async def get_balance(self) -> int:
        data = await self._ok("getBalance")
        return int(data["balance"])

    async def get_report(self, number: int | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._ok("getReport", {"number": number})
        return result

    async def get_mo(self, number: int | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._ok("getMo", {"number": number})
        return result

    async def get_short_link(self, number: int | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._ok("getShortLink", {"number": number})
        return result


@dataclass
class SimpleAnswer:
    status: int
    code: str | None
    data: Any
    text: str


class SimpleClient:
    """The md5-signed families: /simpleinter/*, /voice/* and /report/retrieveReport.

    `style` is how parameters travel: "form" (POST body, the vendor's way), "query" (POST
    with everything in the query string and an empty body) or "get".
    """

    def __init__(
        self,
        base_url: str,
        app_id: str,
        secret_key: str,
        *,
        style: str = "form",
        session: aiohttp.ClientSession | None = None,
        timeout: float = 30.0,
    ) -> None:
        if style not in ("form", "query", "get"):
            raise ValueError("style must be form, query or get")
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self.secret_key = secret_key
        self.style = style
        self._session = session
        self._own_session = session is None
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def __aenter__(self) -> SimpleClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def signed(self, params: Mapping[str, Any], *, timestamp: str | None = None) -> dict[str, str]:
        stamp = timestamp or datetime.now(BEIJING).strftime(COMPACT_FORMAT)
        out = {k: str(v) for k, v in params.items() if v is not None}
        out.update(appId=self.app_id, timestamp=stamp, sign=make_sign(self.app_id, self.secret_key, stamp))
        return out

    async def request(self, path: str, params: Mapping[str, str]) -> SimpleAnswer:
        """Send already-built parameters to `path` (e.g. "/simpleinter/sendSMS") in this client's style."""
        url = f"{self.base_url}{path}"
        if self.style == "get":
            ctx = self.session.get(url, params=params)
        elif self.style == "query":
            ctx = self.session.post(url, params=params)
        else:
            ctx = self.session.post(url, data=params)
        async with ctx as resp:
            text = await resp.text()
        code, data = None, None
        if path.startswith("/report/"):
            code = text.strip()
        else:
            try:
                body = json.loads(text)
                code, data = body.get("code"), body.get("data")
            except (ValueError, AttributeError):
                pass
        return SimpleAnswer(resp.status, code, data, text)

    async def call(self, path: str, params: Mapping[str, Any] | None = None) -> SimpleAnswer:
        return await self.request(path, self.signed(params or {}))

    async def _ok(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        answer = await self.call(path, params)
        if answer.code != "SUCCESS":
            raise EmayApiError(path, answer.code or f"HTTP {answer.status}")
        return answer.data

    # -- /simpleinter -------------------------------------------------------------------------

    async def send_sms(
        self,
        mobiles: Iterable[str],
        content: str,
        *,
        timer_time: str | datetime | None = None,
        custom_sms_id: str | None = None,
        extended_code: str | None = None,
    ) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._ok(
            "/simpleinter/sendSMS",
            {
                "mobiles": ",".join(mobiles),
                "content": content,
                "timerTime": _compact(timer_time),
                "customSmsId": custom_sms_id,
                "extendedCode": extended_code,
            },
        )
        return result

    async def send_personality_sms(
        self,
        contents: Mapping[str, str],
        *,
        timer_time: str | datetime | None = None,
        custom_sms_id: str | None = None,
        extended_code: str | None = None,
    ) -> list[dict[str, Any]]:
        """contents: {"13800000000": "text for this number", ...}"""
        params: dict[str, Any] = dict(contents)
        params.update(timerTime=_compact(timer_time), customSmsId=custom_sms_id, extendedCode=extended_code)
        result: list[dict[str, Any]] = await self._ok("/simpleinter/sendPersonalitySMS", params)
        return result

    async def get_report(self, number: int | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._ok("/simpleinter/getReport", {"number": number})
        return result

    async def get_mo(self, number: int | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._ok("/simpleinter/getMo", {"number": number})
        return result

    async def get_balance(self) -> int:
        data = await self._ok("/simpleinter/getBalance")
        return int(data["balance"])

    # -- /report/retrieveReport ---------------------------------------------------------------

    async def retrieve_report(
        self, start: str | datetime, end: str | datetime, sms_ids: Iterable[str] | None = None
    ) -> str:
        """Ask for the reports of messages submitted in [start, end] again; returns the code."""
        params = {"startTime": _compact(start), "endTime": _compact(end)}
        if sms_ids is not None:
            params["smsId"] = ",".join(sms_ids)
        answer = await self.call("/report/retrieveReport", params)
        return answer.code or f"HTTP {answer.status}"

    # -- /voice -------------------------------------------------------------------------------

    async def voice_send_sms(
        self, mobile: str, code: str, *, custom_sms_id: str | None = None, extended_code: str | None = None
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self._ok(
            "/voice/sendSMS",
            {"mobile": mobile, "content": code, "customSmsId": custom_sms_id, "extendedCode": extended_code},
        )
        return result

    async def voice_get_report(self, number: int | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._ok("/voice/getReport", {"number": number})
        return result

    async def voice_get_balance(self) -> int:
        data = await self._ok("/voice/getBalance")
        return int(data["balance"])


def _compact(value: str | datetime | None) -> str | None:
    if isinstance(value, datetime):
        return (
            value.astimezone(BEIJING).strftime(COMPACT_FORMAT)
            if value.tzinfo
            else value.strftime(COMPACT_FORMAT)
        )
    return value
