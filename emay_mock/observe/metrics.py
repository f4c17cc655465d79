"""Prometheus metrics (`/_mock/metrics`), one registry per server.

Everything is read at scrape time: the requests and their latencies from what the contract
book counts of each (per account, `observe.answers`, added up here), and the rest from the
counts the platform and its deliveries keep anyway (`Figures`, which the platform's read
model gives). The scrape turns them into Prometheus families, so the request path never
touches prometheus_client (its `.inc()` and `.observe()` take a lock each time).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from emay_mock.observe.answers import LATENCY_BUCKETS, Answered, Key
from emay_mock.observe.drift import DriftBook
from emay_mock.observe.recorder import Recorder

_NO_CODE = "NONE"  # the code label of a request answered with none (a scripted fault)


@dataclass(frozen=True, slots=True)
class Figures:
    """What the platform and its deliveries count anyway, as a scrape reads it."""

    accepted: Mapping[str, int]  # messages accepted, per appId
    stored: int
    pruned: int
    reports: Mapping[str, int]  # final reports, per state
    push_attempts: Mapping[tuple[str, str], int]  # (kind, ok | failed)
    push_dead: int
    queue_depth: Mapping[tuple[str, str], int]  # (appId, kind)
    outbox_depth: int
    scheduled: int
    reports_pending: int
    events_dropped: int
    clock_offset_s: float


class Metrics:
    def __init__(
        self, figures: Callable[[], Figures], recorder: Recorder, drift: DriftBook | None = None
    ) -> None:
        """`figures`: what the platform and its deliveries count, read at each scrape;
        `drift`: the upstream exchanges and where they differed from the mock."""
        self.registry = CollectorRegistry(auto_describe=True)
        self.answered = recorder.contract.answered  # bounded: accounts times routes times codes
        self.registry.register(_RequestCollector(self.answered))
        self.registry.register(_PlatformCollector(figures, recorder))
        if drift is not None:
            self.registry.register(_UpstreamCollector(drift))

    def codes(self) -> Counter[str]:
        """The result codes answered so far, every account, family and endpoint together."""
        answered: Counter[str] = Counter()
        for (_, _, code), tally in self.answered().items():
            if code is not None:
                answered[code] += tally.count
        return answered

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _RequestCollector(Collector):
    def __init__(self, answered: Callable[[], dict[Key, Answered]]) -> None:
        self.answered = answered

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "emay_requests",
            "Requests to the Emay endpoints, by family, endpoint and result code.",
            labels=["family", "endpoint", "code"],
        )
        latency = HistogramMetricFamily(
            "emay_request_duration_seconds",
            "Time to answer a request to an Emay endpoint (scripted latency included).",
            labels=["family", "endpoint"],
        )
        routes: dict[tuple[str, str], Answered] = {}
        answered = self.answered()
        for family, endpoint, code in sorted(answered, key=lambda k: (k[0], k[1], k[2] or _NO_CODE)):
            tally = answered[family, endpoint, code]
            requests.add_metric([family, endpoint, code or _NO_CODE], tally.count)
            routes.setdefault((family, endpoint), Answered()).add(tally)
        for (family, endpoint), route in routes.items():
            cumulative, running = [], 0
            for bound, n in zip((*map(str, LATENCY_BUCKETS), "+Inf"), route.buckets, strict=True):
                running += n
                cumulative.append((bound, running))
            latency.add_metric([family, endpoint], cumulative, route.seconds)
        yield requests
        yield latency


class _PlatformCollector(Collector):
    def __init__(self, figures: Callable[[], Figures], recorder: Recorder) -> None:
        self.figures = figures
        self.recorder = recorder

    def collect(self) -> Iterator[Metric]:
        figures = self.figures()
        journal = self.recorder.journal
        accepted = CounterMetricFamily(
            "emay_messages_accepted", "Messages accepted, per appId.", labels=["app_id"]
        )
        for app_id, count in sorted(figures.accepted.items()):
            accepted.add_metric([app_id], count)
        yield accepted
        yield GaugeMetricFamily("emay_messages_stored", "Messages held now.", value=figures.stored)
        yield CounterMetricFamily(
            "emay_messages_pruned",
            "Messages retention removed (server.maxMessages, server.maxAgeHours).",
            value=figures.pruned,
        )
        reports = CounterMetricFamily("emay_reports", "Final reports produced, by state.", labels=["state"])
        for state, count in sorted(figures.reports.items()):
            reports.add_metric([state], count)
        yield reports
        attempts = CounterMetricFamily(
            "emay_push_attempts",
            "Push attempts by kind and outcome (ok, failed).",
            labels=["kind", "outcome"],
        )
        for (kind, outcome), count in sorted(figures.push_attempts.items()):
            attempts.add_metric([kind, outcome], count)
        yield attempts
        yield CounterMetricFamily(
            "emay_push_batches_dead", "Push batches that failed every attempt.", value=figures.push_dead
        )
        depth = GaugeMetricFamily(
            "emay_queue_depth", "Items waiting in a pull queue.", labels=["app_id", "kind"]
        )
        for (app_id, kind), size in sorted(figures.queue_depth.items()):
            if size:
                depth.add_metric([app_id, kind], size)
        yield depth
        yield GaugeMetricFamily(
            "emay_push_outbox_depth", "Items waiting to be batched for a push.", value=figures.outbox_depth
        )
        yield GaugeMetricFamily(
            "emay_scheduled_jobs",
            "Entries waiting on the scheduler: one-off jobs, and report buckets (one per account "
            "and 10 ms window of due times, however many reports it holds).",
            value=figures.scheduled,
        )
        yield GaugeMetricFamily(
            "emay_reports_pending",
            "Accepted messages still waiting for their report.",
            value=figures.reports_pending,
        )
        yield GaugeMetricFamily("emay_journal_entries", "Entries in the request journal.", value=len(journal))
        yield CounterMetricFamily(
            "emay_journal_evicted", "Journal entries evicted by its bound.", value=journal.evicted
        )
        yield CounterMetricFamily(
            "emay_events_dropped", "Live events a slow reader missed.", value=figures.events_dropped
        )
        yield GaugeMetricFamily(
            "emay_clock_offset_seconds",
            "Scheduler's clock minus the wall clock.",
            value=figures.clock_offset_s,
        )


class _UpstreamCollector(Collector):
    def __init__(self, drift: DriftBook) -> None:
        self.drift = drift

    def collect(self) -> Iterator[Metric]:
        exchanges = CounterMetricFamily(
            "emay_upstream_exchanges",
            "Requests answered upstream or from a recording, by mode and outcome "
            "(answered, failed; replay: matched, unmatched).",
            labels=["mode", "outcome"],
        )
        for (mode, outcome), count in sorted(self.drift.exchanges.items()):
            exchanges.add_metric([mode, outcome], count)
        yield exchanges
        drifted = CounterMetricFamily(
            "emay_upstream_drift",
            "Shadow exchanges whose upstream answer differed from the mock's, by appId and endpoint.",
            labels=["app_id", "endpoint"],
        )
        for (app_id, endpoint), count in sorted(self.drift.counts.items()):
            drifted.add_metric([app_id, endpoint], count)
        yield drifted
