"""The control API (/_mock/*) fuzzed against its own OpenAPI document with schemathesis.

Every operation of the document the server publishes at /_mock/openapi.json gets
schema-conforming and schema-violating requests; none may answer 5xx. Bounded: a fixed
number of examples per operation, derandomized, no example database.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from emay_mock.web.control import openapi_document
from tests.reliability.live import LiveMock

# What schemathesis itself cannot drive meaningfully, and why:
# - GET /_mock/events is a Server-Sent Events stream that never ends by design.
schema = schemathesis.openapi.from_dict(openapi_document()).exclude(path="/_mock/events")

# The long-polls answer 408 after `timeout` seconds (up to 300): capped so a generated
# wait costs a fraction of a second, while every other parameter stays fuzzed.
WAIT_CAP_S = "0.05"
# Port 9 (discard) on this machine: nothing listens, the push fails and is recorded.
LOCAL_URL = "http://127.0.0.1:9/fuzz"


def _steer(case: Any) -> None:
    """Keep a generated case local and quick, and let half the accounts have a usable key."""
    if case.path.startswith("/_mock/wait/"):
        case.query = {**(case.query if isinstance(case.query, dict) else {}), "timeout": WAIT_CAP_S}
    body = case.body if isinstance(case.body, dict) else None
    key = body.get("secretKey") if body is not None else None
    # The document cannot say "16, 24 or 32 UTF-8 bytes"; random strings almost never are, and
    # every account would be refused before the rest of the object is looked at.
    if (
        body is not None
        and isinstance(key, str)
        and len(key.encode()) not in (16, 24, 32)
        and len(key) % 2 == 0
    ):
        body["secretKey"] = "0123456789ABCDEF"
    push = body.get("push") if body is not None else None
    # A fuzzed account must never make the mock push to an address outside this machine.
    if isinstance(push, dict):
        for name in ("reportUrl", "moUrl"):
            if isinstance(push.get(name), str):
                push[name] = LOCAL_URL


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_control_api_operation_answers_a_server_error(case: Any, live: LiveMock) -> None:
    _steer(case)
    case.call_and_validate(base_url=live.url, checks=[not_a_server_error], timeout=30)
    assert live.errors.take() == []


def test_the_fuzzed_document_is_the_one_the_server_publishes(live: LiveMock) -> None:
    wire = live.wire()
    answer = wire.request("GET", "/_mock/openapi.json")
    assert json.loads(answer.body) == openapi_document()
    assert {op.label for op in _operations()} >= {"GET /_mock/health", "POST /_mock/accounts"}


def _operations() -> list[Any]:
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()  # every operation of the document is usable
        operations.append(result.ok())
    return operations
