"""The result codes each family may answer (docs/protocol.md#result-codes); the fuzz tests' strategies."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from emay_mock.protocol.codes import ResultCode

_ALL = frozenset(code.value for code in ResultCode)
_SECURE_ONLY = frozenset({"ERROR_ENCRYPTION", "ERROR_REQUEST_NO_VALID"})
_SIGNED_ONLY = frozenset({"ERROR_TIMESTAMP", "ERROR_SIGN"})
_VOICE = frozenset({"ERROR_NO_VOICE_SERVICE", "ERROR_VOICE_CONTENT"})
_RETRIEVE = frozenset({"ERROR_NO_RETRIEVE_SERVICE", "ERROR_REPORT_TIME", "ERROR_TOO_MUCH_SMSIDS"})

SECURE_CODES = _ALL - _SIGNED_ONLY - _VOICE - _RETRIEVE
SIMPLE_CODES = _ALL - _SECURE_ONLY - _VOICE - _RETRIEVE
VOICE_CODES = _ALL - _SECURE_ONLY - _RETRIEVE
REPORT_CODES = frozenset(
    {
        "SUCCESS",
        "ERROR_APPID",
        "ERROR_CLIENT_IP",
        "ERROR_OVER_SPEED",
        "ERROR_PARAMS",
        *_SIGNED_ONLY,
        *_RETRIEVE,
    }
)

# Repeatable in CI: the same examples every run, no example database on disk, no deadline
# (a request over a socket is not a pure function's microseconds).
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Text as hostile clients send it: any code point, control characters and surrogates aside
# (those cannot be encoded by any client), biased towards the shapes the rules look at.
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
digits = st.text(st.sampled_from("0123456789"), min_size=0, max_size=14)
valid_mobile = st.builds(
    lambda tail: "1" + tail, st.text(st.sampled_from("0123456789"), min_size=10, max_size=10)
)
mobile_like = st.one_of(
    valid_mobile,
    st.sampled_from(
        ["+8613800000000", "008613800000000", "8613800000000", "１３８００００００００", " 13800000000 "]
    ),
    digits,
    any_text,
)
timer_like = st.one_of(
    st.sampled_from(["2020-01-01 00:00:00", "2099-12-31 23:59:59", "20991231235959", "not a time", ""]),
    any_text,
)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=False),
    st.sampled_from([0, -1, 0.5, 1e308, -1e308, 10**400, 2**63, -(2**63) - 1]),
)
json_scalars = st.one_of(st.none(), st.booleans(), numbers, any_text, digits, mobile_like)


def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    return st.recursive(
        json_scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
        max_leaves=max_leaves,
    )
