"""The contract report: what a client did that the vendor document does not allow.

Counted per appId from every journal entry as it is recorded, independent of the
journal's ring buffer, so a long run forgets nothing. Kept small by construction: one
tally per kind of oddity, refusal or diagnosis, each with its count and first example.

A run is *clean* when it has no deviation and no refusal but those scenarios scripted:
what official clients do is observed, never held against the client.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from emay_mock.observe.answers import BUCKETS_MS, Answered, Key, add_up
from emay_mock.observe.journal import Entry
from emay_mock.protocol.notes import CAUTIONS, OFFICIAL_HABITS, Deviation, Observation

MAX_APPS = 1000
OTHER_APPS = "(other)"
# A refusal names its field, and some field names come from the client (a simple-family
# recipient is a parameter named by its mobile): past this many kinds per code, the rest
# are counted together.
MAX_REFUSAL_KINDS = 100
OTHER_FIELDS = "(other fields)"
NO_APP = "(no appId)"

_NOTE_HELP = {
    Deviation.REQUEST_TIME_FUTURE.value: "requestTime is far in the future (clock skew, or .NET ticks)",
    Deviation.REQUEST_TIME_FLOAT.value: "requestTime sent as a float; the document says long",
    Deviation.NUMBER_AS_STRING.value: "a number sent as a JSON string (other than the envelope's digits)",
    Deviation.STRING_AS_NUMBER.value: "a string field sent as a JSON number",
    Deviation.MOBILE_PREFIX.value: "a mobile with a +86 / 0086 / 86 prefix",
    Deviation.SIGN_UPPERCASE.value: "the md5 sign in upper-case hex",
    Deviation.UNKNOWN_FIELD.value: "a field the document does not define, with a value",
    Deviation.EMPTY_MOBILE_ITEM.value: "empty entries in a mobile list (stray commas)",
    Observation.NULL_FIELD.value: "a field sent as null, defined by the endpoint or not (the official SDK "
    "serialises every field of its request classes)",
    Observation.ENVELOPE_NUMBER_AS_STRING.value: "requestTime or requestValidPeriod sent as a string of "
    "digits (the official template demo builds them from a string map)",
    Observation.EMPTY_OPTIONAL.value: 'an optional field sent as "" (SDK consumers send timerTime: "")',
    Observation.MISSING_ENCODE.value: "no encode header: UTF-8 assumed (allowed)",
    Observation.CONTENT_TYPE.value: "an unusual Content-Type",
    Observation.PARAM_IN_QUERY_AND_BODY.value: "a parameter in both the query string and the body",
    Observation.EMPTY_PARAM.value: "an optional parameter sent empty",
    Observation.TEMPLATE_INSTANT_REVIEW.value: "a template used seconds after its creation: it works "
    "here only because the mock reviews templates at once",
}


@dataclass
class Tally:
    count: int = 0
    example: dict[str, Any] | None = None

    def add(self, example: dict[str, Any]) -> None:
        self.count += 1
        if self.example is None:
            self.example = example


@dataclass
class AppContract:
    # By (family, endpoint, code): the endpoints used, the outcomes answered and their
    # latencies (what the metrics add up), counted once.
    answers: dict[Key, Answered] = field(default_factory=dict)
    # Codes a console action made expected (a balance set to 0): refusals with them are scripted.
    expected: dict[str, str] = field(default_factory=dict)
    notes: dict[tuple[str, bool], Tally] = field(default_factory=dict)
    refusals: dict[tuple[str, str], Tally] = field(default_factory=dict)
    scripted: dict[str, Tally] = field(default_factory=dict)
    diagnoses: dict[str, Tally] = field(default_factory=dict)  # by kind: a fixed set (protocol.diagnose)

    @property
    def requests(self) -> int:
        return sum(answered.count for answered in self.answers.values())

    def answer_counts(self) -> dict[Key, int]:
        return {key: answered.count for key, answered in self.answers.items()}

    def diagnose(self, diagnosis: dict[str, str], example: dict[str, Any]) -> None:
        self.diagnoses.setdefault(diagnosis["kind"], Tally()).add({"text": diagnosis["text"], **example})


class ContractBook:
    def __init__(self) -> None:
        self.apps: dict[str, AppContract] = {}
        # The answers of the accounts forgotten (a reset): the metrics' counts never go back.
        self.retired: dict[Key, Answered] = {}

    def _app(self, app_id: str | None) -> AppContract:
        key = app_id or NO_APP
        app = self.apps.get(key)  # not setdefault: an AppContract is not built for every request
        if app is None:
            if len(self.apps) >= MAX_APPS:
                key = OTHER_APPS
            app = self.apps.get(key)
            if app is None:
                app = self.apps[key] = AppContract()
        return app

    def record(self, entry: Entry) -> None:
        app = self.apps.get(entry.app_id)  # type: ignore[arg-type]  # a request's appId, nearly always
        if app is None:
            app = self._app(entry.app_id)
        route = (entry.family, entry.endpoint, entry.code)
        answered = app.answers.get(route)
        if answered is None:
            answered = app.answers[route] = Answered()
        answered.count += 1
        latency_ms = entry.latency_ms
        answered.seconds += latency_ms / 1000
        answered.buckets[bisect_left(BUCKETS_MS, latency_ms)] += 1
        notes = entry.notes.items
        failed = not (entry.code is None or entry.code == "SUCCESS" or entry.reason is None)
        if not (notes or failed):
            return
        where = {"journalId": entry.id, "time": entry.at, "endpoint": entry.endpoint, **_subject(entry)}
        for note in notes:
            example = {**where, "message": note.message}
            if note.diagnosis is not None:
                example["diagnosis"] = note.diagnosis.kind
                app.diagnose(note.diagnosis.as_dict(), example)
            app.notes.setdefault((note.kind, note.deviation), Tally()).add(example)
        if not failed:
            return
        assert entry.reason is not None and entry.code is not None
        detail = entry.reason.get("detail") or {}
        expected = app.expected.get(entry.code)
        if detail.get("rule") == "scenario" or expected is not None:
            reason = str(entry.reason["reason"])
            app.scripted.setdefault(entry.code, Tally()).add(
                {**where, "reason": reason if expected is None else f"{reason} (expected after {expected})"}
            )
            return
        what = str(entry.reason.get("field") or detail.get("rule") or "")
        key = (entry.code, what)
        if key not in app.refusals and len(app.refusals) >= MAX_REFUSAL_KINDS:
            key = (entry.code, OTHER_FIELDS)
        app.refusals.setdefault(key, Tally()).add({**where, **entry.reason})
        if "diagnosis" in entry.reason:
            app.diagnose(entry.reason["diagnosis"], {**where, "message": entry.reason["reason"]})

    def expect(self, app_id: str, code: str, why: str) -> None:
        """A console action made `code` the answer a test wants (a balance set to 0): refusals
        with it from now on are scripted, not held against the client."""
        self._app(app_id).expected[code] = why

    def forget(self, app_id: str | None = None) -> None:
        gone = list(self.apps.values()) if app_id is None else [self.apps.get(app_id)]
        self.retired = add_up([self.retired, *(app.answers for app in gone if app is not None)])
        if app_id is None:
            self.apps.clear()
        else:
            self.apps.pop(app_id, None)

    def answered(self) -> dict[Key, Answered]:
        """Every account's answers added up, the forgotten ones' included."""
        return add_up([self.retired, *(app.answers for app in self.apps.values())])

    def report(self, app_id: str, strict: bool | None) -> dict[str, Any]:
        app = self.apps.get(app_id, AppContract())
        endpoints: Counter[str] = Counter()
        for (family, endpoint, _), answered in app.answers.items():
            endpoints[f"{family}/{endpoint}"] += answered.count
        deviations = [_note(kind, tally, strict=True) for (kind, dev), tally in app.notes.items() if dev]
        observations = [
            _note(kind, tally, strict=False) for (kind, dev), tally in app.notes.items() if not dev
        ]
        refusals = [
            {"code": code, "field": what or None, "count": t.count, "example": t.example}
            for (code, what), t in sorted(app.refusals.items(), key=lambda kv: -kv[1].count)
        ]
        scripted = [
            {"code": code, "count": t.count, "example": t.example} for code, t in app.scripted.items()
        ]
        diagnoses = [
            {"kind": kind, "count": t.count, "example": t.example}
            for kind, t in sorted(app.diagnoses.items(), key=lambda kv: -kv[1].count)
        ]
        deviations.sort(key=lambda d: -d["count"])
        observations.sort(key=lambda d: -d["count"])
        clean = not deviations and not refusals
        summary = _summary(deviations, observations, refusals, scripted)
        return {
            "appId": app_id,
            "strict": strict,
            "requests": app.requests,
            "endpoints": dict(endpoints.most_common()),
            "clean": clean,
            "summary": summary,
            "explanation": _explanation(clean, summary, deviations, refusals),
            "deviations": deviations,
            "observations": observations,
            "refusals": refusals,
            "scripted": scripted,
            "diagnoses": diagnoses,
        }


def _note(kind: str, tally: Tally, *, strict: bool) -> dict[str, Any]:
    return {
        "kind": kind,
        "means": _NOTE_HELP.get(kind, kind),
        "category": "deviation" if strict else _category(kind),
        "count": tally.count,
        "refusedInStrictMode": strict,
        "example": tally.example,
    }


def _category(kind: str) -> str:
    if kind in OFFICIAL_HABITS:
        return "official-client habit"
    return "caution" if kind in CAUTIONS else "permitted by the document"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _summary(
    deviations: list[dict[str, Any]],
    observations: list[dict[str, Any]],
    refusals: list[dict[str, Any]],
    scripted: list[dict[str, Any]],
) -> str:
    """One line: deviations, what was observed (official habits first), refusals by code."""
    if deviations:
        times = sum(d["count"] for d in deviations)
        parts = [
            f"{_plural(len(deviations), 'kind', 'kinds')} of deviation ({_plural(times, 'time', 'times')}) "
            "that a stricter platform would refuse"
        ]
    else:
        parts = ["no deviations"]
    by_category = Counter(o["category"] for o in observations)
    if habits := by_category["official-client habit"]:
        parts.append(f"{_plural(habits, 'kind of official-client habit', 'kinds of official-client habits')}"
                     " observed")  # fmt: skip
    if permitted := by_category["permitted by the document"]:
        parts.append(f"{_plural(permitted, 'other allowed oddity', 'other allowed oddities')} observed")
    cautions = [o["kind"] for o in observations if o["category"] == "caution"]
    if cautions:
        parts.append(f"{_plural(len(cautions), 'caution', 'cautions')}: {', '.join(cautions)}")
    if refusals:
        codes: Counter[str] = Counter()
        for refusal in refusals:
            codes[refusal["code"]] += refusal["count"]
        listed = ", ".join(f"{n} × {code}" for code, n in codes.most_common())
        parts.append(f"{_plural(codes.total(), 'refusal', 'refusals')} ({listed})")
    if scripted:
        count = sum(s["count"] for s in scripted)
        parts.append(f"{_plural(count, 'refusal', 'refusals')} scripted by scenarios")
    return "; ".join(parts)


def _explanation(
    clean: bool, summary: str, deviations: list[dict[str, Any]], refusals: list[dict[str, Any]]
) -> str:
    """What `assert_clean()` fails with: the summary, then each deviation and refusal with its example."""
    lines = [f"{'clean' if clean else 'not clean'}: {summary}"]
    for d in deviations:
        example = d["example"] or {}
        lines.append(
            f"- deviation {d['kind']} ({_plural(d['count'], 'time', 'times')}), e.g. journal entry "
            f"{example.get('journalId')} ({example.get('endpoint')}): {example.get('message')}"
        )
    for r in refusals:
        example = r["example"] or {}
        what = r["code"] if r["field"] is None else f"{r['code']} on {r['field']}"
        lines.append(
            f"- refusal {what} ({_plural(r['count'], 'time', 'times')}), e.g. journal entry "
            f"{example.get('journalId')} ({example.get('endpoint')}): {example.get('reason')}"
        )
    return "\n".join(lines)


def _subject(entry: Entry) -> dict[str, str]:
    """Whom the request was about, for a failure's message: the smsId it was given, or its mobile."""
    if entry.sms_id_first is not None:
        return {"smsId": str(entry.sms_id_first)}
    request = entry.request_data()
    if not isinstance(request, dict):
        return {}
    mobile = request.get("mobile") or request.get("mobiles")
    if mobile is None:
        items = request.get("smses")
        if isinstance(items, list) and items and isinstance(items[0], dict):
            mobile = items[0].get("mobile")
    if isinstance(mobile, list):
        mobile = mobile[0] if mobile else None
    return {} if mobile is None or isinstance(mobile, dict) else {"mobile": str(mobile)[:40]}
