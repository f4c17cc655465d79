"""Everything the platform holds, in memory, loaded from the file at start when there is one.

`Store` puts the stores together: it reads the file in an order where what refers to a
message, an MO or a click finds it, and it owns what spans them (reset, the clock anchor,
waiting for the durable log).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sqlite3
from pathlib import Path
from typing import Any

from emay_mock.store import checkpoint
from emay_mock.store.accounts import AccountStore
from emay_mock.store.checkpoints import Checkpoints
from emay_mock.store.db import ACCOUNT_TABLES, META_UPSERT, Database
from emay_mock.store.inbound import MoStore
from emay_mock.store.jobs import Jobs
from emay_mock.store.links import LinkStore
from emay_mock.store.log import Log
from emay_mock.store.messages import Messages
from emay_mock.store.pushes import Pushes
from emay_mock.store.queues import PullQueues
from emay_mock.store.templates import TemplateStore

# Between two of the dicts the start's index keys are filled into: requests come first.
FILL_PAUSE_S = 0.001


class Store:
    def __init__(self, path: str | Path | None = None) -> None:
        # Reading a file makes millions of objects that all live on: the cyclic collector
        # would walk them again and again while they are made. (`serve` also keeps it off
        # until what was read is frozen, or its first collection after would walk it all. A
        # store in the user's own process, through the pytest plugin, leaves the collector as
        # it found it.)
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._load(path)
        finally:
            if collecting:
                gc.enable()

    def _load(self, path: str | Path | None) -> None:
        self._background: asyncio.Task[None] | None = None
        self._wal: asyncio.Task[None] | None = None  # the write-ahead log copied (`Log.copy_wal`)
        self.db = Database(path)
        self.log = Log(self.db)
        # Everything is read before anything is written: a file found damaged on the way is
        # refused as it was.
        try:
            self._read()
        except sqlite3.DatabaseError as exc:
            # The failed read's frames hold its statement, which would keep the file open
            # (and its -wal beside it) until the collector ran.
            exc.__traceback__ = None
            raise self.db.refuse_damaged(exc) from None
        self.db.adopt()
        if self.db.meta(checkpoint.OLD_META_KEY) is not None:  # of the format before: never read
            self.log.now([("DELETE FROM meta WHERE key = ?", (checkpoint.OLD_META_KEY,))])
        if self._based and not (self.messages.from_checkpoint and self.queues.from_checkpoint):
            self.messages.covered = 0  # the file disagreed with it: never its base again
            self.checkpoints.invalidate()
        elif not self._based and self.db.durable:
            if self.db.meta(checkpoint.META_KEY) is not None:  # named, but not found whole
                self.checkpoints.invalidate()
            checkpoint.discard(self.db)
        checkpoint.discard_partial(self.db)  # one a crash left half written

    def _read(self) -> None:
        db, log = self.db, self.log
        base = checkpoint.read(db)
        self._based = base is not None
        self.accounts = AccountStore(db, log)
        try:
            self.messages = Messages(db, log, base and base.messages, base.msg_id if base else 0)
            self.queues = PullQueues(db, log, self._resolve, base and base.queues, base.seq if base else 0)
        finally:
            if base is not None:
                base.close()
        self.mo = MoStore(db, log)
        self.templates = TemplateStore(db, log)
        self.links = LinkStore(db, log)
        self.pushes = Pushes(db, log, self._resolve, self.messages.settled)
        self.jobs = Jobs(db, log)
        self.checkpoints = Checkpoints(db, log, self.messages, self.queues)
        for message in self.messages.linked_at_start:
            if message.short_url is not None:
                link = self.links.get(message.short_url.rsplit("/", 1)[-1])
                if link is not None:
                    link.users += 1
        self.messages.linked_at_start = []

    def _resolve(self, app_id: str, kind: str, ref: int) -> Any:
        if kind in ("report", "voice-report"):
            return self.messages.by_msg_id(app_id, ref)
        if kind == "mo":
            return self.mo.get(ref)
        return self.links.click(ref)

    @property
    def durable(self) -> bool:
        return self.db.durable

    @property
    def path(self) -> str | None:
        return self.db.path

    async def committed(self) -> None:
        await self.log.committed()

    def start(self) -> None:
        """The store's work in the background, on the running loop: the indexes of what the
        start read filled a dict at a time, then the checkpoints (`store.checkpoints`); and
        the write-ahead log copied into the database (`Log.copy_wal`)."""
        if self._background is None:
            loop = asyncio.get_running_loop()
            self._background = loop.create_task(self._work())
            self._wal = loop.create_task(self.log.copy_wal())

    async def _work(self) -> None:
        while self.messages.fill_indexes():
            await asyncio.sleep(FILL_PAUSE_S)
        await self.checkpoints.run()

    async def stop(self) -> None:
        """Stop the background work (`close` finishes a checkpoint begun)."""
        tasks = [self._background, self._wal]
        self._background = self._wal = None
        for task in tasks:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def forget(self, app_id: str | None) -> None:
        """Everything an account (every account, when None) holds, except the account itself."""
        self.checkpoints.forget()  # first: a crash in between then reads the file whole
        for part in (self.messages, self.mo, self.templates, self.links, self.queues, self.pushes):
            part.forget(app_id)
        where = ("", ()) if app_id is None else (" WHERE app_id = ?", (app_id,))
        statements: list[tuple[str, tuple[Any, ...]]] = [
            (
                f"DELETE FROM push_attempts WHERE batch_id IN (SELECT batch_id FROM push_batches{where[0]})",
                where[1],
            )
        ]
        statements += [(f"DELETE FROM {table}{where[0]}", where[1]) for table in ACCOUNT_TABLES]
        self.log.now(statements)

    def clock_anchor(self) -> tuple[int, int] | None:
        return self.db.clock_anchor()

    def save_clock(self, sched_ms: int, wall_ms: int) -> None:
        self.log.update(META_UPSERT, "clock_anchor", ("clock_anchor", f"{sched_ms},{wall_ms}"))

    def close(self) -> None:
        """A clean stop: everything pending committed, the checkpoint finished (`store.checkpoints`)."""
        self.log.flush()
        self.checkpoints.close()
        self.db.close()
