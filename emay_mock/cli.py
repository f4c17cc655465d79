"""The `emay-mock` command."""

from __future__ import annotations

import argparse
import asyncio
import base64
import errno
import gc
import ipaddress
import json
import os
import signal
import socket
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from emay_mock import __version__, control_auth, tools, yamlfile
from emay_mock.config import Config, ConfigError, load
from emay_mock.observe import logs, recording
from emay_mock.protocol.errors import EmayError
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
    serve.add_argument("--port", type=_port, help="port (default 8999; 0 picks a free port)")
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
    serve.add_argument(
        "--record",
        metavar="FILE",
        help="append every upstream exchange to FILE, one JSON object a line (decrypted: mobiles and "
        "contents included, never a secretKey or sign)",
    )
    serve.add_argument(
        "--control-auth",
        metavar="USER:PASSWORD",
        help="HTTP Basic auth on /_mock/ and the UI (or set EMAY_MOCK_CONTROL_AUTH, which keeps it "
        "out of the process list; overrides server.controlAuth)",
    )

    check = sub.add_parser(
        "check",
        help="check a configuration, scenario or recording file",
        description="Check a configuration file (and the scenario files it names), a scenario file, or a "
        "recording (serve --record). Prints every problem as file:line: key: problem; exit code 0 "
        "when valid, 1 when not.",
    )
    check.add_argument("file", metavar="FILE")

    key_help = "the account's secretKey (or set EMAY_SECRET_KEY, which keeps it out of shell history)"
    decrypt = sub.add_parser(
        "decrypt",
        help="decrypt a captured secure body",
        description="Decrypt a body captured from the wire (a request, an answer, or an encrypted push) "
        "and print its JSON. gzip is detected unless --gzip/--no-gzip is given.",
    )
    decrypt.add_argument("file", metavar="FILE", nargs="?", default="-", help="the body (default: stdin)")
    decrypt.add_argument("--key", help=key_help)
    decrypt.add_argument("--format", choices=["auto", "raw", "base64", "hex"], default="auto",
                         help="how FILE holds the bytes (default: auto)")  # fmt: skip
    gzip_group = decrypt.add_mutually_exclusive_group()
    gzip_group.add_argument(
        "--gzip", dest="gzip", action="store_true", default=None, help="inflate after decrypting"
    )
    gzip_group.add_argument("--no-gzip", dest="gzip", action="store_false", help="do not inflate")
    decrypt.add_argument("--charset", default="UTF-8", help="the encode charset (default UTF-8)")

    encrypt = sub.add_parser(
        "encrypt",
        help="encrypt JSON as a secure request body",
        description="Encrypt JSON text (FILE or stdin) as a secure-family body: charset, gzip if asked, "
        "AES/ECB/PKCS5 with the raw key. Prints base64 unless --raw or --hex.",
    )
    encrypt.add_argument("file", metavar="FILE", nargs="?", default="-", help="the JSON (default: stdin)")
    encrypt.add_argument("--key", help=key_help)
    encrypt.add_argument(
        "--gzip", action="store_true", help="gzip before encrypting (send with header gzip: on)"
    )
    encrypt.add_argument("--charset", default="UTF-8", help="the encode charset (default UTF-8)")
    encrypt.add_argument(
        "--text",
        action="store_true",
        help="the input is text to encrypt as it is, not JSON (refused without)",
    )
    output = encrypt.add_mutually_exclusive_group()
    output.add_argument("--raw", action="store_true", help="write the bytes as they are")
    output.add_argument("--hex", action="store_true", help="write hex")

    signer = sub.add_parser(
        "sign",
        help="compute a simple-family sign",
        description="Show the canonical string md5(appId + secretKey + timestamp), the sign, and a query "
        "string, for the simple, voice and retrieveReport families.",
    )
    signer.add_argument("--app-id", required=True)
    signer.add_argument("--secret-key", help=key_help)
    signer.add_argument("--timestamp", help="yyyyMMddHHmmss (default: now, Beijing time)")

    verify = sub.add_parser(
        "verify",
        help="judge one account's traffic after a client's tests",
        description="Judge one account's traffic on a running mock: exit 0 when clean, 1 when the client "
        "deviated or was refused without a scenario, magic number or console action asking for it, 2 when "
        "the mock cannot be asked (usage, unreachable, unknown account). See docs/ci.md.",
    )
    verify.add_argument("--url", required=True, help="the mock's base URL, e.g. http://127.0.0.1:8999")
    verify.add_argument("--app-id", required=True, help="the account the client's tests used")
    verify.add_argument(
        "--junit", metavar="FILE", help="also write JUnit XML there, for the CI's test report"
    )
    verify.add_argument(
        "--json", action="store_true", help="print {failures, outcomes: {seen, unseen}} as JSON instead"
    )
    verify.add_argument(
        "--control-auth",
        metavar="USER:PASSWORD",
        help="the mock's control credentials (or set EMAY_MOCK_CONTROL_AUTH)",
    )
    verify.add_argument(
        "--expect",
        metavar="CODE",
        action="append",
        default=[],
        help="a result code whose refusals the tests provoke on purpose (repeatable)",
    )
    return parser


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"must be a number from 0 to 65535 (0 picks a free port), got {text!r}"
        )
    return port


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "check":
        return _check(args.file)
    if args.command in ("decrypt", "encrypt", "sign"):
        return _tool(args)
    if args.command == "verify":
        return _verify(args)
    return 2


def _secret(given: str | None) -> str:
    key = given or os.environ.get("EMAY_SECRET_KEY")
    if not key:
        raise tools.ToolError("give the secretKey with --key/--secret-key or EMAY_SECRET_KEY")
    return key


def _input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise tools.ToolError(f"cannot read {path}: {exc.strerror or exc}") from None


def _tool(args: argparse.Namespace) -> int:
    """decrypt, encrypt, sign: 0 done; 2 with one line on stderr for anything refused."""
    try:
        if args.command == "sign":
            print("\n".join(tools.sign_lines(args.app_id, _secret(args.secret_key), args.timestamp)))
        elif args.command == "decrypt":
            body = tools.read_body(_input(args.file), args.format)
            print(tools.decrypt(body, _secret(args.key), gzip=args.gzip, charset=args.charset))
        else:
            raw = _input(args.file)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise tools.ToolError(f"the input is not UTF-8 text (byte {exc.start})") from None
            data = tools.encrypt(
                text, _secret(args.key), gzip=args.gzip, charset=args.charset, is_text=args.text
            )
            if args.raw:
                sys.stdout.buffer.write(data)
            else:
                print(data.hex() if args.hex else base64.b64encode(data).decode("ascii"))
    except EmayError as exc:
        print(f"emay-mock: {exc.reason}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"emay-mock: {exc}", file=sys.stderr)
        return 2
    return 0


def _check(path: str) -> int:
    """A file of JSON lines is a recording; one with `rules:` a scenario; anything else a configuration."""
    if recording.looks_like(path):
        exchanges, problems = recording.read(path)
        if problems:
            print("\n".join(problems), file=sys.stderr)
            return 1
        count = len(exchanges)
        print(f"{path}: a valid recording of {count} exchange{'' if count == 1 else 's'}")
        return 0
    try:
        located = yamlfile.load(Path(path).read_text("utf-8"))
        is_scenario = isinstance(located.data, dict) and "rules" in located.data
    except (OSError, UnicodeDecodeError, yamlfile.YamlError):
        is_scenario = False
    try:
        if is_scenario:
            scenario = load_file(path)
            rules = len(scenario.rules)
            print(f"{path}: a valid scenario {scenario.name!r} with {rules} rule{'' if rules == 1 else 's'}")
        else:
            config = load(path)
            accounts = len(config.accounts)
            print(f"{path}: a valid configuration with {accounts} account{'' if accounts == 1 else 's'}")
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
    if not config.demo and not config.accounts:
        print(
            f"emay-mock: warning: {config.source} has no account: every Emay request is refused "
            "(ERROR_APPID) until one is added under accounts: or with POST /_mock/accounts",
            file=sys.stderr,
            flush=True,
        )
    try:  # the flag, then the environment, then the file
        given = args.control_auth or os.environ.get(control_auth.ENV)
        if given:
            config.control_auth = control_auth.parse_credentials(given)
    except ValueError as exc:
        print(f"emay-mock: {exc}; nothing was started", file=sys.stderr)
        return 2
    if args.no_default_scenarios:
        config.settings = replace(config.settings, default_scenarios=False)
    host = args.host or config.host
    port = config.port if args.port is None else args.port
    level = (args.log_level or config.log_level).upper()
    lines = logs.configure(level, config.settings.rules.tz)
    try:
        return asyncio.run(_run(config, host, port, args.db, lines, args.record))
    except KeyboardInterrupt:
        return 0


def _listen_problem(host: str, port: int, exc: OSError) -> str:
    """What went wrong binding host:port, and what to do about it."""
    if isinstance(exc, socket.gaierror):
        return f"{host!r} is not a host name or address this machine can resolve"
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is in use; choose another with --port (0 picks a free one)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"{host} is not an address of this machine; use 127.0.0.1, 0.0.0.0 (every interface) "
            "or one of its own addresses"
        )
    if exc.errno == errno.EACCES:
        return f"not allowed to bind port {port} (below 1024 needs privileges); choose another with --port"
    return exc.strerror or str(exc)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve anywhere
        return False


async def _run(
    config: Config,
    host: str,
    port: int,
    db: str | None,
    lines: logs.GatheringHandler | None,
    record: str | None = None,
) -> int:
    from emay_mock.freezing import Freezer
    from emay_mock.server import MockServer
    from emay_mock.store.db import Refused

    # With the collector off until what the start read (up to millions of objects, with --db)
    # is frozen: its first collection would otherwise walk all of it at once.
    gc.disable()
    try:
        mock = MockServer(config, db=db, log_lines=lines, record=record)
    except Refused as exc:
        print(f"emay-mock: {exc}; nothing was started", file=sys.stderr)
        return 2
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"emay-mock: cannot start: {exc}", file=sys.stderr)
        return 2
    finally:
        gc.freeze()
        gc.enable()
    try:
        await mock.listen(host, port)
    except OSError as exc:
        await mock.close()
        print(
            f"emay-mock: cannot listen on {host}:{port}: {_listen_problem(host, port, exc)}", file=sys.stderr
        )
        return 2
    # Before the banner: whoever reads "listening" may stop the process at once, cleanly.
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    for line in mock.banner():
        print(line, flush=True)
    if config.control_auth is None and not _loopback(host):
        print(
            f"emay-mock: warning: serving on {host} without --control-auth: anyone who reaches it can read "
            "every message and add or replace accounts",
            file=sys.stderr,
            flush=True,
        )
    # What is built by now (modules, the app, its routes and scenarios) lives as long as the
    # process: frozen out of the cyclic collector's sight, so that no full collection walks it
    # again. Then what survives each tenth of a second is frozen too (emay_mock.freezing).
    Freezer(lambda: mock.push.failed).run(loop)
    await stop.wait()
    print("emay-mock: stopping", flush=True)
    await mock.close()
    return 0


def _verify(args: argparse.Namespace) -> int:
    """0 clean, 1 failures, 2 with one line on stderr when no verdict can be given."""
    from emay_mock import verify
    from emay_mock.protocol.codes import ResultCode

    try:
        given = args.control_auth or os.environ.get(control_auth.ENV)
        auth = control_auth.parse_credentials(given) if given else None
    except ValueError as exc:
        print(f"emay-mock: {exc}", file=sys.stderr)
        return 2
    codes = {code.value for code in ResultCode}
    unknown = [code for code in args.expect if code not in codes]
    if unknown:
        print(
            f"emay-mock: --expect {unknown[0]} is not an Emay result code (e.g. ERROR_BALANCE)",
            file=sys.stderr,
        )
        return 2
    if not args.url.startswith(("http://", "https://")):
        print(f"emay-mock: --url must be an http:// or https:// URL, got {args.url!r}", file=sys.stderr)
        return 2
    try:
        outcomes, contract = verify.fetch(args.url, args.app_id, auth)
        verdict = verify.judge(args.app_id, contract, outcomes, args.expect)
        if args.junit:
            Path(args.junit).write_bytes(verify.junit(verdict))
    except verify.VerifyError as exc:
        print(f"emay-mock: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"emay-mock: cannot write {args.junit}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(verdict.as_json(), ensure_ascii=False, indent=2))
    else:
        print(verify.summary(verdict))
    return 0 if verdict.clean else 1
