"""`emay-mock decrypt | encrypt | sign`: the wire by hand, as a process."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from emay_mock.client import EmayClient
from emay_mock.protocol.sign import make_sign
from emay_mock.server import MockServer
from tests.conftest import SECRET
from tests.e2e.process import run


async def test_encrypt_then_decrypt_round_trips(tmp_path: Path) -> None:
    source = tmp_path / "body.json"
    source.write_text(json.dumps({"mobile": "13800000000", "content": "你好 GBK"}, ensure_ascii=False))
    for flags in ([], ["--gzip"], ["--charset", "GBK"]):
        code, out, _ = await run("encrypt", "--key", SECRET, *flags, str(source))
        assert code == 0
        captured = tmp_path / "captured.b64"
        captured.write_text(out)
        code, out, _ = await run(
            "decrypt", "--key", SECRET, *flags[-2:] if "GBK" in flags else [], str(captured)
        )
        assert code == 0 and json.loads(out) == {"mobile": "13800000000", "content": "你好 GBK"}
    code, out, _ = await run("encrypt", "--key", SECRET, "--hex", str(source))
    hexed = tmp_path / "captured.hex"
    hexed.write_text(out)
    code, out, _ = await run("decrypt", "--key", SECRET, "--format", "hex", str(hexed))
    assert code == 0 and "你好" in out


async def test_decrypt_a_real_answer_captured_from_the_mock(
    client: EmayClient, mock: MockServer, tmp_path: Path
) -> None:
    answer = await client.call("sendSingleSMS", {"mobile": "13800000000", "content": "captured"})
    raw = tmp_path / "answer.bin"
    raw.write_bytes(answer.body)  # gzipped: the client sent gzip: on
    code, out, _ = await run("decrypt", "--key", SECRET, str(raw))
    assert code == 0 and json.loads(out)["smsId"] == answer.data["smsId"]
    b64 = tmp_path / "answer.txt"
    b64.write_text(base64.b64encode(answer.body).decode())
    code, out, _ = await run("decrypt", str(b64), env={"EMAY_SECRET_KEY": SECRET})
    assert code == 0 and json.loads(out)["mobile"] == "13800000000"


async def test_decrypt_explains_a_wrong_key(tmp_path: Path) -> None:
    code, out, _ = await run("encrypt", "--key", SECRET, "-", stdin=b'{"a": 1}')
    body = tmp_path / "b"
    body.write_text(out)
    code, _, err = await run("decrypt", "--key", "FEDCBA9876543210", str(body))
    assert code == 1 and "padding" in err
    code, _, err = await run("decrypt", "--key", "short", str(body))
    assert code == 1 and "16, 24 or 32 bytes" in err


async def test_sign_shows_the_canonical_string_and_the_md5() -> None:
    code, out, _ = await run(
        "sign", "--app-id", "EUCP-X", "--secret-key", SECRET, "--timestamp", "20261125103000"
    )
    expected = make_sign("EUCP-X", SECRET, "20261125103000")
    assert code == 0
    assert f"canonical: EUCP-X{SECRET}20261125103000" in out
    assert f"sign:      {expected}" in out
    assert f"query:     appId=EUCP-X&timestamp=20261125103000&sign={expected}" in out


async def test_every_tool_has_help() -> None:
    for command in ("decrypt", "encrypt", "sign"):
        code, out, _ = await run(command, "--help")
        assert code == 0 and f"usage: emay-mock {command}" in out
