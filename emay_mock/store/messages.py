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
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, compress, groupby, islice, pairwise
from operator import attrgetter, is_not, itemgetter
from sys import intern
from typing import Any, cast

from emay_mock.store import checkpoint
from emay_mock.store.db import Database
from emay_mock.store.generations import Generations
from emay_mock.store.log import Log
from emay_mock.store.order import InOrder
from emay_mock.store.rows import MESSAGES, MessageRow

REPORT = "UPDATE messages SET state = ?, report_at = ? WHERE msg_id = ?"
_SMS_ID_DIGITS = 20
# What a checkpoint keeps of a message: its columns, as held in memory (mobile_norm filled in).
_CHECKPOINT = MESSAGES.columns


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


def _saved_lists(index: Keyed, keys: list[Any], rows: list[MessageRow], saved: Any) -> bool:
    """Put back the keys that name several messages, at the positions a checkpoint gives;
    False (and the index unchanged) unless they name those keys and account for every message."""
    lists: dict[str, list[MessageRow]] = {}
    try:
        for key, at in saved:
            if key is None or any(keys[i] != key for i in at) or any(a >= b for a, b in pairwise(at)):
                return False
            lists[key] = [rows[i] for i in at]
    except (TypeError, ValueError, IndexError):
        return False
    if len(index) + sum(len(found) - 1 for found in lists.values()) != len(rows) - keys.count(None):
        return False
    index.update(lists)
    return True


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


def _index_add(index: Keyed, key: str, row: MessageRow) -> None:
    found = index.get(key)
    if found is None:
        index[key] = row  # most keys name one message: no list for them
    elif isinstance(found, list):
        found.append(row)
    else:
        index[key] = [found, row]


def _index_remove(index: Keyed, key: str, row: MessageRow) -> None:
    found = index.get(key)
    if found is row:
        del index[key]
    elif isinstance(found, list):
        found.remove(row)
        if len(found) == 1:
            index[key] = found[0]


class Index:
    """Each key's messages (a mobile's, a customSmsId's), in msg_id order, in `Generations`
    stamped by msg_id.

    Most keys name one message: no list for them. A key that recurs across dicts has an
    entry in each, holding the messages it named then, so its messages are its entries in
    the dicts' order, which is msg_id order; adding never looks beyond the young dict."""

    __slots__ = ("keys",)

    def __init__(self) -> None:
        self.keys: Generations[str, MessageRow | list[MessageRow]] = Generations()

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
        _index_remove(index, key, row)
        self.keys.emptied(index)

    def rows(self, key: str) -> list[MessageRow]:
        out: list[MessageRow] = []
        for found in self.keys.each(key):
            if isinstance(found, list):
                out.extend(found)
            else:
                out.append(found)
        return out

    def several(self) -> Iterator[tuple[str, list[MessageRow]]]:
        """The keys that name more than one message, with their messages."""
        dicts = self.keys.dicts
        first, later = dicts[0], dicts[1:]
        # Keys in more than one dict: counted over the later dicts only (after a restart the
        # first, which the start filled, is most of the keys, and it is only looked into).
        counts = Counter(chain.from_iterable(later))
        spread = {key for key, n in counts.items() if n > 1 or key in first}
        for key in spread:
            yield key, self.rows(key)
        for index in dicts:
            for key, found in index.items():
                if isinstance(found, list) and key not in spread:
                    yield key, found


class Messages:
    def __init__(self, db: Database, log: Log, saved: Any = None) -> None:
        """`saved`: this store's part of a checkpoint, if the start read one."""
        self.log = log
        # Every message in msg_id order, which is smsId order too (both are taken together,
        # increasing): found by smsId by bisection, with no dictionary to fill at start.
        self._all = Timeline()
        self._apps: dict[str, Timeline] = {}
        self._mobile = Index()
        self._custom = Index()
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
        # What start-up needs from the rows read, seen in the same pass: the messages still
        # waiting for their report (the scheduler's buckets), and those with a short link.
        self.waiting_at_start: list[MessageRow] = []
        self.linked_at_start: list[MessageRow] = []
        columns = checkpoint.columns(saved, _CHECKPOINT)
        self.from_checkpoint = columns is not None
        if columns is not None:
            self._load_columns(columns, saved.get("repeated"))
        else:
            self._load(db)
        self._mobile.keys.seal(self._next_msg_id)
        self._custom.keys.seal(self._next_msg_id)

    def to_checkpoint(self) -> dict[str, Any]:
        """Every message, column by column, in msg_id order (the part `_load_columns` reads),
        and where each mobile or customSmsId that names several messages finds them."""
        rows = list(self._all.oldest_first())
        saved = checkpoint.part(_CHECKPOINT, [list(map(attrgetter(name), rows)) for name in _CHECKPOINT])

        def at(row: MessageRow) -> int:
            return bisect_left(rows, row.msg_id, key=_msg_key)

        saved["repeated"] = [
            [[key, sorted(map(at, found))] for key, found in index.several()]
            for index in (self._mobile, self._custom)
        ]
        return saved

    def _load_columns(self, columns: list[list[Any]], repeated: Any) -> None:
        """The indexes, from a checkpoint's columns: what `_load` does, a column at a time."""
        col = dict(zip(_CHECKPOINT, columns, strict=True))
        rows = list(map(MessageRow, *columns))
        if not rows:
            return
        self._all.rows = rows
        for app_id, group in groupby(zip(col["app_id"], rows, strict=True), key=itemgetter(0)):
            timeline = self._apps.get(app_id)
            if timeline is None:
                timeline = self._apps[app_id] = Timeline()
            timeline.rows.extend(map(itemgetter(1), group))
        self.waiting_at_start = [row for row in rows if row.state is None]
        self.linked_at_start = [row for row in rows if row.short_url is not None]
        indexes = (
            (self._mobile.keys.young, col["mobile_norm"]),
            (self._custom.keys.young, col["custom_sms_id"]),
        )
        if type(repeated) is not list or len(repeated) != len(indexes):
            repeated = [None] * len(indexes)
        for (index, keys), saved in zip(indexes, repeated, strict=True):
            index.update(zip(keys, rows, strict=True))  # most keys name one message: the last one is all
            index.pop(None, None)  # type: ignore[call-overload]  # no customSmsId
            if len(index) < len(rows) - keys.count(None) and not _saved_lists(index, keys, rows, saved):
                _lists(index, keys, rows)
        self._next_msg_id = rows[-1].msg_id + 1
        self.last_sms_id = int(rows[-1].sms_id)

    def _load(self, db: Database) -> None:
        all_rows, mobiles, customs = self._all.rows, self._mobile.keys.young, self._custom.keys.young
        waiting, linked = self.waiting_at_start, self.linked_at_start
        timeline: Timeline | None = None
        row = None
        # The values every row of a batch repeats are one string each again, as when they were
        # made (a string per row per column costs some 250 bytes a message); equal to the row
        # before is the common case and costs less to see than interning.
        content = app_id = endpoint = planned = ""
        for values in db.rows(MESSAGES.select):
            # _index, written out: a million of these is most of a restart.
            row = MessageRow(*values)
            if row.content == content:
                row.content = content
            content = row.content
            if row.app_id == app_id:
                row.app_id = app_id
            else:
                app_id = row.app_id = intern(row.app_id)
                timeline = self._apps.get(app_id)
                if timeline is None:
                    timeline = self._apps[app_id] = Timeline()
            if row.endpoint == endpoint:
                row.endpoint = endpoint
            else:
                endpoint = row.endpoint = intern(row.endpoint)
            if row.planned_state == planned:
                row.planned_state = planned
            else:
                planned = row.planned_state = intern(row.planned_state)
            if row.state is None:
                waiting.append(row)
            else:
                row.state = planned if row.state == planned else intern(row.state)
            if row.mobile_norm is None:  # stored so when it is the mobile (MESSAGES.values)
                row.mobile_norm = row.mobile
            if row.short_url is not None:
                linked.append(row)
            all_rows.append(row)
            assert timeline is not None
            timeline.rows.append(row)
            found = mobiles.get(row.mobile_norm)
            if found is None:
                mobiles[row.mobile_norm] = row
            else:
                _index_add(mobiles, row.mobile_norm, row)
            if row.custom_sms_id is not None:
                if row.custom_sms_id in customs:
                    _index_add(customs, row.custom_sms_id, row)
                else:
                    customs[row.custom_sms_id] = row
        if row is not None:  # the last in msg_id order: the highest ids so far
            self._next_msg_id = row.msg_id + 1
            self.last_sms_id = int(row.sms_id)

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
        return len(removed)

    def forget(self, app_id: str | None) -> None:
        """Every message of an account (of all, when None), from memory; the caller clears the file."""
        if app_id is None:
            self._all = Timeline()
            self._apps.clear()
            self._mobile.keys.clear()
            self._custom.keys.clear()
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
