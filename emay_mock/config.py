"""The configuration file: parsed and checked in one place, refused whole with reasons.

Every problem names the file, the line, the key and what is wrong; nothing is applied
unless the whole file is valid. Account objects posted to the control API go through
the same checks.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from emay_mock import validation, yamlfile
from emay_mock.control_auth import Credentials, parse_credentials
from emay_mock.observe import recording
from emay_mock.protocol.envelope import KEY_LENGTHS
from emay_mock.protocol.rules import Rules
from emay_mock.scenarios.loader import ScenarioError, load_file
from emay_mock.settings import (
    AUTO_REVIEW,
    DEFAULT_RETRY_SCHEDULE,
    PASSTHROUGH,
    AccountSpec,
    PushSettings,
    Settings,
    UpstreamSettings,
)

DEMO_APP_ID = "EUCP-EMY-SMS1-DEMO0"
DEMO_SECRET_KEY = "0123456789ABCDEF"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8999


class ConfigError(ValueError):
    """One or more problems, each already phrased as `file:line: key: problem`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Config:
    settings: Settings = field(default_factory=Settings)
    accounts: list[AccountSpec] = field(default_factory=list)
    scenario_files: list[Path] = field(default_factory=list)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    db: str | None = None
    log_level: str = "info"
    source: str | None = None
    # Basic auth on the control API and the UI (server.controlAuth, EMAY_MOCK_CONTROL_AUTH,
    # --control-auth); None: open, as on loopback it may be.
    control_auth: Credentials | None = None

    @property
    def demo(self) -> bool:
        return self.source is None


def demo_account() -> AccountSpec:
    return AccountSpec(app_id=DEMO_APP_ID, secret_key=DEMO_SECRET_KEY, balance=1_000_000)


def load(path: str | Path) -> Config:
    source = str(path)
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise ConfigError([f"{source}: {yamlfile.cannot_read(exc)}"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{source}: not UTF-8 text (byte {exc.start}): is it the YAML file?"]) from None
    try:
        located = yamlfile.load(text)
    except yamlfile.YamlError as exc:
        raise ConfigError([f"{source}:{exc.line}: {exc.problem}"]) from None
    data = located.data if located.data is not None else {}
    base = Path(path).parent
    found = [(line, f"{yamlfile.dotted(where)}: duplicate key") for where, line in located.duplicates]
    found += validation.problems(data, validation.schema("config.schema.json"), located)
    if isinstance(data, dict):
        found += [
            (located.line(where), f"{yamlfile.dotted(where)}: {text}")
            for where, text in _semantic(data, base)
        ]
    if found:
        raise ConfigError([f"{source}:{line}: {text}" for line, text in sorted(set(found))])
    return _build(data, source, base)


def _semantic(data: dict[str, Any], base: Path) -> list[tuple[yamlfile.Path, str]]:
    """What a schema cannot say: key byte lengths, IPs, regexes, zones, duplicates, files.

    Tolerant of wrong types (the schema reports those), so every problem shows at once.
    """
    problems: list[tuple[yamlfile.Path, str]] = []
    server = data.get("server")
    if isinstance(server, dict):
        problems += [(("server", key), text) for key, text in _server_problems(server)]
    accounts = data.get("accounts")
    seen: dict[str, int] = {}
    for index, raw in enumerate(accounts if isinstance(accounts, list) else []):
        at: yamlfile.Path = ("accounts", index)
        problems += [((*at, *where), text) for where, text in account_problems(raw, base)]
        app_id = raw.get("appId") if isinstance(raw, dict) else None
        if isinstance(app_id, str):
            if app_id in seen:
                problems.append(
                    ((*at, "appId"), f"duplicate appId {app_id!r} (also accounts[{seen[app_id]}])")
                )
            seen.setdefault(app_id, index)
    files = data.get("scenarios")
    for index, name in enumerate(files if isinstance(files, list) else []):
        if not isinstance(name, str):
            continue
        if not (base / name).is_file():
            problems.append((("scenarios", index), f"no such scenario file: {(base / name).resolve()}"))
            continue
        try:
            load_file(base / name)
        except ScenarioError as exc:
            problems.append((("scenarios", index), "invalid scenario file:\n  " + "\n  ".join(exc.problems)))
    return problems


def _server_problems(server: dict[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    zone = server.get("timezone")
    if isinstance(zone, str):
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(("timezone", f"unknown time zone {zone!r}"))
    pattern = server.get("mobilePattern")
    if isinstance(pattern, str):
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append(("mobilePattern", f"not a valid regular expression: {exc}"))
    return problems


def _replay_problems(replay: str, raw: dict[str, Any], base: Path | None) -> list[str]:
    problems = []
    if raw.get("upstream") is not None:
        problems.append("an account answers either upstream or from a recording: not both")
    path = (base or Path()) / replay
    try:
        is_file = path.is_file()
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte
        return [*problems, f"not a usable file name ({getattr(exc, 'strerror', None) or exc})"]
    if not is_file:
        return [*problems, f"no such recording: {path.absolute()}"]
    found = recording.read(path)[1]
    if found:
        problems.append("invalid recording:\n  " + "\n  ".join(found[:20]))
    return problems


def account_problems(raw: Any, base: Path | None = None) -> list[tuple[yamlfile.Path, str]]:
    """`base`: where a relative `replay` file is (the config file's folder; else the working one)."""
    if not isinstance(raw, dict):
        return []
    problems: list[tuple[yamlfile.Path, str]] = []
    replay = raw.get("replay")
    if isinstance(replay, str):
        problems += [(("replay",), text) for text in _replay_problems(replay, raw, base)]
    secret = raw.get("secretKey")
    if isinstance(secret, str):
        size = len(secret.encode("utf-8"))
        if size not in KEY_LENGTHS:
            problems.append((("secretKey",), f"must be 16, 24 or 32 bytes (AES-128/192/256), got {size}"))
    ips = raw.get("allowedIps")
    for index, ip in enumerate(ips if isinstance(ips, list) else []):
        if isinstance(ip, str):
            try:
                ipaddress.ip_network(ip, strict=False)
            except ValueError:
                problems.append((("allowedIps", index), f"{ip!r} is not an IP address or CIDR"))
    return problems


def _build(data: dict[str, Any], source: str, base: Path) -> Config:
    """A valid document (schema and semantics checked) -> Config."""
    server = data.get("server") or {}
    return Config(
        settings=settings_from(server, (data.get("clock") or {}).get("speed", 1.0)),
        accounts=[account_from(raw, base) for raw in data.get("accounts") or []],
        scenario_files=[(base / name).resolve() for name in data.get("scenarios") or []],
        host=server.get("host", DEFAULT_HOST),
        port=server.get("port", DEFAULT_PORT),
        db=server.get("db"),
        log_level=server.get("logLevel", "info"),
        source=source,
        control_auth=parse_credentials(server["controlAuth"]) if "controlAuth" in server else None,
    )


def settings_from(server: dict[str, Any], speed: float) -> Settings:
    rules = Rules()
    if "timezone" in server:
        rules = replace(rules, tz=ZoneInfo(server["timezone"]))
    if "mobilePattern" in server:
        rules = replace(rules, mobile_pattern=re.compile(server["mobilePattern"], re.ASCII))
    if "maxContentLength" in server:
        rules = replace(rules, max_content_units=server["maxContentLength"])
    if "maxRecipients" in server:
        rules = replace(rules, max_recipients=server["maxRecipients"])
    mapping: dict[str, tuple[str, Callable[[Any], Any]]] = {
        "reportDelaySeconds": ("report_delay_ms", lambda v: int(v * 1000)),
        "timestampSkewSeconds": ("timestamp_skew_s", int),
        "futureToleranceSeconds": ("future_tolerance_s", int),
        "replayProtection": ("replay_protection", bool),
        "replayCacheSize": ("replay_cache_size", int),
        "maxBodyBytes": ("max_body_bytes", int),
        "maxInflatedBytes": ("max_inflated_bytes", int),
        "templateReviewSeconds": ("template_review_s", float),
        "journalSize": ("journal_size", int),
        "maxMessages": ("max_messages", int),
        "maxAgeHours": ("max_age_hours", lambda v: None if v is None else float(v)),
        "pushBatchWindowSeconds": ("push_batch_window_s", float),
        "pushBatchMax": ("push_batch_max", int),
        "pushConcurrencyPerAccount": ("push_concurrency_per_account", int),
        "defaultScenarios": ("default_scenarios", bool),
        "publicUrl": ("public_url", lambda v: str(v).rstrip("/")),
    }
    values: dict[str, Any] = {"rules": rules, "clock_speed": float(speed)}
    for key, (attr, convert) in mapping.items():
        if key in server:
            values[attr] = convert(server[key])
    return Settings(**values)


def account_from(raw: dict[str, Any], base: Path | None = None) -> AccountSpec:
    """A checked account object (config file or control API) -> spec; `base` as in account_problems."""
    push_raw = raw.get("push")
    push = None
    if isinstance(push_raw, dict):
        push = PushSettings(
            report_url=push_raw.get("reportUrl"),
            mo_url=push_raw.get("moUrl"),
            mode=push_raw.get("mode", "encrypted"),
            retry_schedule=tuple(float(x) for x in push_raw.get("retrySchedule", DEFAULT_RETRY_SCHEDULE)),
            timeout_s=float(push_raw.get("timeoutSeconds", 5.0)),
        )
    up = raw.get("upstream")
    upstream = None
    if isinstance(up, dict):
        upstream = UpstreamSettings(
            url=str(up["url"]),
            mode=str(up.get("mode", PASSTHROUGH)),
            timeout_s=float(up.get("timeoutSeconds", 10.0)),
        )
    replay = raw.get("replay")
    return AccountSpec(
        app_id=str(raw["appId"]),
        secret_key=str(raw["secretKey"]),
        balance=int(raw.get("balance", 100_000)),
        allowed_ips=tuple(str(ip) for ip in raw.get("allowedIps") or ()),
        max_requests_per_second=int(raw.get("maxRequestsPerSecond", 0)),
        retrieve_report=bool(raw.get("retrieveReport", True)),
        voice=bool(raw.get("voice", True)),
        push=push,
        strict=bool(raw.get("strict", False)),
        template_review=str(raw.get("templateReview", AUTO_REVIEW)),
        upstream=upstream,
        replay=None if replay is None else str(((base or Path()) / str(replay)).resolve()),
    )


def parse_account(raw: Any) -> AccountSpec:
    """An account posted to the control API: the same checks as the file; ConfigError if invalid."""
    defs = validation.schema("config.schema.json")["$defs"]
    found = validation.problems(raw, {"$ref": "#/$defs/account", "$defs": defs}, yamlfile.Located(raw))
    problems = [text for _, text in found]
    problems += [f"{yamlfile.dotted(where)}: {text}" for where, text in account_problems(raw)]
    if problems:
        raise ConfigError(problems)
    return account_from(raw)
