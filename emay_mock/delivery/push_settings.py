"""Where and how an account's reports and MO are pushed (§2.3; docs/protocol.md#push-success)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_RETRY_SCHEDULE = (10.0, 60.0, 600.0)


@dataclass(frozen=True)
class PushSettings:
    report_url: str | None = None
    mo_url: str | None = None
    mode: str = "encrypted"  # encrypted | plain
    retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    timeout_s: float = 5.0

    def url_for(self, kind: str) -> str | None:
        return self.report_url if kind == "report" else self.mo_url
