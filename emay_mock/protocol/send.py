"""The shape every send endpoint shares: recipients, content, options, and its validation.

Each endpoint only says how its request maps onto a `SendOrder`; the rules run here,
once, in the order of docs/protocol.md#check-order (the rules: #field-rules).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from emay_mock.protocol import rules as r
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.notes import Notes

# A mobile starting otherwise cannot carry a +86 / 0086 / 86 prefix (see rules.strip_prefix).
_PREFIX_STARTS = ("+", "0", "8")


@dataclass(frozen=True)
class FieldPaths:
    """Where each recipient field came from, for reasons: {i} is the recipient's index, {name}
    the name of its own parameter (the simple family's personality send names it by mobile)."""

    mobile: str = "mobile"
    content: str = "content"
    custom_sms_id: str = "customSmsId"
    timer_time: str = "timerTime"
    extended_code: str = "extendedCode"
    names: tuple[str, ...] = ()

    def at(self, name: str, index: int) -> str:
        path: str = getattr(self, name)
        label = self.names[index] if index < len(self.names) else str(index)
        return path.format(i=index, name=label)


DEFAULT_PATHS = FieldPaths()  # frozen: one for every order that names its fields plainly


@dataclass(slots=True)
class Recipient:
    mobile: str | None
    content: str | None
    custom_sms_id: str | None = None
    timer_time: str | None = None
    extended_code: str | None = None
    variables: dict[str, str] | None = None  # sendTemplateVariableSMS: filled into the template


@dataclass(frozen=True)
class ShortLinkSpec:
    url: str
    rule: str  # "1": one code per request; "2": one code per recipient


@dataclass
class SendOrder:
    endpoint: str
    recipients: list[Recipient]
    timer_format: str
    paths: FieldPaths = DEFAULT_PATHS
    template_id: str | None = None
    short_link: ShortLinkSpec | None = None
    voice: bool = False
    notes: Notes | None = None  # the request's notes, for what filling in a template learns


@dataclass(slots=True)
class Planned:
    """A recipient that passed every rule: what will be stored, billed and reported."""

    index: int
    mobile: str
    mobile_norm: str
    content: str
    custom_sms_id: str | None
    extended_code: str | None
    timer_ms: int | None
    segments: int
    repeat: bool


def plain_mobile(mobile: str, pattern: re.Pattern[str]) -> bool:
    """A bare number as the rules want it: nothing to strip, normalise or note."""
    return not mobile.startswith(_PREFIX_STARTS) and pattern.fullmatch(mobile) is not None


def validate(order: SendOrder, rules: r.Rules, wall_now_ms: int, notes: Notes) -> list[Planned]:
    recipients = order.recipients
    paths = order.paths
    mobiles = [(rc.mobile or "").strip() for rc in recipients]
    if not any(mobiles):
        raise EmayError(
            ResultCode.ERROR_MOBILE_EMPTY,
            f"no mobile given ({paths.at('mobile', 0)})",
            field="mobile",
        )
    if len(recipients) > rules.max_recipients:
        raise EmayError(
            ResultCode.ERROR_MOBILE_NUMBER,
            f"{len(recipients)} recipients, the limit is {rules.max_recipients}",
            expected=rules.max_recipients,
            got=len(recipients),
        )
    # Each rule runs for every recipient, but a reason's "where" (smses[i].mobile…) is only
    # spelled out when there is something to say, and a value shared by many recipients (the
    # content or timerTime of a batch) is checked once.
    normalized: list[str] = []
    pattern = rules.mobile_pattern
    for i, mobile in enumerate(mobiles):
        if not mobile:
            where = paths.at("mobile", i)
            raise EmayError(
                ResultCode.ERROR_MOBILE_ERROR, f"{where} is empty among other numbers", field=where
            )
        if plain_mobile(mobile, pattern):
            normalized.append(mobile)  # already a bare number: nothing to strip or note
        else:
            normalized.append(r.normalize_mobile(mobile, rules, notes, paths.at("mobile", i)))

    seg_cache: dict[str, int] = {}
    max_units = rules.max_content_units
    for i, rc in enumerate(recipients):
        content = rc.content
        if content in seg_cache:
            continue
        if order.voice:
            seg_cache[r.check_voice_content(content, paths.at("content", i))] = 1
            continue
        units = r.content_units(content) if content else 0
        if not content or units > max_units:
            r.check_content(content, rules, paths.at("content", i))  # raises, with the reason
        assert content is not None
        seg_cache[content] = r.segments(content, units)

    timer_cache: dict[str, int | None] = {}
    timers: list[int | None] = []
    for i, rc in enumerate(recipients):
        raw = rc.timer_time
        if raw is None:
            timers.append(None)
        elif raw in timer_cache:
            timers.append(timer_cache[raw])
        else:
            at = r.parse_timer(raw, order.timer_format, wall_now_ms, rules, paths.at("timer_time", i))
            timer_cache[raw] = at
            timers.append(at)
    for i, rc in enumerate(recipients):
        if not r.custom_sms_id_fits(rc.custom_sms_id, rules):
            r.check_custom_sms_id(rc.custom_sms_id, rules, paths.at("custom_sms_id", i))
    codes_checked: set[str] = set()
    for i, rc in enumerate(recipients):
        code = rc.extended_code
        if code is not None and code not in codes_checked:
            r.check_extended_code(code, rules, paths.at("extended_code", i))
            codes_checked.add(code)

    seen: set[str] = set()
    planned: list[Planned] = []
    for i, rc in enumerate(recipients):
        norm = normalized[i]
        content = rc.content or ""
        planned.append(
            Planned(i, mobiles[i], norm, content, rc.custom_sms_id, rc.extended_code, timers[i],
                    seg_cache[content], norm in seen)
        )  # fmt: skip
        seen.add(norm)
    return planned
