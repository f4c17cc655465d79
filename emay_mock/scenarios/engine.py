"""Deciding outcomes: rules tried in order; for each kind of outcome, the first match decides.

A request is seen once (`on_request`): every rule whose request-level matchers match it
(and, for recipient matchers, at least one recipient) counts the call; a rule whose
`calls` range includes this call takes part in the request's decisions. Request outcomes
(a result code, an HTTP fault) are decided then; recipient outcomes (report, replies,
clicks, push chaos) per recipient in `plan`. Each probability is one draw from the
scenario's own seeded generator, in rule order, so a seed replays a run exactly.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faker import Faker

from emay_mock.protocol.codes import ReportState, ResultCode
from emay_mock.protocol.send import Recipient
from emay_mock.scenarios.model import RecipientFields, Rule, Scenario, union
from emay_mock.scenarios.outcomes import ClickPlan, Fault, RecipientPlan, Reply, RequestDecision, RequestFacts

_NOTHING = RequestDecision()  # shared: never changed by its callers


class _Sieve:
    """What every rule of every scenario needs, when each needs a content marker or a mobile
    suffix their guards know: a request with neither (nearly every one) matches no rule."""

    def __init__(self, scenarios: list[Scenario]) -> None:
        self.applies = all(
            not s.guarded_rules(s.content_guard is not None, s.mobile_guard is not None) for s in scenarios
        )
        guards = [s.content_guard.pattern for s in scenarios if s.content_guard is not None]
        self.content = union(guards) if guards else None
        self.suffixes: dict[int, set[str]] = {}
        for scenario in scenarios:
            for length, values in (scenario.mobile_guard or {}).items():
                self.suffixes.setdefault(length, set()).update(values)
        self._search = None if self.content is None else self.content.search
        self._suffixes = tuple(self.suffixes.items())

    def rules_out(self, recipients: list[Recipient]) -> bool:
        if not self.applies:
            return False
        search, suffixes = self._search, self._suffixes
        searched: str | None = None  # a batch's recipients share one content: searched once
        for r in recipients:
            text = r.content
            if text is not searched and search is not None and text is not None:
                if search(text):
                    return False
                searched = text
            mobile = r.mobile
            if mobile is not None and suffixes:
                mobile = mobile.rstrip()
                for length, values in suffixes:
                    if mobile[-length:] in values:
                        return False
        return True


class ScenarioBook:
    """The loaded scenarios, user ones first (in load order), the built-in defaults last."""

    def __init__(self) -> None:
        self.scenarios: list[Scenario] = []
        self._faker: Faker | None = None
        self._sieve: _Sieve | None = None  # made again after every change to the list

    # -- managing -----------------------------------------------------------------------------

    def load(self, scenario: Scenario) -> bool:
        """Add, or replace one of the same name in place; returns True when it replaced one."""
        self._sieve = None
        for index, existing in enumerate(self.scenarios):
            if existing.name == scenario.name:
                self.scenarios[index] = scenario
                return True
        if scenario.builtin:
            self.scenarios.append(scenario)
        else:
            builtin_at = next((i for i, s in enumerate(self.scenarios) if s.builtin), len(self.scenarios))
            self.scenarios.insert(builtin_at, scenario)
        return False

    def remove(self, name: str) -> bool:
        self._sieve = None
        before = len(self.scenarios)
        self.scenarios = [s for s in self.scenarios if s.name != name]
        return len(self.scenarios) != before

    def get(self, name: str) -> Scenario | None:
        return next((s for s in self.scenarios if s.name == name), None)

    def restart(self) -> None:
        for scenario in self.scenarios:
            scenario.restart()

    def _rules(self) -> Iterator[tuple[Scenario, Rule]]:
        for scenario in self.scenarios:
            for rule in scenario.rules:
                yield scenario, rule

    def _matching(self, facts: RequestFacts, seen: RecipientFields) -> Iterator[tuple[Scenario, Rule]]:
        """The rules, in order, less the content and mobile-suffix rules that a scenario's
        guards rule out at once."""
        contents = {r.content for r in facts.recipients if r.content is not None}
        for scenario in self.scenarios:
            guard = scenario.content_guard
            content_out = guard is not None and not any(guard.search(c) for c in contents)
            suffixes = scenario.mobile_guard
            mobile_out = suffixes is not None and all(
                wanted.isdisjoint(seen.field("mobile").suffixes(n)) for n, wanted in suffixes.items()
            )
            for rule in scenario.guarded_rules(content_out, mobile_out):
                yield scenario, rule

    # -- deciding -----------------------------------------------------------------------------

    def _sieve_for(self) -> _Sieve:
        sieve = self._sieve
        if sieve is None:
            sieve = self._sieve = _Sieve(self.scenarios)
        return sieve

    def ignores(self, recipients: list[Recipient]) -> bool:
        return (self._sieve or self._sieve_for()).rules_out(recipients)

    def on_request(self, facts: RequestFacts) -> RequestDecision:
        if self.ignores(facts.recipients):
            return _NOTHING
        decision = RequestDecision()
        path = facts.path
        seen = RecipientFields(facts.recipients)  # each field built once, on first use
        for scenario, rule in self._matching(facts, seen):
            match = rule.match
            if not match.request(facts.family, facts.endpoint, path, facts.app_id, facts.template_id):
                continue
            if match.per_recipient and not match.any_recipient(seen):
                continue
            rule.calls += 1
            rule.matched += 1
            if not match.in_calls(rule.calls):
                continue
            facts.calls[id(rule)] = rule.calls
            facts.matched.append((scenario, rule))
            then = rule.then
            wants_code = then.code is not None and decision.code is None
            wants_fault = then.fault is not None and decision.fault is None
            if not (wants_code or wants_fault):
                continue
            passed, draw = _draw(scenario, match.probability)
            if not passed:
                decision.fired.append(_fired(rule, "request", [], draw, rule.calls, fired=False))
                continue
            kinds = []
            if wants_code:
                decision.code = then.code
                kinds.append("code")
            if wants_fault:
                assert then.fault is not None
                spec = then.fault
                latency = 0 if spec.latency is None else spec.latency.draw_ms(scenario.rng)
                decision.fault = Fault(spec.kind, spec.when, latency, spec.status, rule.label)
                kinds.append("fault")
            rule.fired += 1
            decision.fired.append(_fired(rule, "request", kinds, draw, rule.calls))
        return decision

    def plan(self, facts: RequestFacts, recipient: Recipient, default: RecipientPlan) -> RecipientPlan:
        if not facts.matched:  # no rule matches this request: the platform's default, at once
            return default
        plan = RecipientPlan(default.state, default.delay_ms)
        decided: set[str] = set()
        matched: list[tuple[Scenario, Rule]] = facts.matched
        for scenario, rule in matched:
            then = rule.then
            open_kinds = [
                kind
                for kind, present in (
                    ("report", then.has_report),
                    ("reply", bool(then.replies)),
                    ("clicks", then.clicks > 0),
                    ("push", bool(then.push)),
                )
                if present and kind not in decided
            ]
            if not open_kinds:
                continue
            match = rule.match
            if not match.recipient_bare(
                recipient.mobile_norm, recipient.content, recipient.custom_sms_id, recipient.extended_code
            ):
                continue
            passed, draw = _draw(scenario, match.probability)
            if draw is not None:
                plan.draws.append((rule.label, draw, passed))
            if not passed:
                continue
            rng = scenario.rng
            if "report" in open_kinds:
                if then.state is not None:
                    plan.state = then.state.value
                if then.report_delay is not None:
                    plan.delay_ms = then.report_delay.draw_ms(rng)
            if "reply" in open_kinds:
                plan.replies = [
                    Reply(r.content, 0 if r.delay is None else r.delay.draw_ms(rng), r.extended_code)
                    for r in then.replies
                ]
            if "clicks" in open_kinds:
                plan.clicks = [
                    ClickPlan(
                        0 if then.click_delay is None else then.click_delay.draw_ms(rng),
                        then.click_user_agent or self._user_agent(rng),
                    )
                    for _ in range(then.clicks)
                ]
            if "push" in open_kinds:
                plan.push = then.push
            decided.update(open_kinds)
            rule.fired += 1
            plan.fired.append(rule.label)
        return plan

    def _user_agent(self, rng: random.Random) -> str:
        """A realistic User-Agent drawn from the scenario's generator, so that a seed replays it."""
        if self._faker is None:
            from faker import Faker  # only now: its import is a tenth of the start-up

            self._faker = Faker()
        self._faker.seed_instance(rng.getrandbits(32))
        return str(self._faker.user_agent())

    def template_review(self, facts: RequestFacts, default_s: float) -> tuple[int, float] | None:
        status, delay = 1, default_s
        for scenario, rule in self._rules():
            then = rule.then
            if id(rule) not in facts.calls or (then.template_status is None and then.template_delay is None):
                continue
            passed, _ = _draw(scenario, rule.match.probability)
            if not passed:
                continue
            if then.template_status is not None:
                status = then.template_status
            if then.template_delay is not None:
                delay = then.template_delay.draw_ms(scenario.rng) / 1000
            rule.fired += 1
            return status, delay
        return None

    # -- coverage -----------------------------------------------------------------------------

    def coverage(self) -> list[dict[str, Any]]:
        return [
            {
                "scenario": scenario.name,
                "rule": rule.name,
                "line": rule.line,
                "outcomes": rule.then.kinds(),
                "matched": rule.matched,
                "fired": rule.fired,
            }
            for scenario, rule in self._rules()
        ]

    def describe(self, scenario: Scenario) -> dict[str, Any]:
        return {
            "name": scenario.name,
            "description": scenario.description,
            "source": scenario.source,
            "builtin": scenario.builtin,
            "seed": scenario.seed,
            "rules": [
                {
                    "name": r.name,
                    "line": r.line,
                    "outcomes": r.then.kinds(),
                    "matched": r.matched,
                    "fired": r.fired,
                }
                for r in scenario.rules
            ],
        }


def _draw(scenario: Scenario, probability: float | None) -> tuple[bool, float | None]:
    if probability is None:
        return True, None
    draw = scenario.rng.random()
    return draw < probability, round(draw, 6)


def _fired(
    rule: Rule, scope: str, kinds: list[str], draw: float | None, call: int, *, fired: bool = True
) -> dict[str, Any]:
    return {"rule": rule.label, "scope": scope, "fired": fired, "outcomes": kinds, "draw": draw, "call": call}


ALL_CODES = [c.value for c in ResultCode]
ALL_STATES = [s.value for s in ReportState]
