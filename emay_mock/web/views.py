"""What the control API, the UI and the event stream show of the platform's state: JSON views.

Times appear twice, in Emay's format in the configured zone and in epoch ms, so a test can
compare either.
"""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from emay_mock.platform.accounts import Account
from emay_mock.platform.links import click_item
from emay_mock.platform.templates import MISSING, STATUS_WORDS
from emay_mock.protocol.codes import ReportState
from emay_mock.protocol.templates import variables
from emay_mock.protocol.times import format_long
from emay_mock.settings import AccountSpec, PushSettings, UpstreamSettings
from emay_mock.store.inbound import MoRow
from emay_mock.store.links import ClickRow, LinkRow
from emay_mock.store.pushes import Attempt, Batch
from emay_mock.store.rows import MessageRow
from emay_mock.store.templates import TemplateRow


class Views:
    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz

    def time(self, ms: int | None) -> str | None:
        return None if ms is None else format_long(ms, self.tz)

    def message(self, row: MessageRow) -> dict[str, Any]:
        fmt = self.time
        return {
            "smsId": row.sms_id,
            "appId": row.app_id,
            "mobile": row.mobile,
            "content": row.content,
            "customSmsId": row.custom_sms_id,
            "extendedCode": row.extended_code,
            "endpoint": row.endpoint,
            "templateId": row.template_id,
            "submitTime": fmt(row.submit_at),
            "timerTime": fmt(row.timer_time),
            "sendTime": fmt(row.send_at),
            "segments": row.segments,
            "state": row.state,
            "desc": None if row.state is None else ReportState(row.state).desc,
            "reportTime": fmt(row.report_at),
            "plannedState": row.planned_state,
            "reportDue": fmt(row.report_due),
            "times": {
                "submitMs": row.submit_at,
                "submitWallMs": row.submit_wall,
                "timerMs": row.timer_time,
                "sendMs": row.send_at,
                "reportDueMs": row.report_due,
                "reportMs": row.report_at,
            },
            "shortUrl": row.short_url,
            "rules": row.rules.split(",") if row.rules else [],
        }

    def template(self, row: TemplateRow) -> dict[str, Any]:
        return {
            "templateId": row.template_id,
            "appId": row.app_id,
            "content": row.content,
            "variables": variables(row.content),
            "status": MISSING if row.deleted else row.status,
            "statusName": STATUS_WORDS[MISSING if row.deleted else row.status],
            "deleted": bool(row.deleted),
            "createdAt": self.time(row.created_at),
            "reviewedAt": self.time(row.reviewed_at),
        }

    def mo(self, row: MoRow) -> dict[str, Any]:
        return {
            "moId": row.mo_id,
            "appId": row.app_id,
            "mobile": row.mobile,
            "content": row.content,
            "extendedCode": row.extended_code,
            "moTime": self.time(row.mo_at),
            "moTimeMs": row.mo_at,
            "replyTo": row.reply_to,
            "source": row.source,
        }

    def click(self, click: ClickRow) -> dict[str, Any]:
        return {
            "clickId": click.click_id,
            "code": click.code,
            "source": click.source,
            "accessTimeMs": click.access_at,
            **click_item(click, self.tz),
        }

    def link(
        self, link: LinkRow, clicks: list[ClickRow], click_count: int, message: MessageRow | None
    ) -> dict[str, Any]:
        """A short link with its newest clicks, and the message that carries it (rule 1: the
        request's first) when it is still held."""
        return {
            "linkId": link.seq,
            "code": link.code,
            "appId": link.app_id,
            "rule": link.rule,
            "longUrl": link.long_url,
            "shortUrl": link.short_url,
            "mobile": link.mobile,
            "smsId": link.sms_id,
            "message": None
            if message is None
            else {"smsId": message.sms_id, "mobile": message.mobile, "content": message.content},
            "recipients": link.users,
            "createdAt": self.time(link.created_at),
            "createdAtMs": link.created_at,
            "clickCount": click_count,
            "clicks": [self.click(c) for c in clicks],
        }

    def batch(self, batch: Batch, *, with_items: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": batch.batch_id,
            "appId": batch.app_id,
            "kind": batch.kind,
            "url": batch.url,
            "mode": batch.mode,
            "status": batch.status,
            "size": batch.size,
            "createdAt": self.time(batch.created_at),
            "createdAtMs": batch.created_at,
            "nextAttemptAt": self.time(batch.next_at),
            "nextAttemptAtMs": batch.next_at,
            "chaos": batch.chaos.split(",") if batch.chaos else [],
            "attempts": [self.attempt(a) for a in batch.tried],
        }
        if with_items:
            out["items"] = json.loads(batch.items)
        return out

    def attempt(self, a: Attempt) -> dict[str, Any]:
        return {
            "n": a.n,
            "scheduledAtMs": a.scheduled_at,
            "sentAtMs": a.sent_at,
            "httpStatus": a.http_status,
            "error": a.error,
            "body": a.body,
            "latencyMs": round(a.latency_ms, 3),
            "ok": a.ok,
            "manual": a.manual,
            "note": a.note,
            "time": self.time(a.sent_at),
        }


def account(account: Account) -> dict[str, Any]:
    """The account as the control API shows it: never the secret key."""
    return spec(account.spec, account.balance)


def spec(spec: AccountSpec, balance: int) -> dict[str, Any]:
    return {
        "appId": spec.app_id,
        "balance": balance,
        "allowedIps": list(spec.allowed_ips),
        "maxRequestsPerSecond": spec.max_requests_per_second,
        "retrieveReport": spec.retrieve_report,
        "voice": spec.voice,
        "push": None if spec.push is None else push_settings(spec.push),
        "strict": spec.strict,
        "templateReview": spec.template_review,
        "upstream": None if spec.upstream is None else upstream_settings(spec.upstream),
        "replay": spec.replay,
    }


def upstream_settings(up: UpstreamSettings) -> dict[str, Any]:
    return {"url": up.shown_url, "mode": up.mode, "timeoutSeconds": up.timeout_s}


def push_settings(push: PushSettings) -> dict[str, Any]:
    return {
        "reportUrl": push.report_url,
        "moUrl": push.mo_url,
        "mode": push.mode,
        "retrySchedule": list(push.retry_schedule),
        "timeoutSeconds": push.timeout_s,
    }
