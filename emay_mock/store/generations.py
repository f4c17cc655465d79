"""A dict that never stalls while it grows: every store whose table grows with the traffic
keeps its keys in `Generations` (docs/DECISIONS.md#growing-dicts)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

# Keys a dict takes before the next one starts: moving them all to a bigger table, when one
# grows, takes well under a millisecond.
GENERATION = 16_384


class Generations(Generic[K, V]):
    """Keys in dicts of at most `size` keys each, oldest first.

    A dict that outgrows its table moves every key to a bigger one in a single step, in the
    call that adds the key; one that has lost many keys rebuilds its table in one step too.
    So a new key goes to the young dict until it holds `size` keys, then to a new one; older
    dicts only lose keys, and one that is emptied is dropped. Each dict is stamped with the
    first `at` it took (an id that only grows: a msg_id, a sequence number), so the dict
    holding a key added at `at` is found by bisection. A key added again while an older dict
    holds it has an entry in each; lookups ask the young dict first.

    A dict given at start (filled in C, from a file) is the first; `seal()` starts a young
    one after it."""

    __slots__ = ("_firsts", "dicts", "size", "young")

    def __init__(self, size: int | None = None, first: dict[K, V] | None = None, at: int = 0) -> None:
        """`size`: GENERATION unless given; `at`: the stamp of the first dict's keys."""
        self.size = GENERATION if size is None else size
        self.young: dict[K, V] = {} if first is None else first
        self.dicts: list[dict[K, V]] = [self.young]  # oldest first
        self._firsts: list[int] = [at]

    def start(self, at: int) -> dict[K, V]:
        """A new young dict, for keys added from `at` on."""
        self.young = {}
        self.dicts.append(self.young)
        self._firsts.append(at)
        return self.young

    def seal(self, at: int) -> None:
        """What is held stays in its dicts: keys added from `at` on go to a new one."""
        if self.young:
            self.start(at)

    def add(self, key: K, value: V, at: int) -> None:
        young = self.young
        if len(young) >= self.size and key not in young:
            young = self.start(at)
        young[key] = value

    def get(self, key: K) -> V | None:
        """The key's latest value (the youngest dict's), or None."""
        for held in reversed(self.dicts):
            if key in held:
                return held[key]
        return None

    def each(self, key: K) -> Iterator[V]:
        """The key's value in every dict that holds it, oldest first."""
        for held in self.dicts:
            if key in held:
                yield held[key]

    def holding(self, at: int) -> dict[K, V]:
        """The dict that holds the keys added at `at`."""
        return self.dicts[bisect_right(self._firsts, at) - 1]

    def emptied(self, held: dict[K, V]) -> None:
        """`held` lost its last key: an older dict is dropped (the young one stays)."""
        if not held and held is not self.young:
            at = next(i for i, d in enumerate(self.dicts) if d is held)
            del self.dicts[at], self._firsts[at]

    def discard(self, key: K, at: int) -> V | None:
        """Remove the key from the dict that holds what was added at `at`; its value, or None."""
        held = self.holding(at)
        value = held.pop(key, None)
        if value is not None:
            self.emptied(held)
        return value

    def drop_oldest(self) -> dict[K, V]:
        """The oldest dict, taken out whole (a young one starts if it was the only one)."""
        oldest = self.dicts.pop(0)
        self._firsts.pop(0)
        if not self.dicts:
            self.young = {}
            self.dicts, self._firsts = [self.young], [0]
        return oldest

    @property
    def oldest_at(self) -> int:
        return self._firsts[0]

    def __len__(self) -> int:
        return sum(map(len, self.dicts))

    def clear(self) -> None:
        self.young = {}
        self.dicts = [self.young]
        self._firsts = [0]
