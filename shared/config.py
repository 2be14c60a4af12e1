"""Settings from the environment, typed, documented in one place.

Every field of `Settings` (and of a service's subclass) is read from an environment variable of
the same name in upper case. A service-scoped variable wins over the plain one, so one machine can
run several services with different settings: for the vision service, `VISION_ML_BACKEND=cloud`
beats `ML_BACKEND=local`. Lists are comma-separated.

| variable | default | meaning |
|---|---|---|
| `ML_BACKEND` | `local` | `local` (offline engines) or `cloud` (the real Google API) |
| `GOOGLE_CLOUD_PROJECT` | `local-project` | project for topic names and the cloud clients |
| `MAX_REQUEST_BYTES` | 10485760 | request body limit (Google's JSON request limit is 10 MB) |
| `LOG_FORMAT` | `auto` | `json` (Cloud Logging), `text`, or `auto`: text on a terminal |
| `LOG_LEVEL` | `INFO` | root log level |
| `HEALTH_ROUTE` | `/health` | liveness route (Cloud Run reserves paths ending in `z`) |
| `RESULTS_BUCKET` | none | where workflows write result objects |
| `OUTPUT_TOPIC` | none | where workflows publish; a short name or `projects/P/topics/T` |
| `CLOUD_API_ENDPOINT` | Google's | the `cloud` backend's endpoint (see below) |

`CLOUD_API_ENDPOINT` serves regional endpoints (`eu-vision.googleapis.com`) and private ones; an
`http://` endpoint is a local stand-in (a recording, an emulator), called over REST without
credentials.
| `PUBSUB_EMULATOR_HOST` | none | read by google-cloud-pubsub itself |
| `STORAGE_EMULATOR_HOST` | none | read by google-cloud-storage itself |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, field_validator

S = TypeVar("S", bound="Settings")


class Settings(BaseModel):
    """What every service reads. Services subclass it for their own fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ml_backend: Literal["local", "cloud"] = "local"
    google_cloud_project: str = "local-project"
    max_request_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    log_format: Literal["auto", "json", "text"] = "auto"
    log_level: str = "INFO"
    health_route: str = "/health"
    results_bucket: str | None = None
    output_topic: str | None = None
    cloud_api_endpoint: str | None = None

    @field_validator("health_route")
    @classmethod
    def _route_starts_with_slash(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("HEALTH_ROUTE must start with '/'")
        return value

    @classmethod
    def from_env(
        cls: type[S],
        service: str | None = None,
        environ: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> S:
        """Build settings from `environ` (default `os.environ`), service-scoped names first,
        then apply `overrides` (tests use them)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, field in cls.model_fields.items():
            raw = _lookup(env, name, service)
            if raw is not None:
                values[name] = _parse(raw, field.annotation)
        values.update(overrides)
        return cls(**values)

    def cloud_client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for a google-cloud-* client honouring `CLOUD_API_ENDPOINT`."""
        endpoint = self.cloud_api_endpoint
        if not endpoint:
            return {}
        from google.api_core.client_options import ClientOptions

        kwargs: dict[str, Any] = {"client_options": ClientOptions(api_endpoint=endpoint)}
        if endpoint.startswith("http://"):
            # A plain-HTTP endpoint is a local stand-in (a recording, an emulator): the gRPC
            # transport cannot reach it and it checks no credentials.
            from google.auth.credentials import AnonymousCredentials

            kwargs.update(transport="rest", credentials=AnonymousCredentials())
        return kwargs

    def topic_path(self, topic: str) -> str:
        """`projects/P/topics/T` for a short topic name; full names pass through."""
        if topic.startswith("projects/"):
            return topic
        return f"projects/{self.google_cloud_project}/topics/{topic}"


def _lookup(env: Mapping[str, str], name: str, service: str | None) -> str | None:
    keys = [name.upper()]
    if service:
        keys.insert(0, f"{service.upper()}_{name.upper()}")
    for key in keys:
        value = env.get(key)
        if value is not None and value != "":
            return value
    return None


def _parse(raw: str, annotation: Any) -> Any:
    """Comma-separated strings for list fields; pydantic coerces everything else."""
    if _is_list(annotation):
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def _is_list(annotation: Any) -> bool:
    if get_origin(annotation) in (list, tuple, frozenset, set):
        return True
    return any(_is_list(arg) for arg in get_args(annotation) if arg is not type(None))
