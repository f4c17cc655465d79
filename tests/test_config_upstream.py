"""Upstream and replay accounts in the configuration: off unless written, checked at load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emay_mock.config import ConfigError, load, parse_account
from emay_mock.settings import AccountSpec, UpstreamSettings
from emay_mock.store.accounts import spec_from_json, spec_to_json

ACCOUNT = "accounts:\n  - appId: EUCP-EMY-SMS1-TEST1\n    secretKey: 0123456789ABCDEF\n"


def problems(tmp_path: Path, extra: str) -> list[str]:
    path = tmp_path / "emay.yaml"
    path.write_text(ACCOUNT + extra, "utf-8")
    with pytest.raises(ConfigError) as caught:
        load(path)
    return [p.split(": ", 1)[1] for p in caught.value.problems]


def test_an_account_forwards_only_when_told(tmp_path: Path) -> None:
    path = tmp_path / "emay.yaml"
    path.write_text(
        ACCOUNT + "    upstream: {url: 'http://u:p@platform.example:8080', mode: shadow}\n", "utf-8"
    )
    (spec,) = load(path).accounts
    assert spec.upstream == UpstreamSettings("http://u:p@platform.example:8080", "shadow", 10.0)
    assert spec.upstream.shown_url == "http://platform.example:8080"
    assert parse_account({"appId": "A", "secretKey": "0123456789ABCDEF"}).upstream is None


def test_upstream_and_replay_mistakes_are_named(tmp_path: Path) -> None:
    assert problems(tmp_path, "    upstream: {url: ftp://x, mode: mirror}\n") == [
        "accounts[0].upstream.mode: 'mirror' is not one of ['passthrough', 'shadow']",
        "accounts[0].upstream.url: 'ftp://x' does not match '^https?://'",
    ]
    found = problems(tmp_path, "    replay: missing.jsonl\n")
    assert found == [f"accounts[0].replay: no such recording: {(tmp_path / 'missing.jsonl').absolute()}"]
    (tmp_path / "r.jsonl").write_text('{"family": "secure"}\n', "utf-8")
    (both,) = problems(tmp_path, "    replay: r.jsonl\n    upstream: {url: 'http://x'}\n")[:1]
    assert both == "accounts[0].replay: an account answers either upstream or from a recording: not both"
    (invalid,) = problems(tmp_path, "    replay: r.jsonl\n")
    assert (
        invalid.startswith("accounts[0].replay: invalid recording:")
        and "r.jsonl:1: endpoint: missing" in invalid
    )


def test_a_stored_account_keeps_its_upstream() -> None:
    spec = AccountSpec(
        "A", "0123456789ABCDEF", upstream=UpstreamSettings("http://x", "shadow", 2.5), replay=None
    )
    assert spec_from_json(spec_to_json(spec)) == spec
    assert json.loads(spec_to_json(spec))["upstream"]["mode"] == "shadow"


def test_a_replay_name_no_file_can_have_is_refused_not_crashed_on() -> None:
    for name in ("x" * 5000, "a\0b"):
        with pytest.raises(ConfigError) as caught:
            parse_account({"appId": "A", "secretKey": "0123456789ABCDEF", "replay": name})
        (problem,) = caught.value.problems
        assert problem.startswith(("replay: not a usable file name", "replay: no such recording"))
