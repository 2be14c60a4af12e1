"""Per-version counters and latency histograms, served as Prometheus text at `/metrics`.

    mlapi_prediction_requests_total{endpoint,version,method,code}      requests answered
    mlapi_prediction_instances_total{endpoint,version}                 instances predicted
    mlapi_prediction_latency_seconds{endpoint,version,method}          histogram, whole request
    mlapi_prediction_batch_size                                        histogram, micro-batches
    mlapi_prediction_request_log_dropped_total                         sampled lines dropped

Counts are per process: with several gunicorn workers (`WORKERS`), each answers for itself
(Cloud Run runs one worker per instance by default; scrape each instance).
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Sequence

# Latency buckets in seconds: sub-millisecond to a slow explain.
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Histogram:
    """Cumulative-bucket histogram (not thread-safe on its own: `Metrics` locks around it)."""

    __slots__ = ("bounds", "count", "counts", "total")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.count = 0
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.count += 1
        self.total += value

    def lines(self, name: str, labels: str) -> list[str]:
        sep = "," if labels else ""
        out = []
        cumulative = 0
        for bound, count in zip(self.bounds, self.counts, strict=False):
            cumulative += count
            out.append(f'{name}_bucket{{{labels}{sep}le="{bound:g}"}} {cumulative}')
        out.append(f'{name}_bucket{{{labels}{sep}le="+Inf"}} {self.count}')
        braces = f"{{{labels}}}" if labels else ""
        out.append(f"{name}_sum{braces} {self.total:.6f}")
        out.append(f"{name}_count{braces} {self.count}")
        return out


def _labels(**values: str) -> str:
    escaped = (
        (k, v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n"))
        for k, v in values.items()
    )
    return ",".join(f'{k}="{v}"' for k, v in escaped)


class Metrics:
    def __init__(self) -> None:
        self._requests: dict[tuple[str, str, str, str], int] = defaultdict(int)
        self._instances: dict[tuple[str, str], int] = defaultdict(int)
        self._latency: dict[tuple[str, str, str], Histogram] = {}
        self._batches = Histogram(BATCH_BUCKETS)
        self.dropped_log_lines = 0
        # Protects every counter and histogram above.
        self._lock = threading.Lock()

    def observe_request(
        self,
        endpoint: str,
        version: str,
        method: str,
        code: str,
        seconds: float,
        instances: int = 0,
    ) -> None:
        with self._lock:
            self._requests[(endpoint, version, method, code)] += 1
            if instances:
                self._instances[(endpoint, version)] += instances
            key = (endpoint, version, method)
            histogram = self._latency.get(key)
            if histogram is None:
                histogram = self._latency[key] = Histogram(LATENCY_BUCKETS)
            histogram.observe(seconds)

    def count_dropped(self, lines: int) -> None:
        with self._lock:
            self.dropped_log_lines += lines

    def observe_batch(self, size: int) -> None:
        with self._lock:
            self._batches.observe(size)

    def requests(self, endpoint: str, version: str) -> int:
        with self._lock:
            return sum(
                n for (e, v, _, _), n in self._requests.items() if (e, v) == (endpoint, version)
            )

    def render(self) -> str:
        """Prometheus text exposition format 0.0.4."""
        with self._lock:
            lines = [
                "# HELP mlapi_prediction_requests_total Prediction requests answered.",
                "# TYPE mlapi_prediction_requests_total counter",
            ]
            for (endpoint, version, method, code), n in sorted(self._requests.items()):
                labels = _labels(endpoint=endpoint, version=version, method=method, code=code)
                lines.append(f"mlapi_prediction_requests_total{{{labels}}} {n}")
            lines += [
                "# HELP mlapi_prediction_instances_total Instances predicted.",
                "# TYPE mlapi_prediction_instances_total counter",
            ]
            for (endpoint, version), n in sorted(self._instances.items()):
                labels = _labels(endpoint=endpoint, version=version)
                lines.append(f"mlapi_prediction_instances_total{{{labels}}} {n}")
            lines += [
                "# HELP mlapi_prediction_latency_seconds Request latency, arrival to answer.",
                "# TYPE mlapi_prediction_latency_seconds histogram",
            ]
            for (endpoint, version, method), histogram in sorted(self._latency.items()):
                labels = _labels(endpoint=endpoint, version=version, method=method)
                lines += histogram.lines("mlapi_prediction_latency_seconds", labels)
            lines += [
                "# HELP mlapi_prediction_batch_size Instances per model call.",
                "# TYPE mlapi_prediction_batch_size histogram",
                *self._batches.lines("mlapi_prediction_batch_size", ""),
                "# HELP mlapi_prediction_request_log_dropped_total Sampled lines dropped.",
                "# TYPE mlapi_prediction_request_log_dropped_total counter",
                f"mlapi_prediction_request_log_dropped_total {self.dropped_log_lines}",
            ]
        return "\n".join(lines) + "\n"
