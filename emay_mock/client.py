"""A real async Emay client: the secure family (§2.1), usable against the real platform too.

    async with EmayClient("http://127.0.0.1:8999", app_id, secret_key) as emay:
        result = await emay.send_single_sms("13800000000", "【签名】您的验证码是 1234")
        reports = await emay.get_report()

Every method raises `EmayApiError` (with `.code`) when the platform answers anything but
SUCCESS; `call()` gives the raw answer for tests that want to look at it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp

from emay_mock.protocol import envelope
from emay_mock.protocol.times import LONG_FORMAT

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
