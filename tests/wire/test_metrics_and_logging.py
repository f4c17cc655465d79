"""/_mock/metrics in Prometheus format, and one log line per request that never holds a secret."""

from __future__ import annotations

import logging
import re

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from emay_mock.client import EmayClient, SimpleClient
from emay_mock.server import MockServer
from emay_mock.testing.receiver import Receiver
from tests.conftest import APP_ID, ROOT, SECRET, MockFactory, account

# family /endpoint appId=… CODE 0.3ms[ reason: …]
LINE = re.compile(
    r"(?P<family>\w+) /(?P<endpoint>\w+) appId=(?P<app>\S+) (?P<code>\w+) [\d.]+ms"
    r"(?: reason: (?P<reason>.*))?"
)


async def scrape(
    http: aiohttp.ClientSession, mock: MockServer
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with http.get(f"{mock.url}/_mock/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=")
        text = await resp.text()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def test_requests_messages_reports_pushes_and_queues(
    make_mock: MockFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    receiver.on("/r", lambda n: (500, "") if n == 1 else (200, "success"))
    mock = await make_mock([account(), account("EUCP-PUSH", push={"reportUrl": receiver.path_url("/r")})])
    async with (
        EmayClient(mock.url, APP_ID, SECRET) as pull,
        EmayClient(mock.url, "EUCP-PUSH", SECRET) as push,
    ):
        await pull.send_batch_only_sms(["13800000001", "13855500001", "13800000003"], "x")
        await pull.call("sendSingleSMS", {"mobile": "1", "content": "x"})
        await push.send_single_sms("13800000000", "x")
        await mock.platform.scheduler.advance(11)
    m = await scrape(http, mock)
    assert (
        m[
            (
                "emay_requests_total",
                (("code", "SUCCESS"), ("endpoint", "sendBatchOnlySMS"), ("family", "secure")),
            )
        ]
        == 1
    )
    assert (
        m[
            (
                "emay_requests_total",
                (("code", "ERROR_MOBILE_ERROR"), ("endpoint", "sendSingleSMS"), ("family", "secure")),
            )
        ]
        == 1
    )
    assert (
        m[("emay_request_duration_seconds_count", (("endpoint", "sendSingleSMS"), ("family", "secure")))] == 2
    )
    assert m[("emay_messages_accepted_total", (("app_id", APP_ID),))] == 3
    assert m[("emay_messages_accepted_total", (("app_id", "EUCP-PUSH"),))] == 1
    assert m[("emay_reports_total", (("state", "DELIVRD"),))] == 3
    assert m[("emay_reports_total", (("state", "FAIL_MOBILE"),))] == 1
    assert m[("emay_push_attempts_total", (("kind", "report"), ("outcome", "failed")))] == 1
    assert m[("emay_push_attempts_total", (("kind", "report"), ("outcome", "ok")))] == 1
    assert m[("emay_queue_depth", (("app_id", APP_ID), ("kind", "report")))] == 3
    assert m[("emay_journal_entries", ())] == 3
    async with EmayClient(mock.url, APP_ID, SECRET) as pull:
        await pull.get_report()
    m = await scrape(http, mock)
    assert ("emay_queue_depth", (("app_id", APP_ID), ("kind", "report"))) not in m


async def test_request_counts_never_go_back_when_accounts_are_reset(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    """Prometheus counters only grow: a reset (one account, then all) forgets the accounts'
    contract reports, never what the metrics counted; requests after it add to the counts."""
    mock = await make_mock([account(), account("EUCP-OTHER")])
    single = (
        "emay_requests_total",
        (("code", "SUCCESS"), ("endpoint", "sendSingleSMS"), ("family", "secure")),
    )
    took = ("emay_request_duration_seconds_count", (("endpoint", "sendSingleSMS"), ("family", "secure")))
    async with (
        EmayClient(mock.url, APP_ID, SECRET) as one,
        EmayClient(mock.url, "EUCP-OTHER", SECRET) as other,
    ):
        await one.send_single_sms("13800000001", "x")
        await other.send_single_sms("13800000002", "x")
        assert (await scrape(http, mock))[single] == 2
        async with http.post(f"{mock.url}/_mock/reset", json={"appId": APP_ID}) as resp:
            assert resp.status == 200
        assert mock.recorder.contract.report(APP_ID, None)["requests"] == 0
        assert (await scrape(http, mock))[single] == 2
        async with http.post(f"{mock.url}/_mock/reset") as resp:
            assert resp.status == 200
        await one.send_single_sms("13800000003", "x")
    m = await scrape(http, mock)
    assert m[single] == 3 and m[took] == 3
    assert mock.recorder.contract.report(APP_ID, None)["requests"] == 1


@pytest.mark.parametrize("level", [logging.INFO, logging.WARNING])
async def test_one_line_per_request_with_its_reason_and_no_secret(
    mock: MockServer, caplog: pytest.LogCaptureFixture, http: aiohttp.ClientSession, level: int
) -> None:
    caplog.set_level(level, logger="emay_mock")
    async with (
        EmayClient(mock.url, APP_ID, SECRET) as client,
        SimpleClient(mock.url, APP_ID, SECRET) as simple,
    ):
        await client.send_single_sms("13800000000", "hello")
        await client.call("sendSingleSMS", {"mobile": "138", "content": "x"})
        await simple.request("/simpleinter/getBalance", {"appId": APP_ID, "timestamp": "x", "sign": "y"})
    async with http.post(
        f"{mock.url}/_mock/accounts", json={"appId": "EUCP-NEW", "secretKey": "S3cr3tK3yS3cr3tK"}
    ):
        pass
    lines = [r.getMessage() for r in caplog.records if r.name == "emay_mock.requests"]
    parsed = [LINE.fullmatch(line) for line in lines]
    assert all(parsed), lines
    got = [(m["family"], m["endpoint"], m["app"], m["code"], m["reason"]) for m in parsed if m]
    expected = [
        ("secure", "sendSingleSMS", APP_ID, "SUCCESS", None),
        ("secure", "sendSingleSMS", APP_ID, "ERROR_MOBILE_ERROR", "mobile '138' is not a mobile number"),
        ("simple", "getBalance", APP_ID, "ERROR_TIMESTAMP", "timestamp 'x' is not yyyyMMddHHmmss"),
    ]
    assert got == (expected if level == logging.INFO else expected[1:])  # successes are INFO
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert SECRET not in everything and "S3cr3tK3yS3cr3tK" not in everything


async def test_every_metric_the_docs_list_is_exposed(mock: MockServer, http: aiohttp.ClientSession) -> None:
    page = (ROOT / "docs" / "control-api.md").read_text("utf-8")
    section = page[page.index("## Metrics and logging") :]
    section = section[: section.index("One log line per request")]
    listed = re.findall(r"`(emay_[a-z_]+)(?:\{[^}]*\})?`", section)
    assert len(listed) >= 13, listed
    async with http.get(f"{mock.url}/_mock/metrics") as resp:
        text = await resp.text()
    declared = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))  # labelled series appear once used
    assert set(listed) <= set(declared), f"documented but not exposed: {set(listed) - set(declared)}"
    assert set(declared) <= set(listed), f"exposed but not documented: {set(declared) - set(listed)}"
    assert declared["emay_request_duration_seconds"] == "histogram"
