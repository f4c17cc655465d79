"""Recordings: what a replay matches on, and what a line must not hold."""

from __future__ import annotations

from pathlib import Path

from emay_mock.observe.recording import RecordFile, Replayer, match_key, problems_of, read


def test_a_request_matches_whatever_its_times_and_sign() -> None:
    one = {"mobile": "13800000000", "content": "hi", "requestTime": 1, "requestValidPeriod": 30}
    two = {
        "mobile": "13800000000",
        "content": "hi",
        "requestTime": 2,
        "requestValidPeriod": "60",
        "extendedCode": None,
    }
    assert match_key("secure", "sendSingleSMS", one) == match_key("secure", "sendSingleSMS", two)
    signed = {"appId": "A", "timestamp": "20261207100000", "sign": "x", "number": "5"}
    again = {"appId": "A", "timestamp": "20261207100500", "sign": "y", "number": 5}
    assert match_key("simple", "getReport", signed) == match_key("simple", "getReport", again)
    assert match_key("simple", "getReport", signed) != match_key("voice", "getReport", signed)
    assert match_key("secure", "sendSingleSMS", one) != match_key(
        "secure", "sendSingleSMS", {**one, "mobile": "1"}
    )


def test_a_request_recorded_several_times_replays_in_order_then_the_last() -> None:
    polls = [
        {
            "family": "secure",
            "endpoint": "getReport",
            "request": {},
            "status": 200,
            "result": "SUCCESS",
            "answer": [n],
        }
        for n in (1, 2)
    ]
    replayer = Replayer.of(polls)
    assert [replayer.answer("secure", "getReport", {})["answer"] for _ in range(3)] == [[1], [2], [2]]  # type: ignore[index]
    assert replayer.answer("secure", "getMo", {}) is None


def test_a_line_never_keeps_a_secret(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    record = RecordFile(path)
    record.write({"family": "simple", "endpoint": "getBalance", "status": 200, "result": "SUCCESS",
                  "request": {"appId": "A", "sign": "abc", "secretKey": "k", "timestamp": "t"}})  # fmt: skip
    record.close()
    (exchange,), problems = read(path)
    assert problems == [] and exchange["request"] == {"appId": "A", "timestamp": "t"}
    assert problems_of({**exchange, "request": {"Sign": "x"}}) == [
        "request: holds Sign: a recording must not keep secrets"
    ]
    assert problems_of({**exchange, "status": None, "error": "cannot connect"}) == []
