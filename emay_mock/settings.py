"""Server-wide settings with the spec's defaults; `config` fills them from YAML."""

from __future__ import annotations

from dataclasses import dataclass, field

from emay_mock.protocol.rules import Rules


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
    # Not a configuration key: the tests turn it off to compare the plain lane of
    # sendSingleSMS (web/secure.py) with the general path it must match.
    plain_lane: bool = True
