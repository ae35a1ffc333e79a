"""`/metrics` in Prometheus text format: rooms, sockets, updates, deliveries, store latency."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from crdt import RoomManager
from server.live.endpoint import Collab


class _Live(Collector):
    """Reads the live counters at scrape time instead of mirroring every increment."""

    def __init__(self, manager: RoomManager, collab: Collab) -> None:
        self.manager = manager
        self.collab = collab

    def collect(self) -> Iterator[Metric]:
        stats = self.manager.stats
        yield GaugeMetricFamily(
            "sinopia_rooms", "Documents open in memory", len(self.manager.rooms)
        )
        yield GaugeMetricFamily(
            "sinopia_sockets", "Open websocket connections", len(self.collab.connections)
        )
        yield GaugeMetricFamily(
            "sinopia_bus_shared_documents",
            "Open documents that another instance has open too (read live from the bus)",
            self.manager.bus.shared_documents(),
        )
        counters = [
            ("sinopia_updates", "Updates accepted and stored", stats.updates),
            ("sinopia_duplicate_updates", "Updates that added nothing new", stats.duplicates),
            ("sinopia_deliveries", "Update messages sent to clients", stats.deliveries),
            ("sinopia_awareness_updates", "Awareness updates relayed", stats.awareness),
            ("sinopia_refused_updates", "Updates refused for lack of permission", stats.refused),
            (
                "sinopia_remote_updates",
                "Updates received from other instances",
                stats.remote_updates,
            ),
            (
                "sinopia_resynced_updates",
                "Updates missed on the bus and read back from the store",
                stats.resynced_updates,
            ),
        ]
        for name, doc, value in counters:
            yield CounterMetricFamily(name, doc, value)
        closed = CounterMetricFamily(
            "sinopia_connection_errors",
            "Connections closed for an error, by close code",
            labels=["code"],
        )
        for code, count in sorted(self.collab.errors.items()):
            closed.add_metric([str(code)], count)
        yield closed


class Metrics:
    def __init__(self, manager: RoomManager, collab: Collab) -> None:
        # A registry per app: several apps (tests, instances) never share counters.
        self.registry = CollectorRegistry()
        self.registry.register(_Live(manager, collab))
        self.store_append = Histogram(
            "sinopia_store_append_seconds",
            "Time to make one group-commit batch durable",
            registry=self.registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        manager.log.on_commit = lambda entries, seconds: self.store_append.observe(seconds)
        # Bus lag: from another instance publishing an update to this one receiving it.
        self.bus_delay = Histogram(
            "sinopia_bus_delay_seconds",
            "Time from another instance publishing an update to this instance receiving it",
            registry=self.registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
        )
        manager.bus.on_delay = self.bus_delay.observe

    async def endpoint(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type="text/plain; version=0.0.4")
