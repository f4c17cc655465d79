"""Refusing the same ciphertext twice inside its validity window (docs/protocol.md#replay)."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable

# What a body is remembered by (platform.core.body_digest: an int; any hashable will do).
Digest = Hashable

# A dict that outgrows its table, or (at the bound, as removed keys use the table up) that
# rebuilds it, moves every key in one step, in the request that adds the key: 10 ms at
# the default bound of 100,000, measured. So an account's bodies are spread over this many
# dicts by the digest's hash, where a move takes a 256th of them; until it has _SPLIT_AT
# of them they are in one dict (the send that splits them takes 0.6 ms), so that an
# account that sends little costs no more than before.
_SHARDS = 256
_SPLIT_AT = 4096


class ReplayGuard:
    """Remembers (appId, body digest) until the request's window closes; bounded, oldest out."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        # Each account's dicts, one or _SHARDS of them: digest to its window's end.
        self._apps: dict[str, list[dict[Digest, int]]] = {}
        # What was remembered, in order, for "oldest out", and how many of each body's
        # places in it are stale (it was remembered again since): those come first, and
        # eviction skips them. No new object per body: the collector has no more to walk
        # than before. Forgetting an account takes its places out at once.
        self._order_apps: deque[str] = deque()
        self._order: deque[Digest] = deque()
        self._stale: dict[tuple[str, Digest], int] = {}
        self._count = 0
        self.evicted = 0

    def _shard(self, app_id: str, digest: Digest) -> dict[Digest, int]:
        shards = self._apps.get(app_id)
        if shards is None:
            shards = self._apps[app_id] = [{}]
        return shards[hash(digest) % len(shards)]

    def _split(self, app_id: str, one: dict[Digest, int]) -> None:
        shards: list[dict[Digest, int]] = [{} for _ in range(_SHARDS)]
        for digest, until in one.items():
            shards[hash(digest) % _SHARDS][digest] = until
        self._apps[app_id] = shards

    def check_and_remember(self, app_id: str, digest: Digest, expires_ms: int, now_ms: int) -> bool:
        """True when this body was already seen and its window is still open."""
        if self.seen(app_id, digest, now_ms):
            return True
        self.remember(app_id, digest, expires_ms)
        return False

    def seen(self, app_id: str, digest: Digest, now_ms: int) -> bool:
        shards = self._apps.get(app_id)
        if shards is None:
            return False
        until = shards[hash(digest) % len(shards)].get(digest)
        return until is not None and until > now_ms

    def remember(self, app_id: str, digest: Digest, expires_ms: int) -> None:
        shard = self._shard(app_id, digest)
        if digest in shard:
            key = (app_id, digest)
            self._stale[key] = self._stale.get(key, 0) + 1
        else:
            self._count += 1
        shard[digest] = expires_ms
        if len(shard) == _SPLIT_AT and len(self._apps[app_id]) == 1:
            self._split(app_id, shard)
        self._order_apps.append(app_id)
        self._order.append(digest)
        while self._count > self.max_entries:
            self._evict_oldest()
        if len(self._order) > 2 * self.max_entries + 1000:  # stale places piling up
            self._compact()

    def _evict_oldest(self) -> None:
        stale = self._stale
        while True:
            app_id, digest = self._order_apps.popleft(), self._order.popleft()
            if stale:
                key = (app_id, digest)
                left = stale.pop(key, 0)
                if left:
                    if left > 1:
                        stale[key] = left - 1
                    continue
            del self._shard(app_id, digest)[digest]
            self._count -= 1
            self.evicted += 1
            return

    def _compact(self) -> None:
        """The order without its stale places: each remembered body's last one."""
        last: dict[tuple[str, Digest], None] = {}
        for key in zip(reversed(self._order_apps), reversed(self._order), strict=True):
            if key not in last and key[1] in self._shard(*key):
                last[key] = None
        kept = list(reversed(last))
        self._order_apps = deque(app_id for app_id, _ in kept)
        self._order = deque(digest for _, digest in kept)
        self._stale.clear()

    def forget(self, app_id: str | None = None) -> None:
        if app_id is None:
            self._apps.clear()
            self._order_apps.clear()
            self._order.clear()
            self._stale.clear()
            self._count = 0
            return
        shards = self._apps.pop(app_id, None)
        if shards is None:
            return
        self._count -= sum(map(len, shards))
        kept = [(a, d) for a, d in zip(self._order_apps, self._order, strict=True) if a != app_id]
        self._order_apps = deque(a for a, _ in kept)
        self._order = deque(d for _, d in kept)
        self._stale = {key: n for key, n in self._stale.items() if key[0] != app_id}
