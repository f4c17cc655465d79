"""The request journal: one entry per call to an Emay endpoint, in a bounded ring buffer.

An entry is made when a request arrives and filled as it goes: the web layer writes what
the request was and how it was answered, the platform what it did (the notes, the rules
that fired, the smsIds issued, a scripted fault)."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from emay_mock.protocol.envelope import read_utf8_json
from emay_mock.protocol.notes import Notes
from emay_mock.scenarios.outcomes import Fault

_MAX_ITEMS = 20
MAX_TEXT = 500  # the longest string an entry keeps whole
# A request whose JSON text is no longer than this is kept as it is: small by construction.
KEEP_WHOLE = 1024


_SCALARS = (int, float, bool, type(None))


def _small(value: dict[Any, Any]) -> bool:
    """Already within the journal's bounds: a few keys, each a short string or a number."""
    # The keys of parsed JSON or of a form are strings.
    if len(value) > _MAX_ITEMS or max(map(len, value), default=0) > MAX_TEXT:
        return False
    for v in value.values():
        if type(v) is str:
            if len(v) > MAX_TEXT:
                return False
        elif not isinstance(v, _SCALARS):
            return False
    return True


def redact(value: Any, depth: int = 0, *, size: int | None = None) -> Any:
    """A bounded copy for the journal: long arrays and strings are cut, with a marker.

    A request whose text was at most KEEP_WHOLE bytes (`size`), or a small flat object (a
    poll, a form), is kept as it is: the request's own parsed data, which nothing changes
    after it is read."""
    whole = size is not None and size <= KEEP_WHOLE
    if depth == 0 and (whole or (isinstance(value, dict) and _small(value))):
        return value
    if depth > 6:
        return "…"
    if isinstance(value, dict):
        out = {}
        for i, (k, v) in enumerate(value.items()):
            if i >= _MAX_ITEMS * 2:
                out["…"] = f"{len(value) - i} more keys"
                break
            out[str(k)[:MAX_TEXT]] = redact(v, depth + 1)
        return out
    if isinstance(value, list):
        head = [redact(v, depth + 1) for v in value[:_MAX_ITEMS]]
        if len(value) > _MAX_ITEMS:
            head.append(f"… {len(value) - _MAX_ITEMS} more")
        return head
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[:MAX_TEXT] + f"… ({len(value)} chars)"
    return value


@dataclass(slots=True)
class Entry:
    family: str
    endpoint: str
    method: str
    remote: str | None
    at: int
    app_id: str | None = None
    content_type: str | None = None
    request: Any = None  # as decoded, bounded (`redact`), or its UTF-8 JSON text (`request_data`)
    code: str | None = None
    reason: dict[str, Any] | None = None
    notes: Notes = field(default_factory=Notes)
    rules: Sequence[dict[str, Any]] = ()  # the scenario rules that fired, when any did
    # The smsIds a request issued are consecutive numbers: the first and a count keep an entry
    # small whatever the batch size (500 strings per entry would make the journal's memory
    # grow with the recipients, not with the entries).
    sms_id_first: int | None = None
    sms_id_count: int = 0
    latency_ms: float = 0.0
    http_status: int = 200
    fault: Fault | None = None  # what a scenario scripted the answer to do
    # Answered otherwise than by the mock: forwarded (mode, url, what went wrong, the drift)
    # or replayed from a recording (file, matched or not).
    upstream: dict[str, Any] | None = None
    id: int = 0

    def sms_ids(self, limit: int | None = None) -> list[str]:
        if self.sms_id_first is None:
            return []
        shown = self.sms_id_count if limit is None else min(limit, self.sms_id_count)
        return [str(self.sms_id_first + i) for i in range(shown)]

    def issued_sms_id(self, sms_id: str) -> bool:
        if self.sms_id_first is None or not (sms_id.isascii() and sms_id.isdigit()):
            return False
        return self.sms_id_first <= int(sms_id) < self.sms_id_first + self.sms_id_count

    def request_data(self) -> Any:
        """The request as the journal shows it (one kept as its UTF-8 JSON text, read again)."""
        request = self.request
        return read_utf8_json(request) if type(request) is bytes else request

    def log_tail(self) -> str:
        """The end of the request's log line: a refusal's reason, or the diagnoses a success carries."""
        if self.reason:
            return f" reason: {self.reason.get('reason', '')}"
        items = self.notes.items
        if not items:
            return ""
        diagnosed = [n.message for n in items if n.diagnosis is not None]
        return f" note: {'; '.join(diagnosed)}" if diagnosed else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": self.at,
            "family": self.family,
            "endpoint": self.endpoint,
            "method": self.method,
            "remote": self.remote,
            "appId": self.app_id,
            "contentType": self.content_type,
            "request": self.request_data(),
            "code": self.code,
            "reason": self.reason,
            "notes": [n.as_dict() for n in self.notes.items],
            "rules": list(self.rules),
            "smsIds": self.sms_ids(_MAX_ITEMS)
            + ([f"… {self.sms_id_count - _MAX_ITEMS} more"] if self.sms_id_count > _MAX_ITEMS else []),
            "smsIdCount": self.sms_id_count,
            "latencyMs": round(self.latency_ms, 3),
            "httpStatus": self.http_status,
            "fault": None if self.fault is None else self.fault.kind,
            "upstream": self.upstream,
        }


class Journal:
    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: deque[Entry] = deque(maxlen=size)
        self._ids = itertools.count(1)
        self.evicted = 0
        self.recorded = 0

    def record(self, entry: Entry) -> Entry:
        entry.id = next(self._ids)
        if len(self._entries) == self.size:
            self.evicted += 1
        self._entries.append(entry)
        self.recorded += 1
        return entry

    def query(
        self,
        *,
        app_id: str | None = None,
        endpoint: str | None = None,
        code: str | None = None,
        family: str | None = None,
        sms_id: str | None = None,
        since: int | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> list[Entry]:
        """Newest first: entries after `since`, or older than `before` (ids, for paging back)."""
        out: list[Entry] = []
        for entry in reversed(self._entries):
            if since is not None and entry.id <= since:
                break
            if before is not None and entry.id >= before:
                continue
            if app_id is not None and entry.app_id != app_id:
                continue
            if endpoint is not None and entry.endpoint != endpoint:
                continue
            if code is not None and entry.code != code:
                continue
            if family is not None and entry.family != family:
                continue
            if sms_id is not None and not entry.issued_sms_id(sms_id):
                continue
            out.append(entry)
            if len(out) >= limit:
                break
        return out

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self, app_id: str | None = None) -> None:
        if app_id is None:
            self._entries.clear()
            return
        kept = [e for e in self._entries if e.app_id != app_id]
        self._entries.clear()
        self._entries.extend(kept)
