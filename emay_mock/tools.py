"""Offline helpers behind `emay-mock encrypt | decrypt | sign`: the wire, by hand."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime

from emay_mock.protocol import envelope, sign
from emay_mock.protocol.times import BEIJING, COMPACT_FORMAT

GZIP_MAGIC = b"\x1f\x8b"
_HEX = re.compile(rb"^[0-9a-fA-F\s]+$")
_B64 = re.compile(rb"^[A-Za-z0-9+/=\s_-]+$")


def read_body(data: bytes, form: str) -> bytes:
    """A captured body as bytes: `raw`, `base64`, `hex`, or `auto` (the first that yields AES blocks)."""
    if form == "raw":
        return data
    if form == "hex":
        return bytes.fromhex(data.decode("ascii"))
    if form == "base64":
        return base64.b64decode(
            b"".join(data.split()), altchars=b"-_" if b"-" in data or b"_" in data else None
        )
    stripped = data.strip()
    candidates = []
    if _HEX.match(stripped):
        candidates.append("hex")
    if _B64.match(stripped):
        candidates.append("base64")
    for candidate in candidates:
        try:
            decoded = read_body(stripped, candidate)
        except (ValueError, binascii.Error):
            continue
        if decoded and len(decoded) % 16 == 0:
            return decoded
    return data


def decrypt(body: bytes, key: str, *, gzip: bool | None, charset: str) -> str:
    """Ciphertext to text; gzip None means: inflate when the plaintext starts with gzip's magic."""
    plain = envelope.aes_decrypt(envelope.key_bytes(key), body)
    if gzip or (gzip is None and plain.startswith(GZIP_MAGIC)):
        plain = envelope.gunzip(plain, 64 * 1024 * 1024)
    text = plain.decode(envelope.resolve_charset(charset))
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    except ValueError:
        return text


def encrypt(text: str, key: str, *, gzip: bool, charset: str) -> bytes:
    data = text.encode(envelope.resolve_charset(charset))
    if gzip:
        data = envelope.gzip_bytes(data)
    return envelope.aes_encrypt(envelope.key_bytes(key), data)


def sign_lines(app_id: str, secret_key: str, timestamp: str | None) -> list[str]:
    stamp = timestamp or datetime.now(BEIJING).strftime(COMPACT_FORMAT)
    signature = sign.make_sign(app_id, secret_key, stamp)
    return [
        f"timestamp: {stamp}",
        f"canonical: {sign.canonical(app_id, secret_key, stamp)}   (appId + secretKey + timestamp)",
        f"sign:      {signature}   (md5, lower-case hex)",
        f"query:     appId={app_id}&timestamp={stamp}&sign={signature}",
    ]
