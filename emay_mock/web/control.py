"""The control API under /_mock/: inspect and steer the platform (INTERFACE.md)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from aiohttp import web

from emay_mock import __version__
from emay_mock.config import ConfigError, parse_account
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.rules import strip_prefix
from emay_mock.protocol.times import format_long
from emay_mock.store.messages import MessageFilter
from emay_mock.web.jsonapi import ApiError, body_object, float_field, int_query, reply, text_field

if TYPE_CHECKING:
    from emay_mock.server import MockServer


class ControlApi:
    def __init__(self, mock: MockServer) -> None:
        self.mock = mock

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/_mock/health", self.health),
            web.get("/_mock/accounts", self.list_accounts),
            web.post("/_mock/accounts", self.put_account),
            web.get("/_mock/messages", self.messages),
            web.post("/_mock/mo", self.inject_mo),
            web.post("/_mock/reset", self.reset),
            web.get("/_mock/clock", self.clock),
            web.post("/_mock/clock/advance", self.advance),
        ]

    async def health(self, request: web.Request) -> web.Response:
        return reply({"status": "ok", "version": __version__})

    async def list_accounts(self, request: web.Request) -> web.Response:
        accounts = self.mock.platform.accounts.values()
        return reply({"accounts": [a.spec.public(a.balance) for a in accounts]})

    async def put_account(self, request: web.Request) -> web.Response:
        data = await body_object(request)
        try:
            spec = parse_account(data)
        except ConfigError as exc:
            raise ApiError(400, "invalid account", problems=exc.problems) from None
        existed = spec.app_id in self.mock.platform.accounts
        account = self.mock.platform.put_account(spec)
        return reply({"account": spec.public(account.balance), "replaced": existed}, 200 if existed else 201)

    async def messages(self, request: web.Request) -> web.Response:
        q = request.query
        mobile = q.get("mobile") or None
        if mobile is not None:
            mobile = strip_prefix(mobile)
        limit = int_query(request, "limit", 100, lo=1, hi=10_000) or 100
        found = self.mock.platform.messages.find(
            MessageFilter(
                app_id=q.get("appId") or None,
                mobile=mobile,
                sms_id=q.get("smsId") or None,
                custom_sms_id=q.get("customSmsId") or None,
                state=q.get("state") or None,
                text=q.get("q") or None,
                before=int_query(request, "before"),
                after=int_query(request, "after"),
            ),
            limit,
        )
        return reply({"messages": [self.mock.sending.describe(m) for m in found]})

    async def inject_mo(self, request: web.Request) -> web.Response:
        data = await body_object(request)
        app_id = text_field(data, "appId")
        account = self.mock.platform.accounts.get(app_id or "")
        if account is None:
            raise ApiError(404, f"no account has appId {app_id!r}")
        mobile = text_field(data, "mobile") or ""
        content = text_field(data, "content") or ""
        extended = text_field(data, "extendedCode", required=False)
        if extended is not None and not extended.isdigit():
            raise ApiError(400, "extendedCode must be digits")
        try:
            row = self.mock.inbound.inject(account, mobile, content, extended)
        except EmayError as exc:
            raise ApiError(400, exc.reason) from None
        return reply({"mo": self.mock.inbound.describe(row)}, 201)

    async def reset(self, request: web.Request) -> web.Response:
        data = await body_object(request, optional=True)
        app_id = text_field(data, "appId", required=False)
        if app_id is not None and app_id not in self.mock.platform.accounts:
            raise ApiError(404, f"no account has appId {app_id!r}")
        self.mock.platform.reset(app_id)
        if app_id is None:
            self.mock.journal.clear()
        else:
            self.mock.journal.clear(app_id)
        return reply({"reset": app_id or "all"})

    async def clock(self, request: web.Request) -> web.Response:
        return reply(self._clock_view())

    async def advance(self, request: web.Request) -> web.Response:
        data = await body_object(request)
        seconds = float_field(data, "seconds")
        if not math.isfinite(seconds) or seconds < 0:
            raise ApiError(400, "seconds must be a non-negative number: the clock only moves forward")
        if seconds > 10 * 365 * 86400:
            raise ApiError(400, "seconds must be at most ten years")
        ran = await self.mock.platform.scheduler.advance(seconds)
        self.mock.save_clock()
        return reply({**self._clock_view(), "advancedSeconds": seconds, "jobsRun": ran})

    def _clock_view(self) -> dict[str, object]:
        clock = self.mock.clock
        now = clock.now_ms()
        return {
            "now": format_long(now, self.mock.platform.tz),
            "nowMs": now,
            "wallMs": clock.wall_ms(),
            "offsetMs": clock.offset_ms,
            "speed": clock.speed,
            "timezone": str(self.mock.platform.tz),
            "pendingJobs": self.mock.platform.jobs.pending(),
        }
