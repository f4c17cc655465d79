"""Reading request fields leniently, as real clients send them, noting every oddity.

Absent, JSON null and "" mean the same for optional fields; numbers may arrive as
strings and strings as numbers. Each such liberty is written to the request's notes:
as an observation when official clients do it (null for any field, "" for an optional
one, the envelope's numbers as strings), as a deviation otherwise.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.notes import Deviation, Notes, Observation

_MISSING = object()
# The validity window every secure request carries (§2.1). The official template demo builds
# it from a string map, so "requestTime":"1796054538282" is an official client's habit there.
ENVELOPE_FIELDS = ("requestTime", "requestValidPeriod")
_LONG = 2**63


def fits_long(value: int) -> bool:
    """Whether a number fits a Java long, as the envelope's requestTime and requestValidPeriod must."""
    return -_LONG <= value < _LONG


# What Java's Long.toString writes: the only string form of a number an official client sends.
_DECIMAL = re.compile(r"-?[0-9]+")


@lru_cache(maxsize=256)
def _known(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(names)


class Fields:
    """A view of one JSON object (or parameter map) of a request."""

    def __init__(
        self,
        data: Mapping[str, Any],
        notes: Notes,
        *,
        where: str = "",
        known: Iterable[str] | None = None,
        textual: bool = False,
    ) -> None:
        self.data = data
        self.notes = notes
        self.where = where
        # Form and query parameters are text by nature: a number arriving as a string, or an
        # optional parameter sent empty, is normal there and noted only as an observation.
        self.textual = textual
        if known is not None:
            allowed = known if isinstance(known, (set, frozenset)) else _known(tuple(known))
            if allowed.issuperset(data):
                return  # nearly always: nothing more to look at
            for name in sorted(k for k in data if k not in allowed):
                if data[name] is None:
                    # The official SDK serialises every field of its request classes, defined
                    # by the endpoint or not: null is the SDK's, a value would be the client's.
                    shown = f"{self.path(name)} sent as null (not a field of this endpoint)"
                    notes.observe(Observation.NULL_FIELD, shown)
                    continue
                notes.deviate(
                    Deviation.UNKNOWN_FIELD,
                    f"unknown field {self.path(name)!r} ignored",
                    field_name=self.path(name),
                )

    def path(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def raw(self, name: str) -> Any:
        return self.data.get(name, _MISSING)

    def present(self, name: str) -> bool:
        value = self.data.get(name)
        return value is not None and value != ""

    def text(self, name: str, *, optional: bool = True) -> str | None:
        """A string field; None when absent, null or "" (noting null and "" on optional fields)."""
        value = self.data.get(name, _MISSING)
        if value.__class__ is str and value:
            return value  # the common case, before any path is spelled out for a note
        if value is _MISSING:
            return None
        if self.textual and value == "":
            if optional:
                self.notes.observe(Observation.EMPTY_PARAM, f"{self.path(name)} sent empty")
            return None
        return text_value(value, self.notes, self.path(name), optional=optional)

    def integer(self, name: str, *, float_note: Deviation | None = None) -> int | None:
        """An integer field; numeric strings and integral floats are accepted and noted."""
        value = self.data.get(name, _MISSING)
        if value is _MISSING:
            return None
        if value is None:
            self.notes.observe(Observation.NULL_FIELD, f"{self.path(name)} sent as null")
            return None
        if isinstance(value, bool):
            raise self._not_number(name, value)
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self._not_number(name, value)
            if float_note is not None:
                self.notes.deviate(
                    float_note, f"{self.path(name)} sent as a float", field_name=self.path(name)
                )
            return int(value)
        if isinstance(value, str):
            envelope = not self.where and name in ENVELOPE_FIELDS
            if value == "":
                if self.textual:
                    self.notes.observe(Observation.EMPTY_PARAM, f"{self.path(name)} sent empty")
                elif not envelope:  # a window field is required: its refusal follows
                    self.notes.observe(Observation.EMPTY_OPTIONAL, f'{self.path(name)} sent as ""')
                return None
            number = _parse_number(value.strip())
            if number is None:
                raise self._not_number(name, value)
            if self.textual:
                return number
            shown = f"{self.path(name)} sent as the string {value[:40]!r}"
            if envelope and _DECIMAL.fullmatch(value):
                self.notes.observe(Observation.ENVELOPE_NUMBER_AS_STRING, shown)
            elif float_note is not None and not _DECIMAL.fullmatch(value.strip()):
                self.notes.deviate(float_note, f"{shown}, a float", field_name=self.path(name))
            else:
                self.notes.deviate(
                    Deviation.NUMBER_AS_STRING,
                    f"{shown}, the document says a number",
                    field_name=self.path(name),
                )
            return number
        raise self._not_number(name, value)

    def array(self, name: str) -> list[Any] | None:
        value = self.data.get(name, _MISSING)
        if value is _MISSING or value is None or value == "":
            return None
        if not isinstance(value, list):
            raise EmayError(
                ResultCode.ERROR_PARAMS,
                f"{self.path(name)} must be an array, got {_json_type(value)}",
                field=self.path(name),
            )
        return value

    def _not_number(self, name: str, value: Any) -> EmayError:
        shown = repr(value) if not isinstance(value, str) else repr(value[:40])
        return EmayError(
            ResultCode.ERROR_PARAMS,
            f"{self.path(name)} must be a number, got {_json_type(value)} {shown}",
            field=self.path(name),
        )


def text_of(data: Mapping[str, Any], name: str, notes: Notes, *, optional: bool = True) -> str | None:
    """`Fields.text` of a JSON object's top-level field, without a view of the object."""
    value = data.get(name, _MISSING)
    if value.__class__ is str and value:
        return value
    if value is _MISSING:
        return None
    return text_value(value, notes, name, optional=optional)


def text_value(value: Any, notes: Notes, path: str, *, optional: bool = True) -> str | None:
    """One string value as clients send it: null and "" mean absent; numbers become text."""
    if value is None:
        if optional:
            notes.observe(Observation.NULL_FIELD, f"{path} sent as null")
        return None
    if isinstance(value, str):
        if value == "":
            if optional:
                notes.observe(Observation.EMPTY_OPTIONAL, f'{path} sent as "" instead of being left out')
            return None
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        notes.deviate(
            Deviation.STRING_AS_NUMBER,
            f"{path} sent as a JSON number, the document says string",
            field_name=path,
        )
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    raise EmayError(ResultCode.ERROR_PARAMS, f"{path} must be a string, got {_json_type(value)}", field=path)


def object_at(items: list[Any], index: int, notes: Notes, where: str, known: Iterable[str]) -> Fields:
    item = items[index]
    path = f"{where}[{index}]"
    if not isinstance(item, dict):
        raise EmayError(
            ResultCode.ERROR_PARAMS, f"{path} must be an object, got {_json_type(item)}", field=path
        )
    return Fields(item, notes, where=path, known=known)


def _parse_number(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return int(value)


def _json_type(value: Any) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "boolean"
        case int() | float():
            return "number"
        case str():
            return "string"
        case list():
            return "array"
        case dict():
            return "object"
    return type(value).__name__
