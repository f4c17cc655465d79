"""The retry walkthrough of docs/push-receivers.md (once the README's), followed to the letter:
its config file, `emay-mock serve`, and each of its curl commands, in order."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import aiohttp

from emay_mock.client import EmayClient
from emay_mock.testing.receiver import Receiver
from tests.conftest import ROOT
from tests.e2e.process import serve

SECTION = "## The retry walkthrough"


def section() -> str:
    page = (ROOT / "docs" / "push-receivers.md").read_text("utf-8")
    start = page.index(SECTION)
    end = page.index("\n## ", start + len(SECTION))
    return page[start:end]


def config_text(text: str, receiver_url: str) -> str:
    match = re.search(r"```yaml\n\s*# emay\.yaml\n(.*?)```", text, re.S)
    assert match, "the section has no emay.yaml"
    lines = match.group(1).splitlines()
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:] for line in lines).replace("http://127.0.0.1:9000", receiver_url)


def curl_commands(text: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Each `curl` line as (method, path and query, JSON body)."""
    found = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("curl "):
            continue
        words = shlex.split(line, comments=True)
        method = words[words.index("-X") + 1] if "-X" in words else "GET"
        body = json.loads(words[words.index("-d") + 1]) if "-d" in words else None
        (target,) = [w for w in words if "localhost:8999" in w]
        found.append((method, target.split("localhost:8999", 1)[1], body))
    return found


async def test_the_retry_walkthrough_works_as_written(tmp_path: Path, receiver: Receiver) -> None:
    text = section()
    path = tmp_path / "emay.yaml"
    path.write_text(config_text(text, receiver.url), "utf-8")
    commands = curl_commands(text)
    assert [(m, p.split("?")[0]) for m, p, _ in commands] == [
        ("POST", "/_mock/clock/advance"),
        ("POST", "/_mock/clock/advance"),
        ("GET", "/_mock/pushes"),
        ("POST", "/_mock/pushes/1/redeliver"),
    ]
    receiver.on("/emay/report", lambda n: (503, "maintenance"))  # "make it fail on purpose"

    async with serve(["--config", str(path)]) as served, aiohttp.ClientSession() as http:

        async def curl(index: int) -> Any:
            method, target, body = commands[index]
            data = None if body is None else json.dumps(body)
            headers = (
                {} if body is None else {"Content-Type": "application/x-www-form-urlencoded"}
            )  # as curl -d
            async with http.request(method, served.url + target, data=data, headers=headers) as resp:
                assert resp.status == 200, await resp.text()
                return await resp.json()

        async with EmayClient(served.url, "EUCP-EMY-SMS1-TEST1", "0123456789ABCDEF") as app:
            sent = await app.send_single_sms("13800000000", "【测试】您的订单已发货")
        await curl(0)
        assert len(receiver.at("/emay/report")) == 1  # "The report is pushed at once"
        await curl(1)
        assert len(receiver.at("/emay/report")) == 4  # "all three retries, in order"
        (batch,) = (await curl(2))["pushes"]
        assert batch["status"] == "dead" and batch["items"][0]["smsId"] == sent["smsId"]
        offsets = [a["sentAtMs"] - batch["attempts"][0]["sentAtMs"] for a in batch["attempts"]]
        assert offsets == [0, 10_000, 70_000, 670_000]
        assert {a["body"] for a in batch["attempts"]} == {"maintenance"}
        receiver.on("/emay/report", lambda n: (200, "success"))  # "once your receiver is fixed"
        fixed = await curl(3)
        assert fixed["status"] == "delivered" and fixed["attempts"][-1]["manual"] is True
        (again,) = receiver.at("/emay/report")[-1].items(b"0123456789ABCDEF")
        assert again["smsId"] == sent["smsId"]  # a retried batch carries the same smsIds
