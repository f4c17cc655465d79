"""The pytest plugin (entry point `pytest11`): a real emay-mock for each test.

    @pytest.mark.asyncio
    async def test_reports_are_pushed(emay_mock):
        sent = await emay_mock.client.send_single_sms("13800000000", "hello")
        await emay_mock.advance(1)
        push = await emay_mock.wait_for_push(sent["smsId"])

`emay_mock` runs the server in-process on the test's event loop (needs pytest-asyncio:
`pip install 'emay-mock[pytest]'`);
`emay_mock_sync` runs it on a background thread for plain `def` tests. Options come from
`@pytest.mark.emay_mock(...)`: `balance`, `strict`, `push` (the account's push section),
`receiver=True` (a built-in callback receiver the reports and MO are pushed to),
`scenarios` (paths or YAML texts), `default_scenarios`, `settings` (the config
file's `server:` keys, plus `clockSpeed`), and `control_auth` ("USER:PASSWORD": the mock
asks for it on /_mock/ and the handle's helpers send it; without it the mock, on loopback,
asks for nothing).
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest

from emay_mock.config import Config, parse_account, settings_from
from emay_mock.control_auth import parse_credentials
from emay_mock.scenarios.loader import load_file, parse
from emay_mock.server import MockServer
from emay_mock.testing.handle import EmayMockHandle, new_account
from emay_mock.testing.receiver import Receiver
from emay_mock.testing.sync import BackgroundLoop, Sync

_OPTIONS = {
    "balance", "strict", "push", "receiver", "scenarios", "default_scenarios", "settings", "account",
    "control_auth",
}  # fmt: skip


# pytest-asyncio 0.24 and later warn on every run whose configuration leaves the option
# unset, about the loop of async fixtures: this plugin's set theirs, so a user's run that has
# no async fixture of its own would carry the warning for nothing.
_UNSET_LOOP_SCOPE = r'The configuration option "asyncio_default_fixture_loop_scope" is unset'
NEEDS_PYTEST_ASYNCIO = (
    "the emay_mock fixture runs the mock on the test's event loop, which needs pytest-asyncio: "
    "pip install 'emay-mock[pytest]' (pytest and pytest-asyncio); or use emay_mock_sync in a "
    "plain def test"
)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    try:
        unset = not config.getini("asyncio_default_fixture_loop_scope")
    except ValueError:  # pytest-asyncio is not installed, or predates the option
        unset = False
    if unset:  # before pytest-asyncio's own pytest_configure, which warns
        warnings.filterwarnings("ignore", message=_UNSET_LOOP_SCOPE, category=pytest.PytestDeprecationWarning)
    config.addinivalue_line(
        "markers",
        "emay_mock(balance=, strict=, push=, receiver=, scenarios=, default_scenarios=, settings=, "
        "account=, control_auth=): options for the emay_mock fixtures",
    )


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("emay_mock")
    options = dict(marker.kwargs) if marker else {}
    unknown = set(options) - _OPTIONS
    if unknown:
        raise pytest.UsageError(
            f"unknown emay_mock marker options: {sorted(unknown)}; known: {sorted(_OPTIONS)}"
        )
    return options


async def _start(options: dict[str, Any]) -> tuple[MockServer, EmayMockHandle]:
    receiver = await Receiver().start() if options.get("receiver") else None
    fields: dict[str, Any] = {**options.get("account", {})}
    for name in ("balance", "strict"):
        if name in options:
            fields[name] = options[name]
    push = dict(options.get("push") or {})
    if receiver is not None:
        push.setdefault("reportUrl", receiver.path_url("/emay/report"))
        push.setdefault("moUrl", receiver.path_url("/emay/mo"))
    if push:
        fields["push"] = push
    account = new_account(**fields)
    server_keys = dict(options.get("settings") or {})
    speed = server_keys.pop("clockSpeed", 1.0)
    if "default_scenarios" in options:
        server_keys["defaultScenarios"] = bool(options["default_scenarios"])
    given = options.get("control_auth")
    credentials = parse_credentials(given) if given else None
    config = Config(
        settings=settings_from(server_keys, speed),
        accounts=[parse_account(account)],
        source="pytest",
        control_auth=credentials,
    )
    server = MockServer(config)
    for scenario in options.get("scenarios") or []:
        is_file = isinstance(scenario, Path) or ("\n" not in scenario and Path(scenario).is_file())
        server.scenarios.load(load_file(scenario) if is_file else parse(scenario, "pytest-marker"))
    url = await server.listen("127.0.0.1", 0)
    return server, EmayMockHandle(url, account, receiver, control_auth=credentials)


async def _stop(server: MockServer, handle: EmayMockHandle) -> None:
    await handle.aclose()
    if handle.receiver is not None:
        await handle.receiver.stop()
    await server.close()


try:
    import pytest_asyncio

    HAS_PYTEST_ASYNCIO = True
except ImportError:  # the async fixture needs pytest-asyncio; the sync one does not
    HAS_PYTEST_ASYNCIO = False

# A test may run on a loop shared by its class, module, package or session
# (`@pytest.mark.asyncio(loop_scope=...)`, or `asyncio_default_test_loop_scope`). The mock
# must live on that same loop, so there is one fixture per loop scope and `emay_mock`
# picks the test's.
LoopScope = Literal["function", "class", "module", "package", "session"]
_LOOP_SCOPES: tuple[LoopScope, ...] = ("function", "class", "module", "package", "session")


def _test_loop_scope(request: pytest.FixtureRequest) -> str:
    marker = request.node.get_closest_marker("asyncio")
    scope = (marker.kwargs.get("loop_scope") or marker.kwargs.get("scope")) if marker else None
    if scope is None:
        try:
            scope = request.config.getini("asyncio_default_test_loop_scope")
        except ValueError:  # a pytest-asyncio without the option: function loops only
            scope = None
    return str(scope or "function")


def _on_loop(loop_scope: LoopScope) -> Any:
    async def on_loop(request: pytest.FixtureRequest) -> AsyncIterator[EmayMockHandle]:
        server, handle = await _start(_options(request))
        try:
            yield handle
        finally:
            await _stop(server, handle)

    try:
        return pytest_asyncio.fixture(on_loop, loop_scope=loop_scope)
    except TypeError:  # pytest-asyncio before 0.24 has no loop_scope: the test's default loop
        return pytest_asyncio.fixture(on_loop)


if HAS_PYTEST_ASYNCIO:
    for _scope in _LOOP_SCOPES:
        globals()[f"_emay_mock_on_{_scope}_loop"] = _on_loop(_scope)


@pytest.fixture
def emay_mock(request: pytest.FixtureRequest) -> EmayMockHandle:
    """A real emay-mock on the test's event loop, with a fresh account, clients and helpers."""
    # Not installed, or turned off (-p no:asyncio): said here rather than as a missing fixture.
    if not (HAS_PYTEST_ASYNCIO and request.config.pluginmanager.hasplugin("asyncio")):
        pytest.fail(NEEDS_PYTEST_ASYNCIO, pytrace=False)
    handle: EmayMockHandle = request.getfixturevalue(f"_emay_mock_on_{_test_loop_scope(request)}_loop")
    return handle


@pytest.fixture
def emay_mock_sync(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The same as `emay_mock` for plain `def` tests: the mock runs on a background thread."""
    loop = BackgroundLoop()
    server, handle = loop.run(_start(_options(request)))
    try:
        yield Sync(handle, loop)
    finally:
        loop.run(_stop(server, handle))
        loop.close()
