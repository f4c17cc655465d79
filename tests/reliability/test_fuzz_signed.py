"""Property-based fuzzing of every md5-signed endpoint's parameters: /simpleinter/*, /voice/*
and /report/retrieveReport, over a real socket.

Any parameters, sent by GET, as a form, in the query of a POST, or as raw bytes, get HTTP 200
and the family's documented code (JSON `code` for simple and voice, the bare text code for
retrieveReport), the server logs no traceback, and keeps serving.
"""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emay_mock.protocol.sign import make_sign
from tests.conftest import APP_ID, SECRET, account
from tests.reliability.documented import (
    FUZZ,
    REPORT_CODES,
    SIMPLE_CODES,
    VOICE_CODES,
    any_text,
    digits,
    mobile_like,
    timer_like,
    valid_mobile,
)
from tests.reliability.live import Answer, LiveMock, Wire
from tests.wire.simple_helpers import stamp

compact_time = st.one_of(
    st.builds(lambda minutes: stamp(timedelta(minutes=-minutes)), st.integers(0, 12)),  # a valid range, often
    st.builds(lambda minutes: stamp(timedelta(minutes=-minutes)), st.integers(-30, 60 * 24 * 40)),
    st.sampled_from(["20200101000000", "99999999999999", "2024-01-01 00:00:00", ""]),
    digits,
    any_text,
)
sms_id_like = st.one_of(st.text(st.sampled_from("0123456789"), min_size=20, max_size=20), any_text)
sms_ids = st.one_of(st.lists(sms_id_like, max_size=5).map(",".join), st.just(",".join(["1"] * 1001)))
number_text = st.one_of(
    st.integers().map(str), st.sampled_from(["1e308", "-1", "0.5", "10" * 300, "NaN", ""]), any_text
)

PARAMS: dict[str, dict[str, st.SearchStrategy[str]]] = {
    "/simpleinter/sendSMS": {
        "mobiles": st.one_of(
            st.lists(mobile_like, max_size=5), st.lists(valid_mobile, min_size=1, max_size=3)
        ).map(",".join),
        "content": any_text,
        "timerTime": st.one_of(compact_time, timer_like),
        "customSmsId": any_text,
        "extendedCode": st.one_of(digits, any_text),
    },
    "/simpleinter/sendPersonalitySMS": {
        "timerTime": st.one_of(compact_time, timer_like),
        "customSmsId": any_text,
        "extendedCode": st.one_of(digits, any_text),
    },
    "/simpleinter/getReport": {"number": number_text},
    "/simpleinter/getMo": {"number": number_text},
    "/simpleinter/getBalance": {},
    "/voice/sendSMS": {
        "mobile": st.one_of(valid_mobile, mobile_like),
        "content": st.one_of(digits, any_text),
        "customSmsId": any_text,
        "extendedCode": st.one_of(digits, any_text),
    },
    "/voice/getReport": {"number": number_text},
    "/voice/getBalance": {},
    "/report/retrieveReport": {"startTime": compact_time, "endTime": compact_time, "smsId": sms_ids},
}
CODES = {"simpleinter": SIMPLE_CODES, "voice": VOICE_CODES, "report": REPORT_CODES}


LIVE_ACCOUNTS = [account(balance=10**12, voice=True, retrieveReport=True)]
pytestmark = pytest.mark.usefixtures("still_serving_after_all")


OLD = "20000101000000"


def signature(kind: str) -> dict[str, str]:
    ts = stamp()
    good = make_sign(APP_ID, SECRET, ts)
    return {
        "valid": {"appId": APP_ID, "timestamp": ts, "sign": good},
        "upper": {"appId": APP_ID, "timestamp": ts, "sign": good.upper()},
        "wrong-sign": {"appId": APP_ID, "timestamp": ts, "sign": "0" * 32},
        "old": {"appId": APP_ID, "timestamp": OLD, "sign": make_sign(APP_ID, SECRET, OLD)},
        "unknown-app": {"appId": "NOBODY", "timestamp": ts, "sign": good},
        "none": {},
    }[kind]  # fmt: skip


# Drawn present half the time, so the fuzzing reaches past "missing parameter" into the rules.
REQUIRED = {
    "/simpleinter/sendSMS": ("mobiles", "content"),
    "/voice/sendSMS": ("mobile", "content"),
    "/report/retrieveReport": ("startTime", "endTime"),
}


def endpoint_params(path: str) -> st.SearchStrategy[dict[str, str]]:
    params = PARAMS[path]
    required = REQUIRED.get(path, ())
    known = st.one_of(
        st.fixed_dictionaries({}, optional=params),
        st.fixed_dictionaries(
            {k: params[k] for k in required}, optional={k: v for k, v in params.items() if k not in required}
        ),
    )
    extra = st.dictionaries(any_text.filter(lambda k: k not in ("appId", "timestamp", "sign")), any_text,
                            max_size=3)  # fmt: skip
    if path.endswith("sendPersonalitySMS"):  # recipients are parameters named by their mobile
        names = st.one_of(valid_mobile, mobile_like, st.builds("+{}".format, digits))
        extra = st.dictionaries(names, any_text, max_size=5)
    return st.tuples(known, extra).map(lambda pair: {**pair[1], **pair[0]})


def send(wire: Wire, path: str, style: str, params: dict[str, str]) -> Answer:
    query = urlencode(params)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    if style == "get":
        return wire.request("GET", f"{path}?{query}")
    if style == "query":
        return wire.request("POST", f"{path}?{query}", b"", {})
    if style == "multipart":
        parts = b"".join(
            b"--b\r\nContent-Disposition: form-data; name=\"" + quote(k).encode() + b"\"\r\n\r\n"
            + v.encode("utf-8") + b"\r\n" for k, v in params.items()
        ) + b"--b--\r\n"  # fmt: skip
        return wire.request("POST", path, parts, {"Content-Type": "multipart/form-data; boundary=b"})
    return wire.request("POST", path, query.encode(), form)


def code_of(path: str, answer: Answer) -> str:
    family = path.split("/")[1]
    assert answer.status == 200, answer.body[:300]
    if family == "report":
        code = answer.body.decode("utf-8")
    else:
        body = json.loads(answer.body)
        code = body["code"]
        assert ("data" in body) == (code == "SUCCESS")
    assert code in CODES[family], code
    return code


@pytest.mark.parametrize("path", sorted(PARAMS))
@settings(FUZZ, max_examples=100)
@given(
    data=st.data(),
    style=st.sampled_from(["form", "get", "query", "multipart"]),
    auth=st.sampled_from(["valid", "valid", "valid", "upper", "wrong-sign", "old", "unknown-app", "none"]),
)
def test_any_parameters_of_every_signed_endpoint_get_a_documented_code(
    live: LiveMock, wire: Wire, path: str, data: st.DataObject, style: str, auth: str
) -> None:
    params = data.draw(endpoint_params(path), label="params")
    code = code_of(path, send(wire, path, style, {**params, **signature(auth)}))
    assert live.errors.lines() == []
    expected_by_auth = {"wrong-sign": "ERROR_SIGN", "old": "ERROR_TIMESTAMP", "unknown-app": "ERROR_APPID",
                        "none": "ERROR_APPID"}  # fmt: skip
    if auth in expected_by_auth:
        assert code == expected_by_auth[auth]


@FUZZ
@given(
    path=st.sampled_from(sorted(PARAMS)),
    body=st.binary(max_size=300),
    content_type=st.sampled_from(["application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                                  "multipart/form-data", "application/json", "text/plain; charset=GBK"]),
)  # fmt: skip
def test_any_raw_body_to_a_signed_endpoint_gets_a_documented_code(
    live: LiveMock, wire: Wire, path: str, body: bytes, content_type: str
) -> None:
    # The signature in the query is valid, so the body's bytes travel all the way to the fields.
    query = urlencode(signature("valid"))
    answer = wire.request("POST", f"{path}?{query}", body, {"Content-Type": content_type})
    code_of(path, answer)
    assert live.errors.lines() == []
