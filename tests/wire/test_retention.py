"""Retention: server.maxMessages and server.maxAgeHours keep a long-running sandbox bounded,
oldest final messages first, never one still waiting for its report or a push."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from emay_mock.client import EmayClient
from emay_mock.config import settings_from
from emay_mock.protocol.times import BEIJING, LONG_FORMAT
from emay_mock.server import MockServer
from emay_mock.testing.receiver import Receiver
from tests.conftest import APP_ID, SECRET, MockFactory, account
from tests.support.control import advance, messages

OTHER = "EUCP-EMY-SMS1-OTHER"


def an_hour_from_now() -> str:
    """A timerTime whose reports fall due in an hour."""
    return (datetime.now(BEIJING) + timedelta(hours=1)).strftime(LONG_FORMAT)


def limits(**server: Any) -> Any:
    return settings_from(server, 1.0)


async def stored(http: aiohttp.ClientSession, mock: MockServer) -> list[str]:
    """The smsId of every message stored."""
    return [m["smsId"] for m in await messages(http, mock, limit="10000")]


async def metric(http: aiohttp.ClientSession, mock: MockServer, name: str) -> float:
    async with http.get(f"{mock.url}/_mock/metrics") as resp:
        text = await resp.text()
    (line,) = [x for x in text.splitlines() if x.startswith(name + " ")]
    return float(line.split()[1])


async def send_many(client: EmayClient, count: int, first: int = 0, **options: Any) -> list[str]:
    mobiles = [f"1380000{first + i:04d}" for i in range(count)]
    return [r["smsId"] for r in await client.send_batch_only_sms(mobiles, "hi", **options)]


async def test_beyond_max_messages_the_oldest_final_ones_go_with_their_queued_reports(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock(settings=limits(maxMessages=100))
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        old = await send_many(client, 150)
        await advance(http, mock, 1)  # every report final, waiting in the getReport queue
        new = await send_many(client, 1, first=150)  # 151 stored, 1% over the limit: a round
        kept = await stored(http, mock)
        assert sorted(kept) == sorted(old[51:] + new)  # the 51 oldest went, the newest stayed
        reports = await client.get_report(500)
        assert [r["smsId"] for r in reports] == old[51:]  # a pruned message's report is gone too
    assert await metric(http, mock, "emay_messages_pruned_total") == 51
    assert await metric(http, mock, "emay_messages_stored") == 100
    async with http.get(f"{mock.url}/_mock/journal", params={"family": "mock"}) as resp:
        (note,) = (await resp.json())["entries"]
    assert note["endpoint"] == "retention"
    assert note["reason"]["reason"] == "51 messages pruned (more than maxMessages 100); 100 kept"


async def test_a_message_waiting_for_its_report_is_never_pruned(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock(settings=limits(maxMessages=10))
    later = an_hour_from_now()
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        timed = await send_many(client, 20, timer_time=later)  # reports due in an hour
        await send_many(client, 1, first=20)
        assert len(await stored(http, mock)) == 21  # nothing final yet: nothing goes
        await advance(http, mock, 3601)
        await send_many(client, 1, first=21)
        kept = await stored(http, mock)
    assert len(kept) == 10 and not set(timed[:12]) & set(kept)


async def test_a_message_whose_push_is_still_retrying_is_kept_until_the_push_is_done(
    make_mock: MockFactory, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    receiver.on("/emay/report", lambda n: (500, "down"))
    pushing = account(push={"reportUrl": receiver.path_url("/emay/report"), "retrySchedule": [10]})
    mock = await make_mock([pushing], settings=limits(maxMessages=2))
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        first = await send_many(client, 5)
        await advance(http, mock, 1)  # reported, pushed, refused: a retry in 10 s
        await send_many(client, 1, first=5)
        assert set(first) <= set(await stored(http, mock))  # their push is pending
        await advance(http, mock, 10)  # the retry fails too: the batch is dead, the push done
        await send_many(client, 1, first=6)
        kept = await stored(http, mock)
    assert not set(first) & set(kept)
    async with http.get(f"{mock.url}/_mock/pushes") as resp:
        batches = (await resp.json())["pushes"]
    # The dead batch carried only pruned messages: it went too; the later one still retries.
    assert [(b["id"], b["status"]) for b in batches] == [(2, "pending")]


async def test_max_age_prunes_on_the_scheduler_clock_with_short_links_and_their_clicks(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock(settings=limits(maxAgeHours=1))
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        smses = [{"mobile": "13800000001"}, {"mobile": "13800000002"}]
        await client.send_short_link_sms(smses, "go {#短网址#}", "https://example.com/a", rule="2")
        message = (await stored(http, mock))[0]
        async with http.get(f"{mock.url}/_mock/messages/{message}") as resp:
            short_url = (await resp.json())["message"]["shortUrl"]
        async with http.get(short_url, allow_redirects=False) as resp:
            assert resp.status == 302  # a click, queued for getShortLink
        await advance(http, mock, 1)
        assert len(await stored(http, mock)) == 2  # final, but only a second old
        await advance(http, mock, 3600)
        assert await stored(http, mock) == []
        assert await client.get_short_link() == []  # its click went with its link
    async with http.get(short_url, allow_redirects=False) as resp:
        assert resp.status == 404


async def test_with_a_file_pruned_messages_stay_gone_after_a_restart(
    make_mock: MockFactory, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    path = str(tmp_path / "state.db")
    first = await make_mock(settings=limits(maxMessages=10), db=path)
    async with EmayClient(first.url, APP_ID, SECRET) as client:
        await send_many(client, 30)
        await advance(http, first, 1)
        await send_many(client, 1, first=30)
    kept = await stored(http, first)
    await first.close()
    again = await make_mock(settings=limits(maxMessages=10), db=path)
    assert sorted(await stored(http, again)) == sorted(kept)
    async with EmayClient(again.url, APP_ID, SECRET) as client:
        # The queue lost the pruned ones too: the 9 final reports kept (the newest is not due yet).
        assert len(await client.get_report(500)) == 9


async def test_a_message_kept_while_it_waited_goes_first_once_it_settles(
    make_mock: MockFactory, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """Retention goes past waiting messages without looking at them again on every send,
    and still removes them oldest first once their push has ended."""
    receiver.on("/emay/report", lambda n: (500, "down"))
    pushing = account(push={"reportUrl": receiver.path_url("/emay/report"), "retrySchedule": [10]})
    mock = await make_mock([pushing, account(OTHER)], settings=limits(maxMessages=2))
    async with EmayClient(mock.url, APP_ID, SECRET) as a, EmayClient(mock.url, OTHER, SECRET) as b:
        held = await send_many(a, 3)
        await advance(http, mock, 1)  # A's reports pushed and refused: a retry in 10 s
        first = await send_many(b, 5, first=10)  # 8 stored: a round, and nothing final to remove
        assert len(await stored(http, mock)) == 8
        await advance(http, mock, 1)  # B's reports final (no push): removable
        sixth = await send_many(b, 1, first=15)
        assert sorted(await stored(http, mock)) == sorted(held + sixth)  # B's five went, A's wait
        await advance(http, mock, 10)  # A's retry fails: its batch is dead, its push done
        seventh = await send_many(b, 1, first=16)
        # 5 stored, 3 over: A's three, now the oldest removable, before B's sixth.
        assert sorted(await stored(http, mock)) == sorted(sixth + seventh)
    assert first and await metric(http, mock, "emay_messages_pruned_total") == 8


async def test_a_reset_while_retention_waits_on_messages_leaves_the_counts_right(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock(settings=limits(maxMessages=2))
    later = an_hour_from_now()
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        await send_many(client, 5, timer_time=later)  # over the limit, all waiting an hour
        async with http.post(f"{mock.url}/_mock/reset") as resp:
            assert resp.status == 200
        fresh = await send_many(client, 3, first=5)
        await advance(http, mock, 3601)  # the forgotten ones' due time passes as well
        newest = await send_many(client, 1, first=8)
        assert sorted(await stored(http, mock)) == sorted(fresh[2:] + newest)
    assert await metric(http, mock, "emay_messages_stored") == 2
    assert await metric(http, mock, "emay_messages_pruned_total") == 2


async def test_single_sends_past_the_limit_start_a_round_and_the_room_is_counted_again_after_it(
    make_mock: MockFactory, http: aiohttp.ClientSession
) -> None:
    mock = await make_mock(settings=limits(maxMessages=10))  # a round once 12 are stored (1 of slack)
    async with EmayClient(mock.url, APP_ID, SECRET) as client:
        await send_many(client, 8)
        await advance(http, mock, 1)  # final: free to go
        counts = []
        for i in range(6):
            await client.send_single_sms(f"1390000{i:04d}", "hi")
            counts.append(len(await stored(http, mock)))
            await advance(http, mock, 1)
    # 12 stored is past the limit and its slack: back to 10, then room for one more again.
    assert counts == [9, 10, 11, 10, 11, 10]
