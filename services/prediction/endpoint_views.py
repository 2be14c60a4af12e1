"""Endpoints as EndpointService sees them: Vertex AI's `Endpoint` JSON over the two kinds the
prediction service serves (google/cloud/aiplatform/v1/endpoint.proto).

- An **endpoint record** (`RecordView`), made by CreateEndpoint: any registry versions, each a
  `DeployedModel` under its own id, split by those ids, as Vertex's endpoints are.
- A **model's own endpoint** (`ModelView`), id = the model's name (or an `ENDPOINTS` id
  mapped to it): its deployed models are the versions in its traffic split (deployed model
  id = version id), read from and written to the registry's `endpoint.json`, which is what
  `mlapi models split` writes. So the CLI and EndpointService are two doors to one split:
  DeployModel, UndeployModel and UpdateEndpoint's `trafficSplit` rewrite it (keeping the
  aliases it was written with), and `mlapi models split` shows up in GetEndpoint at once. It
  serves versions of its model only, always at least one (the registry's split cannot be
  empty), keeps no per-deployment settings (replicas, display names), and cannot be deleted
  apart from its model.

A record id shadows a model of the same name; CreateEndpoint refuses such ids, so the two
never meet.
"""

from __future__ import annotations

import hashlib
from typing import Any

from services.prediction import vertex_models, vertex_names
from services.prediction.control import ControlPlane
from shared.errors import ApiError, Code, not_found
from shared.registry import CHAMPION, now_rfc3339

# DeployedModel fields that are output only, or ours to set.
_DEPLOYED_OWN = frozenset({"id", "model", "modelVersionId", "createTime", "privateEndpoints"})


class RecordView:
    kind = "record"

    def __init__(
        self,
        plane: ControlPlane,
        project: str,
        location: str,
        endpoint_id: str,
        record: dict[str, Any],
        generation: int,
    ) -> None:
        self.plane, self.project, self.location = plane, project, location
        self.id, self.record, self.generation = endpoint_id, record, generation
        self.name = vertex_names.endpoint_name(project, location, endpoint_id)

    def deployed(self) -> list[dict[str, Any]]:
        """The deployed models as stored: `model` is the registry name."""
        return list(self.record.get("deployedModels", []))

    def split(self) -> dict[str, int]:
        return dict(self.record.get("trafficSplit") or {})

    def save(self, deployed: list[dict[str, Any]], split: dict[str, int], **fields: Any) -> None:
        record = {
            **self.record,
            **fields,
            "deployedModels": deployed,
            "trafficSplit": split,
            "updateTime": now_rfc3339(),
        }
        self.plane.records.update(self.id, record, self.generation)
        self.record = record

    def to_json(self) -> dict[str, Any]:
        body = {k: v for k, v in self.record.items() if k not in ("id", "deployedModels")}
        body["name"] = self.name
        body["deployedModels"] = [self.deployed_json(d) for d in self.deployed()]
        body["trafficSplit"] = self.split()
        body["etag"] = str(self.generation)
        return {k: v for k, v in body.items() if v not in (None, {}, [], "")}

    def deployed_json(self, deployed: dict[str, Any]) -> dict[str, Any]:
        return {
            **deployed,
            "model": vertex_names.model_name(self.project, self.location, deployed["model"]),
        }


class ModelView:
    kind = "model"

    def __init__(
        self, plane: ControlPlane, project: str, location: str, endpoint_id: str, model: str
    ) -> None:
        self.plane, self.project, self.location = plane, project, location
        self.id, self.model = endpoint_id, model
        self.name = vertex_names.endpoint_name(project, location, endpoint_id)
        self.state = vertex_models.state(plane.registry, model, self.name)
        self.generation = 0

    def _traffic(self) -> dict[str, int]:
        try:
            return self.state.snapshot.traffic(self.model).percents
        except ApiError as error:
            if error.code == Code.FAILED_PRECONDITION:
                return {}  # no split and no champion: nothing deployed yet
            raise

    def serves(self) -> bool:
        return bool(self._traffic())

    def deployed(self) -> list[dict[str, Any]]:
        found = []
        for version in sorted(self._traffic(), key=_version_order):
            metadata = self.plane.registry.get(self.model, version)
            found.append(
                {
                    "id": version,
                    "model": self.model,
                    "modelVersionId": version,
                    "displayName": metadata.vertex.get("displayName") or self.model,
                    "createTime": metadata.create_time,
                }
            )
        return found

    def split(self) -> dict[str, int]:
        return dict(self._traffic())

    def save(self, deployed: list[dict[str, Any]], split: dict[str, int], **fields: Any) -> None:
        if fields:
            raise ApiError(
                Code.INVALID_ARGUMENT,
                f"Endpoint {self.name} is model {self.model}'s own endpoint: it takes its name "
                "and labels from the model; only its traffic split can change.",
            )
        if not deployed or not split:
            raise ApiError(
                Code.FAILED_PRECONDITION,
                f"Endpoint {self.name} is model {self.model}'s own endpoint and always serves "
                "a version; send traffic to another version first, or create an endpoint.",
            )
        everything = {d["id"]: split.get(d["id"], 0) for d in deployed}
        self.plane.registry.set_split(self.model, self._keyed(everything))

    def _keyed(self, by_version: dict[str, int]) -> dict[str, int]:
        """The split by version, written with the aliases its current keys use (so moving an
        alias still moves its traffic)."""
        snapshot = self.state.snapshot
        keys = list(snapshot.split or {})
        if snapshot.split is None and CHAMPION in snapshot.aliases:
            keys = [CHAMPION]
        chosen = {}
        for version, percent in by_version.items():
            matching = [k for k in keys if snapshot.resolve(k) == version]
            chosen[matching[0] if len(matching) == 1 else version] = percent
        return chosen

    def to_json(self) -> dict[str, Any]:
        deployed = self.deployed()
        first = self.plane.registry.get(self.model, self.state.versions[0])
        seen = f"{self.model}/{self.state.versions}/{self.state.snapshot.generations}"
        body = {
            "name": self.name,
            "displayName": first.vertex.get("displayName") or self.model,
            "deployedModels": [self.deployed_json(d) for d in deployed],
            "trafficSplit": self.split(),
            "createTime": first.create_time,
            "updateTime": max([first.create_time, *(d["createTime"] for d in deployed)]),
            "etag": hashlib.blake2b(seen.encode(), digest_size=12).hexdigest(),
        }
        return {k: v for k, v in body.items() if v not in ({}, [])}

    def deployed_json(self, deployed: dict[str, Any]) -> dict[str, Any]:
        return {
            **deployed,
            "model": vertex_names.model_name(self.project, self.location, deployed["model"]),
        }


View = RecordView | ModelView


def _version_order(version: str) -> tuple[bool, int, str]:
    return (not version.isdigit(), int(version) if version.isdigit() else 0, version)


def find(plane: ControlPlane, project: str, location: str, endpoint_id: str) -> View:
    """The endpoint `endpoint_id`: a record, else a model's own; NOT_FOUND as Vertex words it."""
    found = plane.records.find(endpoint_id)
    if found is not None:
        return RecordView(plane, project, location, endpoint_id, *found)
    model = plane.deployments.model_name(endpoint_id)
    try:
        return ModelView(plane, project, location, endpoint_id, model)
    except ApiError as error:
        if error.code == Code.NOT_FOUND:
            name = vertex_names.endpoint_name(project, location, endpoint_id)
            raise not_found(f"Endpoint `{name}` not found.") from None
        raise


def every(plane: ControlPlane, project: str, location: str) -> list[View]:
    """Every record, then every model whose own endpoint serves something, by name."""
    views: list[View] = []
    records, generations = plane.records.all(), plane.records.generations()
    for endpoint_id, record in records.items():
        generation = generations.get(endpoint_id, 0)
        views.append(RecordView(plane, project, location, endpoint_id, record, generation))
    for model in plane.registry.models():
        if model in records:
            continue
        try:
            view = ModelView(plane, project, location, model, model)
        except ApiError as error:
            if error.code == Code.NOT_FOUND:
                continue
            raise
        if view.serves():
            views.append(view)
    return views


def deployed_fields(request_model: dict[str, Any]) -> dict[str, Any]:
    """The DeployedModel fields a record keeps as sent."""
    return {k: v for k, v in request_model.items() if k not in _DEPLOYED_OWN}
