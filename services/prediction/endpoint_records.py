"""Vertex AI endpoints created through EndpointService, as records beside the model registry.

    gs://{registry bucket}/endpoints/{id}.json   (a sibling of the registry's `models/` folder)

    {"id", "displayName", "description", "labels", "createTime", "updateTime",
     "deployedModels": [{"id", "model" (a registry model name), "modelVersionId",
                         "displayName", "createTime", ...the DeployedModel fields as sent}],
     "trafficSplit": {deployed model id: percent}}

A record is Vertex's `Endpoint` with each deployed model pointing at one registry version (an
alias or the default version is resolved when deploying, as Vertex does). The prediction
service serves a record's endpoint by its split (`services.prediction.endpoints`); readers
notice changes through the record's generation. Every update is a read-modify-write under an
`ifGenerationMatch` precondition (ABORTED when another writer came first on real Cloud
Storage; gcp-storage-emulator ignores preconditions).
"""

from __future__ import annotations

import posixpath
from typing import Any

import orjson

from shared.errors import ApiError, Code, not_found
from shared.registry import Registry
from shared.storage import GcsUri, Storage


def records_prefix(registry: Registry) -> str:
    """`endpoints/` beside the registry's folder (`models` -> `endpoints`)."""
    parent = posixpath.dirname(registry.prefix)
    return posixpath.join(parent, "endpoints") if parent else "endpoints"


class EndpointRecords:
    def __init__(self, storage: Storage, bucket: str, prefix: str = "endpoints") -> None:
        self.storage = storage
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    @classmethod
    def beside(cls, registry: Registry) -> EndpointRecords:
        return cls(registry.storage, registry.bucket, records_prefix(registry))

    def uri(self, endpoint_id: str) -> GcsUri:
        return GcsUri(self.bucket, f"{self.prefix}/{endpoint_id}.json")

    def find(self, endpoint_id: str) -> tuple[dict[str, Any], int] | None:
        """The record and its generation; None when there is none. The generation comes from
        a listing, as the pollers see it (gcp-storage-emulator leaves it out of an object's
        metadata), taken before the read: a write in between makes the next poll rebuild
        once more, never miss a change."""
        uri = self.uri(endpoint_id)
        listed, _ = self.storage.list_dir(self.bucket, uri.name)
        found = self.storage.read_with_generation(uri)
        if found is None:
            return None
        try:
            return orjson.loads(found[0]), found[1] or listed.get(uri.name, 0)
        except orjson.JSONDecodeError as exc:
            raise ApiError(Code.DATA_LOSS, f"{self.uri(endpoint_id)} is not JSON: {exc}.") from None

    def get(self, endpoint_id: str, name: str) -> tuple[dict[str, Any], int]:
        found = self.find(endpoint_id)
        if found is None:
            raise not_found(f"Endpoint `{name}` not found.")
        return found

    def create(self, endpoint_id: str, record: dict[str, Any]) -> None:
        self.storage.write_checked(
            self.uri(endpoint_id), orjson.dumps(record), 0, "application/json"
        )

    def update(self, endpoint_id: str, record: dict[str, Any], generation: int) -> None:
        self.storage.write_checked(
            self.uri(endpoint_id), orjson.dumps(record), generation, "application/json"
        )

    def delete(self, endpoint_id: str) -> None:
        self.storage.delete(self.uri(endpoint_id))

    def generations(self) -> dict[str, int]:
        """Every record's id and generation, from one list request."""
        objects, _ = self.storage.list_dir(self.bucket, f"{self.prefix}/")
        start = len(self.prefix) + 1
        return {
            name[start : -len(".json")]: generation
            for name, generation in objects.items()
            if name.endswith(".json")
        }

    def all(self) -> dict[str, dict[str, Any]]:
        """Every record, by id (one list request and one read each)."""
        found = {}
        for endpoint_id in sorted(self.generations()):
            record = self.find(endpoint_id)
            if record is not None:
                found[endpoint_id] = record[0]
        return found
