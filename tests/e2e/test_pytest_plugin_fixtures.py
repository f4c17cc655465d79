"""The plugin's fixtures used directly: every helper and every marker option."""

from __future__ import annotations

import threading
import urllib.request
from typing import Any

import pytest

from emay_mock.testing.handle import EmayMockHandle, MockApiError
from tests.conftest import EXAMPLES


async def test_a_fresh_account_each_test(emay_mock: EmayMockHandle) -> None:
    assert emay_mock.app_id.startswith("EUCP-PYTEST-") and len(emay_mock.secret_key) == 16
    assert await emay_mock.client.get_balance() == 1_000_000
    async with emay_mock.http.get(f"{emay_mock.url}/_mock/accounts") as resp:
        assert [a["appId"] for a in (await resp.json())["accounts"]] == [emay_mock.app_id]


async def test_messages_mo_clicks_and_reset(emay_mock: EmayMockHandle) -> None:
    (sent,) = await emay_mock.client.send_short_link_sms(
        [{"mobile": "13800000001"}], "{#短网址#}", "https://e.cn", rule="2"
    )
    assert [m["smsId"] for m in await emay_mock.messages(mobile="13800000001")] == [sent["smsId"]]
    click = await emay_mock.click(sent["smsId"], user_agent="curl/8.1")
    assert click["browser"] == "curl" and click["mobile"] == "13800000001"
    assert (await emay_mock.client.get_short_link())[0]["userAgent"] == "curl/8.1"
    mo = await emay_mock.inject_mo("13800000001", "好的", extended_code="3")
    assert (
        mo["content"] == "好的" and (await emay_mock.wait_for_mo(mobile="13800000001"))["moId"] == mo["moId"]
    )
    await emay_mock.reset()
    assert await emay_mock.messages() == []


@pytest.mark.emay_mock(account={"templateReview": "manual"})
async def test_templates_reviewed_by_hand_and_a_balance_set_by_hand(emay_mock: EmayMockHandle) -> None:
    template_id = await emay_mock.client.create_template("【店】验证码 {#code#}")
    assert [t["statusName"] for t in await emay_mock.templates()] == ["pending"]
    assert (await emay_mock.review_template(template_id, "rejected"))["status"] == 2
    assert await emay_mock.client.query_template(template_id) == 2
    assert await emay_mock.set_balance(0) == 0
    assert (await emay_mock.client.call("sendSingleSMS", {"mobile": "13800000000", "content": "x"})).code == (
        "ERROR_BALANCE"
    )
    assert await emay_mock.set_balance(add=3) == 3


@pytest.mark.emay_mock(control_auth="team:pa55")
async def test_with_control_auth_the_helpers_send_it(emay_mock: EmayMockHandle) -> None:
    sent = await emay_mock.client.send_single_sms("13800000000", "x")
    assert [m["smsId"] for m in await emay_mock.messages()] == [sent["smsId"]]
    async with emay_mock.http.get(f"{emay_mock.url}/_mock/messages") as resp:
        assert resp.status == 401


async def test_scenarios_from_a_path_and_coverage(emay_mock: EmayMockHandle) -> None:
    loaded = await emay_mock.load_scenario(EXAMPLES / "balance-runs-out.yaml")
    assert loaded["name"] == "balance-runs-out"
    codes = [
        (
            await emay_mock.client.call(
                "sendBatchSMS", {"smses": [{"mobile": "13800000000"}], "content": "x"}
            )
        ).code
        for _ in range(3)
    ]
    assert codes == ["SUCCESS", "SUCCESS", "ERROR_BALANCE"]
    coverage = await emay_mock.coverage()
    assert any(r["rule"] == "third-batch-and-after" and r["fired"] == 1 for r in coverage["rules"])


async def test_another_account_and_the_journal(emay_mock: EmayMockHandle) -> None:
    other = await emay_mock.add_account(balance=5)
    assert other["appId"] != emay_mock.app_id
    await emay_mock.client.call("getBalance")
    (entry,) = await emay_mock.journal()
    assert entry["appId"] == emay_mock.app_id and entry["code"] == "SUCCESS"


async def test_a_wait_that_times_out_says_what_it_saw(emay_mock: EmayMockHandle) -> None:
    with pytest.raises(MockApiError, match="408"):
        await emay_mock.wait_for_report("20260101000000000000", timeout=0.1)


@pytest.mark.emay_mock(receiver=True, push={"mode": "plain"}, balance=10)
async def test_receiver_and_push_options(emay_mock: EmayMockHandle) -> None:
    assert emay_mock.receiver is not None
    sent = await emay_mock.client.send_single_sms("13800000000", "x")
    await emay_mock.advance(1)
    push = await emay_mock.wait_for_push(sent["smsId"])
    assert push["mode"] == "plain" and push["items"][0]["smsId"] == sent["smsId"]
    assert emay_mock.receiver.items("/emay/report")[0]["smsId"] == sent["smsId"]
    assert await emay_mock.client.get_balance() == 9


@pytest.mark.emay_mock(
    strict=True, default_scenarios=False, settings={"clockSpeed": 60, "reportDelaySeconds": 5}
)
async def test_strict_and_server_settings(emay_mock: EmayMockHandle) -> None:
    answer = await emay_mock.client.call("sendSingleSMS", {"mobile": "+8613855500001", "content": "x"})
    assert answer.code == "ERROR_PARAMS"  # strict: the +86 prefix is refused
    sent = await emay_mock.client.send_single_sms("13855500001", "x")
    message = await emay_mock.wait_for_report(sent["smsId"], timeout=3)  # 5 s at speed 60: ~0.1 s
    assert message["state"] == "DELIVRD"  # no magic numbers
    assert message["times"]["reportMs"] - message["times"]["sendMs"] == 5000


async def test_assert_clean_passes_on_a_run_without_deviation_or_unscripted_refusal(
    emay_mock: EmayMockHandle,
) -> None:
    await emay_mock.client.send_single_sms("13800000000", "hello")
    blanks = {"mobile": "13800000001", "content": "x", "timerTime": "", "customSmsId": None}
    assert (await emay_mock.client.call("sendSingleSMS", blanks)).code == "SUCCESS"  # an SDK habit
    scripted = {"mobile": "13800000000", "content": "[emay:ERROR_BALANCE]"}
    assert (await emay_mock.client.call("sendSingleSMS", scripted)).code == "ERROR_BALANCE"
    await emay_mock.assert_clean()


async def test_assert_clean_fails_with_the_reports_explanation(emay_mock: EmayMockHandle) -> None:
    await emay_mock.client.send_single_sms("13800000000", "hello")
    assert (await emay_mock.client.call("sendSingleSMS", {"mobile": "138", "content": "x"})).code != "SUCCESS"
    with pytest.raises(AssertionError) as failed:
        await emay_mock.assert_clean()
    first, second = str(failed.value).splitlines()
    assert first == "not clean: no deviations; 1 refusal (1 × ERROR_MOBILE_ERROR)"
    assert second == (
        "- refusal ERROR_MOBILE_ERROR on mobile (1 time), e.g. journal entry 2 (sendSingleSMS): "
        "mobile '138' is not a mobile number"
    )


def test_assert_clean_through_the_sync_fixture(emay_mock_sync: Any) -> None:
    emay_mock_sync.client.send_single_sms("13800000000", "x")
    emay_mock_sync.assert_clean()
    emay_mock_sync.client.call("sendSingleSMS", {"mobile": "+8613800000000", "content": "x"})
    with pytest.raises(AssertionError, match=r"(?m)^- deviation mobile-country-prefix \(1 time\)"):
        emay_mock_sync.assert_clean()


def test_the_sync_fixture(emay_mock_sync: Any) -> None:
    sent = emay_mock_sync.client.send_batch_only_sms(["13800000001", "13800000002"], "x")
    emay_mock_sync.advance(1)
    assert {r["smsId"] for r in emay_mock_sync.client.get_report()} == {s["smsId"] for s in sent}
    assert emay_mock_sync.simple.get_balance() == 1_000_000 - 2
    assert emay_mock_sync.wait_for_report(sent[0]["smsId"])["state"] == "DELIVRD"


@pytest.mark.emay_mock(receiver=True)
def test_the_sync_fixture_with_a_receiver(emay_mock_sync: Any) -> None:
    sent = emay_mock_sync.client.send_single_sms("13800000000", "x")
    emay_mock_sync.advance(1)
    assert emay_mock_sync.wait_for_push(sent["smsId"])["status"] == "delivered"


def blocking_health(url: str, timeout: float) -> int:
    """GET /_mock/health from this thread, blocking it (the event loop, if it runs here, stops)."""
    with urllib.request.urlopen(f"{url}/_mock/health", timeout=timeout) as resp:
        return int(resp.status)


async def test_the_async_fixture_serves_on_the_tests_own_event_loop(emay_mock: EmayMockHandle) -> None:
    # While this coroutine blocks its thread, the mock cannot answer: it lives on this loop.
    with pytest.raises(OSError, match="timed out"):
        blocking_health(emay_mock.url, timeout=0.3)
    assert not any(t.name == "emay-mock" for t in threading.enumerate())
    async with emay_mock.http.get(f"{emay_mock.url}/_mock/health") as resp:  # once the loop runs again
        assert resp.status == 200


def test_the_sync_fixture_serves_from_a_background_thread(emay_mock_sync: Any) -> None:
    assert blocking_health(emay_mock_sync.url, timeout=10) == 200  # this thread blocks; the mock does not
    (server_thread,) = [t for t in threading.enumerate() if t.name == "emay-mock"]
    assert server_thread is not threading.current_thread() and server_thread.daemon
