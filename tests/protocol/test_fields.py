"""Lenient reading: absent, null and "" alike; numbers as strings; every liberty noted."""

from __future__ import annotations

import pytest

from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.fields import Fields
from emay_mock.protocol.notes import Deviation, Notes, Observation


def test_absent_null_and_empty_are_the_same_for_optional_text() -> None:
    notes = Notes(strict=True)  # both are official clients' habits: never refused
    f = Fields({"a": None, "b": ""}, notes)
    assert f.text("a") is None and f.text("b") is None and f.text("c") is None
    assert notes.kinds() == [Observation.NULL_FIELD.value, Observation.EMPTY_OPTIONAL.value]


def test_numbers_as_strings_and_floats_are_accepted_and_noted() -> None:
    notes = Notes()
    f = Fields({"requestValidPeriod": "30", "requestTime": 1.7e12, "number": " 12 "}, notes)
    assert f.integer("requestValidPeriod") == 30
    assert f.integer("requestTime", float_note=Deviation.REQUEST_TIME_FLOAT) == 1_700_000_000_000
    assert f.integer("number") == 12
    assert notes.kinds() == [
        Observation.ENVELOPE_NUMBER_AS_STRING.value,
        Deviation.REQUEST_TIME_FLOAT.value,
        Deviation.NUMBER_AS_STRING.value,
    ]


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("1796054538282", Observation.ENVELOPE_NUMBER_AS_STRING.value),  # what Long.toString writes
        (" 1796054538282", Deviation.NUMBER_AS_STRING.value),
        ("1796054538282.0", Deviation.REQUEST_TIME_FLOAT.value),
        ("1.796054538282e12", Deviation.REQUEST_TIME_FLOAT.value),
    ],
)
def test_only_plain_digits_in_the_envelope_are_an_official_habit(value: str, kind: str) -> None:
    notes = Notes()
    assert (
        Fields({"requestTime": value}, notes).integer("requestTime", float_note=Deviation.REQUEST_TIME_FLOAT)
        == 1_796_054_538_282
    )
    assert notes.kinds() == [kind]


def test_digits_as_a_string_inside_an_item_are_not_the_envelope() -> None:
    notes = Notes()
    assert Fields({"requestTime": "5"}, notes, where="smses[0]").integer("requestTime") == 5
    assert notes.kinds() == [Deviation.NUMBER_AS_STRING.value]


def test_an_empty_envelope_field_is_missing_not_an_empty_optional() -> None:
    notes = Notes()
    f = Fields({"requestValidPeriod": "", "number": ""}, notes)
    assert f.integer("requestValidPeriod") is None and f.integer("number") is None
    assert notes.kinds() == [Observation.EMPTY_OPTIONAL.value]


@pytest.mark.parametrize("value", [True, "abc", [], {}, float("inf"), "1e999"])
def test_non_numbers_are_error_params_naming_the_field(value: object) -> None:
    with pytest.raises(EmayError) as err:
        Fields({"number": value}, Notes(), where="x").integer("number")
    assert err.value.code is ResultCode.ERROR_PARAMS
    assert err.value.field == "x.number"


def test_unknown_fields_are_noted() -> None:
    notes = Notes()
    Fields({"mobile": "1", "mobiel": "2"}, notes, known=("mobile",))
    assert notes.kinds() == [Deviation.UNKNOWN_FIELD.value]
    assert "mobiel" in notes.items[0].message


def test_an_unknown_field_sent_as_null_is_only_observed() -> None:
    notes = Notes(strict=True)  # the official SDK serialises fields the endpoint does not define
    Fields({"mobile": "1", "timerTime": None}, notes, known=("mobile",))
    assert notes.kinds() == [Observation.NULL_FIELD.value]
    assert "timerTime" in notes.items[0].message


def test_objects_where_text_is_expected_are_error_params() -> None:
    with pytest.raises(EmayError) as err:
        Fields({"content": {"a": 1}}, Notes()).text("content")
    assert err.value.code is ResultCode.ERROR_PARAMS
