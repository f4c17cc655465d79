"""The JSON views of the platform's state: times twice (Emay's text in the zone, and epoch ms)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from emay_mock.platform.accounts import Account
from emay_mock.protocol.times import parse
from emay_mock.settings import AccountSpec
from emay_mock.store.rows import MessageRow
from emay_mock.web import views

SUBMIT = parse("2026-11-30 12:00:00", "%Y-%m-%d %H:%M:%S")


def message(state: str | None) -> MessageRow:
    return MessageRow(1, "20261130120000000001", "A", "+8613800000000", "13800000000", "hi", "c", "01",
                      "/inter/sendSingleSMS", None, SUBMIT, SUBMIT, None, SUBMIT, 1, "DELIVRD", SUBMIT + 1000,
                      state, SUBMIT + 1000 if state else None, None, "s/r1", None)  # fmt: skip


def test_a_message_shows_its_times_in_the_zone_and_in_ms_and_its_report_once_it_has_one() -> None:
    shown = views.Views(ZoneInfo("Asia/Shanghai")).message(message(None))
    assert (shown["submitTime"], shown["times"]["submitMs"]) == ("2026-11-30 12:00:00", SUBMIT)
    assert (shown["state"], shown["desc"], shown["reportTime"]) == (None, None, None)
    assert shown["reportDue"] == "2026-11-30 12:00:01" and shown["rules"] == ["s/r1"]
    done = views.Views(ZoneInfo("UTC")).message(message("DELIVRD"))
    assert (done["state"], done["desc"], done["reportTime"]) == ("DELIVRD", "成功", "2026-11-30 04:00:01")
    assert done["mobile"] == "+8613800000000"  # as sent, prefix and all


def test_an_account_never_shows_its_secret_key() -> None:
    shown = views.account(Account(AccountSpec("A", "0123456789ABCDEF", balance=5), 3))
    assert shown["balance"] == 3 and "0123456789ABCDEF" not in str(shown)
    assert shown["push"] is None and shown["allowedIps"] == []
