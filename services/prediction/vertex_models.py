"""Registry records seen as Vertex AI `Model` resources (google/cloud/aiplatform/v1/model.proto).

A registry model is a Vertex model whose id is the registry name; its versions are the
registry's versions and `versionAliases` its aliases. Vertex gives every model exactly one
`default` version (the first, unless moved), which `models/{id}` without `@` names: here the
`default` alias when one is stored (uploads through ModelService always store one), else the
`champion` alias (what the registry's own readers take a bare name for), else the first
version; GetModel lists `default` on that version either way.

Output only, as Vertex forms them: `versionCreateTime` (the version's registration time;
versions are immutable, so `versionUpdateTime` is the same), `createTime` (the first
version's), `updateTime` (the latest version's), `etag` (changes with any version or alias),
`deployedModels` (the endpoint records that deploy this version; a model's own endpoint is
part of the model, not a deployment of it), `supportedDeploymentResourcesTypes`
(`DEDICATED_RESOURCES`, as for every custom-trained model), the batch formats the batch
prediction service reads and writes.
"""

from __future__ import annotations

import hashlib
from typing import Any, NamedTuple

from services.prediction import vertex_names
from shared.errors import ApiError, not_found
from shared.registry import CHAMPION, ModelVersion, Registry, Snapshot

DEFAULT = "default"
_INPUT_FORMATS = ["jsonl", "csv", "file-list"]  # what services/batch_prediction reads
_OUTPUT_FORMATS = ["jsonl"]
# Kept from the uploaded `Model` and answered back (the rest is output only or ours).
UPLOADED_FIELDS = (
    "displayName",
    "description",
    "versionDescription",
    "predictSchemata",
    "metadataSchemaUri",
    "metadata",
    "containerSpec",
    "artifactUri",
    "explanationSpec",
    "encryptionSpec",
    "baseModelSource",
)


class ModelState(NamedTuple):
    """One model's versions and aliases, read once for a request."""

    name: str
    versions: list[str]
    snapshot: Snapshot

    @property
    def default(self) -> str:
        aliases = self.snapshot.aliases
        return aliases.get(DEFAULT) or aliases.get(CHAMPION) or self.versions[0]

    def resolve(self, ref: str | None) -> str | None:
        """A version id for a version id, an alias or None (the default); None if unknown."""
        if ref is None:
            return self.default
        if ref in self.versions:
            return ref
        if ref == DEFAULT:
            return self.default
        return self.snapshot.aliases.get(ref)

    def aliases_of(self, version: str) -> list[str]:
        found = sorted(a for a, v in self.snapshot.aliases.items() if v == version)
        if version == self.default and DEFAULT not in found:
            found.insert(0, DEFAULT)
        return found


def state(registry: Registry, model: str, resource: str) -> ModelState:
    """The model's versions and aliases; NOT_FOUND (naming `resource`) when it has none."""
    versions = registry.versions(model) if _plausible(model) else []
    if not versions:
        raise not_found(f"Model {resource} not found.")
    return ModelState(model, versions, registry.snapshot(model))


def _plausible(model: str) -> bool:
    """Only names the registry could hold are looked up (a name with `/` or `..` never is)."""
    return bool(model) and "/" not in model and model not in (".", "..")


def resolve(registry: Registry, ref: vertex_names.ModelRef) -> tuple[ModelState, ModelVersion]:
    resource = vertex_names.model_name(ref.project, ref.location, ref.model)
    model = state(registry, ref.model, resource)
    version = model.resolve(ref.version)
    if version is None:
        raise not_found(f"Model {resource}@{ref.version} not found.")
    try:
        return model, registry.get(ref.model, version)
    except ApiError as error:
        if error.code.name == "NOT_FOUND":
            raise not_found(f"Model {resource}@{ref.version or version} not found.") from None
        raise


def to_json(
    project: str,
    location: str,
    model: ModelState,
    version: ModelVersion,
    first: ModelVersion,
    latest: ModelVersion,
    deployed: list[dict[str, str]],
) -> dict[str, Any]:
    """The `Model` JSON of one version."""
    uploaded = version.vertex
    body: dict[str, Any] = {
        "name": vertex_names.model_name(project, location, model.name),
        "versionId": version.version,
        "versionAliases": model.aliases_of(version.version),
        "versionCreateTime": version.create_time,
        "versionUpdateTime": version.create_time,
        "displayName": uploaded.get("displayName") or model.name,
        "supportedDeploymentResourcesTypes": ["DEDICATED_RESOURCES"],
        "supportedInputStorageFormats": _INPUT_FORMATS,
        "supportedOutputStorageFormats": _OUTPUT_FORMATS,
        "createTime": first.create_time,
        "updateTime": max(latest.create_time, version.create_time),
        "etag": _etag(model, version),
        "modelSourceInfo": {"sourceType": "CUSTOM"},
    }
    for field in UPLOADED_FIELDS:
        if field != "displayName" and uploaded.get(field):
            body[field] = uploaded[field]
    if version.labels:
        body["labels"] = dict(version.labels)
    if deployed:
        body["deployedModels"] = deployed
    return body


def _etag(model: ModelState, version: ModelVersion) -> str:
    seen = f"{model.name}/{version.version}/{model.versions}/{model.snapshot.generations}"
    return hashlib.blake2b(seen.encode(), digest_size=12).hexdigest()


def describe(
    registry: Registry,
    project: str,
    location: str,
    model: ModelState,
    version: ModelVersion,
    deployed: list[dict[str, str]],
) -> dict[str, Any]:
    """`to_json`, reading the first and latest versions for the model-level times."""
    first = (
        version
        if version.version == model.versions[0]
        else registry.get(model.name, model.versions[0])
    )
    last_id = model.versions[-1]
    latest = version if version.version == last_id else registry.get(model.name, last_id)
    return to_json(project, location, model, version, first, latest, deployed)
