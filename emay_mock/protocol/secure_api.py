"""How each secure endpoint's JSON (§2.1.x) maps onto the shared send shape.

Each mapper declares the fields it knows (others are noted as unknown) and where each
recipient field comes from; the rules themselves live in `protocol.send`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.fields import Fields, object_at, text_value
from emay_mock.protocol.notes import Notes
from emay_mock.protocol.send import FieldPaths, Recipient, SendOrder
from emay_mock.protocol.times import LONG_FORMAT

WINDOW_FIELDS = ("requestTime", "requestValidPeriod")
SHARED_OPTIONS = ("timerTime", "extendedCode")


def _bounded(items: list[Any] | None, path: str, limit: int) -> list[Any]:
    """Refuse an oversized list before touching its items (a million entries cost nothing)."""
    items = items or []
    if len(items) > limit:
        raise EmayError(
            ResultCode.ERROR_MOBILE_NUMBER,
            f"{path} has {len(items)} entries, the limit is {limit}",
            field=path,
            expected=limit,
            got=len(items),
        )
    return items


def _mobile_value(value: Any, notes: Notes, path: str) -> str | None:
    return text_value(value, notes, path, optional=False)


def single(f: Fields, limit: int) -> SendOrder:
    f = Fields(f.data, f.notes, known=("mobile", "content", "customSmsId", *SHARED_OPTIONS,
                                        *WINDOW_FIELDS))  # fmt: skip
    recipient = Recipient(
        mobile=_mobile_value(f.data.get("mobile"), f.notes, "mobile"),
        content=f.text("content", optional=False),
        custom_sms_id=f.text("customSmsId"),
        timer_time=f.text("timerTime"),
        extended_code=f.text("extendedCode"),
    )
    return SendOrder("sendSingleSMS", [recipient], LONG_FORMAT)


def batch(f: Fields, limit: int) -> SendOrder:
    f = Fields(f.data, f.notes, known=("smses", "content", *SHARED_OPTIONS, *WINDOW_FIELDS))
    content = f.text("content", optional=False)
    timer, ext = f.text("timerTime"), f.text("extendedCode")
    smses = _bounded(f.array("smses"), "smses", limit)
    recipients = []
    for i in range(len(smses)):
        item = object_at(smses, i, f.notes, "smses", ("mobile", "customSmsId"))
        recipients.append(
            Recipient(
                _mobile_value(item.data.get("mobile"), f.notes, item.path("mobile")),
                content,
                item.text("customSmsId"),
                timer,
                ext,
            )
        )
    return SendOrder(
        "sendBatchSMS",
        recipients,
        LONG_FORMAT,
        FieldPaths(mobile="smses[{i}].mobile", custom_sms_id="smses[{i}].customSmsId"),
    )


def batch_only(f: Fields, limit: int) -> SendOrder:
    f = Fields(f.data, f.notes, known=("mobiles", "content", *SHARED_OPTIONS, *WINDOW_FIELDS))
    content = f.text("content", optional=False)
    timer, ext = f.text("timerTime"), f.text("extendedCode")
    mobiles = _bounded(f.array("mobiles"), "mobiles", limit)
    recipients = [
        Recipient(_mobile_value(m, f.notes, f"mobiles[{i}]"), content, None, timer, ext)
        for i, m in enumerate(mobiles)
    ]
    return SendOrder("sendBatchOnlySMS", recipients, LONG_FORMAT, FieldPaths(mobile="mobiles[{i}]"))


def personality(f: Fields, limit: int) -> SendOrder:
    f = Fields(f.data, f.notes, known=("smses", *SHARED_OPTIONS, *WINDOW_FIELDS))
    timer, ext = f.text("timerTime"), f.text("extendedCode")
    smses = _bounded(f.array("smses"), "smses", limit)
    recipients = []
    for i in range(len(smses)):
        item = object_at(smses, i, f.notes, "smses", ("mobile", "customSmsId", "content"))
        recipients.append(
            Recipient(
                _mobile_value(item.data.get("mobile"), f.notes, item.path("mobile")),
                item.text("content", optional=False),
                item.text("customSmsId"),
                timer,
                ext,
            )
        )
    return SendOrder(
        "sendPersonalitySMS",
        recipients,
        LONG_FORMAT,
        FieldPaths(
            mobile="smses[{i}].mobile",
            content="smses[{i}].content",
            custom_sms_id="smses[{i}].customSmsId",
        ),
    )


def personality_all(f: Fields, limit: int) -> SendOrder:
    f = Fields(f.data, f.notes, known=("smses", *WINDOW_FIELDS))
    smses = _bounded(f.array("smses"), "smses", limit)
    recipients = []
    for i in range(len(smses)):
        item = object_at(
            smses, i, f.notes, "smses",
            ("mobile", "customSmsId", "content", "timerTime", "extendedCode"),
        )  # fmt: skip
        recipients.append(
            Recipient(
                _mobile_value(item.data.get("mobile"), f.notes, item.path("mobile")),
                item.text("content", optional=False),
                item.text("customSmsId"),
                item.text("timerTime"),
                item.text("extendedCode"),
            )
        )
    return SendOrder(
        "sendPersonalityAllSMS",
        recipients,
        LONG_FORMAT,
        FieldPaths(
            mobile="smses[{i}].mobile",
            content="smses[{i}].content",
            custom_sms_id="smses[{i}].customSmsId",
            timer_time="smses[{i}].timerTime",
            extended_code="smses[{i}].extendedCode",
        ),
    )


SEND_MAPPERS: dict[str, Callable[[Fields, int], SendOrder]] = {
    "sendSingleSMS": single,
    "sendBatchSMS": batch,
    "sendBatchOnlySMS": batch_only,
    "sendPersonalitySMS": personality,
    "sendPersonalityAllSMS": personality_all,
}


def pull_number(f: Fields, default: int = 500, maximum: int = 500) -> int:
    """`number` of a pull endpoint, clamped to 1..maximum (EMAY_API §7.9)."""
    number = f.integer("number")
    if number is None:
        return default
    return min(max(number, 1), maximum)
