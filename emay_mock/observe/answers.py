"""How the Emay endpoints answered: per family, endpoint and result code, how many requests
and how long they took. Counted once a request, per account, by the contract book; the
metrics add the accounts up when they are scraped."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# The latency histogram's bounds, in seconds (Prometheus' `le`), and in ms for counting.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BUCKETS_MS = tuple(b * 1000 for b in LATENCY_BUCKETS)

# (family, endpoint, code); the code is None for a request answered with none (a scripted fault).
Key = tuple[str, str, "str | None"]


class Answered:
    """One key's requests: how many, their total time, and how many per latency bucket."""

    __slots__ = ("buckets", "count", "seconds")

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)  # the last: beyond every bound

    def add(self, other: Answered) -> None:
        self.count += other.count
        self.seconds += other.seconds
        self.buckets = [a + b for a, b in zip(self.buckets, other.buckets, strict=True)]


def add_up(groups: Iterable[Mapping[Key, Answered]]) -> dict[Key, Answered]:
    """The groups' answers together, key by key."""
    total: dict[Key, Answered] = {}
    for group in groups:
        for key, answered in group.items():
            total.setdefault(key, Answered()).add(answered)
    return total
