"""What the platform asks scenarios, and the shape of their answers.

The platform states the facts of a request (`RequestFacts`) and of each recipient;
scenarios answer with outcomes. With no rules loaded every answer is the platform's
default, so the platform never needs to know whether a scenario is present.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.send import Recipient

_PREFIX = {"secure": "inter", "simple": "simpleinter", "voice": "voice", "report": "report"}


@dataclass(slots=True)
class RequestFacts:
    family: str  # secure | simple | voice | report
    endpoint: str
    app_id: str
    recipients: list[Recipient] = field(default_factory=list)
    template_id: str | None = None
    # Set by scenarios when they see the request: which rules match this call (id -> call number),
    # and the same rules in the order they are tried (opaque here: the scenario engine's own).
    calls: dict[int, int] = field(default_factory=dict)
    matched: list[Any] = field(default_factory=list)

    @property
    def path(self) -> str:
        return endpoint_path(self.family, self.endpoint)


@cache
def endpoint_path(family: str, endpoint: str) -> str:
    return f"/{_PREFIX[family]}/{endpoint}"


@dataclass
class Reply:
    """An MO the recipient will send back."""

    content: str
    delay_ms: int
    extended_code: str | None = None


@dataclass
class ClickPlan:
    delay_ms: int
    user_agent: str | None = None


@dataclass(slots=True)
class RecipientPlan:
    state: str  # a ReportState's value: what the message's report will say
    delay_ms: int
    replies: list[Reply] = field(default_factory=list)
    clicks: list[ClickPlan] = field(default_factory=list)
    push: frozenset[str] = frozenset()  # chaos for the push carrying the report: duplicate, reverse, early
    fired: list[str] = field(default_factory=list)  # scenario/rule that decided something here
    draws: list[tuple[str, float, bool]] = field(default_factory=list)  # (scenario/rule, draw, fired)


@dataclass
class Fault:
    """An HTTP-level misbehaviour of the platform itself."""

    kind: str  # latency | reset | empty | garbage | status
    when: str = "before"  # before: nothing is processed; after: processed, then the answer is lost
    latency_ms: int = 0
    status: int = 503
    rule: str = ""


class FaultNow(Exception):
    """A scripted fault to play before anything is processed: its delay, then either the
    fault in place of the answer (`resume` None) or the request's work (`resume()`)."""

    def __init__(self, fault: Fault, resume: Callable[[], Any] | None = None) -> None:
        super().__init__(fault.kind)
        self.fault = fault
        self.resume = resume


@dataclass(slots=True)
class RequestDecision:
    code: ResultCode | None = None
    fault: Fault | None = None
    fired: list[dict[str, Any]] = field(default_factory=list)


class Outcomes(Protocol):
    def ignores(self, recipients: list[Recipient]) -> bool:
        """True when no rule can match a request to these recipients, whatever its endpoint
        (then `on_request` would decide nothing and count nothing)."""
        ...

    def on_request(self, facts: RequestFacts) -> RequestDecision: ...

    def plan(self, facts: RequestFacts, recipient: Recipient, default: RecipientPlan) -> RecipientPlan: ...

    def template_review(self, facts: RequestFacts, default_s: float) -> tuple[int, float] | None:
        """(status, delay in s) when a rule scripts this template's review, else None."""
        ...

    def restart(self) -> None: ...


class NoScenarios:
    """The platform's defaults, unchanged."""

    def ignores(self, recipients: list[Recipient]) -> bool:
        return True

    def on_request(self, facts: RequestFacts) -> RequestDecision:
        return RequestDecision()

    def plan(self, facts: RequestFacts, recipient: Recipient, default: RecipientPlan) -> RecipientPlan:
        return default

    def template_review(self, facts: RequestFacts, default_s: float) -> tuple[int, float] | None:
        return None

    def restart(self) -> None:
        pass
