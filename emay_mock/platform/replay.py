"""Refusing the same ciphertext twice inside its validity window (docs/protocol.md#replay)."""

from __future__ import annotations

from collections import OrderedDict


class ReplayGuard:
    """Remembers (appId, body digest) until the request's window closes; bounded, oldest out."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._seen: OrderedDict[tuple[str, bytes], int] = OrderedDict()
        self.evicted = 0

    def check_and_remember(self, app_id: str, digest: bytes, expires_ms: int, now_ms: int) -> bool:
        """True when this body was already seen and its window is still open."""
        if self.seen(app_id, digest, now_ms):
            return True
        self.remember(app_id, digest, expires_ms)
        return False

    def seen(self, app_id: str, digest: bytes, now_ms: int) -> bool:
        seen_until = self._seen.get((app_id, digest))
        return seen_until is not None and seen_until > now_ms

    def remember(self, app_id: str, digest: bytes, expires_ms: int) -> None:
        key = (app_id, digest)
        self._seen[key] = expires_ms
        self._seen.move_to_end(key)
        while len(self._seen) > self.max_entries:
            self._seen.popitem(last=False)
            self.evicted += 1

    def forget(self, app_id: str | None = None) -> None:
        if app_id is None:
            self._seen.clear()
            return
        for key in [k for k in self._seen if k[0] == app_id]:
            del self._seen[key]
