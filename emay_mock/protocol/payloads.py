"""The JSON shapes the platform hands out: send results, reports, MO, clicks (§2.1, §3)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from emay_mock.protocol.codes import ReportState
from emay_mock.protocol.times import format_long


def send_result(mobile: str, sms_id: str, custom_sms_id: str | None) -> dict[str, Any]:
    return {"mobile": mobile, "smsId": sms_id, "customSmsId": custom_sms_id}


def report(
    *,
    mobile: str,
    sms_id: str,
    custom_sms_id: str | None,
    state: str,
    receive_ms: int,
    submit_ms: int,
    extended_code: str | None,
    tz: ZoneInfo,
) -> dict[str, Any]:
    # The vendor's example spells "receiveTime " with a trailing space; we emit the real name.
    return {
        "mobile": mobile,
        "smsId": sms_id,
        "customSmsId": custom_sms_id,
        "state": state,
        "desc": ReportState(state).desc,
        "receiveTime": format_long(receive_ms, tz),
        "submitTime": format_long(submit_ms, tz),
        "extendedCode": extended_code,
    }


def mo(*, mobile: str, content: str, mo_ms: int, extended_code: str | None, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "mobile": mobile,
        "content": content,
        "moTime": format_long(mo_ms, tz),
        "extendedCode": extended_code,
    }


def click(
    *,
    mobile: str | None,
    access_ms: int,
    equipment: str,
    browser: str,
    long_link: str,
    access_address: str,
    user_agent: str,
    app_id: str,
    tz: ZoneInfo,
) -> dict[str, Any]:
    return {
        "mobile": mobile,
        "accessTime": format_long(access_ms, tz),
        "equipment": equipment,
        "browser": browser,
        "longLink": long_link,
        "accessAddress": access_address,
        "userAgent": user_agent,
        "appId": app_id,
    }
