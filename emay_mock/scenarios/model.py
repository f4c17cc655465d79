"""A scenario file as typed rules: what a rule matches, and what it makes happen.

Built only from a document that passed the schema and the semantic checks of
`scenarios.loader`; nothing here runs code from the file: regular expressions are the
only thing compiled.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from functools import cached_property
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

    def any_of(self, values: FieldValues) -> bool:
        """Whether any of a request's distinct values matches: one set lookup unless a regex."""
        if self.kind == "exact":
            return self.value in values.distinct
        if self.kind == "suffix":
            return self.value in values.suffixes(len(self.value))
        if self.kind == "prefix":
            return self.value in values.prefixes(len(self.value))
        return any(self(v) for v in values.distinct)

    @classmethod
    def parse(cls, raw: Any) -> TextMatch | None:
        if raw is None:
            return None
        if isinstance(raw, str):
            return cls("exact", raw)
        ((kind, value),) = raw.items()
        return cls(kind, value, re.compile(value) if kind == "regex" else None)


class FieldValues:
    """One recipient field across a request: its values in recipient order, and the distinct
    values with their prefixes and suffixes by length, built on first use."""

    def __init__(self, values: list[str | None]) -> None:
        self.values = values
        self.distinct = {v for v in values if v is not None}
        self._suffixes: dict[int, set[str]] = {}
        self._prefixes: dict[int, set[str]] = {}

    def suffixes(self, length: int) -> set[str]:
        found = self._suffixes.get(length)
        if found is None:
            found = self._suffixes[length] = {v[-length:] for v in self.distinct if len(v) >= length}
        return found

    def prefixes(self, length: int) -> set[str]:
        found = self._prefixes.get(length)
        if found is None:
            found = self._prefixes[length] = {v[:length] for v in self.distinct if len(v) >= length}
        return found


class RecipientFields:
    """A request's recipients as rules see them (mobiles without their country prefix), so
    each rule is one set lookup per field rather than one check per recipient: a batch of
    500 against the built-in magic numbers costs a few lookups, not thousands of matches."""

    def __init__(self, recipients: list[Recipient]) -> None:
        self.count = len(recipients)
        self._recipients = recipients
        self._fields: dict[str, FieldValues] = {}

    def field(self, name: str) -> FieldValues:
        found = self._fields.get(name)
        if found is None:
            rs = self._recipients
            if name == "mobile":
                values = [None if r.mobile is None else strip_prefix(r.mobile) for r in rs]
            elif name == "content":
                values = [r.content for r in rs]
            elif name == "custom_sms_id":
                values = [r.custom_sms_id for r in rs]
            else:
                values = [r.extended_code for r in rs]
            found = self._fields[name] = FieldValues(values)
        return found


# A regex that is only literal text: escaped punctuation and word characters.
_LITERAL = re.compile(r"(?:\\[^\w\s]|[\w:\- ])*")


def union(sources: list[str]) -> re.Pattern[str]:
    """One pattern for `a|b|c`, with the literal text they all start with taken out in front.

    The built-in markers all start with `[emay:`: written as that literal, then the group of
    what follows it (`slow]|http-503]|…`), the regex engine looks for the literal first and
    rejects a text without it at once, instead of trying forty alternatives at every position.
    """
    first, last = min(sources), max(sources)
    shared = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), len(first))
    prefix = first[:shared]
    while prefix and not (_LITERAL.fullmatch(prefix) and not prefix.endswith("\\")):
        prefix = prefix[:-1]
    rest = "|".join(f"(?:{s[len(prefix) :]})" for s in sources)
    return re.compile(f"{prefix}(?:{rest})")


def _plain(pattern: re.Pattern[str]) -> bool:
    """No groups (so no back-references) and no flags: safe to join with others by `|`."""
    return pattern.groups == 0 and pattern.flags == re.UNICODE


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

    @cached_property
    def per_recipient(self) -> bool:
        return any(m is not None for m in (self.mobile, self.content, self.custom_sms_id, self.extended_code))

    @cached_property
    def plain_content(self) -> bool:
        """A content matcher that its scenario's `content_guard` covers."""
        return self.content is not None and _plain(self.content)

    @cached_property
    def _recipient_matchers(self) -> int:
        return sum(m is not None for m in (self.mobile, self.content, self.custom_sms_id, self.extended_code))

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
        return self.recipient_bare(
            None if mobile is None else strip_prefix(mobile), content, custom, extended
        )

    def recipient_bare(
        self, mobile: str | None, content: str | None, custom: str | None, extended: str | None
    ) -> bool:
        """As `recipient`, the mobile already without its country prefix."""
        if self.mobile is not None and not self.mobile(mobile):
            return False
        if self.content is not None and (content is None or self.content.search(content) is None):
            return False
        if self.custom_sms_id is not None and not self.custom_sms_id(custom):
            return False
        return self.extended_code is None or self.extended_code(extended)

    def any_recipient(self, seen: RecipientFields) -> bool:
        """Whether one recipient matches every recipient matcher of the rule."""
        # Each matcher alone, on distinct values first: most rules fail here at once.
        if self.mobile is not None and not self.mobile.any_of(seen.field("mobile")):
            return False
        if self.content is not None:
            pattern = self.content
            if not any(pattern.search(c) for c in seen.field("content").distinct):
                return False
        if self.custom_sms_id is not None and not self.custom_sms_id.any_of(seen.field("custom_sms_id")):
            return False
        if self.extended_code is not None and not self.extended_code.any_of(seen.field("extended_code")):
            return False
        if self._recipient_matchers <= 1:
            return True
        # Several matchers must hold for the same recipient.
        mobiles = seen.field("mobile").values
        contents = seen.field("content").values
        customs = seen.field("custom_sms_id").values
        extendeds = seen.field("extended_code").values
        return any(
            self.recipient_bare(mobiles[i], contents[i], customs[i], extendeds[i]) for i in range(seen.count)
        )

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
    _guarded: dict[tuple[bool, bool], list[Rule]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.rng.seed(self.seed)

    @cached_property
    def content_guard(self) -> re.Pattern[str] | None:
        """One pattern that finds what any of the rules' plain content matchers would find.

        The built-in markers are some forty content rules; a text none of them can match
        (nearly every text) is then ruled out by one search instead of forty.
        """
        patterns = [
            r.match.content for r in self.rules if r.match.content is not None and r.match.plain_content
        ]
        if len(patterns) < 2:
            return None
        return union([p.pattern for p in patterns])

    @cached_property
    def mobile_guard(self) -> dict[int, frozenset[str]] | None:
        """The suffixes the rules' mobile `suffix` matchers look for, by length.

        The built-in magic numbers are a dozen suffix rules; a request none of whose
        mobiles ends in one of them (nearly every request) rules them all out by one set
        lookup per length instead of a dozen matches.
        """
        wanted: dict[int, set[str]] = {}
        count = 0
        for rule in self.rules:
            mobile = rule.match.mobile
            if mobile is not None and mobile.kind == "suffix":
                wanted.setdefault(len(mobile.value), set()).add(mobile.value)
                count += 1
        if count < 2:
            return None
        return {length: frozenset(values) for length, values in wanted.items()}

    def guarded_rules(self, content_out: bool, mobile_out: bool) -> list[Rule]:
        """The rules, in order, less those the guards rule out for this request."""
        key = (content_out, mobile_out)
        found = self._guarded.get(key)
        if found is None:
            found = self._guarded[key] = [
                rule
                for rule in self.rules
                if not (content_out and rule.match.plain_content)
                and not (mobile_out and rule.match.mobile is not None and rule.match.mobile.kind == "suffix")
            ]
        return found

    def restart(self) -> None:
        """Back to call one, and the generator back to its seed: the same run replays."""
        self.rng.seed(self.seed)
        for rule in self.rules:
            rule.calls = 0
