"""Shared by the reliability tests: one raw connection per module to the module's `live` mock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability.live import LiveMock, Wire


@pytest.fixture(scope="module")
def wire(live: LiveMock) -> Iterator[Wire]:
    connection = live.wire()
    yield connection
    connection.close()
