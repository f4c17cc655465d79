"""The simple family's authentication (§2.2): md5(appId + secretKey + timestamp)."""

from __future__ import annotations

import hashlib
from zoneinfo import ZoneInfo

from emay_mock.protocol import diagnose, times
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.notes import Deviation, Notes


def canonical(app_id: str, secret_key: str, timestamp: str) -> str:
    return f"{app_id}{secret_key}{timestamp}"


def make_sign(app_id: str, secret_key: str, timestamp: str) -> str:
    return hashlib.md5(canonical(app_id, secret_key, timestamp).encode("utf-8")).hexdigest()


def check_timestamp(timestamp: str | None, wall_now_ms: int, max_skew_s: int, tz: ZoneInfo) -> int:
    """The timestamp's distance from now in ms; ERROR_TIMESTAMP when malformed or too far."""
    if not timestamp:
        raise EmayError(ResultCode.ERROR_TIMESTAMP, "timestamp is missing", field="timestamp")
    try:
        stamp_ms = times.parse(timestamp, times.COMPACT_FORMAT, tz)
    except ValueError:
        raise EmayError(
            ResultCode.ERROR_TIMESTAMP,
            f"timestamp {timestamp!r} is not yyyyMMddHHmmss",
            field="timestamp",
            expected="14 digits, yyyyMMddHHmmss, " + str(tz),
        ) from None
    skew_ms = stamp_ms - wall_now_ms
    if abs(skew_ms) > max_skew_s * 1000:
        raise EmayError(
            ResultCode.ERROR_TIMESTAMP,
            f"timestamp {timestamp} is {skew_ms / 1000:+.0f} s from the platform clock "
            f"(now {times.format_compact(wall_now_ms, tz)} {tz}); allowed ±{max_skew_s} s",
            field="timestamp",
            diagnosis=diagnose.local_time(skew_ms, max_skew_s * 1000, tz, wall_now_ms),
            skewSeconds=round(skew_ms / 1000, 3),
        )
    return skew_ms


def check_sign(app_id: str, secret_key: str, timestamp: str, given: str | None, notes: Notes) -> None:
    expected = make_sign(app_id, secret_key, timestamp)
    if not given:
        raise EmayError(ResultCode.ERROR_SIGN, "sign is missing", field="sign")
    if given.lower() != expected:
        # The expected sign is safe to show: it is valid for this timestamp only.
        raise EmayError(
            ResultCode.ERROR_SIGN,
            f"sign {given!r} does not match md5(appId + secretKey + timestamp) = {expected}",
            field="sign",
            expected=expected,
            got=given,
            canonical=f"{app_id} + <secretKey> + {timestamp}",
        )
    if given != expected:
        notes.deviate(Deviation.SIGN_UPPERCASE, "sign sent in upper-case hex", field_name="sign")
