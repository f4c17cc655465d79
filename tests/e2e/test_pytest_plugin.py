"""The pytest plugin as users meet it: the documented example test files, run by pytest in a subprocess."""

from __future__ import annotations

import re
import sys
from importlib import metadata
from importlib.metadata import entry_points
from pathlib import Path

from tests.conftest import ROOT
from tests.e2e.process import run_command


def docs_example(page: str, name: str) -> str:
    text = (ROOT / "docs" / page).read_text("utf-8")
    match = re.search(rf"```python[^\n]*\n(# {re.escape(name)}\n.*?)```", text, re.S)
    assert match, f"docs/{page} has no `# {name}` example"
    return match.group(1)


def plugin_flags() -> list[str]:
    """None: installing emay-mock is all it takes, the `pytest11` entry point loads the plugin."""
    registered = [e for e in entry_points(group="pytest11") if e.value == "emay_mock.pytest_plugin"]
    assert registered, "the pytest11 entry point emay_mock.pytest_plugin is not installed"
    return []


async def test_the_pytest_pages_example_passes(tmp_path: Path) -> None:
    (tmp_path / "test_sms.py").write_text(docs_example("pytest.md", "test_sms.py"), "utf-8")
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


ASSERT_CLEAN = """
import base64

import pytest


@pytest.mark.asyncio
async def test_a_client_that_sends_base64(emay_mock):
    body = base64.b64encode(emay_mock.client.envelope({}))
    await emay_mock.client.post("getBalance", body)
    await emay_mock.assert_clean()
"""


async def test_the_contract_pages_example_passes(tmp_path: Path) -> None:
    (tmp_path / "test_contract.py").write_text(docs_example("contract.md", "test_contract.py"), "utf-8")
    code, out, err = await run_command(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin_flags(), "test_contract.py"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT)},
    )
    assert code == 0, out + err
    assert "2 passed" in out


async def test_the_console_pages_example_passes(tmp_path: Path) -> None:
    (tmp_path / "test_console.py").write_text(docs_example("ui-console.md", "test_console.py"), "utf-8")
    code, out, err = await run_command(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin_flags(), "test_console.py"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT)},
    )
    assert code == 0, out + err
    assert "2 passed" in out


async def test_assert_clean_tells_the_user_what_went_wrong_and_why(tmp_path: Path) -> None:
    (tmp_path / "test_clean.py").write_text(ASSERT_CLEAN, "utf-8")
    code, out, _ = await run_command(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin_flags(), "test_clean.py"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT)},
    )
    assert code == 1
    assert "AssertionError: not clean: no deviations; 1 refusal (1 × ERROR_ENCRYPTION)" in out
    assert "diagnosis: looks like base64 of the ciphertext" in out


SHARED_LOOPS = '''
import urllib.request

import pytest


def blocked(url):
    """True when the mock cannot answer while this thread blocks: it runs on this very loop."""
    try:
        urllib.request.urlopen(url + "/_mock/health", timeout=0.3)
    except OSError:
        return True
    return False


async def use(emay_mock):
    assert blocked(emay_mock.url)
    sent = await emay_mock.client.send_single_sms("13800000000", "x")
    await emay_mock.advance(1)
    assert (await emay_mock.wait_for_report(sent["smsId"]))["state"] == "DELIVRD"
    return emay_mock.app_id


seen = []


@pytest.mark.asyncio(loop_scope="module")
async def test_on_the_module_loop(emay_mock):
    seen.append(await use(emay_mock))


@pytest.mark.asyncio(loop_scope="module")
async def test_on_the_module_loop_again(emay_mock):
    seen.append(await use(emay_mock))
    assert len(set(seen)) == 2  # a fresh mock and account for each test, on the shared loop


@pytest.mark.asyncio(loop_scope="class")
class TestOnAClassLoop:
    async def test_one(self, emay_mock):
        await use(emay_mock)


@pytest.mark.asyncio
async def test_on_the_default_loop(emay_mock):
    await use(emay_mock)
'''


async def test_the_fixture_follows_the_tests_loop_scope(tmp_path: Path) -> None:
    (tmp_path / "test_loops.py").write_text(SHARED_LOOPS, "utf-8")
    for default in ("function", "session"):
        code, out, err = await run_command(
            [
                sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin_flags(),
                "-o", f"asyncio_default_test_loop_scope={default}", "test_loops.py",
            ],
            cwd=tmp_path,
            env={"PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        assert code == 0, out + err
        assert "4 passed" in out


def readme_tour() -> str:
    match = re.search(
        r"```python runnable\n(# test_tour\.py\n.*?)```", (ROOT / "README.md").read_text("utf-8"), re.S
    )
    assert match, "the README has no `# test_tour.py` example"
    return match.group(1)


def test_the_pytest_extra_brings_pytest_and_pytest_asyncio_only() -> None:
    requires = metadata.requires("emay-mock") or []
    extra = sorted(r.split(";")[0].split(">")[0].strip() for r in requires if r.endswith('extra == "pytest"'))
    assert extra == ["pytest", "pytest-asyncio"]


async def test_the_readme_tour_runs_in_a_users_project_without_a_warning(tmp_path: Path) -> None:
    # A project of its own: no pytest configuration (this repository's sets the loop scope).
    (tmp_path / "test_tour.py").write_text(readme_tour(), "utf-8")
    code, out, err = await run_command(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_tour.py"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT)},
    )
    assert code == 0, out + err
    assert out.strip().splitlines()[-1].startswith("1 passed in ")  # no "1 warning"
    assert "Warning" not in out + err


async def test_an_async_test_without_pytest_asyncio_is_told_to_install_it(tmp_path: Path) -> None:
    (tmp_path / "test_tour.py").write_text(readme_tour(), "utf-8")
    code, out, err = await run_command(
        # -p no:asyncio: pytest-asyncio as if it were not installed
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:asyncio", "test_tour.py"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT)},
    )
    assert code == 1, out + err
    assert "fixture 'emay_mock' not found" not in out
    assert (
        "the emay_mock fixture runs the mock on the test's event loop, which needs pytest-asyncio: "
        "pip install 'emay-mock[pytest]' (pytest and pytest-asyncio); "
        "or use emay_mock_sync in a plain def test"
    ) in out
