"""One request as the platform sees it, and what the platform did that the journal reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emay_mock.platform.accounts import Account
from emay_mock.protocol.notes import Notes
from emay_mock.scenarios.outcomes import Fault


@dataclass(slots=True)
class Context:
    """Who asks, through which endpoint; the rules that fired, the smsIds issued, the fault a
    scenario scripted (played before the work, or left to play with the answer)."""

    account: Account
    family: str  # secure | simple | voice | report
    endpoint: str
    notes: Notes
    # Where the mock is reached (for the short URLs it issues), asked only when one is.
    base_url: Callable[[], str] = str
    fired: list[dict[str, Any]] = field(default_factory=list)
    sms_id_first: int | None = None
    sms_id_count: int = 0
    fault: Fault | None = None
