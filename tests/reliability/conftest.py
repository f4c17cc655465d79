"""Shared by the reliability tests: one mock per module served from a thread, one raw
connection to it, and the check that it still serves whatever was thrown at it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from urllib.parse import urlencode

import pytest

from emay_mock.protocol import envelope
from emay_mock.settings import AccountSpec, Settings
from tests.conftest import APP_ID, KEY, account
from tests.reliability.live import LiveMock, Wire
from tests.wire.secure_helpers import now_ms
from tests.wire.simple_helpers import signed


@pytest.fixture(scope="module")
def live(request: pytest.FixtureRequest) -> Iterator[LiveMock]:
    """The module's mock, serving until its last test: the accounts are the module's
    LIVE_ACCOUNTS (else one default account), the settings its LIVE_SETTINGS (else the defaults)."""
    accounts: list[AccountSpec] = getattr(request.module, "LIVE_ACCOUNTS", None) or [account()]
    settings: Settings | None = getattr(request.module, "LIVE_SETTINGS", None)
    with LiveMock(accounts, settings) as server:
        yield server


@pytest.fixture(scope="module")
def wire(live: LiveMock) -> Iterator[Wire]:
    """One keep-alive connection to the module's mock, for the whole module."""
    connection = live.wire()
    yield connection
    connection.close()


def assert_still_serving(live: LiveMock, wire: Wire | None = None) -> None:
    """getBalance succeeds in the secure and the simple family, on a new connection and on
    `wire` when given, and nothing was logged as a crash so far."""
    with closing(live.wire()) as fresh:
        for connection in [fresh] if wire is None else [fresh, wire]:
            # A window from the wall clock, not window(): that one runs ahead of the clock when
            # called twice in a millisecond, and the next test's own windows would start ahead.
            body = envelope.encode_request(
                {"requestTime": now_ms(), "requestValidPeriod": 60}, KEY, gzip_on=False
            )
            secure = connection.request(
                "POST", "/inter/getBalance", body, {"appId": APP_ID, "encode": "UTF-8"}
            )
            assert secure.header("result") == "SUCCESS", secure.status
            assert "balance" in envelope.decode_response(secure.body, KEY, gzip_on=False)
            form = {"Content-Type": "application/x-www-form-urlencoded"}
            simple = connection.request("POST", "/simpleinter/getBalance", urlencode(signed()).encode(), form)
            assert json.loads(simple.body)["code"] == "SUCCESS"
    assert live.errors.take() == []


@pytest.fixture(scope="module")
def still_serving_after_all(live: LiveMock, wire: Wire) -> Iterator[None]:
    """Used by a module (pytestmark): after its last test, the mock still serves."""
    yield
    assert_still_serving(live, wire)
