"""Soak: 100,000 mixed requests against one `emay-mock serve` process.

The state a mock keeps by design (messages, reports, pushes) is cleared the way a long CI
run clears it, with `POST /_mock/reset` of the sending account every 10,000 requests. What
must not grow is everything else: the journal stays at `journalSize` (and its answer counts
the evictions), and the server's RSS, sampled after each reset, stays flat after warm-up.
Invalid traffic goes to a second account that is never reset, so state kept per refusal
(the contract report) would show as growth too.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import pytest
import yaml

from emay_mock.protocol import envelope
from emay_mock.protocol.sign import make_sign
from tests.e2e.process import serve
from tests.wire.simple_helpers import stamp

TOTAL = 100_000
SEGMENT = 10_000
WARM_UP = 30_000
JOURNAL_SIZE = 2_000
CONNECTIONS = 32
# RSS sampled after each reset, compared between 30k and 100k requests. Measured: flat within
# 0.1 MB. The per-refusal growth this soak found (one tally per wrong recipient, 5% of the
# traffic) added 3.6 MB over those 70,000 requests; a leak of 30 bytes per request adds 2 MB.
FLAT_MARGIN_MB = 2.0

SENDER = ("EUCP-EMY-SMS1-SOAK1", "0123456789ABCDEF")
INVALID = ("EUCP-EMY-SMS1-SOAK2", "FEDCBA9876543210")


@dataclass
class Planned:
    request: bytes
    code: str
    kind: str


class Plan:
    """Pregenerated requests with the code each must get; fresh windows per segment."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.counter = itertools.count()
        self.time = int(time.time() * 1000)

    def _post(self, path: str, body: bytes, headers: dict[str, str]) -> bytes:
        head = [f"POST {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body

    def secure(self, endpoint: str, payload: dict[str, Any], account: tuple[str, str] = SENDER) -> bytes:
        self.time += 1  # unique requestTime: never a replay
        body = {**payload, "requestTime": self.time, "requestValidPeriod": 600}
        data = envelope.encode_request(body, account[1].encode(), gzip_on=False)
        return self._post(f"/inter/{endpoint}", data, {"appId": account[0], "encode": "UTF-8"})

    def simple(
        self, path: str, params: dict[str, str], account: tuple[str, str] = SENDER, **sign: str
    ) -> bytes:
        ts = stamp()
        signed = {"appId": account[0], "timestamp": ts, "sign": make_sign(account[0], account[1], ts), **sign}
        body = urlencode({**params, **signed}).encode()
        return self._post(path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def one(self) -> Planned:
        i = next(self.counter)
        slot = i % 20
        mobile = f"139{i % 100_000_000:08d}"
        if slot < 7:
            return Planned(
                self.secure("sendSingleSMS", {"mobile": mobile, "content": f"code {i}"}), "SUCCESS", "single"
            )
        if slot < 9:
            smses = [{"mobile": f"137{(i * 10 + k) % 100_000_000:08d}"} for k in range(10)]
            return Planned(
                self.secure("sendBatchSMS", {"smses": smses, "content": "batch"}), "SUCCESS", "batch"
            )
        if slot < 11:
            return Planned(self.secure("getReport", {}), "SUCCESS", "getReport")
        if slot == 11:
            return Planned(self.secure("getMo", {"number": 10}), "SUCCESS", "getMo")
        if slot == 12:
            return Planned(self.secure("getBalance", {}), "SUCCESS", "getBalance")
        if slot == 13:
            params = {"mobiles": mobile, "content": f"simple {i}"}
            return Planned(self.simple("/simpleinter/sendSMS", params), "SUCCESS", "simple-send")
        if slot == 14:
            return Planned(self.simple("/simpleinter/getReport", {}), "SUCCESS", "simple-report")
        if slot == 15:
            return Planned(self.simple("/voice/getBalance", {}), "SUCCESS", "voice-balance")
        if slot == 16:
            garbage = self._post("/inter/sendSingleSMS", b"\x01" * 33, {"appId": INVALID[0]})
            return Planned(garbage, "ERROR_ENCRYPTION", "invalid")
        if slot == 17:
            return Planned(
                self.simple("/simpleinter/getBalance", {}, INVALID, sign="0" * 32), "ERROR_SIGN", "invalid"
            )
        if slot == 18:
            # A different wrong recipient every time: whatever the mock keeps per refusal must be bounded.
            params = {f"+9{i}": "x"}
            request = self.simple("/simpleinter/sendPersonalitySMS", params, INVALID)
            return Planned(request, "ERROR_MOBILE_ERROR", "invalid")
        return Planned(self.secure("getBalance", {}, ("EUCP-NOBODY", SENDER[1])), "ERROR_APPID", "invalid")


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, planned: Planned) -> str:
    writer.write(planned.request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    if status != 200:
        return f"HTTP {status}"
    if "result" in headers:
        return headers["result"]
    return str(json.loads(body)["code"])


async def run_segment(url: str, plan: Iterator[Planned], tally: Counter[str]) -> None:
    parts = urlsplit(url)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            for planned in plan:
                got = await _exchange(reader, writer, planned)
                tally[
                    planned.kind if got == planned.code else f"{planned.kind}: {got} != {planned.code}"
                ] += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.soak
async def test_100k_mixed_requests_keep_the_journal_bounded_and_memory_flat(tmp_path: Path) -> None:
    config = tmp_path / "soak.yaml"
    config.write_text(yaml.safe_dump({
        "server": {"journalSize": JOURNAL_SIZE},
        "accounts": [
            {"appId": SENDER[0], "secretKey": SENDER[1], "balance": 10**12},
            {"appId": INVALID[0], "secretKey": INVALID[1], "balance": 10**12},
        ],
    }))  # fmt: skip
    async with (
        serve(["--config", str(config), "--log-level", "error"]) as served,
        aiohttp.ClientSession() as http,
    ):
        host = urlsplit(served.url).netloc
        plan = Plan(host)
        tally: Counter[str] = Counter()
        rss: dict[int, float] = {}
        sent = 0
        while sent < TOTAL:
            async with http.get(f"{served.url}/_mock/journal", params={"limit": "1"}) as resp:
                before = await resp.json()
            segment = [plan.one() for _ in range(SEGMENT)]
            await run_segment(served.url, iter(segment), tally)
            sent += SEGMENT
            async with http.get(f"{served.url}/_mock/journal", params={"limit": "1"}) as resp:
                after = await resp.json()
            # At its bound, and every request beyond it counted as an eviction.
            assert after["size"] == after["capacity"] == JOURNAL_SIZE
            assert after["recorded"] - before["recorded"] == SEGMENT
            assert after["evicted"] - before["evicted"] == before["size"] + SEGMENT - JOURNAL_SIZE
            async with http.post(f"{served.url}/_mock/reset", json={"appId": SENDER[0]}) as resp:
                assert resp.status == 200
            rss[sent] = rss_mb(served.process.pid)
        async with http.get(f"{served.url}/_mock/health") as resp:
            assert resp.status == 200
        async with http.get(f"{served.url}/_mock/contract", params={"appId": INVALID[0]}) as resp:
            contract = await resp.json()
    # 15,000 refusals, 5,000 naming a different wrong recipient each: all counted, in bounded kinds.
    refused = {(r["code"], r["field"]): r["count"] for r in contract["refusals"]}
    assert sum(refused.values()) == 3 * TOTAL // 20
    assert len(refused) <= 200, len(refused)  # MAX_REFUSAL_KINDS plus one "(other fields)" per code
    wrong = {kind: n for kind, n in tally.items() if "!=" in kind}
    assert wrong == {}
    assert sum(tally.values()) == TOTAL
    growth = rss[TOTAL] - rss[WARM_UP]
    assert growth < FLAT_MARGIN_MB, f"RSS after each 10k requests (MB): {rss}"
