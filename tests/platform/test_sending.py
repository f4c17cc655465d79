"""The platform without HTTP: billing, storage, report planning and routing."""

from __future__ import annotations

from pathlib import Path

import pytest

from emay_mock.delivery.clock import Clock
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError
from emay_mock.protocol.send import Recipient, SendOrder
from emay_mock.protocol.times import LONG_FORMAT
from emay_mock.server import Parts
from emay_mock.settings import AccountSpec, Settings
from emay_mock.store.state import Store
from tests.support.platform import submitted


@pytest.fixture
async def platform() -> Parts:
    p = Parts(Store(), Clock(), Settings())
    p.accounts.put(AccountSpec("A", "0123456789ABCDEF", balance=10))
    p.scheduler.start()
    return p


def order_to(*mobiles: str, content: str = "x") -> SendOrder:
    return SendOrder("sendBatchOnlySMS", [Recipient(m, content) for m in mobiles], LONG_FORMAT)


async def send_order(p: Parts, o: SendOrder) -> list[str]:
    return [row.sms_id for row in submitted(p.platform, "A", o)]


async def test_a_request_s_reports_wait_in_one_bucket_and_reach_the_queue(platform: Parts) -> None:
    sent = await send_order(platform, order_to("13800000001", "13800000002", "13800000003"))
    assert platform.scheduler.pending() == 1
    assert platform.scheduler.bucketed == 3
    assert platform.accounts["A"].balance == 7
    await platform.scheduler.advance(1)
    reports = platform.platform.sending.pull_reports(platform.accounts["A"], 500)
    assert [r["smsId"] for r in reports] == sent
    assert platform.platform.sending.pull_reports(platform.accounts["A"], 500) == []
    await platform.scheduler.stop()


async def test_refused_request_stores_and_charges_nothing(platform: Parts) -> None:
    with pytest.raises(EmayError) as err:
        await send_order(platform, order_to(*[f"1380000000{i}" for i in range(6)], content="字" * 71))
    assert err.value.code is ResultCode.ERROR_BALANCE
    assert platform.accounts["A"].balance == 10
    assert platform.platform.messages.count() == 0
    assert platform.scheduler.pending() == 0
    await platform.scheduler.stop()


async def test_the_balance_is_in_the_file_once_the_send_is_committed(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    p = Parts(Store(path), Clock(), Settings())
    p.accounts.put(AccountSpec("A", "0123456789ABCDEF", balance=10))
    await send_order(p, order_to("13800000001"))
    await p.platform.committed()
    assert [balance for spec, balance in Store(path).accounts.load()] == [9]
