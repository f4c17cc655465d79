"""Prometheus metrics (`/_mock/metrics`), one registry per server.

Request counts and latencies are observed as requests finish; everything else is read
at scrape time from counters the platform keeps anyway, so the platform never imports
this module and a scrape costs a handful of dictionary reads.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from emay_mock.observe.journal import Entry
from emay_mock.observe.recorder import Recorder
from emay_mock.platform.service import Platform

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self, platform: Platform, recorder: Recorder) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "emay_requests",
            "Requests to the Emay endpoints, by family, endpoint and result code.",
            ["family", "endpoint", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "emay_request_duration_seconds",
            "Time to answer a request to an Emay endpoint (scripted latency included).",
            ["family", "endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_PlatformCollector(platform, recorder))
        recorder.also(self.observe)
        self._children: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}

    def observe(self, entry: Entry) -> None:
        # `.labels()` builds and checks the label tuple under a lock on every call; the
        # children are looked up once per (family, endpoint, code). The keys are bounded: route
        # names times result codes.
        key = (entry.family, entry.endpoint, entry.code or "NONE")
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (self.requests.labels(*key), self.latency.labels(*key[:2]))
        children[0].inc()
        children[1].observe(entry.latency_ms / 1000)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _PlatformCollector(Collector):
    def __init__(self, platform: Platform, recorder: Recorder) -> None:
        self.platform = platform
        self.recorder = recorder

    def collect(self) -> Iterator[Metric]:
        platform = self.platform
        journal = self.recorder.journal
        accepted = CounterMetricFamily(
            "emay_messages_accepted", "Messages accepted, per appId.", labels=["app_id"]
        )
        for app_id, count in sorted(platform.sending.accepted.items()):
            accepted.add_metric([app_id], count)
        yield accepted
        reports = CounterMetricFamily("emay_reports", "Final reports produced, by state.", labels=["state"])
        for state, count in sorted(platform.sending.states.items()):
            reports.add_metric([state], count)
        yield reports
        attempts = CounterMetricFamily(
            "emay_push_attempts",
            "Push attempts by kind and outcome (ok, failed).",
            labels=["kind", "outcome"],
        )
        for (kind, outcome), count in sorted(platform.push.attempts.items()):
            attempts.add_metric([kind, outcome], count)
        yield attempts
        yield CounterMetricFamily(
            "emay_push_batches_dead", "Push batches that failed every attempt.", value=platform.push.dead
        )
        depth = GaugeMetricFamily(
            "emay_queue_depth", "Items waiting in a pull queue.", labels=["app_id", "kind"]
        )
        for (app_id, kind), size in sorted(platform.queues.sizes.items()):
            if size:
                depth.add_metric([app_id, kind], size)
        yield depth
        outbox = platform.store.pushes.outbox_depth()
        yield GaugeMetricFamily(
            "emay_push_outbox_depth", "Items waiting to be batched for a push.", value=outbox
        )
        scheduler = platform.scheduler
        yield GaugeMetricFamily(
            "emay_scheduled_jobs",
            "Entries waiting on the scheduler: one-off jobs, and report buckets (one per account "
            "and 100 ms window of due times, however many reports it holds).",
            value=scheduler.pending(),
        )
        yield GaugeMetricFamily(
            "emay_reports_pending",
            "Accepted messages still waiting for their report.",
            value=scheduler.bucketed,
        )
        yield GaugeMetricFamily("emay_journal_entries", "Entries in the request journal.", value=len(journal))
        yield CounterMetricFamily(
            "emay_journal_evicted", "Journal entries evicted by its bound.", value=journal.evicted
        )
        yield CounterMetricFamily(
            "emay_events_dropped", "Live events a slow reader missed.", value=platform.events.dropped
        )
        offset = platform.clock.offset_ms / 1000
        yield GaugeMetricFamily(
            "emay_clock_offset_seconds", "Scheduler's clock minus the wall clock.", value=offset
        )
