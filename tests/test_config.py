"""The configuration file: accepted whole, or refused naming the file, the line, the key, the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from emay_mock.config import ConfigError, load, parse_account
from tests.conftest import ROOT

GOOD = """\
server:
  reportDelaySeconds: 2
clock:
  speed: 60
accounts:
  - appId: EUCP-EMY-SMS1-TEST1
    secretKey: 0123456789ABCDEF
    balance: 100000
    allowedIps: [127.0.0.1, 10.0.0.0/8]
    maxRequestsPerSecond: 0
    retrieveReport: true
    voice: true
    push:
      reportUrl: http://127.0.0.1:9000/emay/report
      moUrl: http://127.0.0.1:9000/emay/mo
      mode: encrypted
  - appId: EUCP-EMY-SMS1-TEST2
    secretKey: 0123456789ABCDEF01234567
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "emay.yaml"
    path.write_text(text, "utf-8")
    return path


def config_problems(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load(path)
    assert all(p.startswith(f"{path}:") for p in err.value.problems)
    return err.value.problems


def test_the_interface_example_loads(tmp_path: Path) -> None:
    config = load(write(tmp_path, GOOD))
    first, second = config.accounts
    assert first.app_id == "EUCP-EMY-SMS1-TEST1" and first.balance == 100000
    assert first.allowed_ips == ("127.0.0.1", "10.0.0.0/8")
    assert first.push is not None and first.push.mode == "encrypted"
    assert first.push.retry_schedule == (10.0, 60.0, 600.0)
    assert second.push is None and second.retrieve_report and second.voice
    assert config.settings.report_delay_ms == 2000
    assert config.settings.clock_speed == 60


def test_template_review_is_auto_unless_manual(tmp_path: Path) -> None:
    config = load(
        write(tmp_path, GOOD.replace("    voice: true\n", "    voice: true\n    templateReview: manual\n"))
    )
    assert [a.template_review for a in config.accounts] == ["manual", "auto"]
    (p,) = config_problems(
        tmp_path, GOOD.replace("    voice: true\n", "    voice: true\n    templateReview: later\n")
    )
    assert "templateReview" in p


def test_control_auth_is_read_and_a_malformed_one_is_not_echoed(tmp_path: Path) -> None:
    config = load(write(tmp_path, GOOD.replace("server:\n", "server:\n  controlAuth: team:pa:ss\n")))
    assert config.control_auth is not None and config.control_auth.user == "team"
    assert config.control_auth.password == "pa:ss"
    assert load(write(tmp_path, GOOD)).control_auth is None
    (p,) = config_problems(tmp_path, GOOD.replace("server:\n", "server:\n  controlAuth: hunter2\n"))
    assert "server.controlAuth: must be USER:PASSWORD" in p and "hunter2" not in p


def test_unknown_key_is_named_with_its_line(tmp_path: Path) -> None:
    (p,) = config_problems(tmp_path, GOOD.replace("    voice: true\n", "    voice: true\n    balanse: 5\n"))
    assert ":13: accounts[0].balanse: unknown key" in p


def test_wrong_type(tmp_path: Path) -> None:
    (p,) = config_problems(tmp_path, GOOD.replace("balance: 100000", "balance: lots"))
    assert ":8: accounts[0].balance: 'lots' is not of type 'integer'" in p


def test_key_of_15_bytes_is_refused_without_echoing_it(tmp_path: Path) -> None:
    (p,) = config_problems(
        tmp_path, GOOD.replace("secretKey: 0123456789ABCDEF\n", "secretKey: 0123456789ABCDE\n", 1)
    )
    assert ":7: accounts[0].secretKey: must be 16, 24 or 32 bytes (AES-128/192/256), got 15" in p
    assert "0123456789ABCDE" not in p


def test_duplicate_app_id(tmp_path: Path) -> None:
    (p,) = config_problems(tmp_path, GOOD.replace("EUCP-EMY-SMS1-TEST2", "EUCP-EMY-SMS1-TEST1"))
    assert ":17: accounts[1].appId: duplicate appId 'EUCP-EMY-SMS1-TEST1' (also accounts[0])" in p


def test_unreadable_yaml(tmp_path: Path) -> None:
    (p,) = config_problems(tmp_path, GOOD + "  - appId: [oops\n")
    assert "not valid YAML" in p


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    (p,) = config_problems(
        tmp_path, GOOD.replace("    balance: 100000\n", "    balance: 100000\n    balance: 5\n")
    )
    assert ":9: accounts[0].balance: duplicate key" in p


def test_bad_ip_bad_regex_bad_zone_and_bad_url_are_all_reported_together(tmp_path: Path) -> None:
    text = GOOD.replace("[127.0.0.1, 10.0.0.0/8]", "[not-an-ip]").replace(
        "  reportDelaySeconds: 2\n",
        "  reportDelaySeconds: 2\n  mobilePattern: '(['\n  timezone: Mars/Olympus\n",
    )
    found = config_problems(tmp_path, text.replace("reportUrl: http://", "reportUrl: ftp://"))
    joined = "\n".join(found)
    assert "accounts[0].push.reportUrl: 'ftp://" in joined
    assert "accounts[0].allowedIps[0]: 'not-an-ip' is not an IP address or CIDR" in joined
    assert "server.mobilePattern: not a valid regular expression" in joined
    assert "server.timezone: unknown time zone 'Mars/Olympus'" in joined


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path / "nope.yaml")
    assert err.value.problems == [f"{tmp_path / 'nope.yaml'}: no such file"]


def test_missing_scenario_file(tmp_path: Path) -> None:
    (p,) = config_problems(tmp_path, GOOD + "scenarios:\n  - nope.yaml\n")
    assert "scenarios[0]: no such scenario file" in p


def test_posted_account_uses_the_same_rules() -> None:
    with pytest.raises(ConfigError) as err:
        parse_account({"appId": "X", "secretKey": "short", "colour": "red"})
    joined = "\n".join(err.value.problems)
    assert "colour" in joined
    with pytest.raises(ConfigError) as err:
        parse_account({"appId": "X", "secretKey": "123456789012345"})
    assert err.value.problems == ["secretKey: must be 16, 24 or 32 bytes (AES-128/192/256), got 15"]
    assert parse_account({"appId": "X", "secretKey": "1234567890123456"}).app_id == "X"


def test_the_documented_configuration_example_loads_with_the_defaults_it_shows(tmp_path: Path) -> None:
    import re

    from emay_mock.settings import Settings

    page = (ROOT / "docs" / "configuration.md").read_text("utf-8")
    section = page[page.index("## The file") :]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match
    config = load(write(tmp_path, match.group(1)))
    (account,) = config.accounts
    assert account.push is not None and account.push.retry_schedule == (10.0, 60.0, 600.0)
    assert account.push.timeout_s == 5 and not account.strict
    assert config.db is None  # `db: null`, as shown: in memory
    assert config.settings == Settings()  # "the defaults are shown"


def test_a_config_file_that_cannot_be_read_says_what_is_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root reads a mode-000 file anyway: the refusal the kernel gives anyone else, made here.
    path = write(tmp_path, GOOD)

    def refused(self: Path, *args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", refused)
    with pytest.raises(ConfigError) as err:
        load(path)
    assert err.value.problems == [f"{path}: not readable: permission denied (check its mode and owner)"]


def test_a_config_file_that_is_not_text_is_refused_as_such(tmp_path: Path) -> None:
    path = tmp_path / "emay.yaml"
    path.write_bytes(b"accounts:\n\xff\xfe\n")
    with pytest.raises(ConfigError) as err:
        load(path)
    assert err.value.problems == [f"{path}: not UTF-8 text (byte 10): is it the YAML file?"]


def test_an_unquoted_number_where_text_belongs_is_refused_with_its_quotes_and_no_key_echoed(
    tmp_path: Path,
) -> None:
    problems = config_problems(tmp_path, "accounts:\n  - appId: 12345\n    secretKey: 1234567890123456\n")
    assert [p.split(": ", 1)[1] for p in problems] == [
        "accounts[0].appId: 12345 is read by YAML as a number, not text; quote it: appId: '12345'",
        "accounts[0].secretKey: must be a string of 16, 24 or 32 bytes: YAML reads it as a number; "
        "put it in quotes",
    ]
    assert "1234567890123456" not in "\n".join(problems)
