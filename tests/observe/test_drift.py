"""The shadow comparison: answers compared by shape, never by the values that must differ."""

from __future__ import annotations

from emay_mock.observe.drift import ANY_TEXT, TEXT_OR_NULL, DriftBook, differences, shape, shown
from emay_mock.observe.journal import Entry


def test_shapes_name_the_type_and_the_format_of_text() -> None:
    values = (None, True, 3, 1.5, "", "13800000000", "-1", "2026-12-07 10:00:00", "DELIVRD")
    assert [shape(v) for v in values] == [
        "null", "boolean", "integer", "number", "empty text", "11-digit text", "1-digit text",
        "time text yyyy-MM-dd HH:mm:ss", "text",
    ]  # fmt: skip


def test_values_that_must_differ_do_not_drift() -> None:
    mine = {"mobile": "13800000000", "smsId": "20261207100000000001", "customSmsId": None}
    theirs = {"mobile": "13800000000", "smsId": "20261207235959123456", "customSmsId": None}
    assert differences(mine, theirs) == []
    assert differences({"balance": 99}, {"balance": 123456}) == []


def test_types_formats_and_fields_drift() -> None:
    mine = {"smsId": "20261207100000000001", "balance": 5, "mobile": "13800000000"}
    theirs = {"smsId": "1601384345304", "balance": "5", "extra": 1}
    assert sorted(differences(mine, theirs)) == [
        "answer.balance: mock integer, upstream 1-digit text",
        "answer.extra: upstream has it, mock does not",
        "answer.mobile: mock has it, upstream does not",
        "answer.smsId: mock 20-digit text, upstream 13-digit text",
    ]


def test_sends_compare_item_by_item_and_pulls_each_item_against_the_mocks() -> None:
    assert differences([{"a": "1"}], [{"a": "1"}, {"a": "2"}]) == ["answer: mock 1 items, upstream 2"]
    item = {"state": ANY_TEXT, "customSmsId": TEXT_OR_NULL, "receiveTime": "2026-12-07 10:00:00"}
    pulled = [
        {"state": "DELIVRD", "customSmsId": None, "receiveTime": "2026-12-07 10:00:01"},
        {"state": "FAIL_NEW", "customSmsId": 7, "receiveTime": "20261207100001"},
    ]
    assert differences([item], pulled, items=True) == [
        "answer[1].customSmsId: mock text or null, upstream integer",
        "answer[1].receiveTime: mock time text yyyy-MM-dd HH:mm:ss, upstream 14-digit text",
    ]
    assert differences([item], [], items=True) == []
    assert shown([item])[0]["state"] == "<any text>"


def test_the_report_counts_a_difference_seen_again() -> None:
    book = DriftBook()
    first, second = (Entry("secure", "sendSingleSMS", "POST", None, at, "APP") for at in (1, 2))
    first.id, second.id = 1, 2
    for entry in (first, second):
        book.add(
            entry, ["result: mock SUCCESS, upstream ERROR_X"], {"result": "SUCCESS"}, {"result": "ERROR_X"}
        )
    (drift,) = book.report("APP")
    assert (drift.count, drift.as_dict()["journalId"], drift.as_dict()["firstJournalId"]) == (2, 2, 1)
    assert book.counts[("APP", "sendSingleSMS")] == 2
    book.forget("APP")
    assert book.report() == []
