"""The outcomes a client met, and those it never did: per appId, what the platform answered
and delivered, against the documented outcomes of the endpoints the account used.

Answers are read from the contract book (it counts each request by endpoint and code);
what the platform delivers later (reports, pushes, MO, clicks, template reviews) is told to
the `OutcomeBook` as it happens. Both are fixed sets of names per account, so memory stays
bounded whatever the traffic. Each unseen outcome says how to provoke it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from emay_mock.protocol.codes import ReportState
from emay_mock.scenarios.outcomes import endpoint_path

MAX_APPS = 1000
OTHER_APPS = "(other)"

PUSH_DELIVERED = "push:delivered"
PUSH_RETRIED = "push:retried"
PUSH_GIVEN_UP = "push:given-up"
MO_RECEIVED = "mo:received"
TEMPLATE_APPROVED = "template:approved"
TEMPLATE_REJECTED = "template:rejected"
LINK_CLICKED = "shortlink:clicked"

SENDS = {
    "secure": {
        "sendSingleSMS", "sendBatchSMS", "sendBatchOnlySMS", "sendPersonalitySMS", "sendPersonalityAllSMS",
        "sendTemplateNormalSMS", "sendTemplateVariableSMS", "sendShortLinkSMS",
    },
    "simple": {"sendSMS", "sendPersonalitySMS"},
    "voice": {"sendSMS"},
}  # fmt: skip
_MO_PULLS = {("secure", "getMo"), ("simple", "getMo")}

# A mobile ending in 5550 00NN plays a rule of the default scenario (docs/scenarios.md).
MAGIC_NUMBERS = {
    ReportState.FAIL_MOBILE.value: "13855500001",
    ReportState.FAIL_BLACK_LIST.value: "13855500002",
    ReportState.FAIL_UNSUBSCRIBE.value: "13855500005",
    ReportState.FAIL_UNKNOW.value: "13855500008",
}
MO_NUMBER = "13855500009"  # replies "1" five seconds after its report
CLICK_NUMBER = "13855500010"  # its short link is opened ten seconds after it is sent
ADVANCE = "POST /_mock/clock/advance"


def outcome_name(family: str, endpoint: str) -> str:
    """`sendSingleSMS` for the secure family (as the vendor names it), `simple/sendSMS` for the others."""
    return endpoint if family == "secure" else f"{family}/{endpoint}"


@dataclass(frozen=True)
class HowTo:
    via: str  # magic-number | content-marker | scenario | console | request | receiver
    how: str
    scenario: str | None = None  # the YAML to load, when `via` is scenario
    mobile: str | None = None  # the magic number to send to
    content: str | None = None  # the content marker to send

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"via": self.via, "how": self.how}
        for key in ("scenario", "mobile", "content"):
            if (value := getattr(self, key)) is not None:
                out[key] = value
        return out


class OutcomeBook:
    """What the platform delivered to each account, by outcome name, counted as it happens."""

    def __init__(self) -> None:
        self.apps: dict[str, Counter[str]] = {}

    def saw(self, app_id: str, outcome: str, count: int = 1) -> None:
        seen = self.apps.get(app_id)
        if seen is None:
            if len(self.apps) >= MAX_APPS:
                app_id = OTHER_APPS
            seen = self.apps.setdefault(app_id, Counter())
        seen[outcome] += count

    def saw_states(self, app_id: str, states: Mapping[str, int]) -> None:
        """Reports made for the account's messages: how many in each state."""
        for state, count in states.items():
            self.saw(app_id, f"report:{state}", count)

    def forget(self, app_id: str | None = None) -> None:
        if app_id is None:
            self.apps.clear()
        else:
            self.apps.pop(app_id, None)


@dataclass(frozen=True)
class Usage:
    """What decides which outcomes an account can meet: the endpoints it called and its callbacks."""

    answers: Mapping[tuple[str, str, str | None], int]  # (family, endpoint, code) -> requests
    delivered: Mapping[str, int]
    report_push: bool = False
    mo_push: bool = False


def documented(usage: Usage, app_id: str) -> dict[str, HowTo]:
    """Every outcome the account's use of the platform can meet, each with how to provoke it."""
    used = {(family, endpoint) for family, endpoint, _ in usage.answers}
    out: dict[str, HowTo] = {}
    sends = False
    for family, endpoint in sorted(used):
        name = outcome_name(family, endpoint)
        is_send = endpoint in SENDS.get(family, ())
        sends = sends or is_send
        out[f"{name}:SUCCESS"] = HowTo("request", f"a valid {name} request")
        if is_send:
            out[f"{name}:ERROR_BALANCE"] = HowTo(
                "console",
                f'POST /_mock/accounts/{app_id}/balance {{"set": 0}}, then {name} '
                "(or put [emay:ERROR_BALANCE] in the content)",
            )
        out[f"{name}:ERROR_OVER_SPEED"] = _scripted_code(family, endpoint, "ERROR_OVER_SPEED", is_send)
    if sends:
        for state in ReportState:
            out[f"report:{state.value}"] = _report_how(state.value)
    if usage.report_push or usage.mo_push:
        out[PUSH_DELIVERED] = HowTo("receiver", "answer a push with HTTP 200 and the body SUCCESS")
        out[PUSH_RETRIED] = HowTo(
            "receiver",
            f'answer a push with anything but SUCCESS (a 500), then {ADVANCE} {{"seconds": 10}}: '
            "the mock tries again",
        )
        out[PUSH_GIVEN_UP] = HowTo(
            "receiver",
            f'answer every attempt of a push with a failure and {ADVANCE} {{"seconds": 700}}: '
            "after the last retry the batch is dead",
        )
    if usage.mo_push or used & _MO_PULLS:
        out[MO_RECEIVED] = HowTo(
            "magic-number",
            f'send to {MO_NUMBER}: the phone replies "1" 5 s after its report '
            f'(or POST /_mock/mo {{"appId": "{app_id}", "mobile": "13800000000", "content": "hi"}})',
            mobile=MO_NUMBER,
        )
    if ("secure", "createTemplateSMS") in used:
        out[TEMPLATE_APPROVED] = HowTo("request", "createTemplateSMS: the mock approves at once by default")
        out[TEMPLATE_REJECTED] = HowTo(
            "scenario",
            "load a scenario that rejects the next template (or POST /_mock/templates/{templateId}/review "
            '{"status": "rejected"})',
            "rules:\n  - match: {endpoint: createTemplateSMS}\n    then: {template: {status: rejected}}\n",
        )
    if ("secure", "sendShortLinkSMS") in used:
        out[LINK_CLICKED] = HowTo(
            "magic-number",
            f"sendShortLinkSMS to {CLICK_NUMBER}: its link is opened 10 s after it is sent "
            "(or POST /_mock/shortlinks/{code}/click)",
            mobile=CLICK_NUMBER,
        )
    return out


def _scripted_code(family: str, endpoint: str, code: str, has_content: bool) -> HowTo:
    path = endpoint if family == "secure" else endpoint_path(family, endpoint)
    scenario = f"rules:\n  - match: {{endpoint: {json.dumps(path)}, calls: 1}}\n    then: {{code: {code}}}\n"
    marker = f" (or put [emay:{code}] in the content)" if has_content else ""
    return HowTo("scenario", f"load a scenario answering the next {outcome_name(family, endpoint)} "
                 f"with {code}{marker}", scenario)  # fmt: skip


def _report_how(state: str) -> HowTo:
    wait = f'then {ADVANCE} {{"seconds": 1}} for the report'
    if state == ReportState.DELIVRD.value:
        return HowTo("request", f"send to any ordinary number, {wait}")
    if state == ReportState.FAIL_MOBILE_REPEAT.value:
        return HowTo("request", f"one batch send with the same mobile twice, {wait}")
    if state in MAGIC_NUMBERS:
        mobile = MAGIC_NUMBERS[state]
        return HowTo("magic-number", f"send to {mobile}, {wait}", mobile=mobile)
    marker = f"[emay:{state}]"
    return HowTo("content-marker", f"send a content containing {marker}, {wait}", content=marker)


def report(usage: Usage, app_id: str) -> dict[str, Any]:
    """Seen and unseen outcome names; `unseen` also as objects with how to provoke each."""
    universe = documented(usage, app_id)
    seen: set[str] = set()
    for (family, endpoint, code), n in usage.answers.items():
        if code is not None and n:
            seen.add(f"{outcome_name(family, endpoint)}:{code}")
    seen.update(name for name, n in usage.delivered.items() if n)
    unseen = [name for name in universe if name not in seen]
    ordered_seen = [name for name in universe if name in seen] + sorted(seen - universe.keys())
    return {
        "appId": app_id,
        "met": len(ordered_seen),
        "of": len(ordered_seen) + len(unseen),
        "summary": f"met {len(ordered_seen)} of {len(ordered_seen) + len(unseen)}",
        "seen": ordered_seen,
        "unseen": unseen,
        "howTo": [{"outcome": name, **universe[name].as_dict()} for name in unseen],
    }
