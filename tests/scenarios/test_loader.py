"""Scenario files are accepted whole or refused with the file, the line and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from emay_mock.scenarios.loader import ScenarioError, default_scenario, load_file, parse
from tests.conftest import EXAMPLES

GOOD = """\
name: mine
seed: 5
rules:
  - name: a
    match:
      mobile: {prefix: "139"}
      probability: 0.5
    then:
      report: {state: FAIL_MOBILE, delay: {min: 1, max: 2}}
  - then:
      code: ERROR_OVER_SPEED
"""


def scenario_problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        parse(text, "s.yaml")
    assert all(p.startswith("s.yaml:") for p in err.value.problems)
    return err.value.problems


def test_a_good_file_loads_with_names_lines_and_seed() -> None:
    scenario = parse(GOOD, "s.yaml")
    assert scenario.name == "mine" and scenario.seed == 5
    assert [r.name for r in scenario.rules] == ["a", "rule-2"]
    assert [r.line for r in scenario.rules] == [4, 10]
    assert scenario.rules[0].match.probability == 0.5


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("FAIL_MOBILE", "FAIL_MOBIEL"), "s.yaml:9: rules[0].then.report.state: 'FAIL_MOBIEL' is not one of"),
        (
            ("probability: 0.5", "probability: 2"),
            "s.yaml:7: rules[0].match.probability: 2 is greater than the maximum of 1",
        ),
        (("    match:\n", "    macth:\n"), "s.yaml:5: rules[0].macth: unknown key"),
        (("max: 2", "max: 0.5"), "s.yaml:9: rules[0].then.report.delay: max (0.5) is below min (1)"),
        (
            ('{prefix: "139"}', '{regex: "(139"}'),
            "s.yaml:6: rules[0].match.mobile.regex: not a valid regular expression",
        ),
        (("ERROR_OVER_SPEED", "SUCCESS"), "s.yaml:11: rules[1].then.code: 'SUCCESS' is not one of"),
        (("  - then:", "  - name: a\n    then:"), "rules[1].name: duplicate rule name 'a' (also rules[0])"),
    ],
)
def test_each_problem_names_its_line(change: tuple[str, str], expected: str) -> None:
    found = scenario_problems(GOOD.replace(*change))
    assert any(expected in p for p in found), found


def test_every_problem_is_reported_at_once() -> None:
    text = GOOD.replace("FAIL_MOBILE", "NOPE").replace("ERROR_OVER_SPEED", "NOPE")
    assert len(scenario_problems(text)) == 2


@pytest.mark.parametrize(
    "text",
    [
        "rules: [",  # not YAML
        "- 1\n- 2\n",  # not a mapping
        "name: x\n",  # no rules
        "rules:\n  - then: {}\n",  # an empty outcome
        "rules:\n  - then: {fault: {kind: latency}}\n",  # latency without seconds
        "rules:\n  - then: {code: ERROR_PARAMS}\n    match: {calls: {from: 5, to: 2}}\n",
        "rules:\n  - then: !!python/object/apply:os.system ['echo pwned']\n",  # never executed
    ],
)
def test_bad_documents_are_refused(text: str) -> None:
    assert scenario_problems(text)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(GOOD.replace("FAIL_MOBILE", "NOPE"))
    with pytest.raises(ScenarioError) as err:
        load_file(path)
    assert err.value.problems[0].startswith(f"{path}:9:")
    with pytest.raises(ScenarioError) as err:
        load_file(tmp_path / "missing.yaml")
    assert err.value.problems == [f"{tmp_path / 'missing.yaml'}: no such file"]
    with pytest.raises(ScenarioError) as err:
        load_file(tmp_path)
    assert err.value.problems == [f"{tmp_path}: is a directory, not a file: name the YAML file itself"]


def test_the_default_scenario_and_the_examples_are_valid() -> None:
    assert len(default_scenario().rules) > 40
    examples = sorted(EXAMPLES.glob("*.yaml"))
    names = {p.stem for p in examples}
    assert {"default", "flaky-carrier", "unsubscribe-replies", "balance-runs-out", "template-rejected",
            "slow-platform", "callback-chaos"} <= names  # fmt: skip
    for path in examples:
        assert load_file(path).rules


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        (
            "match: {mobile: 13800000000}",
            "rules[0].match.mobile: 13800000000 is read by YAML as a number, not text; "
            "quote it: mobile: '13800000000'",
        ),
        (
            "match: {extendedCode: 010}",
            "rules[0].match.extendedCode: 010 is read by YAML as a number (8), not text; "
            "quote it: extendedCode: '010'",
        ),
        (
            "match: {customSmsId: {suffix: 7}}",
            "rules[0].match.customSmsId.suffix: 7 is read by YAML as a number, not text; "
            "quote it: suffix: '7'",
        ),
        (
            "match: {content: yes}",
            "rules[0].match.content: yes is read by YAML as true, not text; quote it: content: 'yes'",
        ),
        (
            "match: {mobile: '138'}\n    then: {reply: {content: 1.50}}",
            "rules[0].then.reply.content: 1.50 is read by YAML as a number (1.5), not text; "
            "quote it: content: '1.50'",
        ),
        (
            "match: {mobile: '138'}\n    then: {reply: [{content: T, extendedCode: 01}]}",
            "rules[0].then.reply[0].extendedCode: 01 is read by YAML as a number (1), not text; "
            "quote it: extendedCode: '01'",
        ),
    ],
)
def test_an_unquoted_number_where_text_belongs_names_the_quotes(written: str, problem: str) -> None:
    text = f"rules:\n  - {written}\n" + ("" if "then" in written else "    then: {code: ERROR_BALANCE}\n")
    assert [p.split(": ", 1)[1] for p in scenario_problems(text)] == [problem]
