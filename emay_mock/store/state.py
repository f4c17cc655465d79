"""Everything the platform holds, in memory, loaded from the file at start when there is one.

`Store` puts the stores together: it reads the file in an order where what refers to a
message, an MO or a click finds it, and it owns what spans them (reset, the clock anchor,
waiting for the durable log).
"""

from __future__ import annotations

import gc
import sqlite3
from pathlib import Path
from typing import Any

from emay_mock.store import checkpoint
from emay_mock.store.accounts import AccountStore
from emay_mock.store.db import ACCOUNT_TABLES, META_UPSERT, Database
from emay_mock.store.inbound import MoStore
from emay_mock.store.jobs import Jobs
from emay_mock.store.links import LinkStore
from emay_mock.store.log import Log
from emay_mock.store.messages import Messages
from emay_mock.store.pushes import Pushes
from emay_mock.store.queues import PullQueues
from emay_mock.store.templates import TemplateStore


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
        checkpoint.release(self.db)
        self.db.adopt()

    def _read(self) -> None:
        db, log = self.db, self.log
        saved = checkpoint.read(db) or {}
        self.accounts = AccountStore(db, log)
        self.messages = Messages(db, log, saved.get("messages"))
        self.mo = MoStore(db, log)
        self.templates = TemplateStore(db, log)
        self.links = LinkStore(db, log)
        self.queues = PullQueues(db, log, self._resolve, saved.get("queues"))
        self.pushes = Pushes(db, log, self._resolve, self.messages.settled)
        self.jobs = Jobs(db, log)
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

    def forget(self, app_id: str | None) -> None:
        """Everything an account (every account, when None) holds, except the account itself."""
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
        """A clean stop: everything pending committed, then the messages' checkpoint (`store.checkpoint`)."""
        self.log.flush()
        if self.db.durable:
            checkpoint.write(
                self.db, {"messages": self.messages.to_checkpoint(), "queues": self.queues.to_checkpoint()}
            )
        self.db.close()
