"""Property-based fuzzing of the secure family's decode path, /inter/*, over a real socket.

Whatever the body and headers, the answer is HTTP 200 with a `result` header carrying a
code the spec's table allows for the secure family, the server logs no traceback, and a
valid request still succeeds afterwards.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emay_mock.protocol import envelope
from emay_mock.web.secure import ACTIONS
from tests.conftest import APP_ID, KEY, account
from tests.reliability.documented import (
    FUZZ,
    SECURE_CODES,
    any_text,
    json_scalars,
    json_values,
    mobile_like,
    numbers,
    timer_like,
)
from tests.reliability.live import Answer, LiveMock, Wire
from tests.wire import secure_helpers

ENDPOINTS = sorted(ACTIONS)
# Header values a client can put on the wire: latin-1 text without line breaks.
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
                      max_size=20)  # fmt: skip
ITEM_FIELDS = ("mobile", "customSmsId", "content", "timerTime", "extendedCode")
TOP_FIELDS = (
    "mobile", "mobiles", "content", "smses", "timerTime", "customSmsId", "extendedCode", "number",
    "templateId", "templateContent", "url", "shortLinkRule",
)  # fmt: skip


LIVE_ACCOUNTS = [account(balance=10**12)]
pytestmark = pytest.mark.usefixtures("still_serving_after_all")


def post(wire: Wire, endpoint: str, body: bytes, headers: dict[str, str]) -> Answer:
    return wire.request("POST", f"/inter/{endpoint}", body, headers)


def assert_documented(answer: Answer, live: LiveMock, allowed: frozenset[str] = SECURE_CODES) -> str:
    assert answer.status == 200, answer.body[:300]
    code = answer.header("result")
    assert code in allowed, code
    if code != "SUCCESS":
        assert answer.body == b""
    assert live.errors.lines() == []
    return code


headers_st = st.fixed_dictionaries(
    {},
    optional={
        "appId": st.one_of(st.just(APP_ID), header_text),
        "gzip": st.one_of(st.sampled_from(["on", "ON", " on ", "off"]), header_text),
        "encode": st.one_of(st.sampled_from(["UTF-8", "GBK", "gb2312", "utf-16", "rot13", "base64"]),
                            header_text),
        "Content-Type": st.sampled_from(["application/octet-stream", "application/x-www-form-urlencoded",
                                         "application/json", "text/plain; charset=GBK"]),
    },
)  # fmt: skip


@FUZZ
@given(endpoint=st.sampled_from(ENDPOINTS), body=st.binary(max_size=300), headers=headers_st)
def test_any_raw_body_and_headers_get_a_documented_code(
    live: LiveMock, wire: Wire, endpoint: str, body: bytes, headers: dict[str, str]
) -> None:
    code = assert_documented(post(wire, endpoint, body, headers), live)
    if headers.get("appId") != APP_ID:
        assert code == "ERROR_APPID"
    else:  # random bytes are almost never AES of anything, and never a valid request
        assert code in {"ERROR_ENCRYPTION", "ERROR_PARAMS"}


@FUZZ
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    plain=st.binary(max_size=300),
    gzip_on=st.booleans(),
    compress=st.booleans(),
    charset=st.sampled_from(["UTF-8", "GBK", "UTF-16", "ISO-8859-1"]),
)
def test_any_plaintext_in_a_valid_envelope_gets_a_documented_code(
    live: LiveMock, wire: Wire, endpoint: str, plain: bytes, gzip_on: bool, compress: bool, charset: str
) -> None:
    data = gzip.compress(plain) if compress else plain
    body = envelope.aes_encrypt(KEY, data)
    headers = {"appId": APP_ID, "encode": charset, **({"gzip": "on"} if gzip_on else {})}
    code = assert_documented(post(wire, endpoint, body, headers), live)
    if gzip_on and not compress:
        assert code in {"ERROR_ENCRYPTION", "ERROR_PARAMS"}  # not gzip (or, rarely, looks like it)
    elif gzip_on == compress:
        assert code == "ERROR_PARAMS"  # decrypts, but is not a JSON object with a window


@FUZZ
@given(endpoint=st.sampled_from(ENDPOINTS), payload=json_values(), gzip_on=st.booleans())
def test_any_json_in_a_valid_envelope_gets_a_documented_code(
    live: LiveMock, wire: Wire, endpoint: str, payload: Any, gzip_on: bool
) -> None:
    body = envelope.encode_request(payload, KEY, gzip_on=gzip_on)
    headers = {"appId": APP_ID, "encode": "UTF-8", **({"gzip": "on"} if gzip_on else {})}
    code = assert_documented(post(wire, endpoint, body, headers), live)
    assert code == "ERROR_PARAMS"  # no JSON drawn here carries a valid window


def _item() -> st.SearchStrategy[Any]:
    fields = {
        "mobile": mobile_like,
        "content": st.one_of(any_text, st.dictionaries(any_text, json_scalars, max_size=3)),
        "customSmsId": st.one_of(any_text, numbers),
        "timerTime": timer_like,
        "extendedCode": st.one_of(st.text(st.sampled_from("0123456789"), max_size=14), numbers, any_text),
    }
    item = st.fixed_dictionaries({}, optional={k: st.one_of(v, json_scalars) for k, v in fields.items()})
    return st.one_of(item, json_scalars)


FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "mobile": mobile_like,
    "mobiles": st.lists(st.one_of(mobile_like, json_scalars), max_size=6),
    "smses": st.lists(_item(), max_size=6),
    "content": any_text,
    "timerTime": timer_like,
    "customSmsId": st.one_of(any_text, numbers),
    "extendedCode": st.one_of(st.text(st.sampled_from("0123456789"), max_size=14), numbers),
    "number": st.one_of(numbers, any_text),
    "templateId": st.one_of(st.text(st.sampled_from("0123456789"), max_size=20), numbers, any_text),
    "templateContent": any_text,
    "url": st.one_of(
        st.sampled_from(["http://example.com/a", "https://x.test/?q=1", "ftp://x", ""]), any_text
    ),
    "shortLinkRule": st.one_of(st.sampled_from(["1", "2", 1, 2, "3"]), json_scalars),
}
request_fields = st.fixed_dictionaries(
    {}, optional={name: st.one_of(FIELD_VALUES[name], json_values(4)) for name in TOP_FIELDS}
)
window_st = st.one_of(
    st.just(None),  # a fresh, valid window, built when the request is sent
    st.fixed_dictionaries({}, optional={"requestTime": st.one_of(numbers, any_text, json_scalars),
                                        "requestValidPeriod": st.one_of(numbers, any_text, json_scalars)}),
)  # fmt: skip


@FUZZ
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    fields=request_fields,
    window=window_st,
    gzip_on=st.booleans(),
    charset=st.sampled_from(["UTF-8", "GBK"]),
)
def test_structured_but_wrong_requests_get_a_documented_code(
    live: LiveMock,
    wire: Wire,
    endpoint: str,
    fields: dict[str, Any],
    window: dict[str, Any] | None,
    gzip_on: bool,
    charset: str,
) -> None:
    payload = {**fields, **(secure_helpers.window() if window is None else window)}
    # GBK lacks many code points: a real GBK client could not send them either.
    text = json.dumps(payload, ensure_ascii=False).encode(charset, errors="replace")
    data = gzip.compress(text) if gzip_on else text
    headers = {"appId": APP_ID, "encode": charset, **({"gzip": "on"} if gzip_on else {})}
    answer = post(wire, endpoint, envelope.aes_encrypt(KEY, data), headers)
    code = assert_documented(answer, live)
    if code == "SUCCESS":  # the answer is a well-formed envelope the client can open
        envelope.decode_response(answer.body, KEY, gzip_on=gzip_on, charset=charset)
