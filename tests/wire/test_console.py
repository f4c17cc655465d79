"""The platform's console over real sockets: templates reviewed by hand, short links, balances,
account counts, and paging back through the push log and the journal."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from emay_mock.client import EmayApiError, EmayClient
from emay_mock.server import MockServer
from emay_mock.settings import Settings
from emay_mock.testing.receiver import Receiver
from tests.conftest import APP_ID, SECRET, MockFactory, account
from tests.support.control import get_json, last_reason, load_scenario, post_json

MANUAL = "EUCP-EMY-SMS1-MANUAL"


@pytest.fixture
async def manual(make_mock: MockFactory) -> MockServer:
    """One account reviewed by hand, one reviewed automatically after 30 s."""
    return await make_mock(
        [account(), account(MANUAL, templateReview="manual")], settings=Settings(template_review_s=30)
    )


async def test_a_manual_template_waits_for_a_person_then_sends(
    manual: MockServer, http: aiohttp.ClientSession
) -> None:
    async with EmayClient(manual.url, MANUAL, SECRET) as client:
        template_id = await client.create_template("【店】您的验证码 {#code#}")
        await manual.platform.scheduler.advance(3600)  # templateReviewSeconds does not apply
        assert await client.query_template(template_id) == 0
        with pytest.raises(EmayApiError) as refused:
            await client.send_template_variable_sms(
                template_id, [{"mobile": "13800000001", "content": {"code": "1"}}]
            )
        assert refused.value.code == "ERROR_PARAMS"

        (listed,) = (await get_json(http, manual, "/_mock/templates", appId=MANUAL))["templates"]
        assert listed["templateId"] == template_id and listed["statusName"] == "pending"
        assert listed["variables"] == ["code"] and listed["reviewedAt"] is None

        status, answer = await post_json(
            http, manual, f"/_mock/templates/{template_id}/review", {"status": "approved"}
        )
        assert status == 200
        assert answer["previous"] == "pending"
        assert answer["template"]["status"] == 1 and answer["template"]["reviewedAt"] is not None
        assert await client.query_template(template_id) == 1
        (sent,) = await client.send_template_variable_sms(
            template_id, [{"mobile": "13800000001", "content": {"code": "4821"}}]
        )
        assert len(sent["smsId"]) == 20


async def test_a_rejected_template_refuses_sends_and_a_reviewer_may_change_their_mind(
    manual: MockServer, http: aiohttp.ClientSession
) -> None:
    async with EmayClient(manual.url, MANUAL, SECRET) as client:
        template_id = await client.create_template("【店】周末特价")
        status, answer = await post_json(
            http, manual, f"/_mock/templates/{template_id}/review", {"status": "rejected"}
        )
        assert status == 200 and answer["template"]["statusName"] == "rejected"
        assert await client.query_template(template_id) == 2
        answered = await client.call(
            "sendTemplateNormalSMS", {"templateId": template_id, "smses": [{"mobile": "13800000001"}]}
        )
        assert answered.code == "ERROR_PARAMS"
        assert "rejected" in last_reason(manual)["reason"]

        status, answer = await post_json(
            http, manual, f"/_mock/templates/{template_id}/review", {"status": "approved"}
        )
        assert status == 200 and answer["previous"] == "rejected"
        assert await client.query_template(template_id) == 1


async def test_a_hand_decision_stands_over_the_automatic_review_still_due(
    manual: MockServer, http: aiohttp.ClientSession
) -> None:
    async with EmayClient(manual.url, APP_ID, SECRET) as client:  # reviewed after 30 s
        template_id = await client.create_template("【店】到货通知")
        await post_json(http, manual, f"/_mock/templates/{template_id}/review", {"status": "rejected"})
        await manual.platform.scheduler.advance(30)
        assert await client.query_template(template_id) == 2


async def test_a_scripted_review_still_applies_under_manual_review(
    manual: MockServer, http: aiohttp.ClientSession
) -> None:
    await load_scenario(
        http, manual, "rules:\n  - {match: {content: 贷款}, then: {template: {status: rejected}}}\n"
    )
    async with EmayClient(manual.url, MANUAL, SECRET) as client:
        scripted = await client.create_template("低息贷款 {#rate#}")
        waiting = await client.create_template("您好 {#name#}")
        assert await client.query_template(scripted) == 2  # at once: no templateReviewSeconds of its own
        assert await client.query_template(waiting) == 0


async def test_review_refusals(manual: MockServer, http: aiohttp.ClientSession) -> None:
    async with EmayClient(manual.url, MANUAL, SECRET) as client:
        template_id = await client.create_template("【店】再见")
        assert await client.delete_template(template_id) is True
    status, answer = await post_json(
        http, manual, f"/_mock/templates/{template_id}/review", {"status": "approved"}
    )
    assert status == 409 and "deleted" in answer["error"]
    status, _ = await post_json(
        http, manual, "/_mock/templates/123456789012345678/review", {"status": "approved"}
    )
    assert status == 404
    status, answer = await post_json(
        http, manual, f"/_mock/templates/{template_id}/review", {"status": "pending"}
    )
    assert status == 400 and "approved" in answer["error"]
    (deleted,) = (await get_json(http, manual, "/_mock/templates", status="deleted"))["templates"]
    assert deleted["status"] == -1 and deleted["statusName"] == "deleted"
    async with http.get(f"{manual.url}/_mock/templates", params={"status": "gone"}) as resp:
        assert resp.status == 400
    async with http.get(f"{manual.url}/_mock/templates", params={"before": "abc"}) as resp:
        assert resp.status == 400


async def test_templates_page_back_by_template_id(manual: MockServer, http: aiohttp.ClientSession) -> None:
    async with EmayClient(manual.url, MANUAL, SECRET) as client:
        made = [await client.create_template(f"【店】模板 {i}") for i in range(5)]
    first = (await get_json(http, manual, "/_mock/templates", appId=MANUAL, limit=2))["templates"]
    assert [t["templateId"] for t in first] == [made[4], made[3]]
    rest = (await get_json(http, manual, "/_mock/templates", appId=MANUAL, before=first[-1]["templateId"]))[
        "templates"
    ]
    assert [t["templateId"] for t in rest] == [made[2], made[1], made[0]]
    assert (await get_json(http, manual, "/_mock/templates", appId=APP_ID))["templates"] == []
    pending = (await get_json(http, manual, "/_mock/templates", status="pending"))["templates"]
    assert len(pending) == 5


async def test_short_links_with_their_message_and_clicks(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    shared = await client.send_short_link_sms(
        [{"mobile": "13800000001"}, {"mobile": "13800000002"}], "活动 {#短网址#}", "https://example.com/a"
    )
    (own,) = await client.send_short_link_sms(
        [{"mobile": "13800000003"}], "账单 {#短网址#}", "https://example.com/b", rule="2"
    )
    links = (await get_json(http, mock, "/_mock/shortlinks", appId=APP_ID))["shortLinks"]
    assert [(link["rule"], link["longUrl"], link["mobile"]) for link in links] == [
        ("2", "https://example.com/b", "13800000003"),
        ("1", "https://example.com/a", None),
    ]
    assert links[0]["smsId"] == own["smsId"] and links[0]["message"]["content"].startswith("账单 http")
    assert links[1]["smsId"] == shared[0]["smsId"] and links[1]["recipients"] == 2
    assert links[0]["shortUrl"] in links[0]["message"]["content"]
    assert links[1]["message"]["mobile"] == "13800000001"

    agent = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "Version/17.0 Mobile Safari/604.1"
    )
    async with http.get(links[0]["shortUrl"], headers={"User-Agent": agent}, allow_redirects=False) as resp:
        assert resp.status == 302
    (clicked, _) = (await get_json(http, mock, "/_mock/shortlinks", appId=APP_ID))["shortLinks"]
    assert clicked["clickCount"] == 1
    (click,) = clicked["clicks"]
    assert (click["userAgent"], click["equipment"], click["browser"]) == (agent, "iOS 17.0", "Mobile Safari")

    older = (await get_json(http, mock, "/_mock/shortlinks", before=links[0]["linkId"]))["shortLinks"]
    assert [link["code"] for link in older] == [links[1]["code"]]


async def test_balance_set_and_add_and_what_a_send_then_answers(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    status, answer = await post_json(http, mock, f"/_mock/accounts/{APP_ID}/balance", {"set": 0})
    assert status == 200 and answer["balance"] == 0 and answer["previous"] == 100_000
    assert (
        await client.call("sendSingleSMS", {"mobile": "13800000000", "content": "x"})
    ).code == "ERROR_BALANCE"
    status, answer = await post_json(http, mock, f"/_mock/accounts/{APP_ID}/balance", {"add": 5})
    assert status == 200 and answer["balance"] == 5
    await client.send_single_sms("13800000000", "x")
    assert await client.get_balance() == 4
    status, answer = await post_json(http, mock, f"/_mock/accounts/{APP_ID}/balance", {"add": -4})
    assert status == 200 and answer["balance"] == 0

    for body in (
        {"add": -1},
        {"set": 2**63},
        {"set": 1, "add": 1},
        {},
        {"set": "10"},
        {"set": True},
        {"set": 1.5},
    ):
        status, answer = await post_json(http, mock, f"/_mock/accounts/{APP_ID}/balance", body)
        assert status == 400, body
    status, _ = await post_json(http, mock, "/_mock/accounts/EUCP-NOBODY/balance", {"set": 1})
    assert status == 404
    (shown,) = (await get_json(http, mock, "/_mock/accounts"))["accounts"]
    assert shown["balance"] == 0


async def test_a_balance_survives_a_restart(
    make_mock: MockFactory, tmp_path: Any, http: aiohttp.ClientSession
) -> None:
    db = str(tmp_path / "state.db")
    mock = await make_mock(db=db)
    await post_json(http, mock, f"/_mock/accounts/{APP_ID}/balance", {"set": 42})
    await mock.close()
    again = await make_mock(db=db)
    async with EmayClient(again.url, APP_ID, SECRET) as client:
        assert await client.get_balance() == 42


async def test_accounts_show_their_settings_and_live_counts(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    push = {"reportUrl": "http://127.0.0.1:9/report", "retrySchedule": []}
    mock = await make_mock(
        [
            account(strict=True, allowedIps=["127.0.0.1"], maxRequestsPerSecond=50),
            account(MANUAL, push=push, templateReview="manual"),
        ]
    )
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        await client.send_single_sms("13800000001", "a")
        await client.send_single_sms("13800000002", "b")
    async with EmayClient(mock.url, MANUAL, SECRET) as client:
        await client.send_single_sms("13800000003", "c")
    await post_json(http, mock, "/_mock/mo", {"appId": APP_ID, "mobile": "13800000001", "content": "hi"})
    await mock.platform.scheduler.advance(2)  # the reports: queued for one, a push that fails for the other
    accounts = {a["appId"]: a for a in (await get_json(http, mock, "/_mock/accounts"))["accounts"]}
    mine, theirs = accounts[APP_ID], accounts[MANUAL]
    assert (mine["strict"], mine["allowedIps"], mine["maxRequestsPerSecond"]) == (True, ["127.0.0.1"], 50)
    assert mine["templateReview"] == "auto" and theirs["templateReview"] == "manual"
    assert theirs["push"]["reportUrl"] == push["reportUrl"]
    assert mine["counts"] == {
        "messages": 2, "queuedReports": 2, "queuedVoiceReports": 0, "queuedMo": 1, "queuedClicks": 0,
        "pendingPushes": 0, "deadPushes": 0,
    }  # fmt: skip
    assert theirs["counts"]["messages"] == 1 and theirs["counts"]["queuedReports"] == 0
    assert theirs["counts"]["deadPushes"] == 1  # no retries: dead after its one attempt


async def paged_back(
    http: aiohttp.ClientSession, mock: MockServer, path: str, key: str, **query: str
) -> list[int]:
    """The ids of a first page of two, then of the page before its last id."""
    first = (await get_json(http, mock, path, appId=APP_ID, limit=2, **query))[key]
    rest = (await get_json(http, mock, path, appId=APP_ID, before=first[-1]["id"]))[key]
    return [item["id"] for item in first + rest]


async def test_the_journal_pages_back(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    for i in range(5):
        await client.send_single_sms("13800000000", f"第 {i} 条")
    ids = await paged_back(http, mock, "/_mock/journal", "entries")
    assert len(ids) == 5 and ids == sorted(ids, reverse=True)


async def test_the_push_log_pages_back(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock([account(push={"reportUrl": receiver.path_url("/emay/report")})])
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        for i in range(5):
            await client.send_single_sms("13800000000", f"第 {i} 条")
            await mock.platform.scheduler.advance(2)  # one batch each
    ids = await paged_back(http, mock, "/_mock/pushes", "pushes", items="false")
    assert len(ids) == 5 and ids == sorted(ids, reverse=True)


async def test_a_thread_of_1200_messages_pages_back_to_its_first(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    for start in range(0, 1200, 500):
        await client.send_personality_all_sms(
            [
                {"mobile": "13800000000", "content": f"消息 {i:04d}"}
                for i in range(start, min(start + 500, 1200))
            ]
        )
    seen: list[str] = []
    before: str | None = None
    while True:
        query: dict[str, Any] = {"appId": APP_ID, "mobile": "13800000000", "limit": 500}
        if before is not None:
            query["before"] = before
        page = (await get_json(http, mock, "/_mock/messages", **query))["messages"]
        if not page:
            break
        seen += [m["content"] for m in page]
        before = page[-1]["smsId"]
    assert len(seen) == 1200 and seen[-1] == "消息 0000" and seen[0] == "消息 1199"
