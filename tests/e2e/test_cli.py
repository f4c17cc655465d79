"""`emay-mock serve` as a real process: demo account, health, a send, a refused config."""

from __future__ import annotations

import re
import signal
import socket
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest

from emay_mock.client import EmayClient
from emay_mock.config import DEMO_APP_ID, DEMO_SECRET_KEY
from emay_mock.protocol.times import BEIJING
from tests.conftest import EXAMPLES, ROOT
from tests.e2e.process import Served, command, console_script, run, run_command, serve


async def test_serve_with_no_config_has_the_demo_account_and_answers() -> None:
    # The `emay-mock` console script itself, as the README runs it.
    assert console_script().is_file(), "pip install . must put the emay-mock command beside python"
    async with serve([], script=True) as served, aiohttp.ClientSession() as http:
        assert served.url.startswith("http://127.0.0.1:")
        assert f"appId={DEMO_APP_ID} secretKey={DEMO_SECRET_KEY}" in "\n".join(served.banner)
        async with http.get(f"{served.url}/_mock/health") as resp:
            assert resp.status == 200
        async with EmayClient(served.url, DEMO_APP_ID, DEMO_SECRET_KEY) as client:
            sent = await client.send_single_sms("13800000000", "hello from a process")
            assert len(sent["smsId"]) == 20
        served.process.send_signal(signal.SIGTERM)
        assert await served.process.wait() == 0


async def test_python_dash_m_is_the_same_command(tmp_path: Path) -> None:
    config = tmp_path / "emay.yaml"
    config.write_text("accounts:\n  - appId: EUCP-ONE\n    secretKey: 0123456789abcdef\n    balance: 3\n")
    async with serve(["--config", str(config)], module=True) as served:
        assert "demo account" not in "\n".join(served.banner)
        assert f"config: {config} (1 account)" in served.banner
        async with EmayClient(served.url, "EUCP-ONE", "0123456789abcdef") as client:
            assert await client.get_balance() == 3
        async with EmayClient(served.url, DEMO_APP_ID, DEMO_SECRET_KEY) as demo:
            assert (await demo.call("getBalance")).code == "ERROR_APPID"


async def test_a_bad_config_is_refused_before_listening(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("accounts:\n  - appId: EUCP-ONE\n    secretKey: short\n    colour: red\n")
    code, out, err = await run("serve", "--config", str(config), "--port", "0")
    assert code == 2
    assert "listening" not in out
    assert f"{config}:3: accounts[0].secretKey: must be 16, 24 or 32 bytes" in err
    assert f"{config}:4: accounts[0].colour: unknown key" in err


async def test_durable_db_keeps_messages_across_restarts(tmp_path: Path) -> None:
    db = str(tmp_path / "state.db")
    async with serve(["--db", db]) as served:
        async with EmayClient(served.url, DEMO_APP_ID, DEMO_SECRET_KEY) as client:
            sent = await client.send_single_sms("13800000000", "kept")
    checkpoint = Path(f"{db}-checkpoint")
    assert checkpoint.exists()  # a clean stop: the next start reads the messages from it
    async with serve(["--db", db]) as served, aiohttp.ClientSession() as http:
        assert checkpoint.exists()  # the base of every start from now on, crash or clean stop
        async with http.get(f"{served.url}/_mock/messages", params={"smsId": sent["smsId"]}) as resp:
            (message,) = (await resp.json())["messages"]
        assert message["content"] == "kept"


BAD_CONFIGS = {
    "unknown key": (
        "accounts:\n  - appId: EUCP-ONE\n    secretKey: 0123456789ABCDEF\n    colour: red\n",
        ":4: accounts[0].colour: unknown key",
    ),
    "wrong type": (
        "accounts:\n  - appId: EUCP-ONE\n    secretKey: 0123456789ABCDEF\n    balance: lots\n",
        ":4: accounts[0].balance: 'lots' is not of type 'integer'",
    ),
    "15-byte key": (
        "accounts:\n  - appId: EUCP-ONE\n    secretKey: 0123456789ABCDE\n",
        ":3: accounts[0].secretKey: must be 16, 24 or 32 bytes (AES-128/192/256), got 15",
    ),
    "duplicate appId": (
        "accounts:\n  - appId: EUCP-ONE\n    secretKey: 0123456789ABCDEF\n"
        "  - appId: EUCP-ONE\n    secretKey: 0123456789ABCDEF\n",
        ":4: accounts[1].appId: duplicate appId 'EUCP-ONE' (also accounts[0])",
    ),
    "unreadable YAML": (
        "accounts:\n  - appId: [oops\n",
        ":3: not valid YAML: did not find expected ',' or ']' "
        "(while parsing a flow sequence started at line 2)",
    ),
}


@pytest.mark.parametrize("case", BAD_CONFIGS)
async def test_each_bad_config_is_refused_before_anything_listens(tmp_path: Path, case: str) -> None:
    text, problem = BAD_CONFIGS[case]
    config = tmp_path / "emay.yaml"
    config.write_text(text)
    # The port is taken: had the server tried to listen first, it would fail on the port instead.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for launch in ({"script": True}, {"module": True}):
            argv = command("serve", "--config", str(config), "--port", str(port), **launch)
            code, out, err = await run_command(argv)
            assert code == 2, (case, launch, err)
            assert "listening" not in out and "address" not in err.lower()
            assert "the configuration is refused; nothing was started" in err
            assert f"{config}{problem}" in err, err
            assert "Traceback" not in err


async def test_scenarios_from_the_config_and_repeated_flags_load_in_order(tmp_path: Path) -> None:
    config = tmp_path / "emay.yaml"
    config.write_text(
        f"accounts:\n  - {{appId: EUCP-ONE, secretKey: 0123456789abcdef}}\n"
        f"scenarios:\n  - {EXAMPLES / 'template-rejected.yaml'}\n",
        "utf-8",
    )
    flags = [
        "--scenario",
        str(EXAMPLES / "balance-runs-out.yaml"),
        "--scenario",
        str(EXAMPLES / "unsubscribe-replies.yaml"),
    ]
    async with serve(["--config", str(config), *flags]) as served, aiohttp.ClientSession() as http:
        async with http.get(f"{served.url}/_mock/scenarios") as resp:
            names = [s["name"] for s in (await resp.json())["scenarios"]]
        assert names == ["template-rejected", "balance-runs-out", "unsubscribe-replies", "default"]
        async with EmayClient(served.url, "EUCP-ONE", "0123456789abcdef") as client:
            codes = [
                (
                    await client.call("sendBatchSMS", {"smses": [{"mobile": "13800000000"}], "content": "x"})
                ).code
                for _ in range(3)
            ]
        assert codes == ["SUCCESS", "SUCCESS", "ERROR_BALANCE"]  # balance-runs-out is live


async def stopped_stderr(served: Served) -> str:
    """Everything the server logged, once it has stopped."""
    process = served.process
    process.send_signal(signal.SIGTERM)
    assert await process.wait() == 0
    assert process.stderr is not None
    return (await process.stderr.read()).decode()


async def test_the_log_level_comes_from_the_config_or_the_flag_and_no_secret_is_logged(
    tmp_path: Path,
) -> None:
    secret = "S3cr3tK3yS3cr3tK"
    config = tmp_path / "emay.yaml"
    config.write_text(
        f"accounts:\n  - appId: EUCP-LOG\n    secretKey: {secret}\nserver:\n  logLevel: warning\n"
    )
    for flags, success_logged in (([], False), (["--log-level", "info"], True)):
        async with serve(["--config", str(config), *flags]) as served:
            async with EmayClient(served.url, "EUCP-LOG", secret) as client:
                await client.send_single_sms("13800000000", "hello")
                await client.call("sendSingleSMS", {"mobile": "138", "content": "x"})
            logged = await stopped_stderr(served)
        refused = "secure /sendSingleSMS appId=EUCP-LOG ERROR_MOBILE_ERROR"
        assert logged.count(refused) == 1 and "reason: mobile '138' is not a mobile number" in logged
        assert ("secure /sendSingleSMS appId=EUCP-LOG SUCCESS" in logged) is success_logged
        assert secret not in logged


@pytest.mark.parametrize("port", ["70000", "-1", "eighty"])
async def test_a_port_out_of_range_or_not_a_number_is_one_line_and_exit_2(port: str) -> None:
    code, out, err = await run("serve", "--port", port)
    assert code == 2 and "listening" not in out
    assert f"argument --port: must be a number from 0 to 65535 (0 picks a free port), got '{port}'" in err
    assert "Traceback" not in err


async def test_a_host_that_cannot_be_bound_says_why_and_what_to_use() -> None:
    # 203.0.113.7 is a documentation address (RFC 5737): never one of this machine's.
    code, out, err = await run("serve", "--host", "203.0.113.7", "--port", "0")
    assert code == 2 and "listening" not in out and "Traceback" not in err
    assert err.strip() == (
        "emay-mock: cannot listen on 203.0.113.7:0: 203.0.113.7 is not an address of this machine; "
        "use 127.0.0.1, 0.0.0.0 (every interface) or one of its own addresses"
    )
    code, _, err = await run("serve", "--host", "no-such-host.invalid", "--port", "0")
    assert code == 2 and "Traceback" not in err
    assert "'no-such-host.invalid' is not a host name or address this machine can resolve" in err


async def test_a_port_in_use_names_the_flag_to_change() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = await run("serve", "--port", str(port))
    assert code == 2 and "Traceback" not in err
    assert f"port {port} is in use; choose another with --port (0 picks a free one)" in err


async def test_a_config_path_that_is_missing_or_a_directory_is_named_with_what_is_wrong(
    tmp_path: Path,
) -> None:
    for path, problem in (
        (tmp_path / "nope.yaml", "no such file"),
        (tmp_path, "is a directory, not a file: name the YAML file itself"),
    ):
        code, out, err = await run("serve", "--config", str(path), "--port", "0")
        assert code == 2 and "listening" not in out and "Traceback" not in err
        assert err.splitlines()[-1] == f"{path}: {problem}", err


@pytest.mark.parametrize(
    "text", ["", "# nothing yet\n", "server:\n  reportDelaySeconds: 1\n", "accounts: []\n"]
)
async def test_a_config_with_no_account_starts_with_a_warning_saying_so(tmp_path: Path, text: str) -> None:
    config = tmp_path / "emay.yaml"
    config.write_text(text)
    async with serve(["--config", str(config)]) as served:
        warned = await stopped_stderr(served)
    assert (
        f"emay-mock: warning: {config} has no account: every Emay request is refused (ERROR_APPID) "
        "until one is added under accounts: or with POST /_mock/accounts"
    ) in warned


async def test_log_lines_carry_beijing_time_with_its_offset_whatever_the_machines_zone() -> None:
    async with serve([], env={"TZ": "America/New_York"}) as served:
        async with EmayClient(served.url, DEMO_APP_ID, DEMO_SECRET_KEY) as client:
            await client.send_single_sms("13800000000", "hello")
        logged = await stopped_stderr(served)
    (line,) = [line for line in logged.splitlines() if "secure /sendSingleSMS" in line]
    stamp = datetime.strptime(line[:29], "%Y-%m-%d %H:%M:%S,%f%z")
    assert line[23:29] == "+08:00"
    assert abs((datetime.now(BEIJING) - stamp).total_seconds()) < 60


async def test_the_readmes_start_banner_is_what_serve_prints() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    match = re.search(r"```\n(emay-mock \S+ listening on .*?)```", readme, re.S)
    assert match, "the README shows no start banner"
    async with serve([], script=True) as served:
        printed = [line.replace(served.url, "http://127.0.0.1:8999") for line in served.banner]
    assert printed == match.group(1).splitlines()


async def test_the_configuration_pages_option_table_has_every_serve_option() -> None:
    code, out, _ = await run("serve", "--help")
    assert code == 0
    options = set(re.findall(r"^\s+(--[a-z-]+)", out, re.M)) - {"--help"}
    page = (ROOT / "docs" / "configuration.md").read_text("utf-8")
    documented = set(re.findall(r"^\| `(--[a-z-]+)", page, re.M))
    assert options == documented
