"""Headless Chromium for the UI tests: found on the machine, or installed from Debian by the tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache

from emay_mock.testing.screenshot import LAUNCH_ARGS, find_chromium
from tests.conftest import ROOT

__all__ = ["ARTIFACTS", "LAUNCH_ARGS", "chromium"]

ARTIFACTS = ROOT / "test-artifacts"  # the screenshots the UI tests take

# Debian's Chromium, and a small CJK font so Chinese content renders in screenshots.
PACKAGES = ["chromium", "fonts-wqy-microhei"]


def _apt(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(
        ["apt-get", *args], env=env, capture_output=True, text=True, timeout=900, check=False
    )


@cache
def chromium() -> tuple[str | None, str]:
    """(path, "") when Chromium is available, else (None, why it could not be installed)."""
    path = find_chromium()
    if path:
        return path, ""
    if not shutil.which("apt-get"):
        return None, "Chromium is not installed and this machine has no apt-get to install it"
    if os.geteuid() != 0:
        return None, f"Chromium is not installed; run: sudo apt-get install -y {' '.join(PACKAGES)}"
    install = ("install", "-y", "-q", *PACKAGES)
    done = _apt(*install)
    if done.returncode != 0:  # stale package lists: refresh once and try again
        _apt("update", "-q")
        done = _apt(*install)
    path = find_chromium()
    if path:
        return path, ""
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    return None, "Chromium could not be installed with apt-get: " + " | ".join(tail)
