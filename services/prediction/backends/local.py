"""The `local` backend: models from the registry bucket, served in this process.

Serves both kinds of endpoint (`services.prediction.endpoints`): a model's own (id = model
name) and the endpoint records made through EndpointService, and carries the `ControlPlane`
that ModelService and EndpointService work on (`services.prediction.control`).

Honours: `instances` (lists or objects keyed by feature name, checked against the version's
schema), the endpoint's traffic split and a sticky key, `deployedModelId` on `:explain`,
`explanationSpecOverride.parameters.sampledShapleyAttribution.pathCount`. Other
`parameters` are accepted and ignored (Vertex AI passes them to the model container, and the
prebuilt scikit-learn, XGBoost and LightGBM containers ignore them too).

As a Vertex AI custom container (`AIP_STORAGE_URI` set), the one model in that folder serves
every request: its `metadata.json` when present, otherwise the framework is told by the
artifact's file name and the inputs by the model itself.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np
import orjson

from services.prediction import explain as explaining
from services.prediction.adaptive import Batcher, InFlight
from services.prediction.backends.base import (
    CONTAINER_ENDPOINT,
    ExplainResult,
    PredictResult,
    RawResult,
    Target,
)
from services.prediction.control import ControlPlane
from services.prediction.endpoint_records import EndpointRecords
from services.prediction.endpoints import Deployment, Deployments
from services.prediction.metrics import Metrics
from services.prediction.operations import Operations
from services.prediction.requestlog import RequestLog
from services.prediction.settings import PredictionSettings
from shared import jsonbody
from shared.errors import ApiError, Code, echo
from shared.modelruntime import ServedModel, framework_for_artifact, load
from shared.modelschema import check_instances, field_error, to_matrix
from shared.registry import ModelVersion, Registry
from shared.storage import GcsUri, Storage, parse_gs_uri
from shared.traffic import TrafficSplit

log = logging.getLogger(__name__)


class LocalBackend:
    def __init__(
        self,
        settings: PredictionSettings,
        *,
        storage: Storage | None = None,
        registry: Registry | None = None,
        metrics: Metrics | None = None,
        inflight: InFlight | None = None,
        request_log: RequestLog | None = None,
    ) -> None:
        self.settings = settings
        storage = storage or Storage(settings.google_cloud_project)
        self.registry = registry or Registry(
            settings.registry_bucket, settings.registry_prefix, storage
        )
        records = EndpointRecords.beside(self.registry)
        self.deployments = Deployments(
            self.registry, settings.endpoint_models, settings.refresh_seconds, records=records
        )
        self.metrics = metrics or Metrics()
        self.inflight = inflight or InFlight()
        self.request_log = request_log or RequestLog(
            storage,
            settings.request_log_bucket or settings.registry_bucket,
            settings.request_log_prefix,
            settings.request_log_sample_rate,
            settings.request_log_flush_seconds,
            self.metrics,
        )
        self._batchers: dict[tuple[str, str], Batcher] = {}
        # Protects `_batchers`.
        self._lock = threading.Lock()
        self.container: Deployment | ApiError | None = None
        self.control: ControlPlane | None = None
        if settings.container_mode:
            self.container = _load_container(settings, storage)
        else:
            operations = Operations(
                storage,
                settings.results_bucket or settings.registry_bucket,
                settle_seconds=settings.refresh_seconds,
            )
            self.control = ControlPlane(
                self.registry, records, operations, self.deployments, storage
            )

    # -- the three methods -------------------------------------------------------------------

    def predict(
        self,
        target: Target,
        instances: Any,
        parameters: dict[str, Any] | None,
        sticky_key: str | None,
    ) -> PredictResult:
        self._check_count(instances)
        deployment = self.deployment(target.endpoint)
        deployed_id, served = _pick(deployment, target, sticky_key)
        matrix = to_matrix(instances, served.schema)
        predictions = served.format(self._batcher(served).predict(matrix))
        self.request_log.record(target.endpoint, served, matrix, predictions, deployed_id)
        version = served.version
        return PredictResult(
            predictions=predictions,
            deployed_model_id=deployed_id,
            model=f"projects/{target.project}/locations/{target.location}/models/{version.name}",
            model_version_id=version.version,
            model_display_name=version.vertex.get("displayName") or version.name,
        )

    def raw_predict(
        self, target: Target, body: bytes, content_type: str, sticky_key: str | None
    ) -> RawResult:
        request = jsonbody.object_body(body)
        result = self.predict(
            target, request.get("instances"), request.get("parameters"), sticky_key
        )
        return RawResult(
            body=orjson.dumps({"predictions": result.predictions}),
            content_type="application/json",
            deployed_model_id=result.deployed_model_id,
        )

    def explain(
        self,
        target: Target,
        instances: Any,
        parameters: dict[str, Any] | None,
        deployed_model_id: str | None,
        sticky_key: str | None,
        spec_override: dict[str, Any] | None,
    ) -> ExplainResult:
        self._check_count(instances)
        if deployed_model_id:
            if self.container is not None:
                deployed_id, served = _pick(self.deployment(target.endpoint), target, None)
            else:
                deployed_id, served = self.deployments.deployed(target.endpoint, deployed_model_id)
        else:
            deployed_id, served = _pick(self.deployment(target.endpoint), target, sticky_key)
        matrix = to_matrix(instances, served.schema)
        attributions = explaining.explain(
            served, matrix, _path_count(spec_override, self.settings.explain_path_count)
        )
        names = served.schema.names
        return ExplainResult(
            explanations=[{"attributions": [a.to_json(names)]} for a in attributions],
            predictions=served.predict(matrix),
            deployed_model_id=deployed_id,
        )

    def close(self) -> None:
        self.deployments.stop()
        self.request_log.close()

    # -- parts -------------------------------------------------------------------------------

    def deployment(self, endpoint: str) -> Deployment:
        if self.container is not None:
            if isinstance(self.container, ApiError):
                raise self.container
            return self.container
        return self.deployments.get(endpoint)

    def ready(self) -> bool:
        """Container mode: the model loaded. Otherwise always (endpoints load on demand)."""
        return not isinstance(self.container, ApiError)

    def get_endpoint(self, target: Target) -> dict[str, Any]:
        """Vertex AI's `Endpoint` resource as this process serves it (a custom container's
        one model; EndpointService answers GetEndpoint from the registry otherwise)."""
        deployment = self.deployment(target.endpoint)
        location = f"projects/{target.project}/locations/{target.location}"
        return {
            "name": target.name,
            "displayName": deployment.model or target.endpoint,
            "deployedModels": [
                {
                    "id": m.id,
                    "model": f"{location}/models/{m.model}",
                    "modelVersionId": m.version,
                    "displayName": m.model,
                }
                for m in map(deployment.member, sorted(deployment.traffic()))
            ],
            "trafficSplit": deployment.traffic(),
        }

    def preload(self, endpoints: list[str]) -> None:
        if self.container is not None or not endpoints:
            return
        if "*" in endpoints:
            try:
                endpoints = self.registry.models()
            except ApiError as error:
                log.error(
                    "preload: cannot list models", extra={"json_fields": {"error": str(error)}}
                )
                return
        for endpoint in endpoints:
            try:
                self.deployments.get(endpoint, watch=False)
            except ApiError as error:
                log.error(
                    "preload failed",
                    extra={"json_fields": {"endpoint": endpoint, "error": str(error)}},
                )

    def _check_count(self, instances: Any) -> None:
        instances = check_instances(instances)
        if len(instances) > self.settings.max_instances:
            raise field_error(
                "instances",
                f"has {len(instances)} instances; the limit is {self.settings.max_instances} "
                "a request. Split the request, or use batch prediction.",
            )

    def _batcher(self, served: ServedModel) -> Batcher | _Direct:
        if self.settings.batch_max_size <= 1:
            return _Direct(served)
        key = (served.version.name, served.version.version)
        batcher = self._batchers.get(key)
        if batcher is None or batcher.owner is not served:
            with self._lock:
                batcher = self._batchers.get(key)
                if batcher is None or batcher.owner is not served:
                    batcher = Batcher(
                        served.predict_raw,
                        self.settings.batch_max_size,
                        self.settings.batch_max_wait_ms / 1000.0,
                        self.inflight,
                        self.metrics.observe_batch,
                    )
                    batcher.owner = served
                    self._batchers[key] = batcher
        return batcher


class _Direct:
    """No batching: each request calls the model itself."""

    def __init__(self, served: ServedModel) -> None:
        self._served = served

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        return self._served.predict_raw(matrix)


def _pick(
    deployment: Deployment, target: Target, sticky_key: str | None
) -> tuple[str, ServedModel]:
    """The deployed model for one request; an endpoint record with no traffic answers as
    Vertex does, naming the endpoint."""
    if deployment.split is None:
        raise ApiError(
            Code.FAILED_PRECONDITION, f"Endpoint {target.name} doesn't have traffic_split."
        )
    return deployment.pick(sticky_key)


def _path_count(spec_override: dict[str, Any] | None, default: int) -> int:
    sampled = ((spec_override or {}).get("parameters") or {}).get("sampledShapleyAttribution") or {}
    count = sampled.get("pathCount", default)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 50:
        raise field_error(
            "explanationSpecOverride.parameters.sampledShapleyAttribution.pathCount",
            f"must be an integer from 1 to 50, got {echo(count)}.",
        )
    return count


def _load_container(settings: PredictionSettings, storage: Storage) -> Deployment | ApiError:
    """The one model of a Vertex AI custom container, from `AIP_STORAGE_URI`."""
    assert settings.aip_storage_uri
    try:
        folder = parse_gs_uri(settings.aip_storage_uri.rstrip("/") + "/")
    except ApiError:
        bucket = settings.aip_storage_uri.removeprefix("gs://").strip("/")
        folder = GcsUri(bucket, "")
    deployed = settings.aip_deployed_model_id or "1"
    try:
        objects, _ = storage.list_dir(folder.bucket, folder.name)
        files = {name.rsplit("/", 1)[-1] for name in objects}
        if "metadata.json" in files:
            version = ModelVersion.from_json(
                orjson.loads(storage.read(GcsUri(folder.bucket, folder.name + "metadata.json")))
            )
        else:
            artifact = next((f for f in sorted(files) if framework_for_artifact(f)), None)
            if artifact is None:
                raise ApiError(
                    Code.FAILED_PRECONDITION,
                    f"No model artifact in {settings.aip_storage_uri}: expected model.joblib, "
                    "model.pkl, model.json, model.ubj, model.bst or model.txt.",
                )
            version = ModelVersion(
                name="model",
                version=deployed,
                framework=framework_for_artifact(artifact) or "",
                artifact=artifact,
                output={"kind": "regression"},
            )
        served = load(version, storage.read(GcsUri(folder.bucket, folder.name + version.artifact)))
    except ApiError as error:
        log.error("container model failed to load", extra={"json_fields": {"error": str(error)}})
        return error
    split = TrafficSplit({version.version: 100})
    return Deployment(
        endpoint=CONTAINER_ENDPOINT,
        model=version.name,
        split=split,
        served=split,
        models={version.version: served},
        broken={},
        generations=(0, 0),
    )
