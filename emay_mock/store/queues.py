"""The pull queues behind getReport, getMo and getShortLink: oldest first, each item once.

A queue holds the platform's own objects (a message, an MO, a click); with a file, each
entry also has its row (`seq`), written when it is queued and deleted when it is taken.

What a restart reads back stays the row's id (an int) at the front of its queue until
someone looks at it: a million queued reports cost a million ints, not a million lookups,
before the mock is healthy.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from emay_mock.store import checkpoint
from emay_mock.store.db import Database
from emay_mock.store.log import Log

log = logging.getLogger("emay_mock.store")

INSERT = "INSERT INTO pull_queue(seq, app_id, kind, ref) VALUES (?, ?, ?, ?)"
DELETE = "DELETE FROM pull_queue WHERE seq = ?"
# A checkpoint's part: one row per queue, its row ids and its items' ids as lists.
CHECKPOINT_COLUMNS = ("app_id", "kind", "seqs", "refs")
# What a queued item's row names it by.
REF_ATTRIBUTE = {"report": "msg_id", "voice-report": "msg_id", "mo": "mo_id", "click": "click_id"}

Resolve = Callable[[str, str, int], Any]  # (appId, kind, ref) -> the object, or None if gone


class Fifo:
    __slots__ = ("items", "seqs")

    def __init__(self, durable: bool) -> None:
        self.items: deque[Any] = deque()  # objects; ints at the front: rows read at start, unresolved
        self.seqs: deque[int] | None = deque() if durable else None


class PullQueues:
    def __init__(self, db: Database, log: Log, resolve: Resolve, saved: Any = None, covered: int = 0) -> None:
        """`saved`: this store's part of a checkpoint, if the start read one, which stands for
        the entries up to seq `covered`: the file gives the entries after, and which of the
        others were taken since."""
        self.log = log
        self._resolve = resolve
        self._queues: dict[tuple[str, str], Fifo] = {}
        self._seq = 0
        self.changed = 0  # entries queued or taken since the last checkpoint began
        columns = checkpoint.columns(saved, CHECKPOINT_COLUMNS)
        self.from_checkpoint = columns is not None and self._from_checkpoint(db, columns, covered)
        if self.from_checkpoint:
            return
        self._queues.clear()
        # Column by column, so no Python code runs per row (and no row is kept as a tuple).
        first = itemgetter(0)
        where = "FROM pull_queue WHERE app_id = ? AND kind = ? ORDER BY seq"
        for app_id, kind in list(db.rows("SELECT DISTINCT app_id, kind FROM pull_queue")):
            fifo = self._fifo(app_id, kind)
            fifo.items.extend(map(first, db.rows(f"SELECT ref {where}", (app_id, kind))))
            if fifo.seqs is not None:
                fifo.seqs.extend(map(first, db.rows(f"SELECT seq {where}", (app_id, kind))))
        self._seq = next(db.rows("SELECT max(seq) FROM pull_queue"), (None,))[0] or 0
        self.changed = sum(self.sizes.values())

    def _from_checkpoint(self, db: Database, columns: list[list[Any]], covered: int) -> bool:
        """The queues of a checkpoint, less what was taken from their fronts since and with
        what was queued after; False (read the file whole) if they are not as many as the
        file holds. Entries leave a queue from its front only (a reset forgets the
        checkpoint), so what is left of a queue the checkpoint holds is a tail of it, found
        by bisection."""
        durable = db.durable

        def kept(seq: int) -> bool:
            return next(db.rows("SELECT 1 FROM pull_queue WHERE seq = ?", (seq,)), None) is not None

        held = 0
        for app_id, kind, seqs, refs in zip(*columns, strict=True):
            start = bisect_left(range(len(seqs)), True, key=lambda i: kept(seqs[i])) if durable else 0
            fifo = self._fifo(app_id, kind)
            fifo.items.extend(refs[start:])
            if fifo.seqs is not None:
                fifo.seqs.extend(seqs[start:])
            held += len(seqs) - start
        self._seq = covered
        if not durable:
            return True
        later = list(
            db.rows("SELECT seq, app_id, kind, ref FROM pull_queue WHERE seq > ? ORDER BY seq", (covered,))
        )
        (count,) = next(db.rows("SELECT count(*) FROM pull_queue"))
        if held + len(later) != count:
            log.warning(
                "a checkpoint keeps %d queued entries and the database adds %d, but it holds %d: "
                "reading the database", held, len(later), count
            )  # fmt: skip
            return False
        for seq, app_id, kind, ref in later:
            fifo = self._fifo(app_id, kind)
            fifo.items.append(ref)
            assert fifo.seqs is not None
            fifo.seqs.append(seq)
        if later:
            self._seq = later[-1][0]
        self.changed = len(later)
        return True

    def to_checkpoint(self) -> dict[str, Any]:
        """Each queue's row ids and its items' ids (the part `__init__` reads back)."""
        keys, seqs, refs = [], [], []
        for key, (entries, items) in self.snapshot().items():
            keys.append(key)
            seqs.append(entries)
            refs.append(self.refs(key[1], items))
        return checkpoint.part(CHECKPOINT_COLUMNS, [[k[0] for k in keys], [k[1] for k in keys], seqs, refs])

    def snapshot(self) -> dict[tuple[str, str], tuple[list[int], list[Any]]]:
        """Each queue's row ids and items as they are now (copied in C: a checkpoint being
        written turns the items into ids a step at a time)."""
        return {
            key: (list(fifo.seqs), list(fifo.items))
            for key, fifo in self._queues.items()
            if fifo.items and fifo.seqs is not None
        }

    @staticmethod
    def refs(kind: str, items: list[Any]) -> list[int]:
        """The ids a queue's items are stored by."""
        attribute = REF_ATTRIBUTE[kind]
        return [item if type(item) is int else getattr(item, attribute) for item in items]

    @property
    def highest(self) -> int:
        """The highest seq given so far."""
        return self._seq

    def _object(self, app_id: str, kind: str, item: Any) -> Any:
        """The queued object (None if it is gone), resolving a row id read at start."""
        if type(item) is int:
            item = self._resolve(app_id, kind, item)
            return item if item is not None and not item.gone else None
        return None if item.gone else item

    def _fifo(self, app_id: str, kind: str) -> Fifo:
        fifo = self._queues.get((app_id, kind))
        if fifo is None:
            fifo = self._queues[(app_id, kind)] = Fifo(self.log.durable)
        return fifo

    @property
    def sizes(self) -> dict[tuple[str, str], int]:
        return {key: len(fifo.items) for key, fifo in self._queues.items() if fifo.items}

    def peek(self, app_id: str, kind: str) -> list[Any]:
        """What waits in a queue, oldest first, without taking it."""
        fifo = self._queues.get((app_id, kind))
        if fifo is None:
            return []
        found = (self._object(app_id, kind, item) for item in fifo.items)
        return [item for item in found if item is not None]

    def depth(self, app_id: str, kind: str) -> int:
        fifo = self._queues.get((app_id, kind))
        return 0 if fifo is None else len(fifo.items)

    def append(self, app_id: str, kind: str, items: Sequence[Any]) -> None:
        fifo = self._fifo(app_id, kind)
        fifo.items.extend(items)
        self.changed += len(items)
        if fifo.seqs is not None:
            attribute = REF_ATTRIBUTE[kind]
            first = self._seq + 1
            self._seq += len(items)
            fifo.seqs.extend(range(first, self._seq + 1))
            self.log.insert_many(
                INSERT, [(first + i, app_id, kind, getattr(item, attribute)) for i, item in enumerate(items)]
            )

    def take(self, app_id: str, kind: str, number: int) -> list[Any]:
        """Remove and return up to `number` items, oldest first (items retention removed are skipped)."""
        fifo = self._queues.get((app_id, kind))
        if fifo is None:
            return []
        items, seqs = fifo.items, fifo.seqs
        taken: list[Any] = []
        done: list[tuple[int]] = []
        while items and len(taken) < number:
            item = self._object(app_id, kind, items.popleft())
            if seqs is not None:
                done.append((seqs.popleft(),))
            if item is not None:
                taken.append(item)
        if done:
            self.changed += len(done)
            self.log.delete_many(DELETE, done)
        return taken

    def drop_removed(self) -> None:
        """Let go of the items at the front of each queue that retention removed: they are the
        oldest; one queued again later (retrieveReport) is skipped when its turn comes."""
        for (app_id, kind), fifo in self._queues.items():
            items, seqs = fifo.items, fifo.seqs
            done: list[tuple[int]] = []
            while items and self._object(app_id, kind, items[0]) is None:
                items.popleft()
                if seqs is not None:
                    done.append((seqs.popleft(),))
            if done:
                self.changed += len(done)
                self.log.delete_many(DELETE, done)

    def forget(self, app_id: str | None) -> None:
        if app_id is None:
            self._queues.clear()
        else:
            for key in [k for k in self._queues if k[0] == app_id]:
                del self._queues[key]
