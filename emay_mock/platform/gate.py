"""The gate every request passes (docs/protocol.md#check-order): the account, its allowed
addresses and rate, then the validity window and the replay guard."""

from __future__ import annotations

from typing import Any

from emay_mock.delivery.clock import Clock
from emay_mock.platform.accounts import Account, Accounts
from emay_mock.platform.replay import ReplayGuard
from emay_mock.protocol import diagnose
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.fields import Fields, fits_long
from emay_mock.protocol.notes import Deviation, Notes
from emay_mock.protocol.times import format_long
from emay_mock.settings import Settings

_LONG = 2**63  # a Java long's bound (protocol.fields.fits_long), written out for every request


class Gate:
    def __init__(self, accounts: Accounts, clock: Clock, settings: Settings, replay: ReplayGuard) -> None:
        self.accounts = accounts
        self.clock = clock
        self.settings = settings
        self.tz = settings.rules.tz
        self.replay = replay
        self.replay_protection = settings.replay_protection
        self.tolerance_ms = settings.future_tolerance_s * 1000

    def admit(self, app_id: str | None, remote: str | None, notes: Notes) -> Account:
        """appId known -> client address allowed -> rate within the limit."""
        account = self.accounts.get(app_id or "")
        if account is None:
            account = self.accounts.require(app_id)  # says why there is none
        notes.strict = account.spec.strict
        if account.networks and not account.allows(remote):
            raise EmayError(
                ResultCode.ERROR_CLIENT_IP,
                f"client address {remote} is not in allowedIps",
                expected=list(account.spec.allowed_ips),
                got=remote,
            )
        if account.limiter is not None and not account.limiter.admit():
            raise EmayError(
                ResultCode.ERROR_OVER_SPEED,
                f"more than {account.spec.max_requests_per_second} requests in the last second",
                limit=account.spec.max_requests_per_second,
            )
        return account

    def check_window(
        self,
        account: Account,
        notes: Notes,
        payload: dict[str, Any],
        body: bytes,
        endpoint: str,
        now: int,
        *,
        submits: bool,
    ) -> None:
        """requestTime + requestValidPeriod*1000 > now (the request's arrival, on the wall clock);
        a submission's body not seen inside it.

        Replays are refused only where a request submits something (sends, templates): the
        document's purpose is "防止同一个请求重复提交", and a poll repeated within the same
        millisecond by a fast client is legitimate.
        """
        request_time, period = payload.get("requestTime"), payload.get("requestValidPeriod")
        if request_time.__class__ is not int or period.__class__ is not int:  # read leniently, and noted
            fields = Fields(payload, notes)
            request_time = fields.integer("requestTime", float_note=Deviation.REQUEST_TIME_FLOAT)
            period = fields.integer("requestValidPeriod")
        if request_time is None:
            raise EmayError(ResultCode.ERROR_PARAMS, "requestTime is missing", field="requestTime")
        if period is None:
            raise EmayError(
                ResultCode.ERROR_PARAMS, "requestValidPeriod is missing", field="requestValidPeriod"
            )
        # Beyond a long no Java client could have sent it, and the skew arithmetic below would
        # overflow a float.
        if not (-_LONG <= request_time < _LONG and -_LONG <= period < _LONG):
            name = "requestTime" if not fits_long(request_time) else "requestValidPeriod"
            raise EmayError(ResultCode.ERROR_PARAMS, f"{name} does not fit a long (64 bits)", field=name)
        tolerance = self.tolerance_ms
        expires = request_time + period * 1000
        if expires <= now:
            raise EmayError(
                ResultCode.ERROR_REQUEST_NO_VALID,
                f"request expired: requestTime {request_time} + requestValidPeriod {period} s "
                f"ended {(now - expires) / 1000:.3f} s ago (platform time "
                f"{format_long(now, self.tz)})",
                field="requestTime",
                diagnosis=diagnose.epoch_time(request_time - now, tolerance, self.tz, now),
                skewSeconds=round((request_time - now) / 1000, 3),
            )
        ahead = request_time - now
        if ahead > tolerance:
            notes.deviate(
                Deviation.REQUEST_TIME_FUTURE,
                f"requestTime {request_time} is {ahead / 1000:.0f} s in the future",
                field_name="requestTime",
                diagnosis=diagnose.future_request_time(request_time, ahead, tolerance, self.tz, now),
            )
        # What the replay guard remembers of a body: Python's own 64-bit hash, keyed at random per
        # process (the guard is never stored; docs/DECISIONS.md#replay-digest). The endpoint is
        # part of it: `{requestTime, requestValidPeriod}` alone is the whole body of both
        # getBalance and getReport, and may repeat within a millisecond.
        if (
            submits
            and self.replay_protection
            and self.replay.check_and_remember(account.app_id, hash((endpoint, body)), expires, now)
        ):
            raise EmayError(
                ResultCode.ERROR_REQUEST_NO_VALID,
                "replay: this exact ciphertext was already received inside its validity window",
                rule="replay",
            )
