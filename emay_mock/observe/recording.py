"""Recordings of upstream exchanges (`serve --record FILE`): one JSON object a line, written
as each exchange ends; read back to replay (`replay: FILE`) and checked by `emay-mock check`.

A line holds the endpoint, the decrypted request and answer, the result code and the times;
never a secretKey or a sign (mobiles and contents stay: they are what a replay matches)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

FAMILIES = ("secure", "simple", "voice", "report", "push")  # push: the platform's, relayed
# Fields a replay does not match on: they change with every request (docs/upstream.md#replay).
UNMATCHED = frozenset({"requestTime", "requestValidPeriod", "timestamp", "sign", "appId"})
# Never written: whoever holds a recording must not be able to sign or decrypt with it.
SECRETS = frozenset({"secretkey", "sign"})
MAX_LINE = 64 * 1024 * 1024  # a line longer than this is refused by `check` and by replay


def without_secrets(request: Any) -> Any:
    if not isinstance(request, dict):
        return request
    return {k: v for k, v in request.items() if str(k).lower() not in SECRETS}


def match_key(family: str, endpoint: str, request: Any) -> str:
    """What a request is matched by: its endpoint and its fields but those that change with
    every request; numbers sent as strings match the numbers."""
    fields = request if isinstance(request, dict) else {}
    kept = {str(k): _canonical(v) for k, v in fields.items() if k not in UNMATCHED and v is not None}
    return f"{family}/{endpoint} " + json.dumps(kept, sort_keys=True, ensure_ascii=False)


def _canonical(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


class RecordFile:
    """Appends exchanges to a file, a line each, flushed at once (a crash keeps what was said)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: IO[str] = self.path.open("a", encoding="utf-8")
        self._lock = threading.Lock()
        self.written = 0

    def write(self, exchange: dict[str, Any]) -> None:
        line = json.dumps(
            {**exchange, "request": without_secrets(exchange.get("request"))},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()
            self.written += 1

    def close(self) -> None:
        with self._lock:
            self._file.close()


def problems_of(exchange: Any) -> list[str]:
    """What is wrong with one decoded line, as phrases (empty: a valid exchange)."""
    if not isinstance(exchange, dict):
        return [f"not a JSON object but {type(exchange).__name__}"]
    out: list[str] = []
    family = exchange.get("family")
    if family not in FAMILIES:
        out.append(f"family: must be one of {', '.join(FAMILIES)}, got {family!r}")
    endpoint = exchange.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        out.append("endpoint: missing (a name such as sendSingleSMS)")
    request = exchange.get("request")
    if not isinstance(request, dict):
        out.append("request: must be an object (the decrypted request)")
    else:
        secret = sorted(k for k in request if str(k).lower() in SECRETS)
        if secret:
            out.append(f"request: holds {', '.join(secret)}: a recording must not keep secrets")
    error = exchange.get("error")
    if error is None:
        status = exchange.get("status")
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            out.append(f"status: must be an HTTP status, got {status!r} (or give error)")
        result = exchange.get("result")
        if result is not None and not isinstance(result, str):
            out.append(f"result: must be a result code or null, got {result!r}")
    elif not isinstance(error, str):
        out.append(f"error: must be text, got {error!r}")
    at = exchange.get("at")
    if at is not None and (not isinstance(at, int) or isinstance(at, bool)):
        out.append(f"at: must be epoch milliseconds, got {at!r}")
    return out


def read(path: str | Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The exchanges of a recording, and its problems as `file:line: problem` (blank lines skipped)."""
    exchanges: list[dict[str, Any]] = []
    problems: list[str] = []
    try:
        handle = Path(path).open("rb")  # noqa: SIM115 (closed by the `with` below)
    except OSError as exc:
        return [], [f"{path}: cannot read: {exc.strerror or exc}"]
    with handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            if len(raw) > MAX_LINE:
                problems.append(f"{path}:{number}: line longer than {MAX_LINE} bytes")
                continue
            try:
                exchange = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                problems.append(f"{path}:{number}: not UTF-8 (byte {exc.start})")
                continue
            except ValueError as exc:
                problems.append(f"{path}:{number}: not JSON: {exc}")
                continue
            found = problems_of(exchange)
            problems += [f"{path}:{number}: {text}" for text in found]
            if not found:
                exchanges.append(exchange)
    return exchanges, problems


def looks_like(path: str | Path) -> bool:
    """Whether a file is a recording rather than YAML: its first non-blank line is a JSON object."""
    try:
        with Path(path).open("rb") as handle:
            for raw in handle:
                if raw.strip():
                    return raw.lstrip().startswith(b"{") and raw.rstrip().endswith(b"}")
    except OSError:
        return False
    return False


@dataclass
class Replayer:
    """A recording as a replay answers from it: the exchanges of each request key, in the
    order recorded; a request asked again gets the next of them, the last one once it is
    reached (a poll recorded three times answers three times, then as the last time)."""

    exchanges: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _next: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, exchanges: Iterable[dict[str, Any]]) -> Replayer:
        replayer = cls()
        for exchange in exchanges:
            key = match_key(exchange["family"], exchange["endpoint"], exchange["request"])
            replayer.exchanges.setdefault(key, []).append(exchange)
        return replayer

    def answer(self, family: str, endpoint: str, request: Any) -> dict[str, Any] | None:
        key = match_key(family, endpoint, request)
        found = self.exchanges.get(key)
        if not found:
            return None
        at = self._next.get(key, 0)
        self._next[key] = at + 1
        return found[min(at, len(found) - 1)]
