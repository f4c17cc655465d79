"""Refusing the same ciphertext twice inside its validity window (docs/protocol.md#replay)."""

from __future__ import annotations

from collections.abc import Hashable

from emay_mock.store.generations import GENERATION, Generations

# What a body is remembered by (its hash, as Gate.check_window takes it; any hashable will do).
Digest = Hashable


class ReplayGuard:
    """Remembers (appId, body digest) until the request's window closes; bounded, oldest out.

    Each account's bodies are in `Generations` (digest -> the window's end); past the bound,
    the oldest dict of all goes whole: an eighth of the bound at most, so the guard never
    holds more than `max_entries` and never rebuilds a large table."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._size = max(1, min(GENERATION, max_entries // 8))
        self._apps: dict[str, Generations[Digest, int]] = {}
        self._count = 0
        self._stamp = 0  # each remembered body's place in order: the dicts' stamps
        self.evicted = 0

    def check_and_remember(self, app_id: str, digest: Digest, expires_ms: int, now_ms: int) -> bool:
        """True when this body was already seen and its window is still open."""
        bodies = self._apps.get(app_id)
        if bodies is None:
            self.remember(app_id, digest, expires_ms)
            return False
        young = bodies.young  # `seen` and `remember`, written out: this runs for every submission
        until = young.get(digest)
        if until is None and len(bodies.dicts) > 1:
            until = bodies.get(digest)
        if until is not None and until > now_ms:
            return True
        self._stamp += 1
        if until is None or digest not in young:  # a new body (a window's end is never None)
            self._count += 1
        if len(young) < bodies.size:
            young[digest] = expires_ms
        else:
            bodies.add(digest, expires_ms, self._stamp)
        if self._count > self.max_entries:
            while self._count > self.max_entries:
                self._evict_oldest()
        return False

    def seen(self, app_id: str, digest: Digest, now_ms: int) -> bool:
        bodies = self._apps.get(app_id)
        if bodies is None:
            return False
        until = bodies.get(digest)
        return until is not None and until > now_ms

    def remember(self, app_id: str, digest: Digest, expires_ms: int) -> None:
        bodies = self._apps.get(app_id)
        self._stamp += 1
        if bodies is None:
            bodies = self._apps[app_id] = Generations(self._size, at=self._stamp)
        if digest not in bodies.young:
            self._count += 1
        bodies.add(digest, expires_ms, self._stamp)
        while self._count > self.max_entries:
            self._evict_oldest()

    def _evict_oldest(self) -> None:
        """The oldest dict of every account's goes, whole."""
        app_id, bodies = min(self._apps.items(), key=lambda item: item[1].oldest_at)
        gone = len(bodies.drop_oldest())
        self._count -= gone
        self.evicted += gone
        if not len(bodies):
            del self._apps[app_id]

    def __len__(self) -> int:
        return self._count

    def forget(self, app_id: str | None = None) -> None:
        if app_id is None:
            self._apps.clear()
            self._count = 0
            return
        bodies = self._apps.pop(app_id, None)
        if bodies is not None:
            self._count -= len(bodies)
