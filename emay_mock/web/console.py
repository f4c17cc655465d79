"""The platform's console under /_mock/: templates to review by hand, short links, balances."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from emay_mock.platform.readmodel import ReadModel
from emay_mock.platform.service import Platform
from emay_mock.platform.templates import APPROVED, MISSING, PENDING, REJECTED, STATUS_WORDS, ReviewRefused
from emay_mock.web.jsonapi import ApiError, body_object, int_query, reply
from emay_mock.web.views import Views

_STATUS_QUERY = {"pending": PENDING, "approved": APPROVED, "rejected": REJECTED, "deleted": MISSING}
_DECISIONS = {"approved": APPROVED, "rejected": REJECTED}
_MAX_BALANCE = 2**63 - 1  # what the store holds, as for the config's `balance`
_CLICKS_SHOWN = 20


class ConsoleApi:
    def __init__(
        self, platform: Platform, read: ReadModel, views: Views, expect: Callable[[str, str, str], None]
    ) -> None:
        """`expect(appId, code, why)`: a console action made a refusal what the test asked for."""
        self.platform = platform
        self.read = read
        self.views = views
        self.expect = expect

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/_mock/templates", self.templates),
            web.post("/_mock/templates/{templateId}/review", self.review),
            web.get("/_mock/shortlinks", self.short_links),
            web.post("/_mock/accounts/{appId}/balance", self.balance),
        ]

    async def templates(self, request: web.Request) -> web.Response:
        q = request.query
        status = q.get("status") or None
        if status is not None and status not in _STATUS_QUERY:
            raise ApiError(400, "status must be pending, approved, rejected or deleted")
        before = q.get("before") or None
        if before is not None and not (before.isascii() and before.isdigit()):
            raise ApiError(400, "before must be a templateId (digits)")
        rows = self.read.templates_listed(
            q.get("appId") or None,
            None if status is None else _STATUS_QUERY[status],
            before,
            int_query(request, "limit", 100, lo=1, hi=1000) or 100,
        )
        return reply({"templates": [self.views.template(r) for r in rows]})

    async def review(self, request: web.Request) -> web.Response:
        """The platform's reviewer approves or rejects a template, as a person would."""
        template_id = request.match_info["templateId"]
        data = await body_object(request)
        decision = data.get("status")
        if not isinstance(decision, str) or decision not in _DECISIONS:
            raise ApiError(400, 'status must be "approved" or "rejected"')
        try:
            row, before = self.platform.templates.review(template_id, _DECISIONS[decision])
        except KeyError:
            raise ApiError(404, f"no template {template_id!r}") from None
        except ReviewRefused as exc:
            raise ApiError(409, str(exc)) from None
        return reply({"template": self.views.template(row), "previous": STATUS_WORDS[before]})

    async def short_links(self, request: web.Request) -> web.Response:
        stories = self.read.links(
            request.query.get("appId") or None,
            int_query(request, "before"),
            int_query(request, "limit", 50, lo=1, hi=1000) or 50,
            _CLICKS_SHOWN,
        )
        shown = [self.views.link(s.link, s.clicks, s.click_count, s.message) for s in stories]
        return reply({"shortLinks": shown})

    async def balance(self, request: web.Request) -> web.Response:
        """`{"set": N}` or `{"add": N}` (N may be negative); the result must stay within 0…2^63-1."""
        app_id = request.match_info["appId"]
        account = self.read.account(app_id)
        if account is None:
            raise ApiError(404, f"no account has appId {app_id!r}")
        data = await body_object(request)
        given = [name for name in ("set", "add") if name in data]
        if len(given) != 1:
            raise ApiError(400, 'give exactly one of "set" or "add"')
        value = data[given[0]]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApiError(400, f"{given[0]} must be an integer (segments)")
        balance = value if given[0] == "set" else account.balance + value
        if not 0 <= balance <= _MAX_BALANCE:
            raise ApiError(400, f"the balance would be {balance}; it must be between 0 and {_MAX_BALANCE}")
        previous = account.balance
        self.platform.accounts.give_balance(account, balance)
        if balance < previous:
            self.expect(app_id, "ERROR_BALANCE", f"the console set the balance to {balance}")
        return reply({"appId": app_id, "balance": balance, "previous": previous})
