"""The processes of a benchmark: a server pinned to one core, the load on the other, wrk,
and what a process costs (CPU seconds, resident memory) read from /proc."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
SERVER_CORE = 0
LOAD_CORE = 1
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def cores() -> int:
    return os.cpu_count() or 1


def pin_load() -> None:
    """The driver, wrk and the receivers run on the load core; servers on the server core."""
    if cores() >= 2:
        os.sched_setaffinity(0, {LOAD_CORE})


def _pin_server() -> None:
    if cores() >= 2:
        os.sched_setaffinity(0, {SERVER_CORE})


class Server:
    """A server process on the server core; its URL is read from the line it prints."""

    def __init__(self, argv: Sequence[str], name: str, logs: Path, env: Mapping[str, str] | None = None):
        self.name = name
        self.log_path = logs / f"{name}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            list(argv),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self._log,
            preexec_fn=_pin_server,
            env={**os.environ, **(env or {})},
        )
        self.url = self._read_url()

    def _read_url(self) -> str:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace")
            if "listening on " in line:
                return line.split("listening on ", 1)[1].split()[0]
        self.stop()
        raise RuntimeError(f"{self.name} exited before listening; see {self.log_path}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu_seconds(self) -> float:
        """User + system CPU time the server has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS

    def rss_bytes(self) -> int:
        return int(Path(f"/proc/{self.pid}/statm").read_text().split()[1]) * _PAGE

    def healthy_after(self, started: float, timeout: float = 30.0) -> float:
        """Seconds from `started` (a perf_counter reading) until /_mock/health answers 200."""
        while True:
            try:
                with urllib.request.urlopen(self.url + "/_mock/health", timeout=timeout) as resp:
                    if resp.status == 200:
                        return time.perf_counter() - started
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.005)

    def get_json(self, path: str, timeout: float = 60.0) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=timeout) as resp:
            return json.loads(resp.read())

    def metric(self, name: str) -> float:
        """The sum of a Prometheus metric's samples at /_mock/metrics."""
        with urllib.request.urlopen(self.url + "/_mock/metrics", timeout=30) as resp:
            text = resp.read().decode()
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name) and line[len(name)] in " {":
                total += float(line.rsplit(" ", 1)[1])
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def emay_mock(config: Path, name: str, logs: Path, *extra: str) -> Server:
    """`emay-mock serve --port 0` with a config file, exactly as a user starts it."""
    argv = [sys.executable, "-m", "emay_mock", "serve", "--config", str(config), "--port", "0", *extra]
    return Server(argv, name, logs)


@dataclass
class WrkRun:
    requests: int
    seconds: float
    refused: int
    exhausted: int
    socket_errors: int
    first_refusal: str
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def clean(self) -> bool:
        return self.refused == 0 and self.exhausted == 0 and self.socket_errors == 0

    def public(self) -> dict[str, Any]:
        return {**self.__dict__, "rate": round(self.rate, 1)}


def debian_tool(name: str) -> str:
    """A command from the Debian package of the same name, installed with apt-get on first
    use when this runs as root."""
    found = shutil.which(name)
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"bench: installing {name} with apt-get …", file=sys.stderr)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for step in (["install", "-y", "-q", name], ["update", "-q"], ["install", "-y", "-q", name]):
            subprocess.run(["apt-get", *step], env=env, capture_output=True, timeout=600, check=False)
            found = shutil.which(name)
            if found is not None:
                break
    if found is None:
        raise SystemExit(
            f"bench: {name} is not installed and could not be installed. Install it "
            f"(Debian/Ubuntu: `sudo apt-get install -y {name}`) and run the benchmark again."
        )
    return found


def wrk_path() -> str:
    return debian_tool("wrk")


def run_wrk(
    url: str,
    path: str,
    bodies: Path,
    headers: Mapping[str, str],
    *,
    connections: int,
    seconds: float,
    cycle: bool = False,
) -> WrkRun:
    """wrk on the load core, one thread, `connections` connections kept busy for `seconds`."""
    header_arg = "|".join(f"{k}:{v}" for k, v in headers.items())
    argv = [
        wrk_path(), "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s",
        "-s", str(BENCH / "replay.lua"), url,
        "--", path, str(bodies), header_arg, "cycle" if cycle else "once",
    ]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, text=True, check=True, preexec_fn=pin_load).stdout
    line = next((x for x in out.splitlines() if x.startswith("BENCH-JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    data = json.loads(line.removeprefix("BENCH-JSON "))
    return WrkRun(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        refused=data["refused"],
        exhausted=data["exhausted"],
        socket_errors=data["socket_errors"],
        first_refusal=data["first_refusal"],
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
    )


@dataclass
class Context:
    """Where a run keeps its files, and how large it is (scale < 1: the smoke test)."""

    work: Path
    logs: Path
    scale: float = 1.0

    def n(self, full: int, least: int = 1) -> int:
        return max(least, int(full * self.scale))

    def seconds(self, full: float, least: float = 1.0) -> float:
        return max(least, round(full * self.scale, 1))

    def config(self, name: str, accounts: list[dict[str, Any]], **top: Any) -> Path:
        import yaml

        path = self.work / f"{name}.yaml"
        path.write_text(yaml.safe_dump({"accounts": accounts, **top}, sort_keys=False), encoding="utf-8")
        return path
