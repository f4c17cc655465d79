"""A scenario file as typed rules: what a rule matches, and what it makes happen.

Built only from a document that passed the schema and the semantic checks of
`scenarios.loader`; nothing here runs code from the file: regular expressions are the
only thing compiled.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from emay_mock.protocol.codes import ReportState, ResultCode
from emay_mock.protocol.rules import strip_prefix
from emay_mock.protocol.send import Recipient


@dataclass(frozen=True)
class Seconds:
    """A delay: fixed, or drawn uniformly in [lo, hi] from the scenario's generator."""

    lo: float
    hi: float

    def draw_ms(self, rng: random.Random) -> int:
        if self.lo == self.hi:
            return int(self.lo * 1000)
        return int(rng.uniform(self.lo, self.hi) * 1000)

    @classmethod
    def parse(cls, raw: Any) -> Seconds | None:
        if raw is None:
            return None
        if isinstance(raw, dict):
            return cls(float(raw["min"]), float(raw["max"]))
        return cls(float(raw), float(raw))


@dataclass(frozen=True)
class TextMatch:
    kind: str  # exact | prefix | suffix | regex
    value: str
    pattern: re.Pattern[str] | None = None

    def __call__(self, text: str | None) -> bool:
        if text is None:
            return False
        if self.kind == "exact":
            return text == self.value
        if self.kind == "prefix":
            return text.startswith(self.value)
        if self.kind == "suffix":
            return text.endswith(self.value)
        assert self.pattern is not None
        return self.pattern.search(text) is not None

    @classmethod
    def parse(cls, raw: Any) -> TextMatch | None:
        if raw is None:
            return None
        if isinstance(raw, str):
            return cls("exact", raw)
        ((kind, value),) = raw.items()
        return cls(kind, value, re.compile(value) if kind == "regex" else None)


def _set(raw: Any) -> frozenset[str] | None:
    if raw is None:
        return None
    return frozenset(raw if isinstance(raw, list) else [raw])


@dataclass(frozen=True)
class Match:
    endpoints: frozenset[str] | None = None
    families: frozenset[str] | None = None
    app_ids: frozenset[str] | None = None
    template_ids: frozenset[str] | None = None
    mobile: TextMatch | None = None
    content: re.Pattern[str] | None = None
    custom_sms_id: TextMatch | None = None
    extended_code: TextMatch | None = None
    calls: tuple[int, int | None] | None = None
    probability: float | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any] | None) -> Match:
        raw = raw or {}
        calls = raw.get("calls")
        span: tuple[int, int | None] | None = None
        if isinstance(calls, int):
            span = (calls, calls)
        elif isinstance(calls, dict):
            span = (int(calls.get("from", 1)), calls.get("to"))
        content = raw.get("content")
        return cls(
            endpoints=_set(raw.get("endpoint")),
            families=_set(raw.get("family")),
            app_ids=_set(raw.get("appId")),
            template_ids=_set(raw.get("templateId")),
            mobile=TextMatch.parse(raw.get("mobile")),
            content=None if content is None else re.compile(content),
            custom_sms_id=TextMatch.parse(raw.get("customSmsId")),
            extended_code=TextMatch.parse(raw.get("extendedCode")),
            calls=span,
            probability=raw.get("probability"),
        )

    @property
    def per_recipient(self) -> bool:
        return any(m is not None for m in (self.mobile, self.content, self.custom_sms_id, self.extended_code))

    def request(self, family: str, endpoint: str, path: str, app_id: str, template_id: str | None) -> bool:
        if self.endpoints is not None and endpoint not in self.endpoints and path not in self.endpoints:
            return False
        if self.families is not None and family not in self.families:
            return False
        if self.app_ids is not None and app_id not in self.app_ids:
            return False
        return not (self.template_ids is not None and template_id not in self.template_ids)

    def recipient(
        self, mobile: str | None, content: str | None, custom: str | None, extended: str | None
    ) -> bool:
        if self.mobile is not None and not self.mobile(None if mobile is None else strip_prefix(mobile)):
            return False
        if self.content is not None and (content is None or self.content.search(content) is None):
            return False
        if self.custom_sms_id is not None and not self.custom_sms_id(custom):
            return False
        return self.extended_code is None or self.extended_code(extended)

    def any_recipient(self, recipients: list[Recipient]) -> bool:
        return any(self.recipient(r.mobile, r.content, r.custom_sms_id, r.extended_code) for r in recipients)

    def in_calls(self, n: int) -> bool:
        if self.calls is None:
            return True
        lo, hi = self.calls
        return n >= lo and (hi is None or n <= hi)


@dataclass(frozen=True)
class FaultSpec:
    kind: str
    when: str
    latency: Seconds | None
    status: int


@dataclass(frozen=True)
class ReplySpec:
    content: str
    delay: Seconds | None
    extended_code: str | None


@dataclass(frozen=True)
class Then:
    code: ResultCode | None = None
    fault: FaultSpec | None = None
    state: ReportState | None = None
    report_delay: Seconds | None = None
    replies: tuple[ReplySpec, ...] = ()
    clicks: int = 0
    click_delay: Seconds | None = None
    click_user_agent: str | None = None
    template_status: int | None = None
    template_delay: Seconds | None = None
    push: frozenset[str] = frozenset()

    @property
    def has_report(self) -> bool:
        return self.state is not None or self.report_delay is not None

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Then:
        fault = raw.get("fault")
        report = raw.get("report") or {}
        replies = raw.get("reply") or []
        clicks = raw.get("clicks")
        template = raw.get("template") or {}
        push = raw.get("push") or {}
        return cls(
            code=None if raw.get("code") is None else ResultCode(raw["code"]),
            fault=None
            if fault is None
            else FaultSpec(
                fault["kind"],
                fault.get("when", "before"),
                Seconds.parse(fault.get("latency")),
                fault.get("status", 503),
            ),
            state=None if report.get("state") is None else ReportState(report["state"]),
            report_delay=Seconds.parse(report.get("delay")),
            replies=tuple(
                ReplySpec(r["content"], Seconds.parse(r.get("delay")), r.get("extendedCode"))
                for r in (replies if isinstance(replies, list) else [replies])
            ),
            clicks=0 if clicks is None else int(clicks.get("count", 1)),
            click_delay=None if clicks is None else Seconds.parse(clicks.get("delay")),
            click_user_agent=None if clicks is None else clicks.get("userAgent"),
            template_status=None
            if "status" not in template
            else (1 if template["status"] == "approved" else 2),
            template_delay=Seconds.parse(template.get("delay")),
            push=frozenset(k for k, v in push.items() if v),
        )

    def kinds(self) -> list[str]:
        out = []
        for name, present in (
            ("code", self.code is not None),
            ("fault", self.fault is not None),
            ("report", self.has_report),
            ("reply", bool(self.replies)),
            ("clicks", self.clicks > 0),
            ("template", self.template_status is not None or self.template_delay is not None),
            ("push", bool(self.push)),
        ):
            if present:
                out.append(name)
        return out


@dataclass
class Rule:
    scenario: str
    name: str
    line: int
    match: Match
    then: Then
    description: str = ""
    calls: int = 0  # matching calls since the last reset (for `calls`)
    matched: int = 0  # matching calls, ever
    fired: int = 0  # outcomes applied, ever

    @property
    def label(self) -> str:
        return f"{self.scenario}/{self.name}"


@dataclass
class Scenario:
    name: str
    rules: list[Rule]
    seed: int = 0
    description: str = ""
    source: str = "api"
    text: str = ""
    builtin: bool = False
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self.rng.seed(self.seed)

    def restart(self) -> None:
        """Back to call one, and the generator back to its seed: the same run replays."""
        self.rng.seed(self.seed)
        for rule in self.rules:
            rule.calls = 0
