"""Prometheus metrics of one running monitor (prometheus-client, a registry of its own).

Counters and histograms are updated as polls and deliveries happen; gauges that describe the
database (pending alerts, sources in error) are read from the store when scraped.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from monitor.models import PollOutcome

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.polls = Counter("monitor_polls", "Polls by outcome", ["outcome"], registry=r)
        self.fetch_seconds = Histogram(
            "monitor_fetch_seconds",
            "Time to fetch a source's document",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=r,
        )
        self.bytes = Counter("monitor_fetched_bytes", "Bytes of documents fetched", registry=r)
        self.articles = Counter("monitor_articles_stored", "New articles stored", registry=r)
        self.revisions = Counter("monitor_articles_edited", "Edited articles stored", registry=r)
        self.matches = Counter("monitor_matches", "Rule matches recorded", registry=r)
        self.alerts = Counter(
            "monitor_alert_deliveries", "Alert delivery attempts by result", ["result"], registry=r
        )
        self.pending = Gauge("monitor_alerts_pending", "Alerts waiting to be delivered", registry=r)
        self.failed = Gauge("monitor_alerts_failed", "Alerts given up on", registry=r)
        self.in_error = Gauge(
            "monitor_sources_in_error", "Sources whose last poll failed", registry=r
        )
        self.sources = Gauge("monitor_sources", "Sources configured", registry=r)
        self.leases = Gauge(
            "monitor_leases_held", "Sources this node has claimed and is polling now", registry=r
        )
        self.claimed = Counter(
            "monitor_sources_claimed", "Sources claimed by this node to poll", registry=r
        )
        self.lease_lag = Gauge(
            "monitor_lease_lag_seconds",
            "How late after its due time the last claimed source was claimed",
            registry=r,
        )
        self.lost = Counter(
            "monitor_leases_lost",
            "Leases another node took over while this one was still polling",
            registry=r,
        )
        self.restarts = Counter(
            "monitor_loop_restarts",
            "Background loops and jobs of the daemon that failed and were started again",
            ["loop"],
            registry=r,
        )
        self.oldest_due = Gauge(
            "monitor_oldest_due_seconds",
            "How long the longest-waiting due source has waited to be polled",
            registry=r,
        )
        self.lag = Gauge(
            "monitor_scheduler_lag_seconds",
            "How late the last scheduled poll started",
            registry=r,
        )

    def observe_poll(self, outcome: PollOutcome) -> None:
        self.polls.labels(outcome.status).inc()
        if outcome.fetch_seconds is not None:
            self.fetch_seconds.observe(outcome.fetch_seconds)
        self.bytes.inc(outcome.fetched_bytes)
        self.articles.inc(outcome.new_articles)
        self.revisions.inc(outcome.revised)
        self.matches.inc(outcome.matches)

    def observe_delivery(self, sent: int, retrying: int, failed: int) -> None:
        self.alerts.labels("sent").inc(sent)
        self.alerts.labels("retrying").inc(retrying)
        self.alerts.labels("failed").inc(failed)

    def render(self) -> bytes:
        return generate_latest(self.registry)
