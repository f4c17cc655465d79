"""Likely causes of the mistakes independent clients make, named where the refusal is made.

A reason says what is wrong ("timestamp is -28800 s from the platform clock"); a diagnosis
says why it probably is ("looks like UTC"). Each function here runs only once a request
has already failed, but for the template caution, which looks at a template send once it
is filled in: other requests that succeed pay nothing for them. None changes what the
client receives on the wire.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from emay_mock.protocol.errors import Diagnosis
from emay_mock.protocol.notes import Notes, Observation

_AES_KEY_SIZES = (16, 24, 32)
_BLOCK = 16
# .NET ticks (100 ns since year 1) are ~6e17; epoch ms today are ~1.7e12.
_TICKS_THRESHOLD = 10**16
_HEX = re.compile(rb"[0-9a-fA-F]+")
_BASE64 = re.compile(rb"[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_-]+={0,2}")
# A template used this soon after its creation was approved only because the mock reviews at once.
FRESH_TEMPLATE_MS = 60_000


class Cause(StrEnum):
    WRONG_TIME_ZONE = "wrong-time-zone"
    DOTNET_TICKS = "dotnet-ticks"
    CIPHERTEXT_AS_TEXT = "ciphertext-as-text"
    KEY_CUT_OR_PADDED = "key-cut-or-padded"
    VARIABLE_TEMPLATE = "variable-template-as-normal"
    TEMPLATE_NOT_REVIEWED = "template-not-reviewed-yet"


# -- clocks -------------------------------------------------------------------------------


def zone_name(tz: ZoneInfo) -> str:
    return "Beijing time (Asia/Shanghai)" if tz.key == "Asia/Shanghai" else f"{tz.key} time"


def _offset_ms(tz: ZoneInfo, at_ms: int) -> int:
    offset = datetime.fromtimestamp(at_ms / 1000, tz).utcoffset()
    return 0 if offset is None else int(offset.total_seconds() * 1000)


def _hours(ms: int) -> str:
    return f"{abs(ms) / 3_600_000:g} hours"


def local_time(skew_ms: int, tolerance_ms: int, tz: ZoneInfo, now_ms: int) -> Diagnosis | None:
    """A wall-clock time (timestamp, timerTime) off by exactly the zone's UTC offset, ± the tolerance.

    Behind by the offset: the client wrote the time in UTC. Ahead by it: the client added the
    offset to a time that already had it.
    """
    offset = _offset_ms(tz, now_ms)
    if offset == 0:
        return None
    if abs(skew_ms + offset) <= tolerance_ms:
        return Diagnosis(Cause.WRONG_TIME_ZONE, f"looks like UTC; the platform uses {zone_name(tz)}")
    if abs(skew_ms - offset) <= tolerance_ms:
        return Diagnosis(
            Cause.WRONG_TIME_ZONE,
            f"{_hours(offset)} ahead: the UTC offset looks added twice; the platform uses {zone_name(tz)}",
        )
    return None


def epoch_time(skew_ms: int, tolerance_ms: int, tz: ZoneInfo, now_ms: int) -> Diagnosis | None:
    """requestTime (epoch ms) off by exactly the zone's UTC offset: a wall-clock time taken in the
    wrong zone (Python's `datetime.utcnow().timestamp()` on a Beijing machine, for one)."""
    offset = _offset_ms(tz, now_ms)
    if offset == 0:
        return None
    epoch = "requestTime is epoch milliseconds (System.currentTimeMillis()), which no time zone changes"
    zone = zone_name(tz)
    if abs(skew_ms + offset) <= tolerance_ms:
        return Diagnosis(
            Cause.WRONG_TIME_ZONE,
            f"{_hours(offset)} behind: looks like a UTC wall-clock time read as {zone}; {epoch}",
        )
    if abs(skew_ms - offset) <= tolerance_ms:
        return Diagnosis(
            Cause.WRONG_TIME_ZONE,
            f"{_hours(offset)} ahead: looks like a wall-clock time in {zone} read as UTC; {epoch}",
        )
    return None


def future_request_time(
    request_time: int, skew_ms: int, tolerance_ms: int, tz: ZoneInfo, now_ms: int
) -> Diagnosis | None:
    if request_time > _TICKS_THRESHOLD:
        return Diagnosis(Cause.DOTNET_TICKS, "it looks like .NET ticks, not epoch ms")
    return epoch_time(skew_ms, tolerance_ms, tz, now_ms)


# -- the secure envelope ------------------------------------------------------------------

Opens = Callable[[bytes, bytes], bool]  # (key, ciphertext) -> decrypts into what the headers announce


def ciphertext(body: bytes, key: bytes, opens: Opens) -> Diagnosis | None:
    """Why a body would not decrypt: sent as text, or encrypted with a resized key."""
    text = body.strip()
    if text and text.isascii():
        for form, decode in (("hex", _from_hex), ("base64", _from_base64)):
            raw = decode(text)
            if raw and len(raw) % _BLOCK == 0:
                return Diagnosis(
                    Cause.CIPHERTEXT_AS_TEXT,
                    f"looks like {form} of the ciphertext ({len(raw)} bytes); send the raw bytes",
                )
    if body and len(body) % _BLOCK == 0:
        for resized, how in _resized_keys(key):
            if opens(resized, body):
                return Diagnosis(
                    Cause.KEY_CUT_OR_PADDED,
                    f"it decrypts with the secretKey {how} to {len(resized)} bytes: the client cut or "
                    f"padded the key; use the raw secretKey ({len(key)} bytes) as the AES key",
                )
    return None


def _from_hex(text: bytes) -> bytes | None:
    if len(text) % 2 or not _HEX.fullmatch(text):
        return None
    return bytes.fromhex(text.decode("ascii"))


def _from_base64(text: bytes) -> bytes | None:
    if not _BASE64.fullmatch(text):
        return None
    altchars = b"-_" if b"-" in text or b"_" in text else None
    try:
        return base64.b64decode(text + b"=" * (-len(text) % 4), altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        return None


def _resized_keys(key: bytes) -> list[tuple[bytes, str]]:
    """The other AES key sizes a client can make of the secretKey: cut short, or zero-padded."""
    out = []
    for size in _AES_KEY_SIZES:
        if size < len(key):
            out.append((key[:size], "cut"))
        elif size > len(key):
            out.append((key.ljust(size, b"\0"), "zero-padded"))
    return out


# -- templates ----------------------------------------------------------------------------

VARIABLE_TEMPLATE = Diagnosis(
    Cause.VARIABLE_TEMPLATE, "this template has variables; use sendTemplateVariableSMS"
)


TEMPLATE_NOT_REVIEWED = Diagnosis(
    Cause.TEMPLATE_NOT_REVIEWED,
    "the mock approved it at once (server.templateReviewSeconds); the real platform reviews templates by "
    "hand first, so the client must handle a pending template (queryTemplateSMS status 0, ERROR_PARAMS "
    "on a send)",
)


def fresh_template(
    notes: Notes | None, template_id: str, created_ms: int, reviewed_ms: int | None, now_ms: int
) -> None:
    """Note a send that uses a template which works only because the mock approved it at once."""
    if notes is None or reviewed_ms != created_ms or now_ms - created_ms >= FRESH_TEMPLATE_MS:
        return
    notes.observe(
        Observation.TEMPLATE_INSTANT_REVIEW,
        f"template {template_id} used {(now_ms - created_ms) / 1000:.0f} s after its creation",
        diagnosis=TEMPLATE_NOT_REVIEWED,
    )
