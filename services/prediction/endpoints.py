"""Endpoints and their deployed versions: loaded once per process, refreshed when the registry
changes.

An endpoint id names a registered model (or is mapped to one by `ENDPOINTS`). Its
`Deployment` is an immutable snapshot: the traffic split with aliases resolved, and the loaded
model of every version that takes traffic. A version whose artifact fails to load is kept aside
with its error, and its traffic is shared among the healthy versions (so the endpoint keeps
answering); asking for it by `deployedModelId` answers the load error.

`Deployments.get` loads an endpoint on first use (one loader per endpoint; concurrent first
requests wait for it). A poller thread (`registry-poller`, started on first use so it lives in
the serving process after a fork) checks each loaded model's aliases.json and endpoint.json
generations every `REFRESH_SECONDS` with one list request, and when they change builds the new
deployment beside the old one and swaps it in: requests never see a half-loaded endpoint.
Versions are immutable, so a loaded model is reused across deployments.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import os
import threading
import time
from collections.abc import Callable

from shared.errors import ApiError, Code, echo, not_found
from shared.modelruntime import ServedModel, load
from shared.registry import Registry, Snapshot
from shared.traffic import TrafficSplit, sticky_fraction, without

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Deployment:
    endpoint: str
    model: str
    split: TrafficSplit
    served: TrafficSplit | None  # `split` without the broken versions
    models: dict[str, ServedModel]
    broken: dict[str, ApiError]
    generations: tuple[int, int]

    def choose(self, sticky_key: str | None = None) -> ServedModel:
        """The version for one request: by the split, or by the sticky key's hash."""
        if self.served is None:
            first = next(iter(self.broken.values()), None)
            raise ApiError(
                Code.FAILED_PRECONDITION,
                f"No version of endpoint {echo(self.endpoint)} can serve"
                + (f": {first.message}" if first else "."),
            )
        u = sticky_fraction(sticky_key, self.endpoint) if sticky_key is not None else None
        return self.models[self.served.choose(u)]

    def traffic(self) -> dict[str, int]:
        return dict(self.split.percents)


def _freeze_heap() -> None:
    """Move everything alive now (frameworks, loaded models) out of the garbage collector's
    reach. A full collection otherwise walks every object of scikit-learn and the model on
    each pass, tens of milliseconds that land on some request's latency."""
    gc.collect()
    gc.freeze()


class Deployments:
    """Endpoint id -> `Deployment`, for one process. Thread-safe."""

    def __init__(
        self,
        registry: Registry,
        endpoint_models: dict[str, str] | None = None,
        refresh_seconds: float = 5.0,
        on_load: Callable[[ServedModel], None] | None = None,
    ) -> None:
        self.registry = registry
        self._endpoint_models = endpoint_models or {}
        self._refresh = refresh_seconds
        self._on_load = on_load
        self._deployments: dict[str, Deployment] = {}
        self._missing: dict[str, float] = {}  # endpoint -> monotonic time of a NOT_FOUND
        self._models: dict[tuple[str, str], ServedModel | ApiError] = {}
        # Protects `_deployments`, `_missing`, `_models`, `_loading` and the poller's start.
        self._lock = threading.Lock()
        # Endpoint -> lock held while it loads, so concurrent first requests load it once.
        self._loading: dict[str, threading.Lock] = {}
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self._poller_pid = 0

    def model_name(self, endpoint: str) -> str:
        return self._endpoint_models.get(endpoint, endpoint)

    def get(self, endpoint: str, *, watch: bool = True) -> Deployment:
        """The endpoint's deployment, loaded on first use. `watch=False` (preloading in a
        parent process that will fork) starts no poller thread."""
        if watch:
            self._ensure_poller()
        deployment = self._deployments.get(endpoint)
        if deployment is not None:
            return deployment
        with self._lock:
            failed_at = self._missing.get(endpoint)
            if failed_at is not None and time.monotonic() - failed_at < max(self._refresh, 1.0):
                raise self._not_found(endpoint)
            loading = self._loading.setdefault(endpoint, threading.Lock())
        with loading:
            deployment = self._deployments.get(endpoint)
            if deployment is None:
                snapshot = self.registry.snapshot(self.model_name(endpoint))
                deployment = self._build(endpoint, snapshot)
                with self._lock:
                    self._deployments[endpoint] = deployment
        return deployment

    def version(self, endpoint: str, version: str) -> ServedModel:
        """A named version of the endpoint's model (explain's `deployedModelId`): from the
        deployment when it serves traffic, else loaded on demand."""
        deployment = self.get(endpoint)
        if version in deployment.models:
            return deployment.models[version]
        if version in deployment.broken:
            raise deployment.broken[version]
        snapshot = self.registry.snapshot(deployment.model)
        served = self._load(deployment.model, snapshot.resolve(version))
        if isinstance(served, ApiError):
            raise served
        return served

    def loaded(self) -> dict[str, Deployment]:
        return dict(self._deployments)

    def _not_found(self, endpoint: str) -> ApiError:
        return not_found(
            f"Endpoint {echo(endpoint)} not found: no model {self.model_name(endpoint)!r} in the "
            f"registry (gs://{self.registry.bucket}/{self.registry.prefix}/)."
        )

    def _build(self, endpoint: str, snapshot: Snapshot) -> Deployment:
        model = self.model_name(endpoint)
        if snapshot.generations == (0, 0) and not self.registry.versions(model):
            with self._lock:
                self._missing[endpoint] = time.monotonic()
            raise self._not_found(endpoint)
        split = snapshot.traffic(model)
        models: dict[str, ServedModel] = {}
        broken: dict[str, ApiError] = {}
        for version in split.versions:
            loaded = self._load(model, version)
            if isinstance(loaded, ApiError):
                broken[version] = loaded
            else:
                models[version] = loaded
        return Deployment(
            endpoint=endpoint,
            model=model,
            split=split,
            served=without(split, set(broken)),
            models=models,
            broken=broken,
            generations=snapshot.generations,
        )

    def _load(self, model: str, version: str) -> ServedModel | ApiError:
        key = (model, version)
        cached = self._models.get(key)
        if cached is not None:
            return cached
        started = time.perf_counter()
        try:
            metadata = self.registry.get(model, version)
            loaded: ServedModel | ApiError = load(metadata, self.registry.read_artifact(metadata))
        except ApiError as error:
            if error.code == Code.UNAVAILABLE:
                raise  # storage is down: not a property of the version
            if error.code == Code.NOT_FOUND:
                return error  # may be registered later: not cached
            log.error(
                "model version failed to load",
                extra={"json_fields": {"model": model, "version": version, "error": str(error)}},
            )
            loaded = error
        else:
            log.info(
                "model version loaded",
                extra={
                    "json_fields": {
                        "model": model,
                        "version": version,
                        "framework": metadata.framework,
                        "seconds": round(time.perf_counter() - started, 3),
                    }
                },
            )
            if self._on_load is not None:
                self._on_load(loaded)
            _freeze_heap()
        with self._lock:
            self._models[key] = loaded
        return loaded

    # -- refresh ---------------------------------------------------------------------------

    def refresh(self) -> list[str]:
        """Rebuild every loaded endpoint whose aliases or split changed; the endpoints that
        changed. Failures keep the current deployment (and are logged)."""
        changed = []
        for endpoint, current in self.loaded().items():
            try:
                if self.registry.generations(current.model) == current.generations:
                    continue
                fresh = self._build(endpoint, self.registry.snapshot(current.model))
            except ApiError as error:
                log.warning(
                    "endpoint refresh failed; serving the previous deployment",
                    extra={"json_fields": {"endpoint": endpoint, "error": str(error)}},
                )
                continue
            with self._lock:
                self._deployments[endpoint] = fresh
            changed.append(endpoint)
            log.info(
                "endpoint traffic changed",
                extra={"json_fields": {"endpoint": endpoint, "trafficSplit": fresh.traffic()}},
            )
        self._evict()
        return changed

    def _evict(self) -> None:
        in_use = {(d.model, v) for d in self._deployments.values() for v in (*d.models, *d.broken)}
        with self._lock:
            for key in [k for k in self._models if k not in in_use]:
                del self._models[key]

    def _ensure_poller(self) -> None:
        if self._refresh <= 0 or (self._poller is not None and self._poller_pid == os.getpid()):
            return
        with self._lock:
            if self._poller is not None and self._poller_pid == os.getpid():
                return
            self._poller_pid = os.getpid()
            self._poller = threading.Thread(target=self._poll, name="registry-poller", daemon=True)
            self._poller.start()

    def _poll(self) -> None:
        while not self._stop.wait(self._refresh):
            try:
                self.refresh()
            except Exception:
                log.exception("registry poll failed")

    def stop(self) -> None:
        self._stop.set()
