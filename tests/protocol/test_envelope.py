"""The secure envelope: raw-key AES/ECB/PKCS5, gzip only with `gzip: on`, charsets, limits."""

from __future__ import annotations

import codecs
import gzip
import json
import zlib

import pytest
from Crypto.Cipher import AES

from emay_mock.protocol import envelope
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError

KEY = b"0123456789ABCDEF"


def java_style_encrypt(key: bytes, data: bytes) -> bytes:
    """What Java's Cipher.getInstance("AES/ECB/PKCS5Padding") with SecretKeySpec(key) produces."""
    pad = 16 - len(data) % 16
    return AES.new(key, AES.MODE_ECB).encrypt(data + bytes([pad]) * pad)


@pytest.mark.parametrize("key", [b"k" * 16, b"k" * 24, b"k" * 32])
def test_key_is_used_raw_for_aes_128_192_256(key: bytes) -> None:
    body = java_style_encrypt(key, gzip.compress(b'{"a":1}'))
    payload, codec, _ = envelope.decode_request(body, key, gzip_on=True, charset=None, inflate_limit=1000)
    assert payload == {"a": 1}
    assert codec == "utf-8"


def test_key_bytes_refuses_other_lengths() -> None:
    with pytest.raises(ValueError, match="got 15"):
        envelope.key_bytes("x" * 15)


def test_a_full_block_of_padding_is_added_when_aligned() -> None:
    data = b"x" * 16
    assert len(envelope.aes_encrypt(KEY, data)) == 32
    assert envelope.aes_decrypt(KEY, envelope.aes_encrypt(KEY, data)) == data


def test_length_not_multiple_of_16_is_error_encryption() -> None:
    with pytest.raises(EmayError) as err:
        envelope.aes_decrypt(KEY, b"x" * 17)
    assert err.value.code is ResultCode.ERROR_ENCRYPTION
    assert "not a multiple of 16" in err.value.reason


def test_wrong_key_is_error_encryption() -> None:
    body = java_style_encrypt(KEY, b'{"requestTime":1}')
    with pytest.raises(EmayError) as err:
        envelope.aes_decrypt(b"FEDCBA9876543210", body)
    assert err.value.code is ResultCode.ERROR_ENCRYPTION


def test_empty_body_is_error_encryption() -> None:
    with pytest.raises(EmayError) as err:
        envelope.aes_decrypt(KEY, b"")
    assert err.value.code is ResultCode.ERROR_ENCRYPTION


def test_gzip_header_with_plain_json_is_error_encryption() -> None:
    body = java_style_encrypt(KEY, b'{"a":1}')
    with pytest.raises(EmayError) as err:
        envelope.decode_request(body, KEY, gzip_on=True, charset=None, inflate_limit=1000)
    assert err.value.code is ResultCode.ERROR_ENCRYPTION


def test_gzip_bomb_is_refused_without_inflating_it() -> None:
    bomb = gzip.compress(b"\0" * 10_000_000)
    assert len(bomb) < 20_000
    with pytest.raises(EmayError) as err:
        envelope.gunzip(bomb, limit=1_000_000)
    assert err.value.code is ResultCode.ERROR_PARAMS
    assert "1000000" in err.value.reason


@pytest.mark.parametrize("charset", ["GBK", "GB2312", "GB18030", "UTF-8"])
def test_request_and_response_use_the_encode_charset(charset: str) -> None:
    data = {"content": "【亿美】您好，验证码 1234"}
    body = envelope.encode_request(data, KEY, gzip_on=False, charset=charset)
    plain = envelope.aes_decrypt(KEY, body)
    assert plain == json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(charset)
    payload, codec, _ = envelope.decode_request(
        body, KEY, gzip_on=False, charset=charset, inflate_limit=10_000
    )
    assert payload == data
    # GBK and GB2312 are read as the clients' platforms write them (below).
    expected = {"GBK": "emay-gbk", "GB2312": "emay-gb2312"}.get(charset, codecs.lookup(charset).name)
    assert codec == expected


@pytest.mark.parametrize("charset", ["GBK", "gbk", "CP936", "GB2312", "EUC-CN"])
def test_gbk_and_gb2312_bodies_are_read_as_java_and_windows_write_the_euro_sign(charset: str) -> None:
    # Java's GBK writes € as A2 E3 (as GB18030 does), Windows' code page 936 as 80; Python's
    # gbk codec reads neither.
    for written in (b"\xa2\xe3", b"\x80"):
        plain = b'{"content":"' + "【测试】".encode("gbk") + written + b'9.9"}'
        body = envelope.aes_encrypt(KEY, plain)
        payload, _, _ = envelope.decode_request(
            body, KEY, gzip_on=False, charset=charset, inflate_limit=10_000
        )
        assert payload == {"content": "【测试】€9.9"}


def test_a_gbk_answer_is_written_as_javas_gbk_reads_it() -> None:
    codec = envelope.resolve_charset("GBK")
    body = envelope.encode_response({"c": "价€😀"}, KEY, gzip_on=False, charset=codec)
    # € as Java's GBK writes and reads it; what GBK has no two bytes for, `?` as Java writes it.
    assert envelope.aes_decrypt(KEY, body) == b'{"c":"' + "价".encode("gbk") + b'\xa2\xe3?"}'
    gb2312 = envelope.encode_response(
        {"c": "价€"}, KEY, gzip_on=False, charset=envelope.resolve_charset("GB2312")
    )
    assert envelope.aes_decrypt(KEY, gb2312) == b'{"c":"' + "价".encode("gb2312") + b'?"}'


def test_a_body_that_is_not_gbk_says_so_at_its_byte_under_the_name_the_client_sent() -> None:
    body = envelope.aes_encrypt(KEY, b'{"c":"\x80\x81\x20"}')
    with pytest.raises(EmayError) as err:
        envelope.decode_request(body, KEY, gzip_on=False, charset="GBK", inflate_limit=10_000)
    assert err.value.code is ResultCode.ERROR_PARAMS
    assert err.value.reason == "decrypted body is not valid GBK at byte 7"


def test_unknown_and_non_text_charsets_are_error_params() -> None:
    for name in ("NOPE-1", "zlib", "base64"):
        with pytest.raises(EmayError) as err:
            envelope.resolve_charset(name)
        assert err.value.code is ResultCode.ERROR_PARAMS
        assert err.value.field == "encode"


def test_response_replaces_characters_the_charset_lacks_like_java() -> None:
    body = envelope.encode_response({"c": "a😀b"}, KEY, gzip_on=False, charset="gbk")
    assert envelope.aes_decrypt(KEY, body) == '{"c":"a?b"}'.encode("gbk")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("[1,2]", "must be an object"),
        ("nope", "not JSON"),
        ("[" * 50_000, "nests too deeply"),
        ("9" * 5000, ""),
    ],
)
def test_bad_json_is_error_params(text: str, why: str) -> None:
    body = envelope.aes_encrypt(KEY, text.encode())
    with pytest.raises(EmayError) as err:
        envelope.decode_request(body, KEY, gzip_on=False, charset=None, inflate_limit=10**6)
    assert err.value.code is ResultCode.ERROR_PARAMS
    assert why in err.value.reason


def test_invalid_bytes_for_the_charset_are_error_params() -> None:
    body = envelope.aes_encrypt(KEY, b'{"a":"\xff\xfe"}')
    with pytest.raises(EmayError) as err:
        envelope.decode_request(body, KEY, gzip_on=False, charset="UTF-8", inflate_limit=1000)
    assert err.value.code is ResultCode.ERROR_PARAMS


@pytest.mark.parametrize("size", [0, 1, 84, 250, 251, 1000, 4095, 4096, 40_000])
def test_gzip_bytes_is_a_standard_gzip_member_at_every_size(size: int) -> None:
    # Small answers are one stored deflate block: any gzip reader (Java's GZIPInputStream is
    # zlib's inflate) must read them, header fields unchanged.
    data = bytes((i * 7919) % 251 for i in range(size // 2)) + b"a" * (size - size // 2)
    out = envelope.gzip_bytes(data)
    # deflate, no flags, mtime 0, no extra flags, OS Unix: the header the old output had.
    assert out[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
    assert gzip.decompress(out) == data
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    assert inflater.decompress(out) == data and inflater.eof and not inflater.unused_data


def test_the_kept_ciphers_give_the_same_bytes_from_several_threads_at_once() -> None:
    import threading

    body = b'{"mobile":"13800000000","content":"' + "中文".encode() * 40 + b'"}'
    expected = AES.new(KEY, AES.MODE_ECB).encrypt(body + bytes([16 - len(body) % 16]) * (16 - len(body) % 16))
    seen: list[bool] = []

    def work() -> None:
        for _ in range(2000):
            out = envelope.aes_encrypt(KEY, body)
            seen.append(out == expected and envelope.aes_decrypt(KEY, out) == body)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 8000 and all(seen)
