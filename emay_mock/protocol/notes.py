"""What a request did that the vendor document does not ask for: contract notes.

Every decoder writes here instead of silently accepting an oddity. The journal keeps
the notes of each request; the contract report counts them; a strict account turns
each deviation into ERROR_PARAMS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError


class Deviation(StrEnum):
    """Things real clients do that the vendor document does not allow. Strict mode refuses them."""

    REQUEST_TIME_FUTURE = "requestTime-in-future"
    REQUEST_TIME_FLOAT = "requestTime-as-float"
    NUMBER_AS_STRING = "number-as-string"
    STRING_AS_NUMBER = "string-as-number"
    EMPTY_STRING_FIELD = "empty-string-field"
    MOBILE_PREFIX = "mobile-country-prefix"
    SIGN_UPPERCASE = "sign-upper-case"
    UNKNOWN_FIELD = "unknown-field"
    EMPTY_MOBILE_ITEM = "empty-mobile-item"


class Observation(StrEnum):
    """Oddities the vendor document itself shows or permits: counted, never refused."""

    NULL_FIELD = "null-field"
    MISSING_ENCODE = "missing-encode-header"
    CONTENT_TYPE = "content-type"
    PARAM_IN_QUERY_AND_BODY = "param-in-query-and-body"
    EMPTY_PARAM = "empty-param"


@dataclass
class Note:
    kind: str
    message: str
    deviation: bool

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "deviation": self.deviation}


@dataclass
class Notes:
    strict: bool = False
    items: list[Note] = field(default_factory=list)

    def deviate(self, kind: Deviation, message: str, *, field_name: str | None = None) -> None:
        if self.strict:
            raise EmayError(
                ResultCode.ERROR_PARAMS,
                f"strict mode: {message}",
                field=field_name,
                rule=kind.value,
            )
        self.items.append(Note(kind.value, message, True))

    def observe(self, kind: Observation, message: str) -> None:
        self.items.append(Note(kind.value, message, False))

    def kinds(self) -> list[str]:
        return [n.kind for n in self.items]
