"""`emay-mock serve --control-auth`, EMAY_MOCK_CONTROL_AUTH and server.controlAuth, as a process:
which one wins, the warning beyond loopback, and no password in what it prints."""

from __future__ import annotations

import signal
from pathlib import Path

import aiohttp

from emay_mock.client import EmayClient
from emay_mock.config import DEMO_APP_ID, DEMO_SECRET_KEY
from emay_mock.control_auth import ENV, parse_credentials
from tests.e2e.process import Served, run, serve

WARNING = "without --control-auth"


async def status(url: str, auth: str | None) -> int:
    headers = {} if auth is None else {"Authorization": parse_credentials(auth).header()}
    async with aiohttp.ClientSession() as http, http.get(f"{url}/_mock/messages", headers=headers) as resp:
        return resp.status


async def printed(served: Served) -> str:
    """Everything the process wrote, once it has stopped."""
    port = served.url.rsplit(":", 1)[1]
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/_mock/health") as resp:
        assert resp.status == 200  # serving: its signal handlers are in place
    process = served.process
    process.send_signal(signal.SIGTERM)
    assert await process.wait() == 0
    assert process.stdout is not None and process.stderr is not None
    return "\n".join(
        [*served.banner, (await process.stdout.read()).decode(), (await process.stderr.read()).decode()]
    )


async def test_the_flag_wins_over_the_environment_which_wins_over_the_file(tmp_path: Path) -> None:
    config = tmp_path / "emay.yaml"
    config.write_text(
        "server:\n  controlAuth: file:pw-file\n"
        f"accounts:\n  - appId: {DEMO_APP_ID}\n    secretKey: {DEMO_SECRET_KEY}\n"
    )
    cases: tuple[tuple[list[str], dict[str, str], str], ...] = (
        (["--control-auth", "flag:pw-flag"], {ENV: "env:pw-env"}, "flag:pw-flag"),
        ([], {ENV: "env:pw-env"}, "env:pw-env"),
        ([], {ENV: ""}, "file:pw-file"),
    )
    for flags, env, wins in cases:
        async with serve(["--config", str(config), *flags], env=env) as served:
            assert await status(served.url, None) == 401
            assert await status(served.url, wins) == 200
            for other in ("flag:pw-flag", "env:pw-env", "file:pw-file"):
                if other != wins:
                    assert await status(served.url, other) == 401
            async with EmayClient(served.url, DEMO_APP_ID, DEMO_SECRET_KEY) as client:
                assert (
                    await client.call("sendSingleSMS", {"mobile": "13800000000", "content": "x"})
                ).code == ("SUCCESS")
            out = await printed(served)
        user = wins.split(":")[0]
        assert f"basic auth: user {user}" in out
        assert "pw-" not in out and WARNING not in out


async def test_beyond_loopback_without_auth_a_one_line_warning(tmp_path: Path) -> None:
    async with serve(["--host", "0.0.0.0"], env={ENV: ""}) as served:
        out = await printed(served)
    (line,) = [x for x in out.splitlines() if WARNING in x]
    assert line.startswith("emay-mock: warning: serving on 0.0.0.0")
    async with serve(["--host", "0.0.0.0"], env={ENV: "team:pw-team"}) as served:
        assert WARNING not in await printed(served)
    async with serve([], env={ENV: ""}) as served:  # loopback: nothing to warn about
        assert WARNING not in await printed(served)


async def test_a_malformed_flag_starts_nothing_and_does_not_echo_it() -> None:
    code, out, err = await run("serve", "--port", "0", "--control-auth", "justapassword")
    assert code == 2 and "listening" not in out
    assert "USER:PASSWORD" in err and "justapassword" not in err
