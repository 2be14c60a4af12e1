"""The prediction service's settings (beyond `shared.config.Settings`), read from the
environment with the `PREDICTION_` prefix first: `PREDICTION_REGISTRY_BUCKET` beats
`REGISTRY_BUCKET`.

| variable | default | meaning |
|---|---|---|
| `REGISTRY_BUCKET` | `mlapi-models` | bucket of the model registry (`shared.registry`) |
| `REGISTRY_PREFIX` | `models` | folder of the registry in that bucket |
| `ENDPOINTS` | none | `ENDPOINT_ID=MODEL` pairs; an unmapped endpoint id is a model name |
| `PRELOAD` | none | endpoint ids whose models load at start (`*`: every registered model) |
| `REFRESH_SECONDS` | 5 | how often aliases and splits are checked for changes (0: never) |
| `BATCH_MAX_SIZE` | 1024 | most instances in one micro-batched predict (1 turns batching off) |
| `BATCH_MAX_WAIT_MS` | 1.0 | longest a request waits for others to join its batch |
| `STICKY_HEADER` | `X-Mlapi-Sticky-Key` | request header that pins a caller to a version |
| `REQUEST_LOG_SAMPLE_RATE` | 0 | share of instances (0..1) logged with their predictions |
| `REQUEST_LOG_BUCKET` | the registry's | where sampled instances go, as JSONL |
| `REQUEST_LOG_PREFIX` | `prediction-logs` | folder for them |
| `REQUEST_LOG_FLUSH_SECONDS` | 10 | longest a sampled line waits before it is written |
| `EXPLAIN_PATH_COUNT` | 10 | sampled Shapley permutations, when no exact method exists |
| `MAX_INSTANCES` | 10000 | most instances per request |
| `ACCESS_LOG` | true | one log line per request (Cloud Run logs requests itself) |
| `CLOUD_ENDPOINTS` | none | `ML_BACKEND=cloud`: `ID=projects/P/locations/L/endpoints/N` pairs |
| `CLOUD_API_ENDPOINT` | `{location}-aiplatform.googleapis.com` | Vertex AI host (or http://...) |
| `AIP_STORAGE_URI` | none | set by Vertex AI: serve the one model in this folder as a container |
| `AIP_HEALTH_ROUTE` | none | set by Vertex AI: readiness route of the container |
| `AIP_PREDICT_ROUTE` | none | set by Vertex AI: predict route of the container |
| `AIP_HTTP_PORT` | 8080 | set by Vertex AI: port (read by `services/prediction/container.py`) |
| `AIP_DEPLOYED_MODEL_ID` | none | set by Vertex AI: reported as the deployed model id |
"""

from __future__ import annotations

from pydantic import Field, field_validator

from shared.config import Settings


class PredictionSettings(Settings):
    registry_bucket: str = "mlapi-models"
    registry_prefix: str = "models"
    endpoints: list[str] = Field(default_factory=list)
    preload: list[str] = Field(default_factory=list)
    refresh_seconds: float = Field(default=5.0, ge=0)
    # scikit-learn's predict costs ~0.2 ms whatever the rows (0.22 ms for 100, 0.28 ms for
    # 1,000 on the breast-cancer pipeline): merging whole requests is where the time goes.
    batch_max_size: int = Field(default=1024, ge=1, le=100_000)
    batch_max_wait_ms: float = Field(default=1.0, ge=0, le=1000)
    sticky_header: str = "X-Mlapi-Sticky-Key"
    request_log_sample_rate: float = Field(default=0.0, ge=0, le=1)
    request_log_bucket: str | None = None
    request_log_prefix: str = "prediction-logs"
    request_log_flush_seconds: float = Field(default=10.0, gt=0)
    explain_path_count: int = Field(default=10, ge=1, le=1000)
    max_instances: int = Field(default=10_000, ge=1)
    access_log: bool = True
    cloud_endpoints: list[str] = Field(default_factory=list)
    cloud_api_endpoint: str | None = None
    aip_storage_uri: str | None = None
    aip_health_route: str | None = None
    aip_predict_route: str | None = None
    aip_http_port: int = 8080
    aip_deployed_model_id: str | None = None

    @field_validator("endpoints", "cloud_endpoints")
    @classmethod
    def _pairs(cls, value: list[str]) -> list[str]:
        for item in value:
            key, sep, target = item.partition("=")
            if not sep or not key or not target:
                raise ValueError(f"expected ENDPOINT_ID=TARGET pairs, got {item!r}")
        return value

    @property
    def endpoint_models(self) -> dict[str, str]:
        """Endpoint id -> model name, from `ENDPOINTS`."""
        return dict(item.partition("=")[::2] for item in self.endpoints)

    @property
    def cloud_endpoint_names(self) -> dict[str, str]:
        """Endpoint id -> Vertex AI endpoint resource name, from `CLOUD_ENDPOINTS`."""
        return dict(item.partition("=")[::2] for item in self.cloud_endpoints)

    @property
    def container_mode(self) -> bool:
        """Run as a Vertex AI custom container: one model from `AIP_STORAGE_URI`."""
        return bool(self.aip_storage_uri)
