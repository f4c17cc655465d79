"""Shared by the wire tests: a mock without the built-in scenarios."""

from __future__ import annotations

import pytest

from emay_mock.server import MockServer
from emay_mock.settings import Settings
from tests.conftest import MockFactory, account


@pytest.fixture
async def bare(make_mock: MockFactory) -> MockServer:
    """A mock without the built-in magic numbers, so each test sees only its own rules; three
    accounts (APP_ID, EUCP-OTHER, EUCP-THIRD) for the rules that match by appId."""
    accounts = [account(), account("EUCP-OTHER"), account("EUCP-THIRD")]
    return await make_mock(accounts, settings=Settings(default_scenarios=False))
