"""The prediction backend interface: one call per Vertex AI method, JSON-shaped values in and
out. Unlike the other services, the types are not proto-plus messages: importing
`google.cloud.aiplatform_v1` costs ~0.9 s and ~100 MB, and converting every instance to a
`protobuf.Value` costs more than the prediction itself, so only the `cloud` backend uses them.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple, Protocol

# The endpoint id a Vertex AI custom container's requests are counted under.
CONTAINER_ENDPOINT = "container"


class Target(NamedTuple):
    """The endpoint a request names: `projects/{project}/locations/{location}/endpoints/{id}`."""

    project: str
    location: str
    endpoint: str

    @property
    def name(self) -> str:
        return f"projects/{self.project}/locations/{self.location}/endpoints/{self.endpoint}"


@dataclasses.dataclass
class PredictResult:
    """`PredictResponse` (google/cloud/aiplatform/v1/prediction_service.proto)."""

    predictions: list[Any]
    deployed_model_id: str
    model: str = ""
    model_version_id: str = ""
    model_display_name: str = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "predictions": self.predictions,
            "deployedModelId": self.deployed_model_id,
        }
        for key, value in (
            ("model", self.model),
            ("modelVersionId", self.model_version_id),
            ("modelDisplayName", self.model_display_name),
        ):
            if value:
                data[key] = value
        return data


@dataclasses.dataclass
class RawResult:
    """`rawPredict`'s answer: the container's body as is, and who answered."""

    body: bytes
    content_type: str
    deployed_model_id: str


@dataclasses.dataclass
class ExplainResult:
    """`ExplainResponse`: `explanations[].attributions[]` in Vertex AI's JSON."""

    explanations: list[dict[str, Any]]
    predictions: list[Any]
    deployed_model_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "explanations": self.explanations,
            "deployedModelId": self.deployed_model_id,
            "predictions": self.predictions,
        }


class PredictionBackend(Protocol):
    def predict(
        self,
        target: Target,
        instances: Any,
        parameters: dict[str, Any] | None,
        sticky_key: str | None,
    ) -> PredictResult: ...

    def raw_predict(
        self, target: Target, body: bytes, content_type: str, sticky_key: str | None
    ) -> RawResult: ...

    def explain(
        self,
        target: Target,
        instances: Any,
        parameters: dict[str, Any] | None,
        deployed_model_id: str | None,
        sticky_key: str | None,
        spec_override: dict[str, Any] | None,
    ) -> ExplainResult: ...

    def get_endpoint(self, target: Target) -> dict[str, Any]:
        """Vertex AI's `Endpoint` JSON: its deployed models and `trafficSplit`."""
        ...

    def preload(self, endpoints: list[str]) -> None:
        """Load these endpoints' models now (`*`: every registered model); failures are
        logged, not raised, so the service still starts."""
        ...

    def ready(self) -> bool:
        """Can requests be served? (A custom container whose model failed to load cannot.)"""
        ...

    def close(self) -> None: ...
