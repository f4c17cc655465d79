"""When checkpoints are written (the file is `store.checkpoint`'s): in the background, a small
step at a time, once enough has changed since the last; at a clean stop, the rest at once.

A checkpoint is taken at one turn of the event loop (the highest msg_id and seq then, and
the last `touched` entry committed), and its messages are then copied a step at a time,
between which requests run. A message that changes after it was taken is noted in
`touched` (its msg_id is covered from that turn on), so a start reads it again from the
database whatever the step copied; so is one that goes. The queues are copied at that turn
(in C) and turned into ids in steps. Once written, everything memory holds is committed,
then the database names the new checkpoint and forgets the `touched` entries it covers, in
one transaction. Anything that breaks the chain (a reset, a failed group commit) throws
the one being written away.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial
from typing import Any

from emay_mock.store import checkpoint
from emay_mock.store.checkpoint import MESSAGES as MESSAGE_RECORD
from emay_mock.store.checkpoint import QUEUE as QUEUE_RECORD
from emay_mock.store.db import META_UPSERT, Database
from emay_mock.store.log import Log, in_thread_to_the_end
from emay_mock.store.messages import CHECKPOINT_COLUMNS as MESSAGE_COLUMNS
from emay_mock.store.messages import Messages
from emay_mock.store.queues import CHECKPOINT_COLUMNS as QUEUE_COLUMNS
from emay_mock.store.queues import PullQueues

log = logging.getLogger("emay_mock.store")

# A checkpoint is begun when this many messages and queue entries were added, changed or
# removed since the last one began. A clean stop writes one when they are a hundredth of
# what is stored or more: fewer are read back from the database at the next start in less
# time than the stop would take to write it.
EVERY = 50_000
STOP_SHARE = 0.01
CHECK_EVERY_S = 2.0
# A step copies a few messages (a slice short enough not to show in a send's latency),
# then yields to requests for STEP_SHARE times as long as it took (at least STEP_PAUSE_S):
# a checkpoint takes a small, fixed share of the CPU however busy the mock.
STEP_ROWS = 100
QUEUE_STEP = 2_500
STEP_PAUSE_S = 0.005
STEP_SHARE = 20


class Writing:
    """One checkpoint being written."""

    def __init__(self, db: Database, messages: Messages, queues: PullQueues, path: Any) -> None:
        self.messages = messages
        self.upto = messages.highest
        self.after = 0
        self.queues = list(queues.snapshot().items())
        (self.touched,) = next(db.rows("SELECT coalesce(max(n), 0) FROM touched"))
        self.file = checkpoint.File(
            path, self.upto, queues.highest, {"messages": MESSAGE_COLUMNS, "queues": QUEUE_COLUMNS}
        )
        self.failures = 0
        self.started = time.perf_counter()
        self.steps = 0
        self.sealing = False  # being synced in a thread
        self.last_step_s = self.longest_step_s = 0.0

    def step(self) -> bool:
        """Copy the next messages (or queue entries); True once everything is in the file."""
        started = time.perf_counter()
        try:
            return self._step()
        finally:
            self.last_step_s = time.perf_counter() - started
            self.longest_step_s = max(self.longest_step_s, self.last_step_s)

    def _step(self) -> bool:
        self.steps += 1
        if self.after < self.upto:
            columns, self.after = self.messages.checkpoint_columns(self.after, self.upto, STEP_ROWS)
            if columns[0]:
                self.file.add(MESSAGE_RECORD, columns)
            return False
        if self.queues:
            (app_id, kind), (seqs, items) = self.queues[-1]
            seqs_part, items_part = seqs[:QUEUE_STEP], items[:QUEUE_STEP]
            del seqs[:QUEUE_STEP], items[:QUEUE_STEP]
            if not seqs:
                self.queues.pop()
            self.file.add(QUEUE_RECORD, (app_id, kind, seqs_part, PullQueues.refs(kind, items_part)))
            return False
        return True


class Checkpoints:
    """The checkpoints of one store: begun in the background, finished at a clean stop."""

    def __init__(self, db: Database, log_: Log, messages: Messages, queues: PullQueues) -> None:
        self.db = db
        self.log = log_
        self.messages = messages
        self.queues = queues
        self.path = checkpoint.path_for(db)
        self.writing: Writing | None = None
        self.written = 0  # checkpoints put in place by this process

    @property
    def enabled(self) -> bool:
        return self.path is not None and self.db.durable

    @property
    def changed(self) -> int:
        return self.messages.changed + self.queues.changed

    # -- in the background --------------------------------------------------------------------

    async def run(self) -> None:
        """Every CHECK_EVERY_S, begin one if enough changed, and write it a step at a time."""
        if not self.enabled:
            return
        while True:
            await asyncio.sleep(CHECK_EVERY_S)
            if self.changed < EVERY:
                continue
            self.begin()
            writing = self.writing
            while writing is not None and writing is self.writing and not writing.step():
                await asyncio.sleep(max(STEP_PAUSE_S, STEP_SHARE * writing.last_step_s))
            if writing is None or writing is not self.writing:
                continue  # abandoned (a reset)
            # Synced in a thread: fsync waits for the disk, which the loop must not.
            writing.sealing = True
            try:  # a stop waits for the thread; close() then puts the checkpoint in place
                await in_thread_to_the_end(partial(self._seal, writing))
            finally:
                writing.sealing = False
            if writing is not self.writing:
                writing.file.discard()  # abandoned while it was synced
            elif writing.file.sealed:
                self._put_in_place()

    @staticmethod
    def _seal(writing: Writing) -> None:
        try:
            writing.file.seal()
        except OSError as exc:
            log.warning("no checkpoint written to %s (%s)", writing.file.path, exc)

    # -- the steps ----------------------------------------------------------------------------

    def begin(self) -> None:
        """Take a checkpoint now: what it stands for is fixed at this turn."""
        assert self.path is not None
        self.abandon()
        try:
            self.writing = Writing(self.db, self.messages, self.queues, self.path)
        except OSError as exc:  # an unwritable folder, say: the last checkpoint stays the base
            log.warning("no checkpoint written to %s (%s)", self.path, exc)
            self.messages.changed = self.queues.changed = 0
            return
        self.writing.failures = self.log.failures
        self.messages.covered = max(self.messages.covered, self.writing.upto)
        self.messages.changed = self.queues.changed = 0

    def finish(self) -> None:
        """The rest of the one being written, at once, and put in place."""
        writing = self.writing
        if writing is None:
            return
        while not writing.step():
            pass
        try:
            writing.file.seal()
        except OSError as exc:  # a full disk, say: the last checkpoint stays the base
            log.warning("no checkpoint written to %s (%s)", writing.file.path, exc)
        if writing.file.sealed:
            self._put_in_place()
        else:
            self.abandon()

    def _put_in_place(self) -> None:
        """Everything committed, then the file in place and named, `touched` cleared up to it."""
        writing, self.writing = self.writing, None
        assert writing is not None
        self.log.flush()
        if self.log.failures != writing.failures:  # a group the checkpoint may hold is not in the file
            writing.file.discard()
            log.warning("a checkpoint was abandoned: a write to the database failed while it was taken")
            return
        try:
            writing.file.place()
        except OSError as exc:
            writing.file.discard()
            log.warning("no checkpoint written to %s (%s)", writing.file.path, exc)
            return
        self.log.now(
            [
                ("DELETE FROM touched WHERE n <= ?", (writing.touched,)),
                (META_UPSERT, (checkpoint.META_KEY, writing.file.meta)),
            ]
        )
        self.written += 1
        log.info(
            "checkpoint of the messages up to %d written in %.1f s (%d steps, the longest %.2f ms)",
            writing.upto, time.perf_counter() - writing.started, writing.steps, writing.longest_step_s * 1000,
        )  # fmt: skip

    def abandon(self) -> None:
        """Throw away the one being written (a reset changed what it copies); one being synced
        in a thread is thrown away once it is."""
        writing, self.writing = self.writing, None
        if writing is not None and not writing.sealing:
            writing.file.discard()

    def forget(self) -> None:
        """Before a reset: no checkpoint stands for the file any more (the next start reads
        it whole, and a new one is begun soon)."""
        self.abandon()
        self.messages.covered = 0
        self.messages.changed = self.queues.changed = EVERY
        self.invalidate()

    def invalidate(self) -> None:
        """The database names no checkpoint (and keeps no `touched` entry for one)."""
        if self.enabled:
            self.log.now(
                [("DELETE FROM meta WHERE key = ?", (checkpoint.META_KEY,)), ("DELETE FROM touched", ())]
            )

    # -- at a clean stop ----------------------------------------------------------------------

    def close(self) -> None:
        """Finish the one being written, or write one if much changed since the last."""
        if not self.enabled:
            return
        stored = self.messages.count() + sum(self.queues.sizes.values())
        if self.writing is None and self.changed and self.changed >= stored * STOP_SHARE:
            self.begin()
        self.finish()
