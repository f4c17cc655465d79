"""Hostile bodies: bombs, oversized and malformed payloads, absurd numbers. Each gets a
documented Emay code on HTTP 200, costs the server only a bounded amount of memory, and the
server goes on serving the next client.
"""

from __future__ import annotations

import gzip
import json
import socket
import tracemalloc
import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from emay_mock.protocol import envelope
from emay_mock.settings import Settings
from tests.conftest import APP_ID, KEY, account
from tests.reliability.conftest import assert_still_serving
from tests.reliability.documented import SECURE_CODES, SIMPLE_CODES, VOICE_CODES
from tests.reliability.live import LiveMock, Wire
from tests.wire.secure_helpers import window
from tests.wire.simple_helpers import signed

MB = 1024 * 1024
SETTINGS = Settings()  # the defaults users get: maxBodyBytes 2 MiB, maxInflatedBytes 4 MiB


LIVE_ACCOUNTS = [account(balance=10**9)]
LIVE_SETTINGS = SETTINGS


@pytest.fixture
def checked_wire(live: LiveMock) -> Iterator[Wire]:
    """A connection of the test's own, which a hostile request may spoil; after the test,
    whatever the request did, a new client is served and nothing was logged as a crash."""
    connection = live.wire()
    yield connection
    connection.close()
    assert_still_serving(live)


def secure(wire: Wire, endpoint: str, body: bytes, *, gzip_on: bool = False, charset: str = "UTF-8") -> str:
    headers = {"appId": APP_ID, "encode": charset, **({"gzip": "on"} if gzip_on else {})}
    answer = wire.request("POST", f"/inter/{endpoint}", body, headers)
    assert answer.status == 200, answer.body[:200]
    code = answer.header("result")
    assert code in SECURE_CODES
    return str(code)


def enveloped(plain: bytes, *, gzip_on: bool) -> bytes:
    return envelope.aes_encrypt(KEY, gzip.compress(plain) if gzip_on else plain)


def simple(wire: Wire, path: str, body: bytes) -> str:
    answer = wire.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status == 200, answer.body[:200]
    if path.startswith("/report/"):
        return answer.body.decode()
    code = str(json.loads(answer.body)["code"])
    assert code in (VOICE_CODES if path.startswith("/voice/") else SIMPLE_CODES)
    return code


def zeros_gzip(size: int) -> bytes:
    """`size` zero bytes, gzip-compressed in pieces: a bomb of about size/1000 bytes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    piece = bytes(MB)
    return b"".join(packer.compress(piece) for _ in range(size // MB)) + packer.flush()


# -- gzip bombs ---------------------------------------------------------------------------


def test_a_gzip_bomb_in_a_valid_envelope_is_refused(checked_wire: Wire) -> None:
    payload = json.dumps(window()).encode()[:-1] + b"," + b'"pad":"' + b"0" * (10 * MB) + b'"}'
    bomb = gzip.compress(payload, 9)
    assert len(bomb) < 20_000  # 10 MB of JSON in a few KB
    assert secure(checked_wire, "getBalance", envelope.aes_encrypt(KEY, bomb), gzip_on=True) == "ERROR_PARAMS"


def test_a_gzip_bomb_is_inflated_only_up_to_max_inflated_bytes(live: LiveMock, checked_wire: Wire) -> None:
    """A 256 MiB bomb: inflating it all would allocate 256 MiB; the server allocates about the limit."""
    bomb = envelope.aes_encrypt(KEY, zeros_gzip(256 * MB))
    assert len(bomb) < SETTINGS.max_body_bytes
    tracemalloc.start()
    try:
        code = secure(checked_wire, "sendSingleSMS", bomb, gzip_on=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == "ERROR_PARAMS"
    (entry,) = [e for e in live.run(_journal(live, 1))]
    assert entry["reason"]["detail"]["rule"] == "max-inflated-bytes"
    # The body (~256 KB), its decryption, and the inflated output: zlib fills blocks of up to
    # maxInflatedBytes and joins them, so twice the limit at most; 256 MiB if it inflated it all.
    assert peak < 3 * SETTINGS.max_inflated_bytes, peak


async def _journal(live: LiveMock, limit: int) -> list[dict[str, Any]]:
    assert live.mock is not None
    return [e.as_dict() for e in live.mock.journal.query(limit=limit)]


def test_a_raw_gzip_bomb_without_the_aes_layer_is_an_encryption_error(checked_wire: Wire) -> None:
    bomb = zeros_gzip(10 * MB)
    body = bomb + b"\0" * (-len(bomb) % 16)  # even a multiple of 16 fails the PKCS5 padding
    assert secure(checked_wire, "sendSingleSMS", bomb, gzip_on=True) == "ERROR_ENCRYPTION"
    assert secure(checked_wire, "sendSingleSMS", body, gzip_on=True) == "ERROR_ENCRYPTION"


@pytest.mark.parametrize("path", ["/inter/getBalance", "/simpleinter/sendSMS", "/report/retrieveReport"])
def test_an_http_content_encoding_gzip_bomb_is_refused(live: LiveMock, checked_wire: Wire, path: str) -> None:
    """`Content-Encoding: gzip` is inflated by the HTTP layer chunk by chunk; the body cap still
    holds. Measured: the peak is ~18 MiB whether the bomb inflates to 16 MiB or to 1 GiB."""
    bomb = zeros_gzip(64 * MB)
    query = "" if path.startswith("/inter/") else "?" + urlencode(signed())
    tracemalloc.start()
    try:
        answer = checked_wire.request(
            "POST", path + query, bomb, {"appId": APP_ID, "Content-Encoding": "gzip",
                                         "Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.status == 200, answer.body[:200]
    code = answer.header("result") if path.startswith("/inter/") else answer.body.decode()
    assert code is not None and "ERROR_PARAMS" in code
    assert peak < 32 * MB, peak


@pytest.mark.parametrize("path", ["/inter/getBalance", "/simpleinter/getBalance"])
def test_after_refusing_a_content_encoding_bomb_the_rest_is_not_drained(live: LiveMock, path: str) -> None:
    """aiohttp would drain (so inflate) an unread body for up to 10 s after answering; a refused
    encoded body closes the connection right after the answer instead. The client here declares
    a megabyte more than it sends: a server that drained would wait for it."""
    part = zeros_gzip(8 * MB)
    query = "" if path.startswith("/inter/") else "?" + urlencode(signed())
    head = (
        f"POST {path}{query} HTTP/1.1\r\nHost: mock\r\nappId: {APP_ID}\r\nContent-Encoding: gzip\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(part) + MB}\r\n\r\n"
    )
    wire = live.wire()
    with socket.create_connection((wire.host, wire.port), timeout=5) as sock:
        sock.sendall(head.encode() + part)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass  # closed with data unread: a reset is how TCP says it
        except TimeoutError:
            pytest.fail(f"the connection was kept open to drain the body; got {received[:120]!r}")
    assert received.startswith(b"HTTP/1.1 200 ") and b"Connection: close" in received
    assert b"ERROR_PARAMS" in received


# -- size, encoding ------------------------------------------------------------------------


def test_a_body_over_the_size_cap_is_refused(checked_wire: Wire) -> None:
    big = bytes(SETTINGS.max_body_bytes + 16)
    assert secure(checked_wire, "sendSingleSMS", big) == "ERROR_PARAMS"
    form = b"content=" + b"x" * SETTINGS.max_body_bytes
    assert simple(checked_wire, "/simpleinter/sendSMS?" + urlencode(signed()), form) == "ERROR_PARAMS"
    assert simple(checked_wire, "/report/retrieveReport?" + urlencode(signed()), form) == "ERROR_PARAMS"


@pytest.mark.parametrize(
    ("charset", "plain"),
    [
        ("UTF-8", b'{"requestTime":1,"content":"\xff\xfe"}'),
        ("UTF-8", b'{"content":"\xed\xa0\x80"}'),  # an encoded surrogate: not UTF-8
        ("GBK", b'{"content":"\x81\x20"}'),  # a GBK lead byte without its trail byte
        ("GBK", b'{"content":"\xff"}'),
    ],
)
@pytest.mark.parametrize("gzip_on", [False, True])
def test_invalid_bytes_for_the_encode_charset_are_error_params(
    checked_wire: Wire, charset: str, plain: bytes, gzip_on: bool
) -> None:
    assert secure(checked_wire, "sendSingleSMS", enveloped(plain, gzip_on=gzip_on), gzip_on=gzip_on,
                  charset=charset) == "ERROR_PARAMS"  # fmt: skip


def test_invalid_utf8_and_gbk_in_a_simple_form_become_replacement_characters(
    live: LiveMock, checked_wire: Wire
) -> None:
    """The decision: the simple family decodes UTF-8 leniently, so the message is accepted."""
    params = urlencode(signed(mobiles="13800000077")).encode()
    for content in (b"\xff\xfe", "验证码".encode("gbk")):
        body = params + b"&content=" + content.replace(b"%", b"%25")
        assert simple(checked_wire, "/simpleinter/sendSMS", body) == "SUCCESS"
    # a percent-escaped invalid sequence is the same case as raw bytes
    assert simple(checked_wire, "/simpleinter/sendSMS", params + b"&content=%FF%FE") == "SUCCESS"
    stored = live.run(_messages(live, "13800000077"))
    assert len(stored) == 3 and all("\ufffd" in m["content"] for m in stored)


async def _messages(live: LiveMock, mobile: str) -> list[dict[str, Any]]:
    assert live.mock is not None
    from emay_mock.store.messages import MessageFilter
    from emay_mock.web.views import Views

    found = live.mock.platform.messages.find(MessageFilter(mobile=mobile), 100)
    return [Views(live.mock.platform.tz).message(m) for m in found]


# -- huge and deep JSON --------------------------------------------------------------------


def _million(item: bytes) -> bytes:
    return b"[" + b",".join([item] * 1_000_000) + b"]"


@pytest.mark.parametrize(
    ("endpoint", "plain", "expected"),
    [
        ("sendSingleSMS", _million(b"0"), "ERROR_PARAMS"),  # a top-level array, not an object
        ("sendBatchOnlySMS", None, "ERROR_MOBILE_NUMBER"),
        ("sendBatchSMS", None, "ERROR_MOBILE_NUMBER"),
    ],
)
def test_a_json_array_of_a_million_items_is_refused(
    checked_wire: Wire, endpoint: str, plain: bytes | None, expected: str
) -> None:
    if plain is None:
        field, item = ("mobiles", b'"1"') if endpoint == "sendBatchOnlySMS" else ("smses", b"{}")
        head = json.dumps({**window(), "content": "x"}).encode()[:-1]
        plain = head + b',"' + field.encode() + b'":' + _million(item) + b"}"
    assert len(plain) > 1_000_000
    assert secure(checked_wire, endpoint, enveloped(plain, gzip_on=True), gzip_on=True) == expected


def test_a_million_comma_separated_mobiles_in_the_simple_family_are_refused(checked_wire: Wire) -> None:
    body = urlencode(signed(content="x")).encode() + b"&mobiles=" + b"1," * 1_000_000
    assert len(body) < SETTINGS.max_body_bytes
    assert simple(checked_wire, "/simpleinter/sendSMS", body) == "ERROR_MOBILE_NUMBER"


@pytest.mark.parametrize("depth", [900, 5_000, 100_000])
@pytest.mark.parametrize("where", ["top", "field", "variables"])
def test_deeply_nested_json_is_error_params_not_a_recursion_crash(
    checked_wire: Wire, depth: int, where: str
) -> None:
    nest = b"[" * depth + b"]" * depth
    head = json.dumps(window()).encode()[:-1]
    if where == "top":
        plain, endpoint = nest, "sendSingleSMS"
    elif where == "field":
        plain, endpoint = head + b',"mobile":' + nest + b',"content":"x"}', "sendSingleSMS"
    else:  # a template variable's value, an object the mock walks
        smses = b'[{"mobile":"13800000000","content":{"v":' + nest + b"}}]"
        plain, endpoint = head + b',"templateId":"1","smses":' + smses + b"}", "sendTemplateVariableSMS"
    code = secure(checked_wire, endpoint, enveloped(plain, gzip_on=True), gzip_on=True)
    assert code == "ERROR_PARAMS"


def test_deeply_nested_json_to_the_control_api_is_a_400(checked_wire: Wire) -> None:
    answer = checked_wire.request(
        "POST", "/_mock/accounts", b"[" * 100_000, {"Content-Type": "application/json"}
    )
    assert answer.status == 400


# -- numbers -------------------------------------------------------------------------------

HUGE = 10**400
NUMBERS: list[Any] = [-1, 0, 0.5, -0.5, 1e308, -1e308, HUGE, -HUGE, 2**63, 1.5e-300]


def _window_with(fields: dict[str, Any]) -> dict[str, Any]:
    return {**window(), **fields}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 24 else f"{text[:6]}...({len(text)} chars)"


@pytest.mark.parametrize("value", NUMBERS, ids=_short)
@pytest.mark.parametrize("name", ["requestTime", "requestValidPeriod"])
def test_absurd_numbers_in_the_validity_window_get_a_documented_code(
    checked_wire: Wire, name: str, value: Any
) -> None:
    payload = _window_with({name: value})
    code = secure(checked_wire, "getBalance", enveloped(json.dumps(payload).encode(), gzip_on=False))
    request_time, period = int(payload["requestTime"]), int(payload["requestValidPeriod"])
    if not -(2**63) <= int(value) < 2**63:  # the document types both as a Java long
        assert code == "ERROR_PARAMS"
    elif request_time + period * 1000 > window()["requestTime"]:
        assert code == "SUCCESS"
    else:
        assert code == "ERROR_REQUEST_NO_VALID"


@pytest.mark.parametrize("value", [*NUMBERS, "1e308", str(HUGE), "-5", "0.5", "1" * 5000], ids=_short)
@pytest.mark.parametrize("endpoint", ["getReport", "getMo", "getShortLink"])
def test_absurd_numbers_as_the_pull_number_get_a_documented_code(
    checked_wire: Wire, endpoint: str, value: Any
) -> None:
    code = secure(
        checked_wire, endpoint, enveloped(json.dumps(_window_with({"number": value})).encode(), gzip_on=False)
    )
    assert code in {"SUCCESS", "ERROR_PARAMS"}


@pytest.mark.parametrize("value", [*NUMBERS, 13800000000, 1.38e10], ids=_short)
@pytest.mark.parametrize("name", ["mobile", "customSmsId", "extendedCode", "content", "timerTime"])
def test_absurd_numbers_in_text_fields_get_a_documented_code(
    checked_wire: Wire, name: str, value: Any
) -> None:
    payload = _window_with({"mobile": "13800000000", "content": "x", name: value})
    code = secure(checked_wire, "sendSingleSMS", enveloped(json.dumps(payload).encode(), gzip_on=False))
    assert code in SECURE_CODES - {"ERROR_APPID", "ERROR_ENCRYPTION"}


@pytest.mark.parametrize("value", ["-1", "1e308", str(HUGE), "0.5", "1" * 5000, "inf", "nan"], ids=_short)
@pytest.mark.parametrize("path", ["/simpleinter/getReport", "/simpleinter/getMo", "/voice/getReport"])
def test_absurd_numbers_in_simple_parameters_get_a_documented_code(
    checked_wire: Wire, path: str, value: str
) -> None:
    assert simple(checked_wire, path, urlencode(signed(number=value)).encode()) in {"SUCCESS", "ERROR_PARAMS"}


# -- a 1 MB mobile -------------------------------------------------------------------------


def test_a_one_megabyte_mobile_is_a_mobile_error(checked_wire: Wire) -> None:
    mobile = "1" * MB
    payload = json.dumps(_window_with({"mobile": mobile, "content": "x"})).encode()
    assert (
        secure(checked_wire, "sendSingleSMS", enveloped(payload, gzip_on=True), gzip_on=True)
        == "ERROR_MOBILE_ERROR"
    )
    batch = json.dumps(_window_with({"mobiles": [mobile], "content": "x"})).encode()
    assert (
        secure(checked_wire, "sendBatchOnlySMS", enveloped(batch, gzip_on=True), gzip_on=True)
        == "ERROR_MOBILE_ERROR"
    )
    form = urlencode(signed(mobiles=mobile, content="x")).encode()
    assert simple(checked_wire, "/simpleinter/sendSMS", form) == "ERROR_MOBILE_ERROR"
    voice = urlencode(signed(mobile=mobile, content="1234")).encode()
    assert simple(checked_wire, "/voice/sendSMS", voice) == "ERROR_MOBILE_ERROR"
    personality = urlencode(signed()).encode() + b"&" + mobile.encode() + b"=x"
    assert simple(checked_wire, "/simpleinter/sendPersonalitySMS", personality) == "ERROR_MOBILE_ERROR"


# -- numbers in the control API --------------------------------------------------------------


def _control(wire: Wire, path: str, body: str) -> int:
    answer = wire.request("POST", path, body.encode(), {"Content-Type": "application/json"})
    return answer.status


@pytest.mark.parametrize("seconds", ["1" + "0" * 400, "-1" + "0" * 400, "1e400", "-1", "1e308"], ids=_short)
def test_absurd_clock_advances_are_a_400(checked_wire: Wire, seconds: str) -> None:
    assert _control(checked_wire, "/_mock/clock/advance", '{"seconds": ' + seconds + "}") == 400


ACCOUNT = '{"appId": "EUCP-EMY-SMS1-HUGE", "secretKey": "0123456789ABCDEF", %s}'
PUSH = '"push": {"reportUrl": "http://127.0.0.1:9/r", %s}'


@pytest.mark.parametrize("value", ["1" + "0" * 400, "1e308", "9223372036854775808"], ids=_short)
@pytest.mark.parametrize(
    "field",
    [
        '"balance": %s',
        '"maxRequestsPerSecond": %s',
        PUSH % '"timeoutSeconds": %s',
        PUSH % '"retrySchedule": [%s]',
    ],
)
def test_absurd_numbers_in_an_account_are_a_400(checked_wire: Wire, field: str, value: str) -> None:
    assert _control(checked_wire, "/_mock/accounts", ACCOUNT % (field % value)) == 400
