"""The secure family's envelope (§2.1): JSON -> charset -> gzip? -> AES/ECB/PKCS5 with the raw key."""

from __future__ import annotations

import codecs
import gzip
import json
import struct
import threading
import zlib
from functools import lru_cache
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from emay_mock.protocol import diagnose
from emay_mock.protocol.codes import ResultCode
from emay_mock.protocol.errors import EmayError

KEY_LENGTHS = (16, 24, 32)
_BLOCK = 16


def key_bytes(secret_key: str) -> bytes:
    """The account key as AES key bytes: the secretKey's UTF-8 bytes, no hashing."""
    raw = secret_key.encode("utf-8")
    if len(raw) not in KEY_LENGTHS:
        raise ValueError(f"secretKey must be 16, 24 or 32 bytes, got {len(raw)}")
    return raw


_local = threading.local()


def _contexts(key: bytes) -> tuple[Any, Any]:
    """An OpenSSL encrypting and decrypting context per key and thread, kept: ECB carries
    nothing from one block to the next, and every input here is whole blocks, so a context
    fed with `update` alone (never finalized) serves every body; building one costs more
    than a small answer. Per thread, because a context is not safe to share across threads
    (the pytest plugin's mock may run beside a test's own client)."""
    cache: dict[bytes, tuple[Any, Any]] | None = getattr(_local, "contexts", None)
    if cache is None:
        cache = _local.contexts = {}
    found = cache.get(key)
    if found is None:
        if len(cache) >= 1024:
            cache.clear()
        cipher = Cipher(algorithms.AES(key), modes.ECB())
        found = cache[key] = (cipher.encryptor(), cipher.decryptor())
    return found


def aes_encrypt(key: bytes, data: bytes) -> bytes:
    pad = _BLOCK - len(data) % _BLOCK
    out: bytes = _contexts(key)[0].update(data + bytes([pad]) * pad)
    return out


def aes_decrypt(key: bytes, data: bytes) -> bytes:
    if not data:
        raise EmayError(ResultCode.ERROR_ENCRYPTION, "empty body: nothing to decrypt")
    if len(data) % _BLOCK:
        raise EmayError(
            ResultCode.ERROR_ENCRYPTION,
            f"body length {len(data)} is not a multiple of 16: not AES/ECB ciphertext",
        )
    plain: bytes = _contexts(key)[1].update(data)
    pad = plain[-1]
    if not 1 <= pad <= _BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise EmayError(
            ResultCode.ERROR_ENCRYPTION,
            "PKCS5 padding is invalid after decryption: wrong secretKey, or the body is not "
            "AES/ECB/PKCS5Padding",
        )
    return plain[:-pad]


# Deflate cannot expand beyond about 1032:1: a body this much smaller than the limit cannot
# exceed it, and is inflated in one call.
_MAX_RATIO = 1032


def gunzip(data: bytes, limit: int) -> bytes:
    """Inflate at most `limit` bytes: a gzip bomb is refused without being inflated."""
    if len(data) * _MAX_RATIO <= limit:
        try:
            return zlib.decompress(data, 16 + zlib.MAX_WBITS)
        except zlib.error:
            pass  # the stepwise inflater below says what is wrong with it
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise EmayError(
            ResultCode.ERROR_ENCRYPTION,
            f"header gzip: on, but the decrypted body is not gzip: {exc}",
        ) from None
    if len(out) > limit:
        raise EmayError(
            ResultCode.ERROR_PARAMS,
            f"gzip body inflates beyond the {limit}-byte limit; refused without inflating it",
            rule="max-inflated-bytes",
        )
    if not inflater.eof:
        raise EmayError(ResultCode.ERROR_ENCRYPTION, "gzip stream is truncated")
    return out


# Setting up a deflater costs more than compressing a 100-byte answer, and compressing it
# saves a few bytes at most. An answer under _STORED is sent as one "stored" deflate block
# (RFC 1951 §3.2.4) in the gzip wrapper zlib writes (header with mtime 0 and OS Unix,
# CRC-32, size): valid gzip that every inflater reads, made in a twentieth of the time.
_STORED = 1024
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
_SIZES = struct.Struct("<I")
_BLOCK_HEADER = struct.Struct("<BHH")


def gzip_bytes(data: bytes) -> bytes:
    size = len(data)
    if size >= _STORED:
        return zlib.compress(data, level=6, wbits=16 + zlib.MAX_WBITS)
    return b"".join(
        (_GZIP_HEADER, _BLOCK_HEADER.pack(1, size, size ^ 0xFFFF), data,
         _SIZES.pack(zlib.crc32(data)), _SIZES.pack(size))
    )  # fmt: skip


# GBK and GB2312 as the clients' platforms write them, not as Python's codecs do. Java's GBK
# writes `€` as A2 E3 and Windows' (code page 936) as 80; Python's `gbk` reads neither, and
# GB18030, the national standard both extend towards, reads A2 E3. So a body labelled GBK or
# GB2312 is read as GB18030 (plus 80 as `€`), and an answer is written as the client reads
# it: GBK as GB18030's one- and two-byte characters (what Java's GBK knows; `?` for the
# rest, as Java's getBytes writes), GB2312 as GB2312.
GBK_CODEC = "emay-gbk"
GB2312_CODEC = "emay-gb2312"
_AS_WRITTEN = {"gbk": GBK_CODEC, "gb2312": GB2312_CODEC}


def _gb_decode(data: Any, errors: str = "strict", /) -> tuple[str, int]:  # bytes or a memoryview
    return codecs.decode(data, "gb18030", _with_euro(errors)), len(data)


@lru_cache(maxsize=8)
def _with_euro(errors: str) -> str:
    """An error handler: byte 80 (Windows' euro sign, which GB18030 does not use) is `€`;
    anything else goes to the `errors` handler asked for."""
    name = f"emay-euro-{errors}"
    otherwise = codecs.lookup_error(errors)

    def handle(exc: UnicodeError) -> tuple[str | bytes, int]:
        if isinstance(exc, UnicodeDecodeError) and exc.object[exc.start : exc.start + 1] == b"\x80":
            return "€", exc.start + 1
        return otherwise(exc)

    codecs.register_error(name, handle)
    return name


def _gbk_encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
    try:
        return codecs.encode(text, "gbk"), len(text)
    except UnicodeEncodeError:
        pass  # `€` and the other characters Python's gbk lacks, one by one
    out = bytearray()
    for index, char in enumerate(text):
        try:
            written = codecs.encode(char, "gb18030")
        except UnicodeEncodeError:  # a lone surrogate
            written = b""
        if 0 < len(written) <= 2:
            out += written
        elif errors == "strict":
            raise UnicodeEncodeError("gbk", text, index, index + 1, "not a GBK character")
        elif errors == "replace":
            out += b"?"
        elif errors != "ignore":
            raise ValueError(f"{GBK_CODEC}: errors={errors!r} is not supported")
    return bytes(out), len(text)


def _gb2312_encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
    return codecs.encode(text, "gb2312", errors), len(text)


def _search(name: str) -> codecs.CodecInfo | None:
    if name == "emay_gbk":
        return codecs.CodecInfo(_gbk_encode, _gb_decode, name=GBK_CODEC)
    if name == "emay_gb2312":
        return codecs.CodecInfo(_gb2312_encode, _gb_decode, name=GB2312_CODEC)
    return None


codecs.register(_search)


@lru_cache(maxsize=64)
def resolve_charset(name: str | None) -> str:
    """The Python codec for an `encode` header (GBK and GB2312 as clients write them, see
    above); ERROR_PARAMS for unknown or non-text codecs."""
    if name is None or not name.strip():
        return "utf-8"
    try:
        info = codecs.lookup(name.strip())
    except LookupError:
        raise EmayError(
            ResultCode.ERROR_PARAMS, f"header encode: unknown charset {name!r}", field="encode"
        ) from None
    if not getattr(info, "_is_text_encoding", True):
        raise EmayError(
            ResultCode.ERROR_PARAMS,
            f"header encode: {name!r} is not a text charset",
            field="encode",
        )
    return _AS_WRITTEN.get(info.name, info.name)


def read_utf8_json(text: bytes) -> Any:
    """JSON text in UTF-8 that `decode_request` read before, read again (orjson, or the
    standard library for what orjson refuses)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text.decode("utf-8"))


def parse_json_text(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise EmayError(ResultCode.ERROR_PARAMS, "JSON nests too deeply") from None
    except ValueError as exc:
        raise EmayError(ResultCode.ERROR_PARAMS, f"body is not JSON: {exc}") from None


def decode_request(
    body: bytes, key: bytes, *, gzip_on: bool, charset: str | None, inflate_limit: int
) -> tuple[dict[str, Any], str, bytes]:
    """Ciphertext to the request's JSON object, the codec used and the JSON text (decrypted,
    inflated), raising the failing stage's code.

    Stages in order: decrypt and inflate (ERROR_ENCRYPTION), then the `encode` charset and
    the JSON (ERROR_PARAMS).
    """
    try:
        plain = aes_decrypt(key, body)
        if gzip_on:
            plain = gunzip(plain, inflate_limit)
    except EmayError as exc:
        if exc.code is ResultCode.ERROR_ENCRYPTION:
            exc.diagnosis = diagnose.ciphertext(body, key, lambda k, data: _opens(k, data, gzip_on))
        raise
    if not gzip_on and len(plain) > inflate_limit:
        raise EmayError(ResultCode.ERROR_PARAMS, f"body exceeds {inflate_limit} bytes")
    codec = resolve_charset(charset)
    if codec == "utf-8":
        try:
            fast = orjson.loads(plain)
        except orjson.JSONDecodeError:
            pass  # the standard library says what is wrong, and accepts what orjson refuses
        else:
            if isinstance(fast, dict):
                return fast, codec, plain
    try:
        text = plain.decode(codec)
    except UnicodeDecodeError as exc:
        raise EmayError(
            ResultCode.ERROR_PARAMS,
            f"decrypted body is not valid {(charset or '').strip() or codec} at byte {exc.start}",
            field="encode",
        ) from None
    payload = parse_json_text(text)
    if not isinstance(payload, dict):
        raise EmayError(ResultCode.ERROR_PARAMS, f"JSON body must be an object, got {type(payload).__name__}")
    return payload, codec, plain


def _opens(key: bytes, data: bytes, gzip_on: bool) -> bool:
    """Whether `data` decrypts with `key` into what the headers announce: gzip, or a JSON object."""
    try:
        plain = aes_decrypt(key, data)
    except EmayError:
        return False
    return plain.startswith(b"\x1f\x8b") if gzip_on else plain.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


# json.dumps with non-default options builds a new JSONEncoder on every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dump_json(obj: Any) -> str:
    """Compact JSON, non-ASCII as it is (what the vendor's examples and clients show)."""
    try:
        return orjson.dumps(obj).decode("utf-8")
    except TypeError:  # what orjson will not write (a lone surrogate, a huge int): as before
        return _ENCODER.encode(obj)


def json_bytes(obj: Any, charset: str = "utf-8") -> bytes:
    """dump_json in a charset; characters it lacks become '?', as Java's getBytes does."""
    if charset == "utf-8":
        try:
            return orjson.dumps(obj)
        except TypeError:
            pass
    return _ENCODER.encode(obj).encode(charset, errors="replace")


def encode_response(obj: Any, key: bytes, *, gzip_on: bool, charset: str) -> bytes:
    """The answer body: JSON in the request's charset, gzip if the request had it, AES."""
    data = json_bytes(obj, charset)
    if gzip_on:
        data = gzip_bytes(data)
    return aes_encrypt(key, data)


def encode_request(obj: Any, key: bytes, *, gzip_on: bool, charset: str = "utf-8") -> bytes:
    """What a client sends (GBK as Java writes it); the same envelope as a response."""
    return encode_response(obj, key, gzip_on=gzip_on, charset=resolve_charset(charset))


def decode_response(body: bytes, key: bytes, *, gzip_on: bool, charset: str = "utf-8") -> Any:
    plain = aes_decrypt(key, body)
    if gzip_on:
        plain = gzip.decompress(plain)
    return json.loads(plain.decode(resolve_charset(charset)))
