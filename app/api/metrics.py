"""Prometheus metrics of one app instance, on a registry of its own (never the global one),
built by the app factory so that two apps in one process never share counters."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


class Metrics:
    """Appends, refusals by rule, batch sizes, writer lock wait and request latency."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.appends = Counter(
            "bloodtrace_events_appended", "Events accepted over HTTP, by requested type",
            ["type"], registry=r)
        self.replays = Counter(
            "bloodtrace_events_replayed", "Idempotent retries answered with the original result",
            registry=r)
        self.refusals = Counter(
            "bloodtrace_refusals", "Requests or batch items refused, by rule and status",
            ["rule", "status"], registry=r)
        self.http_batch = Histogram(
            "bloodtrace_http_batch_events", "Events per POST /v1/events/batch",
            buckets=SIZE_BUCKETS, registry=r)
        self.writer_commands = Histogram(
            "bloodtrace_writer_batch_commands", "Commands per writer transaction (group commit)",
            buckets=SIZE_BUCKETS, registry=r)
        self.writer_events = Counter(
            "bloodtrace_writer_events", "Events written to the log (derived ones included)",
            registry=r)
        self.lock_wait = Histogram(
            "bloodtrace_writer_lock_wait_seconds", "Time the writer waited for the log head lock",
            buckets=LATENCY_BUCKETS, registry=r)
        self.latency = Histogram(
            "bloodtrace_http_request_duration_seconds", "HTTP request latency",
            ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=r)
        self._latency_children: dict[tuple[str, str, int], Any] = {}
        self.replica_lag_events = Gauge(
            "bloodtrace_replica_lag_events", "Log positions the read replica is behind",
            registry=r)
        self.replica_lag_bytes = Gauge(
            "bloodtrace_replica_lag_bytes", "WAL bytes the read replica has yet to replay",
            registry=r)
        self.replica_lag_seconds = Gauge(
            "bloodtrace_replica_lag_seconds",
            "Age of the last transaction the replica replayed, while it has WAL to replay",
            registry=r)
        self.replica_up = Gauge(
            "bloodtrace_replica_up", "1 when the read replica answered the last scrape",
            registry=r)

    def observe_batch(self, commands: int, events: int, lock_wait_seconds: float) -> None:
        """The writer's ``observer`` callback: one call per committed transaction."""
        self.writer_commands.observe(commands)
        self.writer_events.inc(events)
        self.lock_wait.observe(lock_wait_seconds)

    def request_done(self, method: str, route: str, status: int, seconds: float) -> None:
        """One request's latency; label children are cached (``labels`` takes a lock)."""
        key = (method, route, status)
        child = self._latency_children.get(key)
        if child is None:
            child = self.latency.labels(method=method, route=route, status=str(status))
            self._latency_children[key] = child
        child.observe(seconds)

    def observe_replica(self, events: int, lag_bytes: int, seconds: float) -> None:
        """The read replica's lag, measured at scrape time."""
        self.replica_up.set(1)
        self.replica_lag_events.set(events)
        self.replica_lag_bytes.set(lag_bytes)
        self.replica_lag_seconds.set(seconds)

    def replica_down(self) -> None:
        self.replica_up.set(0)

    def refused(self, rule: str, status: int) -> None:
        self.refusals.labels(rule=rule, status=str(status)).inc()

    def exposition(self) -> bytes:
        """The text exposition format."""
        data: bytes = generate_latest(self.registry)
        return data
