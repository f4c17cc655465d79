"""Secure request bodies made before a run, as a real client would make them, each different.

wrk cannot do AES, so the load generator sends bodies encrypted in advance. Each body
carries a different mobile, so no two are the same ciphertext and replay protection stays
on; requestTime is the moment of generation and requestValidPeriod covers the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from emay_mock.protocol import envelope

APP_ID = "EUCP-EMY-SMS1-BENCH0"
SECRET_KEY = "0123456789ABCDEF"
KEY = envelope.key_bytes(SECRET_KEY)
CONTENT = "【压测】您的验证码是 123456，5 分钟内有效。"
VALID_PERIOD_S = 600  # the run is over long before: no request expires on the way
FIRST_MOBILE = 13_800_000_000  # the built-in magic numbers end in 5550 00NN: never reached here

Payload = Callable[[int], dict[str, Any]]


def secure_headers(app_id: str = APP_ID, *, gzip: bool = True) -> dict[str, str]:
    """What the official SDK sends: the appId, the charset, gzip on (the v1 demo's default: off)."""
    headers = {"appId": app_id, "encode": "UTF-8", "Content-Type": "application/octet-stream"}
    if gzip:
        headers["gzip"] = "on"
    return headers


def single(i: int) -> dict[str, Any]:
    return {"mobile": str(FIRST_MOBILE + i), "content": CONTENT, "customSmsId": f"bench-{i}"}


def batch(size: int) -> Payload:
    def payload(i: int) -> dict[str, Any]:
        first = FIRST_MOBILE + i * size
        smses = [{"mobile": str(first + k), "customSmsId": f"bench-{first + k}"} for k in range(size)]
        return {"smses": smses, "content": CONTENT}

    return payload


def pull(number: int) -> Payload:
    return lambda _i: {"number": number}


def encrypt(payload: dict[str, Any], request_time: int, key: bytes = KEY, *, gzip: bool = True) -> bytes:
    body = {**payload, "requestTime": request_time, "requestValidPeriod": VALID_PERIOD_S}
    return envelope.encode_request(body, key, gzip_on=gzip)


def generate(
    payload: Payload, count: int, start: int = 0, key: bytes = KEY, *, gzip: bool = True
) -> Iterator[bytes]:
    now = int(time.time() * 1000)
    for i in range(start, start + count):
        yield encrypt(payload(i), now, key, gzip=gzip)


def write(path: Path, bodies: Iterator[bytes]) -> int:
    """The file replay.lua reads: "<length>\\n<bytes>" for each body."""
    count = 0
    with path.open("wb") as out:
        for body in bodies:
            out.write(b"%d\n" % len(body))
            out.write(body)
            count += 1
    return count
