"""What the configuration decides, with the spec's defaults: the server's settings and each
account's. `config` fills them from YAML; every layer may read them (they import nothing
but the protocol's rules)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from emay_mock.protocol.rules import Rules

DEFAULT_RETRY_SCHEDULE = (10.0, 60.0, 600.0)
# How an account's new templates are reviewed: after `templateReviewSeconds`, or by hand
# (the UI or POST /_mock/templates/{templateId}/review), as the real platform's people do.
AUTO_REVIEW, MANUAL_REVIEW = "auto", "manual"


@dataclass(frozen=True)
class Settings:
    rules: Rules = field(default_factory=Rules)
    report_delay_ms: int = 1000
    timestamp_skew_s: int = 600
    replay_protection: bool = True
    replay_cache_size: int = 100_000
    future_tolerance_s: int = 60
    max_body_bytes: int = 2 * 1024 * 1024
    max_inflated_bytes: int = 4 * 1024 * 1024
    template_review_s: float = 0.0
    push_batch_window_s: float = 0.2
    push_batch_max: int = 500
    push_concurrency_per_account: int = 8
    public_url: str | None = None
    journal_size: int = 10_000
    max_messages: int = 1_000_000  # retention: beyond it, the oldest final messages go
    max_age_hours: float | None = None
    default_scenarios: bool = True
    clock_speed: float = 1.0


@dataclass(frozen=True)
class PushSettings:
    """Where and how an account's reports and MO are pushed (§2.3; docs/protocol.md#push-success)."""

    report_url: str | None = None
    mo_url: str | None = None
    mode: str = "encrypted"  # encrypted | plain
    retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    timeout_s: float = 5.0

    def url_for(self, kind: str) -> str | None:
        return self.report_url if kind == "report" else self.mo_url


PASSTHROUGH, SHADOW = "passthrough", "shadow"


@dataclass(frozen=True)
class UpstreamSettings:
    """Where an account's Emay requests are forwarded (docs/upstream.md): `passthrough`
    answers with the upstream's answer; `shadow` does too, and compares it with the mock's."""

    url: str
    mode: str = PASSTHROUGH  # passthrough | shadow
    timeout_s: float = 10.0

    @property
    def shown_url(self) -> str:
        """The URL as the banner, logs and views show it: never a user or password in it."""
        return shown_url(self.url)


def shown_url(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


@dataclass(frozen=True)
class AccountSpec:
    app_id: str
    secret_key: str
    balance: int = 100_000
    allowed_ips: tuple[str, ...] = ()
    max_requests_per_second: int = 0
    retrieve_report: bool = True
    voice: bool = True
    push: PushSettings | None = None
    strict: bool = False
    template_review: str = AUTO_REVIEW
    upstream: UpstreamSettings | None = None  # never on unless configured: it sends real messages
    replay: str | None = None  # a recording (`serve --record`) the account answers from
