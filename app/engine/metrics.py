"""Prometheus metrics: what the engine counts as it runs, and the text exposition format.

Kept by hand instead of through a client library: a few counters and one histogram, rendered on scrape.
Request counts are labelled by route *template* (``/api/v1/incidents/{incident_id}``), never by the raw
path, so an attacker cannot grow the label set (and no id leaks into a monitoring system).
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Seconds; the intake target is tens of milliseconds, the tail a few seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12)
INTAKE_ROUTES = frozenset(
    {
        "/api/v1/requests",
        "/api/v1/requests/{external_id}/updates",
        "/api/v1/alerts/cap",
        "/api/v1/sensors/events",
    }
)


class Histogram:
    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.total = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        for i, edge in enumerate(self.buckets):
            if value <= edge:
                self.counts[i] += 1
        self.total += 1
        self.sum += value


class EngineMetrics:
    """Thread-safe counters fed by :class:`MetricsMiddleware`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str, int]] = Counter()  # (method, route, status)
        self.intake_latency: dict[str, Histogram] = {}
        self.started = time.time()

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            if route in INTAKE_ROUTES and method == "POST":
                hist = self.intake_latency.setdefault(route, Histogram(LATENCY_BUCKETS))
                hist.observe(seconds)

    def render(self, gauges: Iterable[tuple[str, str, dict[str, str], float]]) -> str:
        """The exposition text: counters and histogram, then ``gauges`` (name, help, labels, value)."""
        out: list[str] = []
        with self._lock:
            out += [
                "# HELP goldentime_http_requests_total HTTP requests answered, by route template and status.",
                "# TYPE goldentime_http_requests_total counter",
            ]
            for (method, route, status), n in sorted(self.requests.items()):
                labels = _labels({"method": method, "route": route, "status": str(status)})
                out.append(f"goldentime_http_requests_total{labels} {n}")
            out += [
                "# HELP goldentime_intake_latency_seconds Time to answer an intake request.",
                "# TYPE goldentime_intake_latency_seconds histogram",
            ]
            for route, h in sorted(self.intake_latency.items()):
                for edge, n in zip(h.buckets, h.counts, strict=True):
                    out.append(
                        f"goldentime_intake_latency_seconds_bucket{_labels({'route': route, 'le': repr(edge)})} {n}"
                    )
                out.append(
                    f"goldentime_intake_latency_seconds_bucket{_labels({'route': route, 'le': '+Inf'})} {h.total}"
                )
                out.append(f"goldentime_intake_latency_seconds_sum{_labels({'route': route})} {h.sum:.6f}")
                out.append(f"goldentime_intake_latency_seconds_count{_labels({'route': route})} {h.total}")
        # The format wants each metric's samples together, under one HELP/TYPE.
        grouped: dict[str, tuple[str, list[str]]] = {}
        for name, help_text, gauge_labels, value in gauges:
            sample = f"{name}{_labels(gauge_labels)} {_number(value)}"
            grouped.setdefault(name, (help_text, []))[1].append(sample)
        for name, (help_text, samples) in grouped.items():
            out += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", *samples]
        return "\n".join(out) + "\n"


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    body = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(10), "").replace(chr(34), chr(92) + chr(34))}"'
        for k, v in labels.items()
    )
    return "{" + body + "}"


class MetricsMiddleware:
    """Pure ASGI middleware: times each HTTP request and counts it under its route template."""

    def __init__(self, app: ASGIApp, metrics: EngineMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "(unmatched)"
            self.metrics.record(scope["method"], template, status[0], time.perf_counter() - start)
