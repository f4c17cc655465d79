"""What a request did that the vendor document does not ask for: contract notes.

Every decoder writes here instead of silently accepting an oddity. The journal keeps
the notes of each request; the contract report counts them; a strict account turns
each deviation into ERROR_PARAMS.

The rule that sorts them: a *deviation* is something the vendor document forbids and no
official Emay client does. What the official clients put on the wire (docs/contract.md
lists it) is an *observation*, as is what the document itself permits: counted and shown,
never refused, so a strict account accepts the vendor's own reference code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import Diagnosis, EmayError, with_diagnosis


class Deviation(StrEnum):
    """What the document forbids and no official client does. Strict mode refuses it."""

    REQUEST_TIME_FUTURE = "requestTime-in-future"
    REQUEST_TIME_FLOAT = "requestTime-as-float"
    NUMBER_AS_STRING = "number-as-string"
    STRING_AS_NUMBER = "string-as-number"
    MOBILE_PREFIX = "mobile-country-prefix"
    SIGN_UPPERCASE = "sign-upper-case"
    UNKNOWN_FIELD = "unknown-field"
    EMPTY_MOBILE_ITEM = "empty-mobile-item"


class Observation(StrEnum):
    """Oddities that are allowed: counted, never refused."""

    # What official clients send (docs/contract.md, "The official clients' wire habits").
    NULL_FIELD = "null-field"
    ENVELOPE_NUMBER_AS_STRING = "envelope-number-as-string"
    EMPTY_OPTIONAL = "empty-optional"
    # What the document itself shows, permits or leaves open.
    MISSING_ENCODE = "missing-encode-header"
    CONTENT_TYPE = "content-type"
    PARAM_IN_QUERY_AND_BODY = "param-in-query-and-body"
    EMPTY_PARAM = "empty-param"
    # Where the mock is kinder than the platform: works here, may not there.
    TEMPLATE_INSTANT_REVIEW = "template-instant-review"


OFFICIAL_HABITS = frozenset(
    {Observation.NULL_FIELD, Observation.ENVELOPE_NUMBER_AS_STRING, Observation.EMPTY_OPTIONAL}
)
CAUTIONS = frozenset({Observation.TEMPLATE_INSTANT_REVIEW})


@dataclass(slots=True)
class Note:
    kind: str
    message: str
    deviation: bool
    diagnosis: Diagnosis | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "message": self.message, "deviation": self.deviation}
        if self.diagnosis is not None:
            out["diagnosis"] = self.diagnosis.as_dict()
        return out


@dataclass(slots=True)
class Notes:
    strict: bool = False
    # A list from the first note on: most requests have none, and the journal keeps every
    # request's notes, so the empty ones share one tuple.
    items: Sequence[Note] = ()

    def deviate(
        self,
        kind: Deviation,
        message: str,
        *,
        field_name: str | None = None,
        diagnosis: Diagnosis | None = None,
    ) -> None:
        if self.strict:
            raise EmayError(
                ResultCode.ERROR_PARAMS,
                f"strict mode: {message}",
                field=field_name,
                diagnosis=diagnosis,
                rule=kind.value,
            )
        self._add(Note(kind.value, with_diagnosis(message, diagnosis), True, diagnosis))

    def observe(self, kind: Observation, message: str, *, diagnosis: Diagnosis | None = None) -> None:
        self._add(Note(kind.value, with_diagnosis(message, diagnosis), False, diagnosis))

    def _add(self, note: Note) -> None:
        if isinstance(self.items, list):
            self.items.append(note)
        else:
            self.items = [note]

    def kinds(self) -> list[str]:
        return [n.kind for n in self.items]
