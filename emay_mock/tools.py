"""Offline helpers behind `emay-mock encrypt | decrypt | sign`: the wire, by hand."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime

from emay_mock.protocol import envelope, sign, times
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.times import BEIJING, COMPACT_FORMAT

GZIP_MAGIC = b"\x1f\x8b"
_HEX = re.compile(rb"^[0-9a-fA-F\s]+$")
_B64 = re.compile(rb"^[A-Za-z0-9+/=\s_-]+$")


class ToolError(ValueError):
    """A mistake in what the command was given, phrased for the person who typed it."""


def codec(charset: str) -> str:
    """The Python codec for `--charset`, or a ToolError naming the flag."""
    try:
        return envelope.resolve_charset(charset)
    except EmayError:
        raise ToolError(
            f"--charset {charset!r} is not a charset Python knows (UTF-8, GBK, GB2312, GB18030, ...)"
        ) from None


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
    try:
        text = plain.decode(codec(charset))
    except UnicodeDecodeError as exc:
        raise ToolError(_not_in(plain, charset, exc)) from None
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    except ValueError:
        return text


def _not_in(plain: bytes, charset: str, exc: UnicodeDecodeError) -> str:
    why = f"the decrypted body is not {charset} at byte {exc.start}"
    if codec(charset) != "utf-8":
        return f"{why}; is --charset right?"
    try:
        plain.decode("gb18030")
    except UnicodeDecodeError:
        return f"{why}; give its charset with --charset"
    return f"{why}; it does decode as GB18030: try --charset GBK (or GB18030)"


def encrypt(text: str, key: str, *, gzip: bool, charset: str, is_text: bool = False) -> bytes:
    """JSON text (refused if it is not JSON, unless `is_text`) as a secure-family body."""
    if not is_text:
        try:
            json.loads(text)
        except ValueError as exc:
            raise ToolError(
                f"the input is not JSON ({exc}); a secure body is JSON: "
                "fix it, or give --text to encrypt it as it is"
            ) from None
    try:
        data = text.encode(codec(charset))
    except UnicodeEncodeError as exc:
        raise ToolError(f"{exc.object[exc.start]!r} cannot be written in --charset {charset}") from None
    if gzip:
        data = envelope.gzip_bytes(data)
    return envelope.aes_encrypt(envelope.key_bytes(key), data)


def sign_lines(app_id: str, secret_key: str, timestamp: str | None) -> list[str]:
    if timestamp is not None:
        try:
            times.parse(timestamp, COMPACT_FORMAT)
        except ValueError:
            raise ToolError(
                f"--timestamp {timestamp!r} is not a time as the simple family writes it: "
                "yyyyMMddHHmmss, Beijing time (e.g. 20261125103000); leave it out for now"
            ) from None
    stamp = timestamp or datetime.now(BEIJING).strftime(COMPACT_FORMAT)
    signature = sign.make_sign(app_id, secret_key, stamp)
    return [
        f"timestamp: {stamp}",
        f"canonical: {sign.canonical(app_id, secret_key, stamp)}   (appId + secretKey + timestamp)",
        f"sign:      {signature}   (md5, lower-case hex)",
        f"query:     appId={app_id}&timestamp={stamp}&sign={signature}",
    ]
