"""How each secure endpoint's JSON (§2.1.x) maps onto the shared send shape.

Each mapper declares the fields it knows (others are noted as unknown) and where each
recipient field comes from; the rules themselves live in `protocol.send`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.fields import ENVELOPE_FIELDS, Fields, object_at, text_of, text_value
from emay_mock.protocol.notes import Notes
from emay_mock.protocol.send import FieldPaths, Recipient, SendOrder, ShortLinkSpec
from emay_mock.protocol.templates import SHORT_LINK
from emay_mock.protocol.times import LONG_FORMAT

WINDOW_FIELDS = ENVELOPE_FIELDS
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


_SINGLE_KNOWN = frozenset(("mobile", "content", "customSmsId", *SHARED_OPTIONS, *WINDOW_FIELDS))
_ABSENT: Any = object()


def single(data: dict[str, Any], notes: Notes, limit: int) -> SendOrder:
    if not _SINGLE_KNOWN.issuperset(data):
        Fields(data, notes, known=_SINGLE_KNOWN)  # notes what it does not know
    get = data.get
    # Each field as `Fields.text` reads it: a non-empty string as it is, anything else
    # through `text_value` (which notes nulls, "" and numbers); an absent option is None.
    mobile, content = get("mobile"), get("content")
    if mobile.__class__ is not str or not mobile:
        mobile = _mobile_value(mobile, notes, "mobile")
    if content.__class__ is not str or not content:
        content = text_of(data, "content", notes, optional=False)
    custom, timer, code = get("customSmsId", _ABSENT), get("timerTime", _ABSENT), get("extendedCode", _ABSENT)
    if custom is _ABSENT:
        custom = None
    elif custom.__class__ is not str or not custom:
        custom = text_value(custom, notes, "customSmsId")
    if timer is _ABSENT:
        timer = None
    elif timer.__class__ is not str or not timer:
        timer = text_value(timer, notes, "timerTime")
    if code is _ABSENT:
        code = None
    elif code.__class__ is not str or not code:
        code = text_value(code, notes, "extendedCode")
    return SendOrder("sendSingleSMS", [Recipient(mobile, content, custom, timer, code)], LONG_FORMAT)


def batch(data: dict[str, Any], notes: Notes, limit: int) -> SendOrder:
    f = Fields(data, notes, known=("smses", "content", *SHARED_OPTIONS, *WINDOW_FIELDS))
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


def batch_only(data: dict[str, Any], notes: Notes, limit: int) -> SendOrder:
    f = Fields(data, notes, known=("mobiles", "content", *SHARED_OPTIONS, *WINDOW_FIELDS))
    content = f.text("content", optional=False)
    timer, ext = f.text("timerTime"), f.text("extendedCode")
    mobiles = _bounded(f.array("mobiles"), "mobiles", limit)
    recipients = [
        Recipient(_mobile_value(m, f.notes, f"mobiles[{i}]"), content, None, timer, ext)
        for i, m in enumerate(mobiles)
    ]
    return SendOrder("sendBatchOnlySMS", recipients, LONG_FORMAT, FieldPaths(mobile="mobiles[{i}]"))


def personality(data: dict[str, Any], notes: Notes, limit: int) -> SendOrder:
    f = Fields(data, notes, known=("smses", *SHARED_OPTIONS, *WINDOW_FIELDS))
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


def personality_all(data: dict[str, Any], notes: Notes, limit: int) -> SendOrder:
    f = Fields(data, notes, known=("smses", *WINDOW_FIELDS))
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


SEND_MAPPERS: dict[str, Callable[[dict[str, Any], Notes, int], SendOrder]] = {
    "sendSingleSMS": single,
    "sendBatchSMS": batch,
    "sendBatchOnlySMS": batch_only,
    "sendPersonalitySMS": personality,
    "sendPersonalityAllSMS": personality_all,
}


def pull_number(f: Fields, default: int = 500, maximum: int = 500) -> int:
    """`number` of a pull endpoint, clamped to 1..maximum (docs/protocol.md#pull-queues)."""
    number = f.integer("number")
    if number is None:
        return default
    return min(max(number, 1), maximum)


def _template_id(f: Fields) -> str:
    template_id = f.text("templateId", optional=False)
    if template_id is None:
        raise EmayError(ResultCode.ERROR_PARAMS, "templateId is missing", field="templateId")
    return template_id


def template_normal(data: dict[str, Any], notes: Notes, limit: int) -> SendOrder:
    f = Fields(data, notes, known=("smses", "templateId", *SHARED_OPTIONS, *WINDOW_FIELDS))
    template_id = _template_id(f)
    timer, ext = f.text("timerTime"), f.text("extendedCode")
    smses = _bounded(f.array("smses"), "smses", limit)
    recipients = []
    for i in range(len(smses)):
        item = object_at(smses, i, f.notes, "smses", ("mobile", "customSmsId"))
        recipients.append(
            Recipient(_mobile_value(item.data.get("mobile"), f.notes, item.path("mobile")), None,
                      item.text("customSmsId"), timer, ext)
        )  # fmt: skip
    return SendOrder(
        "sendTemplateNormalSMS",
        recipients,
        LONG_FORMAT,
        FieldPaths(mobile="smses[{i}].mobile", content="templateId", custom_sms_id="smses[{i}].customSmsId"),
        template_id=template_id,
        notes=f.notes,
    )


def _variables(item: Fields) -> dict[str, str]:
    value = item.data.get("content")
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise EmayError(
            ResultCode.ERROR_PARAMS,
            f"{item.path('content')} must be an object of template variables",
            field=item.path("content"),
        )
    out: dict[str, str] = {}
    for name, raw in value.items():
        text = text_value(raw, item.notes, f"{item.path('content')}.{name}", optional=False)
        out[str(name)] = text or ""
    return out


def template_variable(data: dict[str, Any], notes: Notes, limit: int) -> SendOrder:
    f = Fields(data, notes, known=("smses", "templateId", *SHARED_OPTIONS, *WINDOW_FIELDS))
    template_id = _template_id(f)
    timer, ext = f.text("timerTime"), f.text("extendedCode")
    smses = _bounded(f.array("smses"), "smses", limit)
    recipients = []
    for i in range(len(smses)):
        item = object_at(smses, i, f.notes, "smses", ("mobile", "customSmsId", "content"))
        recipients.append(
            Recipient(
                _mobile_value(item.data.get("mobile"), f.notes, item.path("mobile")),
                None,
                item.text("customSmsId"),
                timer,
                ext,
                variables=_variables(item),
            )
        )
    return SendOrder(
        "sendTemplateVariableSMS",
        recipients,
        LONG_FORMAT,
        FieldPaths(
            mobile="smses[{i}].mobile", content="smses[{i}].content", custom_sms_id="smses[{i}].customSmsId"
        ),
        template_id=template_id,
        notes=f.notes,
    )


def short_link(data: dict[str, Any], notes: Notes, limit: int) -> SendOrder:
    f = Fields(
        data, notes, known=("smses", "content", "url", "shortLinkRule", *SHARED_OPTIONS, *WINDOW_FIELDS)
    )
    content = f.text("content", optional=False)
    url = f.text("url", optional=False)
    rule = f.text("shortLinkRule", optional=False)
    if content is not None and SHORT_LINK not in content:
        raise EmayError(
            ResultCode.ERROR_PARAMS, f"content must contain the placeholder {SHORT_LINK}", field="content"
        )
    if url is None or not url.lower().startswith(("http://", "https://")) or len(url) > 2000:
        raise EmayError(
            ResultCode.ERROR_PARAMS, f"url {(url or '')[:60]!r} is not an http(s) URL", field="url"
        )
    if rule not in ("1", "2"):
        raise EmayError(
            ResultCode.ERROR_PARAMS,
            f"shortLinkRule must be 1 (plain) or 2 (precise), got {rule!r}",
            field="shortLinkRule",
        )
    timer, ext = f.text("timerTime"), f.text("extendedCode")
    smses = _bounded(f.array("smses"), "smses", limit)
    recipients = []
    for i in range(len(smses)):
        item = object_at(smses, i, f.notes, "smses", ("mobile", "customSmsId"))
        recipients.append(
            Recipient(_mobile_value(item.data.get("mobile"), f.notes, item.path("mobile")), content,
                      item.text("customSmsId"), timer, ext)
        )  # fmt: skip
    return SendOrder(
        "sendShortLinkSMS",
        recipients,
        LONG_FORMAT,
        FieldPaths(mobile="smses[{i}].mobile", custom_sms_id="smses[{i}].customSmsId"),
        short_link=ShortLinkSpec(url, rule),
    )


SEND_MAPPERS.update(
    {
        "sendTemplateNormalSMS": template_normal,
        "sendTemplateVariableSMS": template_variable,
        "sendShortLinkSMS": short_link,
    }
)


def template_content(data: dict[str, Any], notes: Notes) -> str:
    f = Fields(data, notes, known=("templateContent", *WINDOW_FIELDS))
    content = f.text("templateContent", optional=False)
    if content is None:
        raise EmayError(ResultCode.ERROR_CONTENT_EMPTY, "templateContent is empty", field="templateContent")
    return content


def template_id_only(data: dict[str, Any], notes: Notes) -> str:
    return _template_id(Fields(data, notes, known=("templateId", *WINDOW_FIELDS)))
