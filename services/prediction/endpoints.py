"""Endpoints and their deployed versions: loaded once per process, refreshed when the registry
changes.

An endpoint id names either an endpoint record made through EndpointService
(`services.prediction.endpoint_records`: deployed models of any registry model, split by
deployed model id), or else a registered model (mapped by `ENDPOINTS`, or the id itself): the
model's own endpoint, whose deployed models are its versions, split as its `endpoint.json`
says (or all to `champion`). Its `Deployment` is an immutable snapshot: the deployed models
(`members`), the traffic split with aliases resolved, and the loaded model of every deployed
model that takes traffic. A version whose artifact fails to load is kept aside
with its error, and its traffic is shared among the healthy versions (so the endpoint keeps
answering); asking for it by `deployedModelId` answers the load error.

`Deployments.get` loads an endpoint on first use (one loader per endpoint; concurrent first
requests wait for it). A poller thread (`registry-poller`, started on first use so it lives in
the serving process after a fork) checks each loaded model's aliases.json and endpoint.json
generations every `REFRESH_SECONDS` with one list request (one more for all endpoint
records), and when they change builds the new deployment beside the old one and swaps it in:
requests never see a half-loaded endpoint; an endpoint whose record or model is gone is
dropped. A change made through this process's EndpointService is served from the next request
(`invalidate`). Versions are immutable, so a loaded model is reused across deployments.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared.errors import ApiError, Code, echo, not_found
from shared.modelruntime import ServedModel, load
from shared.perprocess import PerProcess
from shared.registry import Registry
from shared.traffic import TrafficSplit, sticky_fraction, without

if TYPE_CHECKING:
    from services.prediction.endpoint_records import EndpointRecords

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Member:
    """One deployed model of an endpoint: a registry version under a deployed model id (on a
    model's own endpoint, the id is the version id)."""

    id: str
    model: str
    version: str


@dataclasses.dataclass(frozen=True)
class Deployment:
    endpoint: str
    model: str  # the model of a model's own endpoint; "" for an endpoint record
    split: TrafficSplit | None  # by deployed model id; None: a record with no traffic
    served: TrafficSplit | None  # `split` without the broken deployed models
    models: dict[str, ServedModel]  # deployed model id -> loaded model, those with traffic
    broken: dict[str, ApiError]
    generations: tuple[int, ...]
    members: dict[str, Member] = dataclasses.field(default_factory=dict)
    record: bool = False

    def pick(self, sticky_key: str | None = None) -> tuple[str, ServedModel]:
        """The deployed model for one request, by the split or by the sticky key's hash."""
        if self.served is None:
            first = next(iter(self.broken.values()), None)
            if self.split is None:
                raise ApiError(
                    Code.FAILED_PRECONDITION,
                    f"Endpoint {self.endpoint} doesn't have traffic_split.",
                )
            raise ApiError(
                Code.FAILED_PRECONDITION,
                f"No version of endpoint {echo(self.endpoint)} can serve"
                + (f": {first.message}" if first else "."),
            )
        u = sticky_fraction(sticky_key, self.endpoint) if sticky_key is not None else None
        deployed = self.served.choose(u)
        return deployed, self.models[deployed]

    def choose(self, sticky_key: str | None = None) -> ServedModel:
        return self.pick(sticky_key)[1]

    def traffic(self) -> dict[str, int]:
        return dict(self.split.percents) if self.split is not None else {}

    def member(self, deployed_id: str) -> Member:
        return self.members.get(deployed_id) or Member(deployed_id, self.model, deployed_id)


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
        records: EndpointRecords | None = None,
    ) -> None:
        self.registry = registry
        self.records = records
        self._endpoint_models = endpoint_models or {}
        self._refresh = refresh_seconds
        self._on_load = on_load
        self._deployments: dict[str, Deployment] = {}
        self._missing: dict[str, float] = {}  # endpoint -> monotonic time of a NOT_FOUND
        self._models: dict[tuple[str, str], ServedModel | ApiError] = {}
        # Protects `_deployments`, `_missing`, `_models` and `_loading`.
        self._lock = threading.Lock()
        # Endpoint -> lock held while it loads, so concurrent first requests load it once.
        self._loading: dict[str, threading.Lock] = {}
        self._stop = threading.Event()
        self._poller: PerProcess[threading.Thread] = PerProcess(self._start_poller)

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
                deployment = self._build(endpoint)
                with self._lock:
                    self._deployments[endpoint] = deployment
        return deployment

    def version(self, endpoint: str, version: str) -> ServedModel:
        """A deployed model of the endpoint (explain's `deployedModelId`): from the
        deployment when it serves traffic, else loaded on demand. On a model's own endpoint
        the id may also be an alias."""
        return self.deployed(endpoint, version)[1]

    def deployed(self, endpoint: str, deployed_id: str) -> tuple[str, ServedModel]:
        deployment = self.get(endpoint)
        if deployed_id in deployment.models:
            return deployed_id, deployment.models[deployed_id]
        if deployed_id in deployment.broken:
            raise deployment.broken[deployed_id]
        if deployment.record:
            member = deployment.members.get(deployed_id)
            if member is None:
                raise not_found(
                    f"Deployed model {deployed_id!r} is not deployed on endpoint {endpoint!r}."
                )
            model, version = member.model, member.version
        else:
            model = deployment.model
            version = self.registry.snapshot(model).resolve(deployed_id)
            deployed_id = version
        served = self._load(model, version)
        if isinstance(served, ApiError):
            raise served
        return deployed_id, served

    def load_version(self, model: str, version: str) -> ServedModel:
        """Load (or reuse) one version: what DeployModel proves before deploying it."""
        served = self._load(model, version)
        if isinstance(served, ApiError):
            raise served
        return served

    def invalidate(self, endpoint: str) -> None:
        """Forget `endpoint`: its next request builds it from the registry as it is now."""
        with self._lock:
            self._deployments.pop(endpoint, None)
            self._missing.pop(endpoint, None)

    def loaded(self) -> dict[str, Deployment]:
        return dict(self._deployments)

    def _not_found(self, endpoint: str) -> ApiError:
        return not_found(
            f"Endpoint {echo(endpoint)} not found: no model {self.model_name(endpoint)!r} in the "
            f"registry (gs://{self.registry.bucket}/{self.registry.prefix}/)."
        )

    def _build(self, endpoint: str) -> Deployment:
        found = self.records.find(endpoint) if self.records is not None else None
        if found is not None:
            return self._build_record(endpoint, *found)
        model = self.model_name(endpoint)
        snapshot = self.registry.snapshot(model)
        if snapshot.generations == (0, 0) and not self.registry.versions(model):
            with self._lock:
                self._missing[endpoint] = time.monotonic()
            raise self._not_found(endpoint)
        split = snapshot.traffic(model)
        members = {v: Member(v, model, v) for v in split.percents}
        return self._assemble(endpoint, model, split, members, snapshot.generations, False)

    def _build_record(self, endpoint: str, record: dict[str, Any], generation: int) -> Deployment:
        members = {
            str(d["id"]): Member(str(d["id"]), d["model"], str(d["modelVersionId"]))
            for d in record.get("deployedModels", [])
        }
        raw = record.get("trafficSplit") or {}
        split = TrafficSplit(raw) if raw else None
        return self._assemble(endpoint, "", split, members, (generation,), True)

    def _assemble(
        self,
        endpoint: str,
        model: str,
        split: TrafficSplit | None,
        members: dict[str, Member],
        generations: tuple[int, ...],
        record: bool,
    ) -> Deployment:
        models: dict[str, ServedModel] = {}
        broken: dict[str, ApiError] = {}
        for deployed in split.versions if split is not None else []:
            member = members[deployed]
            loaded = self._load(member.model, member.version)
            if isinstance(loaded, ApiError):
                broken[deployed] = loaded
            else:
                models[deployed] = loaded
        return Deployment(
            endpoint=endpoint,
            model=model,
            split=split,
            served=without(split, set(broken)) if split is not None else None,
            models=models,
            broken=broken,
            generations=generations,
            members=members,
            record=record,
        )

    def _load(self, model: str, version: str) -> ServedModel | ApiError:
        key = (model, version)
        cached = self._models.get(key)
        if cached is not None:
            return cached
        started = time.perf_counter()
        try:
            metadata = self.registry.get(model, version)
            artifact = self.registry.read_artifact(metadata)
            compiled = self.registry.read_compiled(metadata)
            loaded: ServedModel | ApiError = load(metadata, artifact, compiled)
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
            if loaded.compiled is not None and compiled is None:
                self._store_compiled(metadata, loaded.compiled)
            if self._on_load is not None:
                self._on_load(loaded)
            _freeze_heap()
        with self._lock:
            self._models[key] = loaded
        return loaded

    def _store_compiled(self, metadata: Any, data: bytes) -> None:
        """Best effort: the next process serves this version without importing its
        framework (a read-only registry just keeps loading the artifact)."""
        try:
            self.registry.write_compiled(metadata, data)
        except ApiError as error:
            log.info(
                "compiled model not stored",
                extra={"json_fields": {"model": metadata.name, "error": str(error)}},
            )

    # -- refresh ---------------------------------------------------------------------------

    def refresh(self) -> list[str]:
        """Rebuild every loaded endpoint whose aliases or split changed; the endpoints that
        changed. Failures keep the current deployment (and are logged)."""
        changed = []
        loaded = self.loaded()
        records: dict[str, int] = {}
        if self.records is not None and any(d.record for d in loaded.values()):
            records = self.records.generations()
        for endpoint, current in loaded.items():
            try:
                if current.record:
                    stamp: tuple[int, ...] = (records.get(endpoint, 0),)
                else:
                    stamp = self.registry.generations(current.model)
                if stamp == current.generations:
                    continue
                fresh = self._build(endpoint)
            except ApiError as error:
                if error.code == Code.NOT_FOUND:
                    # The endpoint record or the model was deleted: stop serving it.
                    with self._lock:
                        self._deployments.pop(endpoint, None)
                    changed.append(endpoint)
                    continue
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
        in_use = {
            (member.model, member.version)
            for d in self._deployments.values()
            for member in map(d.member, (*d.models, *d.broken))
        }
        with self._lock:
            for key in [k for k in self._models if k not in in_use]:
                del self._models[key]

    def _ensure_poller(self) -> None:
        if self._refresh > 0:
            self._poller.get()

    def _start_poller(self) -> threading.Thread:
        poller = threading.Thread(target=self._poll, name="registry-poller", daemon=True)
        poller.start()
        return poller

    def _poll(self) -> None:
        while not self._stop.wait(self._refresh):
            try:
                self.refresh()
            except Exception:
                log.exception("registry poll failed")

    def stop(self) -> None:
        self._stop.set()
