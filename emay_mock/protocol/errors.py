"""The one error type: an Emay result code plus the reason an operator can read."""

from __future__ import annotations

from typing import Any

from emay_mock.protocol.codes import ResultCode


class EmayError(Exception):
    """A refusal. `code` goes on the wire; `reason` and `detail` go to the journal only."""

    def __init__(
        self,
        code: ResultCode,
        reason: str,
        *,
        field: str | None = None,
        **detail: Any,
    ) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.field = field
        self.detail = detail

    def explain(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": str(self.code), "reason": self.reason}
        if self.field is not None:
            out["field"] = self.field
        if self.detail:
            out["detail"] = self.detail
        return out
