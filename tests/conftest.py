"""Shared fixtures: a real mock on a free port, clients for it, and a real callback receiver."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from emay_mock.client import EmayClient
from emay_mock.config import Config, parse_account
from emay_mock.server import MockServer
from emay_mock.settings import AccountSpec, Settings
from emay_mock.testing.receiver import Receiver

ROOT = Path(__file__).resolve().parents[1]  # the repository
EXAMPLES = ROOT / "scenarios"  # the example scenarios it ships

APP_ID = "EUCP-EMY-SMS1-TEST1"
SECRET = "0123456789ABCDEF"
KEY = SECRET.encode()  # the AES key of SECRET's envelopes and encrypted pushes
REPORT_KEYS = {"mobile", "smsId", "customSmsId", "state", "desc", "receiveTime", "submitTime", "extendedCode"}


def account(app_id: str = APP_ID, secret: str = SECRET, **extra: Any) -> AccountSpec:
    return parse_account({"appId": app_id, "secretKey": secret, **extra})


def pushing(
    receiver: Receiver, app_id: str = APP_ID, report: str = "/emay/report", mo: str = "/emay/mo", **push: Any
) -> AccountSpec:
    """An account that pushes its reports to the receiver's path `report` and its MOs to `mo`;
    `push` adds to or overrides the push settings (mode, timeoutSeconds, retrySchedule, ...)."""
    urls = {"reportUrl": receiver.path_url(report), "moUrl": receiver.path_url(mo)}
    return account(app_id, push={**urls, **push})


MockFactory = Callable[..., Awaitable[MockServer]]


@pytest.fixture
async def make_mock() -> AsyncIterator[MockFactory]:
    """Start mocks on free ports: make_mock(accounts=[...], settings=Settings(...), db=path,
    record=path)."""
    started: list[MockServer] = []

    async def make(
        accounts: list[AccountSpec] | None = None,
        settings: Settings | None = None,
        db: str | None = None,
        record: str | None = None,
    ) -> MockServer:
        config = Config(
            settings=settings or Settings(),
            accounts=accounts if accounts is not None else [account()],
            source="tests",
        )
        mock = MockServer(config, db=db, record=record)
        await mock.listen("127.0.0.1", 0)
        started.append(mock)
        return mock

    yield make
    for mock in started:
        await mock.close()


@pytest.fixture
async def mock(make_mock: MockFactory) -> MockServer:
    return await make_mock()


@pytest.fixture
async def client(mock: MockServer) -> AsyncIterator[EmayClient]:
    async with EmayClient(mock.url, APP_ID, SECRET) as emay:
        yield emay


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as recv:
        yield recv


def new_app_id() -> str:
    return f"EUCP-EMY-SMS1-{secrets.token_hex(3).upper()}"
