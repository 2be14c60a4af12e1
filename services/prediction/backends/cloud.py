"""The `cloud` backend: Vertex AI endpoints through google-cloud-aiplatform's
`PredictionServiceClient` (REST transport), with Application Default Credentials.

An endpoint id in the request path is mapped to a Vertex AI endpoint resource by
`PREDICTION_CLOUD_ENDPOINTS` (`cancer=projects/123/locations/us-central1/endpoints/456`); an
unmapped one is forwarded under the request's own resource name. The host is
`{location}-aiplatform.googleapis.com`, or `PREDICTION_CLOUD_API_ENDPOINT` (an `http://` one
is called without credentials: for tests against a local replay server).

`:rawPredict` goes over an authorized HTTP session with the body as is, as
`aiplatform.Endpoint.raw_predict` does: the generated REST client wraps the body in a JSON
`HttpBody` and cannot read Vertex AI's raw answer. Sticky keys are not forwarded: Vertex AI
splits traffic at random per request. google-cloud-aiplatform is imported when this backend is
created, never by the `local` backend.
"""

from __future__ import annotations

import threading
from typing import Any

from google.protobuf import json_format

from services.prediction.backends.base import ExplainResult, PredictResult, RawResult, Target
from services.prediction.settings import PredictionSettings
from shared.cloudclients import google_errors
from shared.errors import ApiError, Code, invalid_argument

_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


class CloudBackend:
    def __init__(self, settings: PredictionSettings) -> None:
        from google.cloud import aiplatform_v1  # noqa: F401 - fail at start when not installed

        self.settings = settings
        self._clients: dict[str, Any] = {}
        self._sessions: dict[str, Any] = {}
        # Protects `_clients` and `_sessions` (created on first use per host).
        self._lock = threading.Lock()

    def _resource(self, target: Target) -> tuple[str, str]:
        """(Vertex AI endpoint resource name, its location)."""
        name = self.settings.cloud_endpoint_names.get(target.endpoint, target.name)
        parts = name.split("/")
        if len(parts) != 6 or parts[0] != "projects" or parts[2] != "locations":
            raise invalid_argument(
                f"PREDICTION_CLOUD_ENDPOINTS maps {target.endpoint!r} to {name!r}; expected "
                "projects/P/locations/L/endpoints/N."
            )
        return name, parts[3]

    def _host(self, location: str) -> str:
        return self.settings.cloud_api_endpoint or f"{location}-aiplatform.googleapis.com"

    def _client(self, location: str) -> Any:
        host = self._host(location)
        with self._lock:
            client = self._clients.get(host)
            if client is None:
                from google.api_core.client_options import ClientOptions
                from google.cloud.aiplatform_v1 import PredictionServiceClient

                client = PredictionServiceClient(
                    transport="rest",
                    credentials=_anonymous() if host.startswith("http://") else None,
                    client_options=ClientOptions(api_endpoint=host),
                )
                self._clients[host] = client
            return client

    @google_errors
    def predict(
        self,
        target: Target,
        instances: Any,
        parameters: dict[str, Any] | None,
        sticky_key: str | None,
    ) -> PredictResult:
        from google.cloud.aiplatform_v1 import PredictRequest

        name, location = self._resource(target)
        request = _request(
            PredictRequest, {"endpoint": name, "instances": instances, "parameters": parameters}
        )
        response = self._client(location).predict(request=request)
        body = _to_dict(response)
        return PredictResult(
            predictions=body.get("predictions", []),
            deployed_model_id=body.get("deployedModelId", ""),
            model=body.get("model", ""),
            model_version_id=body.get("modelVersionId", ""),
            model_display_name=body.get("modelDisplayName", ""),
        )

    @google_errors
    def explain(
        self,
        target: Target,
        instances: Any,
        parameters: dict[str, Any] | None,
        deployed_model_id: str | None,
        sticky_key: str | None,
        spec_override: dict[str, Any] | None,
    ) -> ExplainResult:
        from google.cloud.aiplatform_v1 import ExplainRequest

        name, location = self._resource(target)
        request = _request(
            ExplainRequest,
            {
                "endpoint": name,
                "instances": instances,
                "parameters": parameters,
                "deployedModelId": deployed_model_id,
                "explanationSpecOverride": spec_override,
            },
        )
        response = self._client(location).explain(request=request)
        body = _to_dict(response)
        return ExplainResult(
            explanations=body.get("explanations", []),
            predictions=body.get("predictions", []),
            deployed_model_id=body.get("deployedModelId", ""),
        )

    @google_errors
    def raw_predict(
        self, target: Target, body: bytes, content_type: str, sticky_key: str | None
    ) -> RawResult:
        from google.api_core import exceptions as core

        name, location = self._resource(target)
        host = self._host(location)
        base = host if "://" in host else f"https://{host}"
        response = self._session(host).post(
            f"{base}/v1/{name}:rawPredict",
            data=body,
            headers={"Content-Type": content_type},
            timeout=600,
        )
        if response.status_code >= 400:
            raise core.from_http_response(response)
        return RawResult(
            body=response.content,
            content_type=response.headers.get("Content-Type", "application/json"),
            deployed_model_id=response.headers.get("X-Vertex-AI-Deployed-Model-Id", ""),
        )

    def _session(self, host: str) -> Any:
        with self._lock:
            session = self._sessions.get(host)
            if session is None:
                if host.startswith("http://"):
                    import requests

                    session = requests.Session()
                else:
                    import google.auth
                    from google.auth.transport.requests import AuthorizedSession

                    credentials, _ = google.auth.default(scopes=_SCOPES)
                    session = AuthorizedSession(credentials)
                self._sessions[host] = session
            return session

    def get_endpoint(self, target: Target) -> dict[str, Any]:
        raise ApiError(
            Code.UNIMPLEMENTED,
            "GET endpoint is served by the local backend only; with ML_BACKEND=cloud, get the "
            "Vertex AI endpoint from aiplatform.googleapis.com itself.",
        )

    def preload(self, endpoints: list[str]) -> None:
        """Nothing to load: Vertex AI serves the models."""

    def ready(self) -> bool:
        return True

    def close(self) -> None:
        for session in self._sessions.values():
            session.close()


def _anonymous() -> Any:
    from google.auth.credentials import AnonymousCredentials

    return AnonymousCredentials()


def _request(message_type: Any, fields: dict[str, Any]) -> Any:
    """A proto-plus request from Vertex AI's JSON field names; a bad value is INVALID_ARGUMENT
    here rather than a surprise from Vertex AI."""
    pb = message_type.pb()()
    try:
        json_format.ParseDict({k: v for k, v in fields.items() if v is not None}, pb)
    except (json_format.ParseError, ValueError, TypeError) as exc:
        raise invalid_argument(f"Invalid JSON payload received. {exc}") from None
    return message_type.wrap(pb)


def _to_dict(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(type(message).pb(message))
