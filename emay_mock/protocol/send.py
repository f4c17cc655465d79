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
    """One recipient as the request gives it; `validate` makes it final in place: the
    mobile stripped, and what it is stored, billed and reported by."""

    mobile: str | None
    content: str | None
    custom_sms_id: str | None = None
    timer_time: str | None = None
    extended_code: str | None = None
    variables: dict[str, str] | None = None  # sendTemplateVariableSMS: filled into the template
    # Set by `validate`:
    mobile_norm: str = ""  # the bare number (no +86), which indexes and scenarios match
    timer_ms: int | None = None
    segments: int = 0
    repeat: bool = False  # the same number earlier in this request: FAIL_MOBILE_REPEAT


@dataclass(frozen=True)
class ShortLinkSpec:
    url: str
    rule: str  # "1": one code per request; "2": one code per recipient


@dataclass(slots=True)
class SendOrder:
    endpoint: str
    recipients: list[Recipient]
    timer_format: str
    paths: FieldPaths = DEFAULT_PATHS
    template_id: str | None = None
    short_link: ShortLinkSpec | None = None
    voice: bool = False
    notes: Notes | None = None  # the request's notes, for what filling in a template learns
    base_url: str = ""  # where the mock is reached, for the short URLs it issues


def plain_mobile(mobile: str, pattern: re.Pattern[str]) -> bool:
    """A bare number as the rules want it: nothing to strip, normalise or note."""
    return not mobile.startswith(_PREFIX_STARTS) and pattern.fullmatch(mobile) is not None


def _at(order: SendOrder, name: str, rc: Recipient) -> str:
    """Where a recipient's field came from, for a reason."""
    return order.paths.at(name, next(i for i, other in enumerate(order.recipients) if other is rc))


def validate(order: SendOrder, rules: r.Rules, wall_now_ms: int, notes: Notes) -> int:
    """Check the order's recipients rule by rule (each rule for every recipient before the
    next rule), making each final in place; returns the segments the order costs.

    A reason's "where" (smses[i].mobile…) is spelled out only when there is something to
    say, and a value many recipients share (a batch's content, timerTime or extendedCode,
    one string) is checked once."""
    recipients = order.recipients
    given = False
    for rc in recipients:
        mobile = rc.mobile
        if mobile:
            mobile = rc.mobile = mobile.strip()
            given = given or mobile != ""
        else:
            rc.mobile = ""
    if not given:
        raise EmayError(
            ResultCode.ERROR_MOBILE_EMPTY,
            f"no mobile given ({order.paths.at('mobile', 0)})",
            field="mobile",
        )
    if len(recipients) > rules.max_recipients:
        raise EmayError(
            ResultCode.ERROR_MOBILE_NUMBER,
            f"{len(recipients)} recipients, the limit is {rules.max_recipients}",
            expected=rules.max_recipients,
            got=len(recipients),
        )
    fullmatch = rules.mobile_pattern.fullmatch
    for rc in recipients:
        mobile = rc.mobile
        assert mobile is not None
        if not mobile.startswith(_PREFIX_STARTS) and fullmatch(mobile) is not None:  # plain_mobile
            rc.mobile_norm = mobile  # already a bare number: nothing to strip or note
        elif not mobile:
            where = _at(order, "mobile", rc)
            raise EmayError(
                ResultCode.ERROR_MOBILE_ERROR, f"{where} is empty among other numbers", field=where
            )
        else:
            rc.mobile_norm = r.normalize_mobile(mobile, rules, notes, _at(order, "mobile", rc))

    cost = 0
    shared, shared_segments = None, 0
    for rc in recipients:
        content = rc.content
        if content is not shared or content is None:
            if order.voice:
                r.check_voice_content(content, _at(order, "content", rc))
                shared_segments = 1
            else:
                units = r.content_units(content) if content else 0
                if not content or units > rules.max_content_units:
                    r.check_content(content, rules, _at(order, "content", rc))  # raises, with the reason
                assert content is not None
                shared_segments = r.segments(content, units)
            shared = content
        rc.segments = shared_segments
        cost += shared_segments

    shared_timer, shared_at = None, None
    longest = rules.max_custom_sms_id
    shared_code = None
    for rc in recipients:
        raw = rc.timer_time
        if raw is not None:
            if raw is not shared_timer:
                shared_timer = raw
                shared_at = r.parse_timer(
                    raw, order.timer_format, wall_now_ms, rules, _at(order, "timer_time", rc)
                )
            rc.timer_ms = shared_at
    for rc in recipients:
        custom = rc.custom_sms_id
        if custom is not None and len(custom) > longest:
            r.check_custom_sms_id(custom, rules, _at(order, "custom_sms_id", rc))
    for rc in recipients:
        code = rc.extended_code
        if code is not None and code is not shared_code:
            r.check_extended_code(code, rules, _at(order, "extended_code", rc))
            shared_code = code

    if len(recipients) > 1:
        seen: set[str] = set()
        for rc in recipients:
            rc.repeat = rc.mobile_norm in seen
            seen.add(rc.mobile_norm)
    return cost
