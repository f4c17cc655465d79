"""Accepted messages (one per recipient) and their final reports, in memory, indexed.

Each account's messages are kept in submit order (smsIds only increase, so that is smsId
order too), which answers its listings and cursors by bisection, and so are all of them
together, which finds one by smsId the same way; dictionaries index them by mobile and
customSmsId, so no filter the control API offers scans more than the
messages it names, except a search of the content or the state (a scan, newest first, that
stops at the page's limit). Every change is also told to the durable log.

A message keeps a small internal `msg_id` (its row in the file); the smsId is the string
it is on the wire.
"""

from __future__ import annotations

import heapq
import logging
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress, groupby, islice, repeat
from operator import attrgetter, is_, is_not, itemgetter
from sys import intern
from typing import Any, cast

from emay_mock.store import checkpoint
from emay_mock.store.db import Database
from emay_mock.store.generations import Generations
from emay_mock.store.log import Log
from emay_mock.store.order import InOrder
from emay_mock.store.rows import MESSAGES, MessageRow

log = logging.getLogger("emay_mock.store")

REPORT = "UPDATE messages SET state = ?, report_at = ? WHERE msg_id = ?"
_SMS_ID_DIGITS = 20
# What a checkpoint keeps of a message: its columns, as held in memory (mobile_norm filled in).
CHECKPOINT_COLUMNS = MESSAGES.columns


@dataclass
class MessageFilter:
    app_id: str | None = None
    mobile: str | None = None
    sms_id: str | None = None
    custom_sms_id: str | None = None
    state: str | None = None  # a report state, or PENDING: no report yet
    text: str | None = None  # contained in the content
    before: int | None = None  # smsId cursor: only older messages
    after: int | None = None  # smsId cursor: only newer messages


def _sms_key(row: MessageRow) -> str:
    return row.sms_id


def _msg_key(row: MessageRow) -> int:
    return row.msg_id


def _wall_key(row: MessageRow) -> int:
    return row.submit_wall


def _done(row: MessageRow) -> bool:
    """Nothing more will happen to it: its report is final and no push of it is pending."""
    return row.state is not None and not row.hold


_gone_key = attrgetter("gone")
_mobile_key = attrgetter("mobile_norm")
_custom_key = attrgetter("custom_sms_id")
_GETTERS = [attrgetter(name) for name in CHECKPOINT_COLUMNS]
# The messages a start reads from the file beside a checkpoint: those after it, and those
# at or below it that changed since it was taken (`touched`).
_AFTER = f"{MESSAGES.select_from} WHERE msg_id > ? ORDER BY msg_id"
_TOUCHED_ROWS = (
    f"{MESSAGES.select_from} WHERE msg_id IN (SELECT msg_id FROM touched WHERE msg_id <= ?) ORDER BY msg_id"
)
TOUCHED = "INSERT INTO touched(msg_id) VALUES (?)"


def _read(db: Database, sql: str, params: Sequence[Any] = ()) -> list[MessageRow]:
    """Messages from the file, in msg_id order. The values a batch repeats are one string
    each again, as when they were made (a string per row per column would multiply the
    memory a message takes); equal to the row before is the common case and costs less to
    see than interning."""
    out: list[MessageRow] = []
    append = out.append
    content = app_id = endpoint = planned = ""
    for values in db.rows(sql, params):
        # Written out, not a helper call: this loop is most of a start's reading.
        row = MessageRow(*values)
        if row.content == content:
            row.content = content
        content = row.content
        if row.app_id == app_id:
            row.app_id = app_id
        else:
            app_id = row.app_id = intern(row.app_id)
        if row.endpoint == endpoint:
            row.endpoint = endpoint
        else:
            endpoint = row.endpoint = intern(row.endpoint)
        if row.planned_state == planned:
            row.planned_state = planned
        else:
            planned = row.planned_state = intern(row.planned_state)
        if row.state is not None:
            row.state = planned if row.state == planned else intern(row.state)
        if row.mobile_norm is None:  # stored so when it is the mobile (MESSAGES.values)
            row.mobile_norm = row.mobile
        append(row)
    return out


def _touched_ids(db: Database, covered: int) -> list[int]:
    return [
        msg_id for (msg_id,) in db.rows("SELECT DISTINCT msg_id FROM touched WHERE msg_id <= ?", (covered,))
    ]


# The columns the start's lists and indexes are built from, a column at a time.
_KEYS = ("app_id", "state", "short_url")
_KEY_AT = [CHECKPOINT_COLUMNS.index(name) for name in _KEYS]


class Loaded:
    """Messages read at start, in msg_id order, with the columns their lists are built from
    (a checkpoint's columns as they are, not read from the rows again)."""

    def __init__(self) -> None:
        self.rows: list[MessageRow] = []
        self.keys: dict[str, list[Any]] = {name: [] for name in _KEYS}

    def add_columns(self, columns: list[list[Any]]) -> None:
        self.rows.extend(map(MessageRow, *columns))
        for name, at in zip(_KEYS, _KEY_AT, strict=True):
            self.keys[name].extend(columns[at])

    def add_rows(self, rows: list[MessageRow]) -> None:
        self.rows.extend(rows)
        for name in _KEYS:
            self.keys[name].extend(map(attrgetter(name), rows))

    def patch(self, changed: list[MessageRow], touched: list[int]) -> bool:
        """The file's changes since the checkpoint: a message touched is as the file has it
        now, or gone if the file has it no more. False if the file holds a message the
        checkpoint never had (it is not the base of this file)."""
        rows, now = self.rows, {row.msg_id: row for row in changed}
        gone: set[int] = set()
        for msg_id in touched:
            i = bisect_left(rows, msg_id, key=_msg_key)
            held = i < len(rows) and rows[i].msg_id == msg_id
            row = now.get(msg_id)
            if row is None:
                if held:
                    gone.add(i)
            elif held:
                rows[i] = row
                for name, column in self.keys.items():
                    column[i] = getattr(row, name)
            else:
                return False
        if gone:
            keep = [i not in gone for i in range(len(rows))]
            self.rows = list(compress(rows, keep))
            self.keys = {name: list(compress(column, keep)) for name, column in self.keys.items()}
        return True


def _cursor(sms_id: int) -> str:
    return str(sms_id).zfill(_SMS_ID_DIGITS)  # smsIds of equal length compare as text as numbers


class Timeline(InOrder["MessageRow"]):
    """Messages in submit order (one account's, or all); removed ones are skipped, then compacted away."""

    __slots__ = ()

    def newest_first(self, before: str | None = None) -> Iterator[MessageRow]:
        rows, start = self.rows, self.start
        hi = len(rows) if before is None else bisect_left(rows, before, start, key=_sms_key)
        for i in range(hi - 1, start - 1, -1):
            row = rows[i]
            if not row.gone:
                yield row

    def oldest_first(self, after: str | None = None) -> Iterator[MessageRow]:
        rows = self.rows
        lo = self.start if after is None else bisect_right(rows, after, self.start, key=_sms_key)
        for i in range(lo, len(rows)):
            row = rows[i]
            if not row.gone:
                yield row

    def submitted(self, start_wall: int, end_wall: int, after: int = 0) -> Iterator[MessageRow]:
        """Submitted in [start, end] (and after msg_id `after`), in submit order; the wall clock
        is taken not to run back."""
        rows = self.rows
        lo = bisect_left(rows, start_wall, self.start, key=_wall_key)
        if after:
            lo = max(lo, bisect_right(rows, after, self.start, key=_msg_key))
        for i in range(lo, len(rows)):
            row = rows[i]
            if row.submit_wall > end_wall:
                return
            if not row.gone:
                yield row


Keyed = dict[str, "MessageRow | list[MessageRow]"]


def _lists(index: Keyed, keys: list[Any], rows: list[MessageRow]) -> None:
    """Put back the keys that name several messages, found from the columns (the index holds
    each key's last message): the rows a key's entry is not are its earlier ones, found in C."""
    lists: dict[str, list[MessageRow]] = {}
    for i in compress(range(len(rows)), map(is_not, map(index.get, keys), rows)):
        key = keys[i]
        if key is not None:
            lists.setdefault(key, []).append(rows[i])
    for key, found in lists.items():
        found.append(cast(MessageRow, index[key]))
        index[key] = found


def _index_remove(index: Keyed, key: str, row: MessageRow) -> None:
    found = index.get(key)
    if found is row:
        del index[key]
    elif isinstance(found, list):
        found.remove(row)
        if len(found) == 1:
            index[key] = found[0]


# The keys a start read go to dicts of this many keys each: one is filled between two
# requests, and stays in the processor's cache while it is (one huge dict would miss it at
# every key).
START_KEYS = 4096


class Index:
    """Each key's messages (a mobile's, a customSmsId's), in msg_id order, in `Generations`
    stamped by msg_id.

    Most keys name one message: no list for them. A key that recurs across dicts has an
    entry in each, holding the messages it named then, so its messages are its entries in
    the dicts' order, which is msg_id order; adding never looks beyond the young dict.

    The keys a start read go to dicts of their own (START_KEYS each), filled after the
    mock is ready (`fill`, a dict at a time) or as soon as one is needed: a lookup fills
    them all, removing a message the dict that holds it."""

    __slots__ = ("_key", "_pending", "keys")

    def __init__(self, key: Callable[[MessageRow], str | None]) -> None:
        """`key`: a message's key in this index (None: not in it)."""
        self._key = key
        self.keys: Generations[str, MessageRow | list[MessageRow]] = Generations()
        # The start's dicts not filled yet (by identity), with the messages they are for.
        self._pending: dict[int, tuple[Keyed, list[MessageRow]]] = {}

    def load(self, rows: list[MessageRow]) -> None:
        """Messages read at start (in msg_id order): a dict per generation, filled later."""
        generations = self.keys
        for first in range(0, len(rows), START_KEYS):
            chunk = rows[first : first + START_KEYS]
            fresh = first == 0 and not generations.young
            held = generations.young if fresh else generations.start(chunk[0].msg_id)
            self._pending[id(held)] = (held, chunk)
        if self._pending:
            generations.start(rows[-1].msg_id + 1)  # what is added from now on goes after them

    def fill(self, count: int | None = None) -> bool:
        """Fill `count` of the start's dicts (all, when None); whether any is left."""
        for key in list(self._pending)[:count]:
            self._fill(key)
        return bool(self._pending)

    def _fill(self, key: int) -> None:
        held, rows = self._pending.pop(key)
        keys: list[Any] = list(map(self._key, rows))  # None: no customSmsId, taken out after
        held.update(zip(keys, rows, strict=True))  # most keys name one message: the last is all
        held.pop(None, None)  # type: ignore[call-overload]
        if len(held) < len(rows) - keys.count(None):
            _lists(held, keys, rows)

    def add(self, key: str, row: MessageRow) -> None:
        keys = self.keys
        young = keys.young
        found = young.get(key)
        if found is None:
            if len(young) >= keys.size:
                young = keys.start(row.msg_id)
            young[key] = row
        elif isinstance(found, list):
            found.append(row)
        else:
            young[key] = [found, row]

    def remove(self, key: str, row: MessageRow) -> None:
        index = self.keys.holding(row.msg_id)
        if id(index) in self._pending:
            self._fill(id(index))
        _index_remove(index, key, row)
        self.keys.emptied(index)

    def rows(self, key: str) -> list[MessageRow]:
        if self._pending:
            self.fill()
        out: list[MessageRow] = []
        for found in self.keys.each(key):
            if isinstance(found, list):
                out.extend(found)
            else:
                out.append(found)
        return out

    def clear(self) -> None:
        self.keys.clear()
        self._pending.clear()


class Messages:
    def __init__(self, db: Database, log: Log, saved: Any = None, covered: int = 0) -> None:
        """`saved`: this store's part of a checkpoint, if the start read one, which stands for
        the messages up to msg_id `covered`: the file gives what came after, and what changed
        at or below it since (`touched`)."""
        self.log = log
        # Every message in msg_id order, which is smsId order too (both are taken together,
        # increasing): found by smsId by bisection, with no dictionary to fill at start.
        self._all = Timeline()
        self._apps: dict[str, Timeline] = {}
        self._mobile = Index(_mobile_key)
        self._custom = Index(_custom_key)
        self._next_msg_id = 1
        self.last_sms_id = 0
        self._hint: dict[str, int] = {}  # by_msg_id's last find, per account
        # Retention's walk, oldest first (`removable`): the last msg_id it went past, the
        # messages it went past while they waited for their report or a push, and those of
        # them that have since settled (a heap by msg_id). A round so looks only at what is
        # new or newly settled, however many messages wait in front of it.
        self._walked = 0
        self._walk_at = 0  # where `_walked` was found in the list of all messages, if it still is
        self._waiting: dict[int, MessageRow] = {}
        self._settled: list[tuple[int, MessageRow]] = []
        # What start-up needs from the rows read: the messages still waiting for their
        # report (the scheduler's buckets), and those with a short link.
        self.waiting_at_start: list[MessageRow] = []
        self.linked_at_start: list[MessageRow] = []
        # The highest msg_id a checkpoint (named in the file, or being written) stands for: a
        # message at or below it that changes or goes is noted in `touched`, so that a start
        # from that checkpoint reads it again. And how many changes since the last one began.
        self.covered = 0
        self.changed = 0
        chunks = checkpoint.chunks(saved, CHECKPOINT_COLUMNS)
        loaded = None if chunks is None else self._from_checkpoint(db, chunks, covered)
        self.from_checkpoint = loaded is not None
        if loaded is None:
            loaded = Loaded()
            loaded.add_rows(_read(db, MESSAGES.select))
            self.changed = len(loaded.rows)
        else:
            self.covered = covered
        self._adopt(loaded)
        # Never an id a checkpoint stands for again, whatever the file lost at the top.
        self._next_msg_id = max(self._next_msg_id, self.covered + 1)
        self._mobile.keys.seal(self._next_msg_id)
        self._custom.keys.seal(self._next_msg_id)

    def _from_checkpoint(
        self, db: Database, chunks: Iterable[list[list[Any]]], covered: int
    ) -> Loaded | None:
        """The messages of a checkpoint, with what the file changed at or below `covered`
        since and what it added after; None (read the file whole) if they are not as many
        as the file holds."""
        loaded = Loaded()
        for chunk in chunks:
            columns = checkpoint.columns(checkpoint.part(CHECKPOINT_COLUMNS, chunk), CHECKPOINT_COLUMNS)
            if columns is None:
                log.warning("a checkpoint's messages are not whole: reading the database")
                return None
            loaded.add_columns(columns)
        if not db.durable:
            return loaded
        touched = _touched_ids(db, covered)
        changed = _read(db, _TOUCHED_ROWS, (covered,)) if touched else []
        if touched and not loaded.patch(changed, touched):
            log.warning("the database holds messages a checkpoint never had: reading the database")
            return None
        later = _read(db, _AFTER, (covered,))
        (held,) = next(db.rows("SELECT count(*) FROM messages"))
        if len(loaded.rows) + len(later) != held:
            log.warning(
                "a checkpoint stands for %d messages and the database adds %d, but it holds %d: "
                "reading the database", len(loaded.rows), len(later), held
            )  # fmt: skip
            return None
        loaded.add_rows(later)
        self.changed = len(later) + len(changed)
        return loaded

    def _adopt(self, loaded: Loaded) -> None:
        """Rows read at start (in msg_id order) into every list and index, a column at a time."""
        rows = loaded.rows
        if not rows:
            return
        self._all.rows.extend(rows)
        app_ids = loaded.keys["app_id"]
        if app_ids.count(app_ids[0]) == len(app_ids):  # one account (interned: compared by identity)
            self._timeline(app_ids[0]).rows.extend(rows)
        else:
            for app_id, group in groupby(zip(app_ids, rows, strict=True), key=itemgetter(0)):
                self._timeline(app_id).rows.extend(map(itemgetter(1), group))
        self.waiting_at_start = list(compress(rows, map(is_, loaded.keys["state"], repeat(None))))
        self.linked_at_start = list(compress(rows, map(is_not, loaded.keys["short_url"], repeat(None))))
        # The indexes' dicts are filled once the mock is ready (`fill_indexes`): a lookup
        # before that fills them first.
        self._mobile.load(rows)
        self._custom.load(rows)
        self._next_msg_id = rows[-1].msg_id + 1
        self.last_sms_id = int(rows[-1].sms_id)

    def fill_indexes(self) -> bool:
        """Fill one more of the dicts the start's keys wait in; whether any is left."""
        return self._mobile.fill(1) or self._custom.fill(1)

    def _timeline(self, app_id: str) -> Timeline:
        timeline = self._apps.get(app_id)
        if timeline is None:
            timeline = self._apps[app_id] = Timeline()
        return timeline

    def to_checkpoint(self) -> dict[str, Any]:
        """Every message, column by column, in msg_id order (the part a start reads back)."""
        columns, _ = self.checkpoint_columns(0, self.highest, len(self._all.rows))
        return checkpoint.part(CHECKPOINT_COLUMNS, [columns])

    def checkpoint_columns(self, after: int, upto: int, count: int) -> tuple[list[list[Any]], int]:
        """The columns of up to `count` messages after msg_id `after` and up to `upto` (a step
        of a checkpoint being written), and the last msg_id looked at (`upto` when none is left)."""
        rows = self._all.rows
        i = bisect_right(rows, after, self._all.start, key=_msg_key)
        chunk = rows[i : i + count]
        if not chunk or chunk[-1].msg_id >= upto:
            chunk = [row for row in chunk if row.msg_id <= upto]
            last = upto
        else:
            last = chunk[-1].msg_id
        if any(map(_gone_key, chunk)):
            chunk = [row for row in chunk if not row.gone]
        return [list(map(getter, chunk)) for getter in _GETTERS], last

    @property
    def highest(self) -> int:
        """The highest msg_id given so far."""
        rows = self._all.rows
        return max(self._next_msg_id - 1, rows[-1].msg_id if rows else 0)

    # -- changing -----------------------------------------------------------------------------

    def reserve(self, count: int) -> int:
        """The first of `count` consecutive internal ids for messages about to be added."""
        first = self._next_msg_id
        self._next_msg_id += count
        return first

    def add(self, rows: Sequence[MessageRow]) -> None:
        all_rows, apps, mobiles, customs = self._all.rows, self._apps, self._mobile, self._custom
        for row in rows:
            all_rows.append(row)
            timeline = apps.get(row.app_id)
            if timeline is None:
                timeline = apps[row.app_id] = Timeline()
            timeline.rows.append(row)
            mobiles.add(row.mobile_norm, row)
            if row.custom_sms_id is not None:
                customs.add(row.custom_sms_id, row)
        self.changed += len(rows)
        if self.log.durable:
            values = MESSAGES.values
            self.log.insert_many(MESSAGES.insert, [values(row) for row in rows])

    def report(self, rows: Iterable[MessageRow]) -> list[MessageRow]:
        """Give each message still without a report (and not removed) its planned state, at its due time."""
        reported = []
        for row in rows:
            if row.state is None and not row.gone:
                row.state, row.report_at = row.planned_state, row.report_due
                reported.append(row)
        if self.log.durable:
            for row in reported:
                self.log.update(REPORT, row.msg_id, (row.state, row.report_at, row.msg_id))
            self._touched(reported)
        self.changed += len(reported)
        self.settled(reported)
        return reported

    # -- retention -------------------------------------------------------------------------

    def settled(self, rows: Iterable[MessageRow]) -> None:
        """Messages whose report came or whose last push ended: those retention went past
        while they waited become removable, in their place by age."""
        waiting = self._waiting
        if not waiting:
            return
        for row in rows:
            if _done(row) and waiting.pop(row.msg_id, None) is not None:
                heapq.heappush(self._settled, (row.msg_id, row))

    def removable(self, count: int, before: int | None) -> list[MessageRow]:
        """The oldest messages retention may remove (report final, no push pending), oldest
        first: `count` of them, and beyond that any submitted before `before`.

        What it looks at is what is new since the last call and what has settled since,
        never again the messages still waiting in front (see `_walked`)."""
        rows, settled, waiting = self._all.rows, self._settled, self._waiting
        i = self._walk_at
        if not (self._all.start < i <= len(rows) and rows[i - 1].msg_id == self._walked):
            i = bisect_right(rows, self._walked, self._all.start, key=_msg_key)
        found: list[MessageRow] = []
        while True:
            ahead = rows[i] if i < len(rows) else None
            if settled and (ahead is None or settled[0][0] < ahead.msg_id):
                row = settled[0][1]
            elif ahead is not None:
                row = ahead
            else:
                break
            if len(found) >= count and (before is None or row.submit_at >= before):
                break  # in submit order: nothing after it is older
            if row is ahead:
                i += 1
                self._walked = row.msg_id
            else:
                heapq.heappop(settled)
            if row.gone:
                continue
            if _done(row):
                found.append(row)
            else:
                waiting[row.msg_id] = row  # still waiting for its report or a push: kept
        self._walk_at = i
        return found

    def remove(self, rows: Iterable[MessageRow]) -> int:
        """Take messages out of every index (retention); their rows leave the file too."""
        removed = []
        for row in rows:
            if row.gone:
                continue
            self._unindex(row)
            self._apps[row.app_id].removed()
            removed.append(row)
        if self.log.durable:
            self.log.delete_many(MESSAGES.delete, [(row.msg_id,) for row in removed])
            self._touched(removed)
        self.changed += len(removed)
        return len(removed)

    def _touched(self, rows: list[MessageRow]) -> None:
        """Note the messages a checkpoint stands for that changed (in the same group commit)."""
        covered = self.covered
        below = [(row.msg_id,) for row in rows if row.msg_id <= covered] if covered else None
        if below:
            self.log.insert_many(TOUCHED, below)

    def forget(self, app_id: str | None) -> None:
        """Every message of an account (of all, when None), from memory; the caller clears the file."""
        if app_id is None:
            self._all = Timeline()
            self._apps.clear()
            self._mobile.clear()
            self._custom.clear()
            self._waiting.clear()
            self._settled.clear()
            return
        timeline = self._apps.pop(app_id, None)
        if timeline is None:
            return
        for row in timeline.rows[timeline.start :]:
            if not row.gone:
                self._unindex(row)
        if self._waiting:
            self._waiting = {msg_id: row for msg_id, row in self._waiting.items() if not row.gone}

    def _unindex(self, row: MessageRow) -> None:
        row.gone = True
        self._all.removed()
        self._mobile.remove(row.mobile_norm, row)
        if row.custom_sms_id is not None:
            self._custom.remove(row.custom_sms_id, row)

    # -- reading ------------------------------------------------------------------------------

    def by_sms_id(self, sms_id: str) -> MessageRow | None:
        rows = self._all.rows
        i = bisect_left(rows, sms_id.zfill(_SMS_ID_DIGITS), self._all.start, key=_sms_key)
        if i < len(rows) and rows[i].sms_id == sms_id and not rows[i].gone:
            return rows[i]
        return None

    def by_msg_id(self, app_id: str, msg_id: int) -> MessageRow | None:
        """By internal id (how the file's queues and pushes name messages).

        They are asked for mostly in submit order, so the search starts where the last one
        was found: a queue of a million reports resolves in one pass."""
        timeline = self._apps.get(app_id)
        if timeline is None:
            return None
        rows = timeline.rows
        i = self._hint.get(app_id, timeline.start) + 1
        if not (i < len(rows) and rows[i].msg_id == msg_id):
            i = bisect_left(rows, msg_id, timeline.start, key=_msg_key)
        if i < len(rows) and rows[i].msg_id == msg_id and not rows[i].gone:
            self._hint[app_id] = i
            return rows[i]
        return None

    def by_sms_ids(self, sms_ids: Iterable[str]) -> list[MessageRow]:
        found = map(self.by_sms_id, sms_ids)
        return sorted({row.msg_id: row for row in found if row is not None}.values(), key=lambda r: r.msg_id)

    def count(self, app_id: str | None = None) -> int:
        if app_id is None:
            return len(self._all)
        timeline = self._apps.get(app_id)
        return 0 if timeline is None else len(timeline)

    def apps(self) -> list[str]:
        return list(self._apps)

    def oldest(self, app_id: str) -> Iterator[MessageRow]:
        timeline = self._apps.get(app_id)
        return iter(()) if timeline is None else timeline.oldest_first()

    def all(self) -> Iterator[MessageRow]:
        for timeline in self._apps.values():
            yield from timeline.oldest_first()

    def submitted(self, app_id: str, start_wall: int, end_wall: int, after: int = 0) -> Iterator[MessageRow]:
        timeline = self._apps.get(app_id)
        return iter(()) if timeline is None else timeline.submitted(start_wall, end_wall, after)

    def find(self, f: MessageFilter, limit: int) -> list[MessageRow]:
        """The newest `limit` messages that pass the filter (with `after`: the oldest newer ones)."""
        before = None if f.before is None else _cursor(f.before)
        after = None if f.after is None else _cursor(f.after)
        candidates = self._candidates(f, before, after)
        state = f.state
        pending = state == "PENDING"
        text = f.text
        seen_content: dict[int, bool] = {}  # a batch's recipients share one content string
        out: list[MessageRow] = []
        for row in candidates:
            if f.app_id is not None and row.app_id != f.app_id:
                continue
            if state is not None and row.state != (None if pending else state):
                continue
            if text is not None:
                hit = seen_content.get(id(row.content))
                if hit is None:
                    hit = seen_content[id(row.content)] = text in row.content
                if not hit:
                    continue
            out.append(row)
            if len(out) >= limit:
                break
        return out[::-1] if after is not None else out

    def _candidates(self, f: MessageFilter, before: str | None, after: str | None) -> Iterable[MessageRow]:
        """The messages a filter can only be among, newest first (oldest first with `after`)."""
        if f.sms_id is not None:
            row = self.by_sms_id(f.sms_id)
            rows = [] if row is None else [row]
        elif f.custom_sms_id is not None:
            rows = self._custom.rows(f.custom_sms_id)
        elif f.mobile is not None:
            rows = self._mobile.rows(f.mobile)
        else:
            timelines = [self._apps[f.app_id]] if f.app_id in self._apps else []
            if f.app_id is None:
                timelines = list(self._apps.values())
            if after is not None:
                walks = [t.oldest_first(after) for t in timelines]
                return heapq.merge(*walks, key=_sms_key)
            walks = [t.newest_first(before) for t in timelines]
            return heapq.merge(*walks, key=_sms_key, reverse=True)
        # An index names its messages in submit order, which is smsId order: cursors bisect.
        hi = len(rows) if before is None else bisect_left(rows, before, key=_sms_key)
        if after is not None:
            return islice(rows, bisect_right(rows, after, 0, hi, key=_sms_key), hi)
        return (rows[i] for i in range(hi - 1, -1, -1))
