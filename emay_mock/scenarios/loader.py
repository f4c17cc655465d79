"""Reading scenario files: the whole file is valid, or it is refused with every problem.

Each problem names the source, the line, the key and what is wrong. Only
`yaml.safe_load`-level YAML is read and only regular expressions are compiled: a
scenario file can describe outcomes but never run code.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from emay_mock import validation, yamlfile
from emay_mock.scenarios.model import Match, Rule, Scenario, Then

MAX_BYTES = 1024 * 1024
DEFAULT_NAME = "default"


class ScenarioError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_file(path: str | Path) -> Scenario:
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ScenarioError([f"{source}: {yamlfile.cannot_read(exc)}"]) from None
    return parse(_text(raw, source), source, default_name=Path(path).stem)


def default_scenario() -> Scenario:
    """The built-in magic numbers (`scenarios/default.yaml`): fresh counters for each caller."""
    parsed = _parsed_default()
    rules = [replace(rule, calls=0, matched=0, fired=0) for rule in parsed.rules]
    return Scenario(
        parsed.name, rules, parsed.seed, parsed.description, parsed.source, parsed.text, builtin=True
    )


@cache
def _parsed_default() -> Scenario:
    text = resources.files("emay_mock").joinpath("scenarios", "default.yaml").read_text("utf-8")
    return parse(text, "builtin:default.yaml", default_name=DEFAULT_NAME)


def _text(raw: bytes, source: str) -> str:
    if len(raw) > MAX_BYTES:
        raise ScenarioError([f"{source}: larger than {MAX_BYTES} bytes"])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError([f"{source}: not UTF-8 at byte {exc.start}"]) from None


def parse(text: str, source: str, *, default_name: str = "scenario") -> Scenario:
    try:
        located = yamlfile.load(text)
    except yamlfile.YamlError as exc:
        raise ScenarioError([f"{source}:{exc.line}: {exc.problem}"]) from None
    data = located.data
    found = [(line, f"{yamlfile.dotted(where)}: duplicate key") for where, line in located.duplicates]
    found += validation.problems(data, validation.schema("scenario.schema.json"), located)
    if isinstance(data, dict):
        found += [
            (located.line(where), f"{yamlfile.dotted(where)}: {text}") for where, text in _semantic(data)
        ]
    if found:
        raise ScenarioError([f"{source}:{line}: {problem}" for line, problem in sorted(set(found))])
    assert isinstance(data, dict)
    name = str(data.get("name") or _safe_name(default_name))
    rules = [
        Rule(
            scenario=name,
            name=str(raw.get("name") or f"rule-{index + 1}"),
            line=located.line(("rules", index)),
            match=Match.parse(raw.get("match")),
            then=Then.parse(raw["then"]),
            description=str(raw.get("description") or ""),
        )
        for index, raw in enumerate(data["rules"] or [])
    ]
    return Scenario(
        name=name,
        rules=rules,
        seed=int(data.get("seed", 0)),
        description=str(data.get("description") or ""),
        source=source,
        text=text,
    )


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", name)[:64] or "scenario"


def _semantic(data: dict[str, Any]) -> list[tuple[yamlfile.Path, str]]:
    """What the schema cannot say; tolerant of wrong types (the schema reports those)."""
    problems: list[tuple[yamlfile.Path, str]] = []
    rules = data.get("rules")
    names: dict[str, int] = {}
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, dict):
            continue
        at: yamlfile.Path = ("rules", index)
        name = rule.get("name")
        if isinstance(name, str):
            if name in names:
                problems.append(((*at, "name"), f"duplicate rule name {name!r} (also rules[{names[name]}])"))
            names.setdefault(name, index)
        match = rule.get("match")
        if isinstance(match, dict):
            problems += [((*at, "match", *where), text) for where, text in _match_problems(match)]
        then = rule.get("then")
        if isinstance(then, dict):
            problems += [((*at, "then", *where), text) for where, text in _then_problems(then)]
    return problems


def _regex(pattern: Any) -> str | None:
    if not isinstance(pattern, str):
        return None
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"not a valid regular expression: {exc}"
    return None


def _match_problems(match: dict[str, Any]) -> list[tuple[yamlfile.Path, str]]:
    problems: list[tuple[yamlfile.Path, str]] = []
    if (why := _regex(match.get("content"))) is not None:
        problems.append((("content",), why))
    for key in ("mobile", "customSmsId", "extendedCode"):
        value = match.get(key)
        if isinstance(value, dict) and (why := _regex(value.get("regex"))) is not None:
            problems.append(((key, "regex"), why))
    calls = match.get("calls")
    if isinstance(calls, dict):
        lo, hi = calls.get("from", 1), calls.get("to")
        if isinstance(lo, int) and isinstance(hi, int) and hi < lo:
            problems.append((("calls",), f"to ({hi}) is before from ({lo})"))
    return problems


def _then_problems(then: dict[str, Any]) -> list[tuple[yamlfile.Path, str]]:
    problems: list[tuple[yamlfile.Path, str]] = []
    for where, value in _delays(then):
        if isinstance(value, dict):
            lo, hi = value.get("min"), value.get("max")
            if isinstance(lo, int | float) and isinstance(hi, int | float) and hi < lo:
                problems.append((where, f"max ({hi}) is below min ({lo})"))
    fault = then.get("fault")
    if isinstance(fault, dict):
        if fault.get("kind") == "latency" and "latency" not in fault:
            problems.append((("fault",), "a latency fault needs `latency` (seconds)"))
        if "status" in fault and fault.get("kind") != "status":
            problems.append((("fault", "status"), "`status` only applies to kind: status"))
    return problems


def _delays(then: dict[str, Any]) -> list[tuple[yamlfile.Path, Any]]:
    out: list[tuple[yamlfile.Path, Any]] = []
    for key in ("report", "clicks", "template", "fault"):
        part = then.get(key)
        if isinstance(part, dict):
            out.append(
                (
                    (key, "delay" if key != "fault" else "latency"),
                    part.get("delay" if key != "fault" else "latency"),
                )
            )
    replies = then.get("reply")
    for index, reply in enumerate(replies if isinstance(replies, list) else [replies]):
        if isinstance(reply, dict):
            where: yamlfile.Path = ("reply", index) if isinstance(replies, list) else ("reply",)
            out.append(((*where, "delay"), reply.get("delay")))
    return out
