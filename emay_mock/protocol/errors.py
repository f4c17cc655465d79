"""The one error type: an Emay result code plus the reason an operator can read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emay_mock.protocol.codes import ResultCode


@dataclass(frozen=True)
class Diagnosis:
    """The likely cause of a refusal or an oddity, in words a client author can act on."""

    kind: str
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "text": self.text}


class EmayError(Exception):
    """A refusal. `code` goes on the wire; `reason`, `detail` and `diagnosis` go to the journal only."""

    def __init__(
        self,
        code: ResultCode,
        reason: str,
        *,
        field: str | None = None,
        diagnosis: Diagnosis | None = None,
        **detail: Any,
    ) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.field = field
        self.diagnosis = diagnosis
        self.detail = detail

    def explain(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": str(self.code), "reason": with_diagnosis(self.reason, self.diagnosis)}
        if self.field is not None:
            out["field"] = self.field
        if self.detail:
            out["detail"] = self.detail
        if self.diagnosis is not None:
            out["diagnosis"] = self.diagnosis.as_dict()
        return out


def with_diagnosis(text: str, diagnosis: Diagnosis | None) -> str:
    """A reason or note as read by a person: the diagnosis, when there is one, is its last words."""
    return text if diagnosis is None else f"{text}; diagnosis: {diagnosis.text}"
