"""`emay-mock check FILE`: configuration or scenario, every problem with its line, exit 0 or 1."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import EXAMPLES
from tests.e2e.process import run


async def test_check_a_valid_scenario_and_config(tmp_path: Path) -> None:
    code, out, _ = await run("check", str(EXAMPLES / "flaky-carrier.yaml"))
    assert code == 0 and "a valid scenario 'flaky-carrier' with 4 rules" in out
    config = tmp_path / "emay.yaml"
    config.write_text(f"accounts: []\nscenarios:\n  - {EXAMPLES / 'callback-chaos.yaml'}\n")
    code, out, _ = await run("check", str(config))
    assert code == 0 and "a valid configuration" in out


async def test_check_an_invalid_scenario(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - match: {mobile: {prefx: '1'}}\n    then: {report: {state: LOST}}\n")
    code, _, err = await run("check", str(bad))
    assert code == 1
    assert f"{bad}:2: rules[0].match.mobile" in err
    assert f"{bad}:3: rules[0].then.report.state: 'LOST' is not one of" in err


async def test_a_config_naming_a_bad_scenario_is_refused_and_serve_does_not_start(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - then: {code: NOPE}\n")
    config = tmp_path / "emay.yaml"
    config.write_text("scenarios:\n  - bad.yaml\n")
    code, _, err = await run("check", str(config))
    assert code == 1 and f"{config}:2: scenarios[0]: invalid scenario file" in err and f"{bad}:2:" in err
    code, out, err = await run("serve", "--config", str(config), "--port", "0")
    assert code == 2 and "listening" not in out and f"{bad}:2:" in err
    code, out, err = await run("serve", "--scenario", str(bad), "--port", "0")
    assert code == 2 and "listening" not in out and f"{bad}:2: rules[0].then.code" in err


async def test_help_is_there_for_every_command() -> None:
    for command in ("serve", "check"):
        code, out, _ = await run(command, "--help")
        assert code == 0 and "usage: emay-mock" in out


async def test_an_unquoted_number_where_text_belongs_is_refused_with_its_quotes(tmp_path: Path) -> None:
    scenario = tmp_path / "numbers.yaml"
    scenario.write_text("rules:\n  - match: {mobile: {prefix: 139}}\n    then: {code: ERROR_BALANCE}\n")
    for argv in (["check", str(scenario)], ["serve", "--scenario", str(scenario), "--port", "0"]):
        code, out, err = await run(*argv)
        assert code in (1, 2) and "listening" not in out and "Traceback" not in err
        assert (
            f"{scenario}:2: rules[0].match.mobile.prefix: 139 is read by YAML as a number, not text; "
            "quote it: prefix: '139'"
        ) in err


async def test_check_counts_one_account_and_one_rule_in_the_singular(tmp_path: Path) -> None:
    scenario = tmp_path / "one.yaml"
    scenario.write_text("rules:\n  - match: {mobile: '139'}\n    then: {code: ERROR_BALANCE}\n")
    code, out, _ = await run("check", str(scenario))
    assert code == 0 and out.strip() == f"{scenario}: a valid scenario 'one' with 1 rule"
    config = tmp_path / "emay.yaml"
    config.write_text("accounts:\n  - {appId: EUCP-ONE, secretKey: 0123456789abcdef}\n")
    code, out, _ = await run("check", str(config))
    assert code == 0 and out.strip() == f"{config}: a valid configuration with 1 account"
