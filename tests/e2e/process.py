"""Running `emay-mock serve` as a real process and finding its URL."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Served:
    process: asyncio.subprocess.Process
    url: str
    banner: list[str] = field(default_factory=list)


async def _read_banner(process: asyncio.subprocess.Process, timeout: float) -> tuple[str, list[str]]:
    stdout = process.stdout
    assert stdout is not None
    lines: list[str] = []

    async def read() -> str:
        while True:
            raw = await stdout.readline()
            if not raw:
                raise RuntimeError(f"emay-mock exited before listening: {lines}")
            line = raw.decode().rstrip()
            lines.append(line)
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                return match.group(1)

    url = await asyncio.wait_for(read(), timeout)
    for _ in range(2):  # the rest of the banner
        raw = await asyncio.wait_for(stdout.readline(), timeout)
        lines.append(raw.decode().rstrip())
    return url, lines


def console_script() -> Path:
    """The `emay-mock` executable that `pip install` put beside this interpreter."""
    return Path(sys.executable).parent / "emay-mock"


def command(*args: str, module: bool = False, script: bool = False) -> list[str]:
    if script:
        return [str(console_script()), *args]
    if module:
        return [sys.executable, "-m", "emay_mock", *args]
    return [sys.executable, "-c", "from emay_mock.cli import main; raise SystemExit(main())", *args]


@asynccontextmanager
async def serve(
    args: Sequence[str],
    *,
    module: bool = False,
    script: bool = False,
    timeout: float = 15.0,
    env: dict[str, str] | None = None,
) -> AsyncIterator[Served]:
    process = await asyncio.create_subprocess_exec(
        *command("serve", "--port", "0", *args, module=module, script=script),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    try:
        url, banner = await _read_banner(process, timeout)
        yield Served(process, url, banner)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def run(
    *args: str, timeout: float = 30.0, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """`emay-mock ARGS` as a process: (exit code, stdout, stderr)."""
    return await run_command(command(*args), timeout=timeout, stdin=stdin, env=env)


async def run_command(
    argv: list[str],
    *,
    timeout: float = 60.0,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), timeout)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
