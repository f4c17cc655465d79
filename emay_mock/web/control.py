"""The control API under /_mock/: inspect and steer the platform."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any, Protocol

import yaml
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from emay_mock import __version__
from emay_mock.config import ConfigError, parse_account
from emay_mock.delivery.push import PushEngine
from emay_mock.platform.readmodel import ReadModel
from emay_mock.platform.service import Platform
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.rules import strip_prefix
from emay_mock.protocol.times import format_long
from emay_mock.store.messages import MessageFilter
from emay_mock.web import views
from emay_mock.web.edge import STOPPING_KEY
from emay_mock.web.jsonapi import (
    STOPPING,
    ApiError,
    body_object,
    float_field,
    int_query,
    reply,
    text_field,
)

_REDELIVER_WAIT_S = 60.0


@cache
def openapi_document() -> dict[str, Any]:
    """The control API's OpenAPI 3 document (emay_mock/schemas/openapi.yaml)."""
    text = resources.files("emay_mock").joinpath("schemas", "openapi.yaml").read_text("utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    document["info"]["version"] = __version__
    return document


class Steering(Protocol):
    """What the control API steers beyond the platform: the scheduler's clock (advanced,
    kept, and told to live views), and a reset of everything (the platform, its deliveries
    and the journal)."""

    async def advance(self, seconds: float) -> int: ...

    async def push_due(self) -> None: ...

    def reset(self, app_id: str | None = None) -> None: ...


# Account fields the control API refuses: they reach outside the mock.
CONFIG_ONLY = ("upstream", "replay")


class ControlApi:
    def __init__(
        self,
        platform: Platform,
        read: ReadModel,
        push: PushEngine,
        metrics: Callable[[], bytes],
        steering: Steering,
        expect: Callable[[str, str, str], None],
    ) -> None:
        self.platform = platform
        self.read = read
        self.engine = push
        self.render_metrics = metrics
        self.steering = steering
        self.expect = expect  # (appId, code, why): a refusal the test set up, not the client's fault
        self.views = views.Views(platform.tz)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/_mock/health", self.health),
            web.get("/_mock/metrics", self.metrics),
            web.get("/_mock/openapi.json", self.openapi),
            web.get("/_mock/accounts", self.list_accounts),
            web.post("/_mock/accounts", self.put_account),
            web.get("/_mock/messages", self.messages),
            web.post("/_mock/mo", self.inject_mo),
            web.post("/_mock/reset", self.reset),
            web.get("/_mock/pushes", self.pushes),
            web.get("/_mock/pushes/{id}", self.push),
            web.post("/_mock/pushes/{id}/redeliver", self.redeliver),
            web.get("/_mock/clock", self.clock),
            web.post("/_mock/clock/advance", self.advance),
        ]

    async def health(self, request: web.Request) -> web.Response:
        return reply({"status": "ok", "version": __version__})

    async def openapi(self, request: web.Request) -> web.Response:
        return reply(openapi_document())

    async def metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=self.render_metrics(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def list_accounts(self, request: web.Request) -> web.Response:
        counts = self.read.counts()
        shown = [{**views.account(a), "counts": counts[a.app_id]} for a in self.read.accounts()]
        return reply({"accounts": shown})

    async def put_account(self, request: web.Request) -> web.Response:
        data = await body_object(request)
        configured_only = [key for key in CONFIG_ONLY if data.get(key) is not None]
        if configured_only:
            # Whoever reaches the control API would otherwise choose where real messages go,
            # and which file of this machine the mock reads.
            raise ApiError(
                403,
                f"{' and '.join(configured_only)}: set in the configuration file only, not over the "
                "control API (forwarding sends real messages; a recording is a file of this machine)",
            )
        try:
            spec = parse_account(data)
        except ConfigError as exc:
            raise ApiError(400, "invalid account", problems=exc.problems) from None
        existed = self.read.account(spec.app_id) is not None
        account = self.platform.accounts.put(spec)
        if spec.balance == 0:
            self.expect(spec.app_id, "ERROR_BALANCE", "the account was given a balance of 0")
        return reply({"account": views.account(account), "replaced": existed}, 200 if existed else 201)

    async def messages(self, request: web.Request) -> web.Response:
        q = request.query
        mobile = q.get("mobile") or None
        if mobile is not None:
            mobile = strip_prefix(mobile)
        limit = int_query(request, "limit", 100, lo=1, hi=10_000) or 100
        found = self.read.messages(
            MessageFilter(
                app_id=q.get("appId") or None,
                mobile=mobile,
                sms_id=q.get("smsId") or None,
                custom_sms_id=q.get("customSmsId") or None,
                state=q.get("state") or None,
                text=q.get("q") or None,
                # smsIds only increase, so an smsId is the cursor: the page's last, for older ones.
                before=int_query(request, "before", hi=10**20),
                after=int_query(request, "after", hi=10**20),
            ),
            limit,
        )
        return reply({"messages": [self.views.message(m) for m in found]})

    async def inject_mo(self, request: web.Request) -> web.Response:
        data = await body_object(request)
        app_id = text_field(data, "appId")
        account = self.read.account(app_id)
        if account is None:
            raise ApiError(404, f"no account has appId {app_id!r}")
        mobile = text_field(data, "mobile") or ""
        content = text_field(data, "content") or ""
        extended = text_field(data, "extendedCode", required=False)
        try:
            row = self.platform.inbound.inject(account, mobile, content, extended)
        except EmayError as exc:
            raise ApiError(400, exc.reason) from None
        return reply({"mo": self.views.mo(row)}, 201)

    async def reset(self, request: web.Request) -> web.Response:
        data = await body_object(request, optional=True)
        app_id = text_field(data, "appId", required=False)
        if app_id is not None and self.read.account(app_id) is None:
            raise ApiError(404, f"no account has appId {app_id!r}")
        self.steering.reset(app_id)
        return reply({"reset": app_id or "all"})

    async def pushes(self, request: web.Request) -> web.Response:
        q = request.query
        status = q.get("status") or None
        if status not in (None, "pending", "delivered", "dead"):
            raise ApiError(400, "status must be pending, delivered or dead")
        kind = q.get("kind") or None
        if kind not in (None, "report", "mo"):
            raise ApiError(400, "kind must be report or mo")
        batches = self.read.pushes(
            q.get("appId") or None,
            status,
            kind,
            int_query(request, "before"),
            int_query(request, "limit", 100, lo=1, hi=1000) or 100,
        )
        with_items = q.get("items", "true") != "false"
        return reply({"pushes": [self._batch(b.batch_id, with_items=with_items) for b in batches]})

    def _batch(self, batch_id: int, *, with_items: bool = True) -> dict[str, Any]:
        batch = self.read.push_batch(batch_id)
        if batch is None:
            raise ApiError(404, f"no push batch {batch_id}")
        return self.views.batch(batch, with_items=with_items)

    def _batch_id(self, request: web.Request) -> int:
        raw = request.match_info["id"]
        if not raw.isdigit():
            raise ApiError(404, f"no push batch {raw!r}")
        return int(raw)

    async def push(self, request: web.Request) -> web.Response:
        return reply(self._batch(self._batch_id(request)))

    async def redeliver(self, request: web.Request) -> web.Response:
        """One attempt now, by hand; answers once it is done, with the batch and its attempts."""
        platform = self.platform
        engine = self.engine
        batch_id = self._batch_id(request)
        done = platform.events.waiter(
            lambda e: e.topic == "push" and e.data.get("batchId") == batch_id and "n" in e.data
        )
        try:
            n = engine.redeliver(batch_id)
        except KeyError:
            done.cancel()
            raise ApiError(404, f"no push batch {batch_id}") from None
        except ValueError as exc:
            done.cancel()
            raise ApiError(409, str(exc)) from None
        stop = asyncio.ensure_future(request.app[STOPPING_KEY].wait())
        try:
            either: set[asyncio.Future[Any]] = {done, stop}
            await asyncio.wait(either, timeout=_REDELIVER_WAIT_S, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            answered = done.done()
            done.cancel()
        if not answered:
            if request.app[STOPPING_KEY].is_set():
                raise ApiError(503, STOPPING)
            raise ApiError(504, f"attempt {n} of batch {batch_id} did not finish in {_REDELIVER_WAIT_S} s")
        return reply(self._batch(batch_id))

    async def clock(self, request: web.Request) -> web.Response:
        return reply(self._clock_view())

    async def advance(self, request: web.Request) -> web.Response:
        data = await body_object(request)
        seconds = float_field(data, "seconds")
        if not math.isfinite(seconds) or seconds < 0:
            raise ApiError(400, "seconds must be a non-negative number: the clock only moves forward")
        if seconds > 10 * 365 * 86400:
            raise ApiError(400, "seconds must be at most ten years")
        ran = await self.steering.advance(seconds)
        return reply({**self._clock_view(), "advancedSeconds": seconds, "jobsRun": ran})

    def _clock_view(self) -> dict[str, object]:
        clock = self.platform.clock
        now = clock.now_ms()
        jobs, reports = self.read.pending()
        return {
            "now": format_long(now, self.platform.tz),
            "nowMs": now,
            "wallMs": clock.wall_ms(),
            "offsetMs": clock.offset_ms,
            "speed": clock.speed,
            "timezone": str(self.platform.tz),
            "pendingJobs": jobs,
            "pendingReports": reports,
        }
