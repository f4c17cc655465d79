"""Reading what the platform holds: the request journal, MO, conversations, one message's life."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from emay_mock.observe.outcomes import Usage
from emay_mock.observe.outcomes import report as outcome_report
from emay_mock.observe.recorder import Recorder
from emay_mock.platform.readmodel import ReadModel
from emay_mock.protocol.rules import strip_prefix
from emay_mock.store.messages import MessageFilter
from emay_mock.web.jsonapi import ApiError, int_query, reply
from emay_mock.web.views import Views

# Conversations are drawn from this much recent activity per account, so the page costs
# the same whatever the history; search by mobile finds everything.
CONVERSATION_WINDOW = 2000


class InspectApi:
    def __init__(self, read: ReadModel, recorder: Recorder, views: Views) -> None:
        self.read = read
        self.recorder = recorder
        self.views = views

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/_mock/journal", self.journal),
            web.get("/_mock/contract", self.contract),
            web.get("/_mock/outcomes", self.outcomes),
            web.get("/_mock/mo", self.mo),
            web.get("/_mock/conversations", self.conversations),
            web.get("/_mock/messages/{smsId}", self.message),
        ]

    async def journal(self, request: web.Request) -> web.Response:
        q = request.query
        journal = self.recorder.journal
        entries = journal.query(
            app_id=q.get("appId") or None,
            endpoint=q.get("endpoint") or None,
            code=q.get("code") or None,
            family=q.get("family") or None,
            sms_id=q.get("smsId") or None,
            since=int_query(request, "since"),
            before=int_query(request, "before"),
            limit=int_query(request, "limit", 100, lo=1, hi=journal.size) or 100,
        )
        return reply(
            {
                "entries": [e.as_dict() for e in entries],
                "size": len(journal),
                "capacity": journal.size,
                "recorded": journal.recorded,
                "evicted": journal.evicted,
            }
        )

    async def contract(self, request: web.Request) -> web.Response:
        """The client's deviations from the vendor document, per appId, each with a count and example."""
        contract = self.recorder.contract
        app_id = request.query.get("appId")
        apps = [app_id] if app_id else sorted(set(contract.apps) | {a.app_id for a in self.read.accounts()})
        reports = []
        for one in apps:
            account = self.read.account(one)
            reports.append(contract.report(one, None if account is None else account.spec.strict))
        if app_id:
            return reply(reports[0])
        return reply({"accounts": reports})

    async def outcomes(self, request: web.Request) -> web.Response:
        """The outcomes the account met and those it never did, each unseen one with how to provoke it."""
        app_id = request.query.get("appId")
        if not app_id:
            raise ApiError(400, "appId is required")
        account = self.read.account(app_id)
        if account is None:
            raise ApiError(404, f"no account has appId {app_id!r}")
        app = self.recorder.contract.apps.get(app_id)
        push = account.spec.push
        usage = Usage(
            answers={} if app is None else app.answer_counts(),
            delivered=self.recorder.outcomes.apps.get(app_id, {}),
            report_push=push is not None and push.report_url is not None,
            mo_push=push is not None and push.mo_url is not None,
        )
        return reply(outcome_report(usage, app_id))

    async def mo(self, request: web.Request) -> web.Response:
        q = request.query
        mobile = q.get("mobile") or None
        rows = self.read.mo(
            q.get("appId") or None,
            mobile.strip() if mobile else None,
            after=int_query(request, "after"),
            before=int_query(request, "before"),
            limit=int_query(request, "limit", 100, lo=1, hi=10_000) or 100,
        )
        return reply({"mo": [self.views.mo(r) for r in rows]})

    async def conversations(self, request: web.Request) -> web.Response:
        """Each phone an account talked with, most recent first: counts and the last text."""
        app_id = request.query.get("appId")
        if not app_id:
            raise ApiError(400, "appId is required")
        limit = int_query(request, "limit", 100, lo=1, hi=1000) or 100
        talks: dict[str, dict[str, Any]] = {}

        def note(mobile: str, at: int, text: str, direction: str) -> None:
            talk = talks.setdefault(mobile, {"mobile": mobile, "mt": 0, "mo": 0, "lastMs": 0, "last": None})
            talk[direction] += 1
            if at >= talk["lastMs"]:
                talk.update(lastMs=at, last={"direction": direction, "text": text})

        for m in self.read.messages(MessageFilter(app_id=app_id), CONVERSATION_WINDOW):
            note(m.mobile_norm, m.submit_at, m.content, "mt")
        for r in self.read.mo(app_id, limit=CONVERSATION_WINDOW):
            note(strip_prefix(r.mobile), r.mo_at, r.content, "mo")
        ordered = sorted(talks.values(), key=lambda t: t["lastMs"], reverse=True)[:limit]
        for talk in ordered:
            talk["lastTime"] = self.views.time(talk["lastMs"])
        return reply({"appId": app_id, "conversations": ordered, "window": CONVERSATION_WINDOW})

    async def message(self, request: web.Request) -> web.Response:
        """One message and its whole life: accepted, scheduled, sent, report, pushes, replies, clicks."""
        views = self.views
        story = self.read.story(request.match_info["smsId"])
        if story is None:
            raise ApiError(404, f"no message {request.match_info['smsId']}")
        row = story.message
        pushes = [views.batch(b, with_items=False) for b in story.pushes]
        replies = [views.mo(r) for r in story.replies]
        clicks = [views.click(c) for c in story.clicks]
        timeline: list[dict[str, Any]] = [{"ms": row.submit_at, "event": "accepted", "detail": row.endpoint}]
        if row.timer_time is not None:
            timeline.append({"ms": row.send_at, "event": "scheduled", "detail": "sent at its timerTime"})
        else:
            timeline.append({"ms": row.send_at, "event": "sent", "detail": None})
        if row.state is not None and row.report_at is not None:
            timeline.append({"ms": row.report_at, "event": "report", "detail": row.state})
        else:
            timeline.append({"ms": row.report_due, "event": "report due", "detail": row.planned_state})
        for push in pushes:
            for attempt in push["attempts"]:
                outcome = attempt["httpStatus"] if attempt["error"] is None else attempt["error"]
                timeline.append(
                    {
                        "ms": attempt["sentAtMs"],
                        "event": "push attempt",
                        "detail": f"#{attempt['n']} {outcome}",
                        "ok": attempt["ok"],
                        "batchId": push["id"],
                        "latencyMs": attempt["latencyMs"],
                    }
                )
        for mo in replies:
            timeline.append({"ms": mo["moTimeMs"], "event": "reply", "detail": mo["content"]})
        for click in clicks:
            timeline.append({"ms": _ms(click), "event": "click", "detail": click["browser"]})
        timeline.sort(key=lambda t: t["ms"])
        for item in timeline:
            item["time"] = views.time(item["ms"])
        return reply(
            {
                "message": views.message(row),
                "timeline": timeline,
                "pushes": pushes,
                "replies": replies,
                "clicks": clicks,
            }
        )


def _ms(click: dict[str, Any]) -> int:
    return int(click["accessTimeMs"])
