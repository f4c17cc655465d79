"""What is kept of every request to an Emay endpoint, recorded in one step: the journal
entry, the contract tally, the metrics (which count the result codes) and the log line; and the
outcomes the platform delivers later."""

from __future__ import annotations

import logging

from emay_mock.observe import logs
from emay_mock.observe.contract import ContractBook
from emay_mock.observe.journal import Entry, Journal
from emay_mock.observe.outcomes import OutcomeBook

requests_log = logging.getLogger("emay_mock.requests")
_INFO, _WARNING = f"INFO {requests_log.name}", f"WARNING {requests_log.name}"  # a line's head


class Recorder:
    def __init__(self, journal_size: int, lines: logs.GatheringHandler | None = None) -> None:
        """`lines`: where `serve` writes its log lines (`logs.configure`): the request lines go
        straight there, at the levels on when the recorder is made (`serve` sets them once).
        Without it, through the `emay_mock.requests` logger, as any logging set-up wants."""
        self.journal = Journal(journal_size)
        self.contract = ContractBook()
        self.outcomes = OutcomeBook()  # told by the platform what it delivers later
        self.lines = lines
        self._info = requests_log.isEnabledFor(logging.INFO)
        self._warning = requests_log.isEnabledFor(logging.WARNING)

    def record(self, entry: Entry) -> None:
        self.journal.record(entry)
        self.contract.record(entry)  # and what the metrics add up
        code = entry.code
        success = code == "SUCCESS"
        lines = self.lines
        if lines is None:
            if not requests_log.isEnabledFor(logging.INFO if success else logging.WARNING):
                return
        elif not (self._info if success else self._warning):
            return
        tail = "" if entry.reason is None and not entry.notes.items else entry.log_tail()
        tenths = round(entry.latency_ms * 10)  # logs.latency, written out: a line a request
        latency = logs.LATENCIES[tenths] if tenths < 1000 else logs.latency(entry.latency_ms)
        message = f"{entry.family} /{entry.endpoint} appId={entry.app_id} {code} {latency}{tail}"
        if lines is not None:  # `serve`: straight into the lines written together, stamped with its arrival
            lines.add(_INFO if success else _WARNING, message, entry.at)
        else:
            requests_log.log(logging.INFO if success else logging.WARNING, "%s", message)

    def housekeeping(self, endpoint: str, at_ms: int, reason: str) -> None:
        """Something the mock did by itself (retention): in the journal as family `mock`."""
        entry = Entry(family="mock", endpoint=endpoint, method="-", remote=None, at=at_ms, code=None)
        entry.reason = {"reason": reason}
        self.journal.record(entry)
        requests_log.info("mock /%s %s", endpoint, reason)

    def forget(self, app_id: str | None) -> None:
        self.journal.clear(app_id)
        self.contract.forget(app_id)
        self.outcomes.forget(app_id)
