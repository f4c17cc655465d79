"""`emay-mock decrypt | encrypt | sign`: the wire by hand, as a process."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from emay_mock.client import EmayClient
from emay_mock.protocol.envelope import aes_decrypt, aes_encrypt
from emay_mock.protocol.sign import make_sign
from emay_mock.server import MockServer
from tests.conftest import KEY, SECRET
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
    assert code == 2 and "padding" in err
    code, _, err = await run("decrypt", "--key", "short", str(body))
    assert code == 2 and "16, 24 or 32 bytes" in err


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


@pytest.mark.parametrize("stamp", ["yesterday", "2026-11-25 10:30:00", "20261399103000"])
async def test_sign_refuses_a_timestamp_that_is_not_yyyymmddhhmmss(stamp: str) -> None:
    code, out, err = await run("sign", "--app-id", "EUCP-X", "--secret-key", SECRET, "--timestamp", stamp)
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.strip() == (
        f"emay-mock: --timestamp {stamp!r} is not a time as the simple family writes it: "
        "yyyyMMddHHmmss, Beijing time (e.g. 20261125103000); leave it out for now"
    )


async def test_an_unknown_charset_is_blamed_on_the_flag_the_user_set(tmp_path: Path) -> None:
    body = tmp_path / "body"
    body.write_text(base64.b64encode(encrypt_json({"a": 1})).decode())
    for argv, stdin in ((["encrypt", "-"], b'{"a": 1}'), (["decrypt", str(body)], None)):
        code, out, err = await run(*argv, "--key", SECRET, "--charset", "NOPE", stdin=stdin)
        assert code == 2 and out == "" and "header" not in err
        assert err.strip() == (
            "emay-mock: --charset 'NOPE' is not a charset Python knows (UTF-8, GBK, GB2312, GB18030, ...)"
        )


async def test_encrypt_refuses_input_that_is_not_json_unless_told_it_is_text() -> None:
    code, out, err = await run("encrypt", "--key", SECRET, stdin=b"not json\n")
    assert code == 2 and out == "" and "Traceback" not in err
    assert "emay-mock: the input is not JSON (Expecting value: line 1 column 1 (char 0))" in err
    assert "give --text to encrypt it as it is" in err
    code, out, _ = await run("encrypt", "--key", SECRET, "--text", "--hex", stdin=b"not json\n")
    assert code == 0 and aes_decrypt(KEY, bytes.fromhex(out.strip())) == b"not json\n"


async def test_decrypt_of_a_gbk_body_without_charset_says_which_flag_to_try(tmp_path: Path) -> None:
    body = tmp_path / "gbk.bin"
    body.write_bytes(aes_encrypt(KEY, '{"content": "【测试】你好"}'.encode("gbk")))
    code, out, err = await run("decrypt", "--key", SECRET, str(body))
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.strip() == (
        "emay-mock: the decrypted body is not UTF-8 at byte 13; it does decode as GB18030: "
        "try --charset GBK (or GB18030)"
    )
    code, out, _ = await run("decrypt", "--key", SECRET, "--charset", "GBK", str(body))
    assert code == 0 and json.loads(out) == {"content": "【测试】你好"}


async def test_a_missing_input_file_or_key_is_one_line_and_exit_2(tmp_path: Path) -> None:
    code, _, err = await run("decrypt", "--key", SECRET, str(tmp_path / "nope.bin"))
    assert (
        code == 2
        and err.strip() == f"emay-mock: cannot read {tmp_path / 'nope.bin'}: No such file or directory"
    )
    code, _, err = await run("encrypt", stdin=b"{}", env={"EMAY_SECRET_KEY": ""})
    assert (
        code == 2
        and err.strip() == "emay-mock: give the secretKey with --key/--secret-key or EMAY_SECRET_KEY"
    )


def encrypt_json(data: object) -> bytes:
    return aes_encrypt(KEY, json.dumps(data).encode())
