"""Prometheus metrics (`GET /metrics`), with the standard client library.

- `idsreg_indexed_block`, `idsreg_chain_head_block`, `idsreg_index_lag_blocks`: read at scrape
  time from the checkpoint and the node, so they are right whichever process indexes.
- `idsreg_indexed_events{contract,event}`: events stored, by type.
- `idsreg_http_requests_total{method,route,status}` and
  `idsreg_http_request_duration_seconds{method,route}`: every request, by route template.

With several worker processes (`PROMETHEUS_MULTIPROC_DIR` set, as `registry_api.service`
does), each worker writes its request metrics to that folder and a scrape of any worker adds
them up (the client library's multiprocess mode).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import store
from .models import RawEvent

# The `*_created` series (when each counter started) only clutter a scrape here.
disable_created_metrics()  # type: ignore[no-untyped-call]

#: Latency buckets (seconds): the API answers in milliseconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class IndexCollector(Collector):
    """The index's progress, read when Prometheus scrapes."""

    def __init__(self, engine: Engine, head: Callable[[], int | None]) -> None:
        self.engine = engine
        self.head = head

    def collect(self) -> Iterator[Metric]:
        with Session(self.engine) as session:
            checkpoint = store.get_checkpoint(session)
            counts = (
                session.connection()
                .execute(
                    select(col(RawEvent.contract), col(RawEvent.name), func.count()).group_by(
                        col(RawEvent.contract), col(RawEvent.name)
                    )
                )
                .all()
            )
        indexed = checkpoint.block_number if checkpoint is not None else None
        head = self.head()
        metrics = [
            ("idsreg_indexed_block", "Last block whose events are all in the index.", indexed),
            ("idsreg_chain_head_block", "The chain node's head block (absent when the node does not answer).", head),
            (
                "idsreg_index_lag_blocks",
                "Blocks between the node's head and the index.",
                max(head - indexed, 0) if head is not None and indexed is not None else None,
            ),
        ]
        for name, text, value in metrics:
            gauge = GaugeMetricFamily(name, text)
            if value is not None:
                gauge.add_metric([], value)
            yield gauge
        events = GaugeMetricFamily(
            "idsreg_indexed_events", "Events in the index, by contract and event.", labels=["contract", "event"]
        )
        for contract, name, count in counts:
            events.add_metric([contract, name], count)
        yield events


class Metrics:
    """The metrics of one API instance (its own registry, so that several apps can coexist)."""

    def __init__(self, engine: Engine, head: Callable[[], int | None]) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(IndexCollector(engine, head))
        shared = "PROMETHEUS_MULTIPROC_DIR" in os.environ
        if shared:
            MultiProcessCollector(self.registry)  # type: ignore[no-untyped-call]
        # Shared across workers, the request metrics live in the folder, not in this registry.
        own = None if shared else self.registry
        self.requests = Counter(
            "idsreg_http_requests", "HTTP requests answered.", ["method", "route", "status"], registry=own
        )
        self.latency = Histogram(
            "idsreg_http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ["method", "route"],
            buckets=BUCKETS,
            registry=own,
        )


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (`/v1/datasets/{root}`)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(scope["method"], template, str(status)).inc()
            self.metrics.latency.labels(scope["method"], template).observe(time.perf_counter() - start)
