"""What the platform accepted for forwarding accounts: bounded, found by smsId, reported, forgotten."""

from __future__ import annotations

from emay_mock.platform.forwarded import Accepted, Forwarded
from emay_mock.store.messages import MessageFilter


def test_the_oldest_go_first_and_reports_find_their_messages() -> None:
    held = Forwarded(max_held=2)
    for n in range(3):
        held.accepted("A", "/inter/sendSingleSMS", [Accepted(f"1380000000{n}", str(100 + n), "hi")], n, n)
    assert [row.sms_id for row in held.messages(MessageFilter(), 10)] == ["102", "101"]
    assert held.message("100") is None and held.count("A") == 2
    assert (
        held.reported([{"smsId": "101", "state": "DELIVRD"}, {"smsId": "102", "state": "NEW_STATE"}], 9) == 1
    )
    assert [(r.sms_id, r.state) for r in held.messages(MessageFilter(state="PENDING"), 10)] == [("102", None)]
    assert [r.sms_id for r in held.messages(MessageFilter(before=102), 10)] == ["101"]
    assert [r.sms_id for r in held.messages(MessageFilter(mobile="+8613800000001"), 10)] == ["101"]
    held.replied("A", [{"mobile": "13800000001", "content": "TD", "extendedCode": None}, "junk"], 10)
    assert [m.content for m in held.mo("A", None, 10)] == ["TD"]
    held.forget("A")
    assert not held and held.count("A") == 0
