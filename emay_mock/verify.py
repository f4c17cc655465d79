"""`emay-mock verify`: one account's traffic judged after a client's test run, for any CI.

It reads the running mock's contract report and outcomes over the control API and says
whether the client deviated or was refused without a test asking for it, as a line for a
person, JSON, or a JUnit XML file for a CI's test reporter.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

from emay_mock.control_auth import Credentials

TIMEOUT_S = 10.0


class VerifyError(Exception):
    """What stops a verdict: one line for the person reading the CI log (exit 2)."""


@dataclass
class Failure:
    kind: str
    message: str
    journal_id: int | None
    count: int = 1
    diagnosis: str | None = None
    what: str = "deviation"  # deviation | refusal

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "message": self.message, "journalId": self.journal_id}
        if self.diagnosis is not None:
            out["diagnosis"] = self.diagnosis
        return out


@dataclass
class Verdict:
    app_id: str
    contract: dict[str, Any]
    outcomes: dict[str, Any]
    failures: list[Failure] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)  # refusals a test asked for

    @property
    def clean(self) -> bool:
        return not self.failures

    def as_json(self) -> dict[str, Any]:
        return {
            "appId": self.app_id,
            "clean": self.clean,
            "failures": [f.as_dict() for f in self.failures],
            "outcomes": {
                "seen": self.outcomes["seen"],
                "unseen": self.outcomes["unseen"],
                "howTo": self.outcomes["howTo"],
            },
        }


def fetch(url: str, app_id: str, auth: Credentials | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The account's outcomes and contract report, or VerifyError naming what went wrong."""
    query = urllib.parse.urlencode({"appId": app_id})
    outcomes = _get(url, f"/_mock/outcomes?{query}", auth, app_id)
    contract = _get(url, f"/_mock/contract?{query}", auth, app_id)
    return outcomes, contract


def _get(base: str, path: str, auth: Credentials | None, app_id: str) -> dict[str, Any]:
    request = urllib.request.Request(base.rstrip("/") + path, headers={"Accept": "application/json"})
    if auth is not None:
        request.add_header("Authorization", auth.header())
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as resp:
            body = resp.read()
    except urllib.error.HTTPError as exc:
        error = _error_text(exc.read())
        if exc.code == 401:
            raise VerifyError(
                f"the mock at {base} wants control credentials: give --control-auth USER:PASSWORD "
                "(or set EMAY_MOCK_CONTROL_AUTH)"
                if auth is None
                else f"the mock at {base} refused the control credentials given"
            ) from None
        if exc.code == 404 and "/_mock/outcomes" in path:
            raise VerifyError(f"the mock at {base} has no account {app_id!r}") from None
        raise VerifyError(f"{path.split('?')[0]} answered HTTP {exc.code}: {error}") from None
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise VerifyError(f"cannot reach the mock at {base}: {reason}") from None
    try:
        data = json.loads(body)
    except ValueError:
        raise VerifyError(f"{base}{path.split('?')[0]} did not answer JSON: is this an emay-mock?") from None
    if not isinstance(data, dict):
        raise VerifyError(f"{base}{path.split('?')[0]} answered something other than a JSON object")
    return data


def _error_text(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace")
    return str(data.get("error", data)) if isinstance(data, dict) else str(data)


def judge(app_id: str, contract: dict[str, Any], outcomes: dict[str, Any], expect: Iterable[str]) -> Verdict:
    """Deviations and refusals no test asked for are failures; `expect`: codes a team accepts too."""
    verdict = Verdict(app_id, contract, outcomes)
    accepted = set(expect)
    for d in contract.get("deviations", []):
        example = d.get("example") or {}
        diagnosis = example.get("diagnosis")
        named = f"{d['kind']} ({diagnosis})" if diagnosis else d["kind"]
        message = f"{named}: {example.get('message') or d.get('means')}{_where(example, d['count'])}"
        verdict.failures.append(Failure(d["kind"], message, example.get("journalId"), d["count"], diagnosis))
    for r in contract.get("refusals", []):
        if r["code"] in accepted:
            verdict.accepted.append(r)
            continue
        example = r.get("example") or {}
        diagnosis = (example.get("diagnosis") or {}).get("kind")
        kind = r["code"] if r.get("field") is None else f"{r['code']} on {r['field']}"
        named = f"{kind} ({diagnosis})" if diagnosis else kind
        message = f"{named}: {example.get('reason')}{_where(example, r['count'])}"
        verdict.failures.append(
            Failure(r["code"], message, example.get("journalId"), r["count"], diagnosis, "refusal")
        )
    return verdict


def _where(example: dict[str, Any], count: int) -> str:
    subject = ""
    if example.get("smsId"):
        subject = f", smsId {example['smsId']}"
    elif example.get("mobile"):
        subject = f", mobile {example['mobile']}"
    times = f"; {count} times in all" if count > 1 else ""
    return f" (journal entry {example.get('journalId')}, {example.get('endpoint')}{subject}{times})"


def summary(verdict: Verdict) -> str:
    """A few lines for a person: the verdict, each failure, the outcomes met."""
    o = verdict.outcomes
    lines = [
        f"{verdict.app_id}: {'clean' if verdict.clean else 'not clean'}: "
        f"{len(verdict.failures)} failure{'' if len(verdict.failures) == 1 else 's'}; "
        f"outcomes met {o['met']} of {o['of']}"
    ]
    lines += [f"  FAIL {f.message}" for f in verdict.failures]
    if o["unseen"]:
        shown = ", ".join(o["unseen"][:8]) + (
            f" and {len(o['unseen']) - 8} more" if len(o["unseen"]) > 8 else ""
        )
        lines.append(f"  never met: {shown} (--json tells how to provoke each)")
    return "\n".join(lines)


def junit(verdict: Verdict) -> bytes:
    """JUnit XML: one suite for the account, a case per endpoint used and per kind of failure."""
    suite_name = f"emay-mock contract {verdict.app_id}"
    classname = f"emay-mock.{verdict.app_id}"
    suites = ET.Element("testsuites", name="emay-mock verify")
    suite = ET.SubElement(suites, "testsuite", name=suite_name)
    props = ET.SubElement(suite, "properties")
    o = verdict.outcomes
    ET.SubElement(props, "property", name="appId", value=verdict.app_id)
    ET.SubElement(props, "property", name="outcomes", value=f"met {o['met']} of {o['of']}")
    ET.SubElement(props, "property", name="outcomes.unseen", value=" ".join(o["unseen"]))
    cases = 0
    for endpoint, count in verdict.contract.get("endpoints", {}).items():
        case = ET.SubElement(suite, "testcase", name=f"endpoint {endpoint}", classname=classname, time="0")
        ET.SubElement(case, "system-out").text = f"{count} request{'' if count == 1 else 's'}"
        cases += 1
    for f in verdict.failures:
        name = f"{f.what} {f.kind}" + (f" ({f.diagnosis})" if f.diagnosis else "")
        case = ET.SubElement(suite, "testcase", name=name, classname=classname, time="0")
        failure = ET.SubElement(case, "failure", type=f.diagnosis or f.kind, message=f.message)
        failure.text = f"{f.message}\nSee GET /_mock/journal?appId={verdict.app_id} and docs/contract.md."
        cases += 1
    for r in verdict.accepted:
        ET.SubElement(
            suite, "testcase", name=f"refusal {r['code']} (expected)", classname=classname, time="0"
        )
        cases += 1
    for s in verdict.contract.get("scripted", []):
        ET.SubElement(
            suite, "testcase", name=f"refusal {s['code']} (scripted)", classname=classname, time="0"
        )
        cases += 1
    ET.SubElement(suite, "system-out").text = "\n".join(
        [
            f"outcomes met {o['met']} of {o['of']}",
            *(f"never met {h['outcome']}: {h['how']}" for h in o["howTo"]),
        ]
    )
    failures = str(len(verdict.failures))
    suite.set("tests", str(cases))
    suite.set("failures", failures)
    suite.set("errors", "0")
    suite.set("skipped", "0")
    suite.set("time", "0")
    suite.set("timestamp", time.strftime("%Y-%m-%dT%H:%M:%S"))
    suites.set("tests", str(cases))
    suites.set("failures", failures)
    suites.set("errors", "0")
    ET.indent(suites)
    text: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return text + b"\n"
