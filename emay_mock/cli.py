"""The `emay-mock` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from emay_mock import __version__, yamlfile
from emay_mock.config import Config, ConfigError, load
from emay_mock.scenarios.loader import ScenarioError, load_file


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emay-mock", description="A local test double of the Emay (亿美软通) SMS platform."
    )
    parser.add_argument("--version", action="version", version=f"emay-mock {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="start the mock", description="Start the mock server.")
    serve.add_argument("--config", metavar="FILE", help="YAML configuration (default: one demo account)")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8999; 0 picks a free port)")
    serve.add_argument("--db", metavar="FILE", help="SQLite file: state survives a restart")
    serve.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], help="log level (default info)"
    )
    serve.add_argument(
        "--scenario", metavar="FILE", action="append", default=[], help="load a scenario file (repeatable)"
    )
    serve.add_argument(
        "--no-default-scenarios", action="store_true", help="do not load the built-in magic numbers"
    )

    check = sub.add_parser(
        "check",
        help="check a configuration or scenario file",
        description="Check a configuration file (and the scenario files it names) or a scenario file. "
        "Prints every problem as file:line: key: problem; exit code 0 when valid, 1 when not.",
    )
    check.add_argument("file", metavar="FILE")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "check":
        return _check(args.file)
    return 2


def _check(path: str) -> int:
    """A file with `rules:` is a scenario; anything else is a configuration."""
    try:
        located = yamlfile.load(Path(path).read_text("utf-8"))
        is_scenario = isinstance(located.data, dict) and "rules" in located.data
    except (OSError, UnicodeDecodeError, yamlfile.YamlError):
        is_scenario = False
    try:
        if is_scenario:
            scenario = load_file(path)
            print(f"{path}: a valid scenario {scenario.name!r} with {len(scenario.rules)} rules")
        else:
            config = load(path)
            print(f"{path}: a valid configuration with {len(config.accounts)} accounts")
    except (ConfigError, ScenarioError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


def _serve(args: argparse.Namespace) -> int:
    try:
        config = load(args.config) if args.config else Config()
        for scenario_file in args.scenario:
            load_file(scenario_file)  # refuse a bad file before anything starts
    except (ConfigError, ScenarioError) as exc:
        print(f"emay-mock: the configuration is refused; nothing was started:\n{exc}", file=sys.stderr)
        return 2
    config.scenario_files += [Path(p).resolve() for p in args.scenario]
    if args.no_default_scenarios:
        config.settings = replace(config.settings, default_scenarios=False)
    host = args.host or config.host
    port = config.port if args.port is None else args.port
    level = (args.log_level or config.log_level).upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_run(config, host, port, args.db))
    except KeyboardInterrupt:
        return 0


async def _run(config: Config, host: str, port: int, db: str | None) -> int:
    from emay_mock.server import MockServer

    try:
        mock = MockServer(config, db=db)
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"emay-mock: cannot start: {exc}", file=sys.stderr)
        return 2
    try:
        await mock.listen(host, port)
    except OSError as exc:
        print(f"emay-mock: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 2
    for line in mock.banner():
        print(line, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    print("emay-mock: stopping", flush=True)
    await mock.close()
    return 0
