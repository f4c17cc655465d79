"""The static checks, run with the tests so that the one test command (the README's, and so
CI's) runs them too: ruff's lint, ruff's formatting and mypy --strict, over the package, the
tests and the benchmarks. Each fails with what the tool printed."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

CHECKED = ["emay_mock", "tests", "bench"]


def passes(*argv: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}{done.stderr}"


def test_ruff_finds_nothing() -> None:
    passes("ruff", "check", *CHECKED)


def test_ruff_would_reformat_nothing() -> None:
    passes("ruff", "format", "--check", *CHECKED)


def test_mypy_strict_finds_nothing() -> None:
    passes("mypy", "--strict", *CHECKED)
