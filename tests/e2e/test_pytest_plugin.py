"""The pytest plugin as users meet it: the README's example test file, run by pytest in a subprocess."""

from __future__ import annotations

import re
import sys
from importlib.metadata import entry_points
from pathlib import Path

from tests.e2e.process import run_command

ROOT = Path(__file__).parents[2]


def readme_example() -> str:
    readme = (ROOT / "README.md").read_text("utf-8")
    match = re.search(r"```python\n(# test_sms\.py\n.*?)```", readme, re.S)
    assert match, "the README has no `# test_sms.py` example"
    return match.group(1)


def plugin_flags() -> list[str]:
    registered = any(e.value == "emay_mock.pytest_plugin" for e in entry_points(group="pytest11"))
    return [] if registered else ["-p", "emay_mock.pytest_plugin"]


async def test_the_readme_example_passes(tmp_path: Path) -> None:
    (tmp_path / "test_sms.py").write_text(readme_example(), "utf-8")
    code, out, err = await run_command(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin_flags(), "test_sms.py"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT)},
    )
    assert code == 0, out + err
    assert "3 passed" in out


async def test_a_failing_expectation_fails_the_users_test(tmp_path: Path) -> None:
    (tmp_path / "test_fail.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.asyncio\n"
        "async def test_waits_then_fails(emay_mock):\n"
        "    await emay_mock.wait_for_message(mobile='13800000000', timeout=0.2)\n",
        "utf-8",
    )
    code, out, _ = await run_command(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin_flags(), "test_fail.py"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT)},
    )
    assert code == 1
    assert "MockApiError" in out and "408" in out and "nothing matched within 0.2 s" in out
