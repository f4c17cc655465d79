"""Templates over the secure API: create, review, query, send normal and variable, delete."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from emay_mock.client import EmayApiError, EmayClient
from emay_mock.server import MockServer
from emay_mock.settings import Settings
from tests.conftest import APP_ID, SECRET, MockFactory, account
from tests.support.control import last_reason, load_scenario, message
from tests.wire.secure_helpers import send_json, window


async def test_template_life_cycle_from_create_to_approved_to_send_to_delete(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock(settings=Settings(template_review_s=30))
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        template_id = await client.create_template("【亿美】{#name#}，您的余额为 ${money} 元")
        assert len(template_id) == 18 and template_id.isdigit()
        assert await client.query_template(template_id) == 0  # pending review
        with pytest.raises(EmayApiError) as err:
            await client.send_template_normal_sms(template_id, [{"mobile": "13800000000"}])
        assert err.value.code == "ERROR_PARAMS"
        assert "pending review" in last_reason(mock)["reason"]

        await mock.platform.scheduler.advance(30)
        assert await client.query_template(template_id) == 1  # approved

        before = await client.get_balance()
        sent = await client.send_template_variable_sms(
            template_id,
            [
                {
                    "mobile": "13800000001",
                    "customSmsId": "a",
                    "content": {"name": "王先生", "money": "10983.4"},
                },
                {"mobile": "13800000002", "content": {"name": "李先生", "money": 26985.4}},
            ],
        )
        assert [s["customSmsId"] for s in sent] == ["a", None]
        first = await message(http, mock, sent[0]["smsId"])
        assert first["content"] == "【亿美】王先生，您的余额为 10983.4 元"
        assert first["templateId"] == template_id
        assert (await message(http, mock, sent[1]["smsId"]))[
            "content"
        ] == "【亿美】李先生，您的余额为 26985.4 元"
        assert await client.get_balance() == before - 2

        assert await client.delete_template(template_id) is True
        assert await client.query_template(template_id) == -1
        assert await client.delete_template(template_id) is False
        with pytest.raises(EmayApiError):
            await client.send_template_variable_sms(template_id, [{"mobile": "13800000001", "content": {}}])


async def test_response_shapes_and_types_are_the_vendors(client: EmayClient) -> None:
    created = await client.call("createTemplateSMS", {"templateContent": "验证码 {#code#}"})
    assert set(created.data) == {"templateId"}
    template_id = created.data["templateId"]
    queried = await client.call("queryTemplateSMS", {"templateId": template_id})
    assert queried.data == {"templateId": template_id, "status": "1"}  # String, as the vendor's table
    deleted = await client.call("deleteTemplateSMS", {"templateId": template_id})
    assert deleted.data == {"templateId": template_id, "code": "true"}


async def test_normal_template_without_variables_sends_its_text(
    client: EmayClient, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    template_id = await client.create_template("【通知】系统维护将于今晚进行")
    (sent,) = await client.send_template_normal_sms(
        template_id, [{"mobile": "13800000000", "customSmsId": "x"}]
    )
    assert (await message(http, mock, sent["smsId"]))["content"] == "【通知】系统维护将于今晚进行"


async def test_missing_variable_is_error_params_naming_it(client: EmayClient, mock: MockServer) -> None:
    template_id = await client.create_template("{#name#} 的验证码是 ${code}")
    answer = await client.call(
        "sendTemplateVariableSMS",
        {"templateId": template_id, "smses": [{"mobile": "13800000000", "content": {"name": "x"}}]},
    )
    assert answer.code == "ERROR_PARAMS"
    reason = mock.journal.query(limit=1)[0].reason
    assert reason is not None and "'code'" in reason["reason"] and reason["field"] == "smses[0].content"
    normal = await client.call(
        "sendTemplateNormalSMS", {"templateId": template_id, "smses": [{"mobile": "13800000000"}]}
    )
    assert normal.code == "ERROR_PARAMS"  # a template with variables needs them


@pytest.mark.parametrize(
    ("endpoint", "payload", "code"),
    [
        ("createTemplateSMS", {}, "ERROR_CONTENT_EMPTY"),
        ("createTemplateSMS", {"templateContent": "x" * 501}, "ERROR_LONG_CONTENT"),
        ("queryTemplateSMS", {}, "ERROR_PARAMS"),
        ("deleteTemplateSMS", {"templateId": None}, "ERROR_PARAMS"),
        (
            "sendTemplateNormalSMS",
            {"templateId": "999999999999999999", "smses": [{"mobile": "13800000000"}]},
            "ERROR_PARAMS",
        ),
        ("sendTemplateNormalSMS", {"smses": [{"mobile": "13800000000"}]}, "ERROR_PARAMS"),
        (
            "sendTemplateVariableSMS",
            {"templateId": "1", "smses": [{"mobile": "13800000000", "content": "name=x"}]},
            "ERROR_PARAMS",
        ),
    ],
)
async def test_template_refusals(
    client: EmayClient, endpoint: str, payload: dict[str, Any], code: str
) -> None:
    assert (await send_json(client, endpoint, window(**payload))).code == code


async def test_template_sends_apply_the_shared_recipient_rules(client: EmayClient) -> None:
    template_id = await client.create_template("hello")
    for smses, code in (
        ([], "ERROR_MOBILE_EMPTY"),
        ([{"mobile": "123"}], "ERROR_MOBILE_ERROR"),
        ([{"mobile": f"1380000{i:04d}"} for i in range(501)], "ERROR_MOBILE_NUMBER"),
        ([{"mobile": "13800000000", "customSmsId": "x" * 33}], "ERROR_CUSTOM_SMSID"),
    ):
        answer = await client.call("sendTemplateNormalSMS", {"templateId": template_id, "smses": smses})
        assert answer.code == code


async def test_templates_belong_to_their_account(make_mock: MockFactory) -> None:
    mock = await make_mock([account(), account("EUCP-OTHER")])
    async with (
        EmayClient(mock.url, APP_ID, SECRET) as owner,
        EmayClient(mock.url, "EUCP-OTHER", SECRET) as other,
    ):
        template_id = await owner.create_template("x")
        assert await other.query_template(template_id) == -1
        assert await other.delete_template(template_id) is False
        assert await owner.query_template(template_id) == 1


async def test_rendered_length_is_what_is_billed_and_limited(client: EmayClient) -> None:
    template_id = await client.create_template("{#v#}")
    before = await client.get_balance()
    await client.send_template_variable_sms(
        template_id, [{"mobile": "13800000000", "content": {"v": "字" * 140}}]
    )
    assert await client.get_balance() == before - 3
    too_long = await client.call(
        "sendTemplateVariableSMS",
        {"templateId": template_id, "smses": [{"mobile": "13800000000", "content": {"v": "x" * 501}}]},
    )
    assert too_long.code == "ERROR_LONG_CONTENT"


async def test_every_template_refusal_records_why(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock([account(), account("EUCP-OTHER")], settings=Settings(template_review_s=60))
    await load_scenario(
        http, mock, "rules:\n  - {match: {content: 贷款}, then: {template: {status: rejected}}}\n"
    )
    async with (
        EmayClient(mock.url, APP_ID, SECRET) as client,
        EmayClient(mock.url, "EUCP-OTHER", SECRET) as other,
    ):
        pending = await client.create_template("待审 {#a#}")
        rejected = await client.create_template("低息贷款 {#a#}")
        deleted = await client.create_template("已删 {#a#}")
        theirs = await other.create_template("别人的 {#a#}")
        await mock.platform.scheduler.advance(30)
        approved = await client.create_template("通过 {#a#}")  # created pending, approved at +60 s
        await mock.platform.scheduler.advance(60)
        assert [await client.query_template(t) for t in (pending, rejected, approved)] == [1, 2, 1]
        assert await client.delete_template(deleted) is True
        fresh = await client.create_template("新建 {#a#}")  # pending until +60 s

        for template_id, content, why in (
            ("123456789012345678", {"a": "1"}, "does not exist"),
            (fresh, {"a": "1"}, "pending review"),
            (rejected, {"a": "1"}, "rejected"),
            (deleted, {"a": "1"}, "does not exist"),
            (theirs, {"a": "1"}, "does not exist"),
            (approved, {"b": "1"}, "no value for template variable 'a'"),
        ):
            answer = await client.call(
                "sendTemplateVariableSMS",
                {"templateId": template_id, "smses": [{"mobile": "13800000000", "content": content}]},
            )
            assert (answer.code, answer.body) == ("ERROR_PARAMS", b""), why
            reason = mock.journal.query(limit=1)[0].reason
            assert reason is not None and why in reason["reason"], (why, reason)
        assert mock.platform.messages.count() == 0
