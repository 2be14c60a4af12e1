"""The model registry: model versions, aliases and traffic splits in a Cloud Storage bucket.

Layout (all JSON is Google-style lowerCamelCase):

    gs://BUCKET/models/{name}/{version}/model.joblib     the artifact: scikit-learn (joblib),
                                        model.json|.ubj  XGBoost native, or
                                        model.txt        LightGBM native
    gs://BUCKET/models/{name}/{version}/metadata.json    written last: the version exists once
                                                         this object does (`ModelVersion`)
    gs://BUCKET/models/{name}/{version}/linear.npz       a linear scikit-learn artifact as
                                                         plain arrays (`shared.sklearnfast`),
                                                         derived from it: optional
    gs://BUCKET/models/{name}/aliases.json               {"aliases": {"champion": "1", ...}}
    gs://BUCKET/models/{name}/endpoint.json              {"trafficSplit": {"1": 90, "beta": 10}}
    gs://BUCKET/models/{name}/last_version               the highest version id given, so a
                                                         deleted version's id is not given again

`metadata.json` holds the framework and its version, the input schema (feature names and types,
see `shared.modelschema`), the output kind (`regression`: a number per instance; `label`: the
predicted class, as Vertex AI's prebuilt scikit-learn container answers; `classification`:
`{"classes", "scores"}` per instance, as Vertex AutoML tabular answers), the training-data
baseline statistics that skew and drift monitoring compare with, and the creation time.

A model's endpoint serves its traffic split. Split keys are versions or aliases, resolved when
the split is read, so moving `champion` moves its traffic. With no `endpoint.json`, the
`champion` alias gets all traffic. Versions are immutable: registering an existing version is
ALREADY_EXISTS. Readers notice changes to aliases and splits through the objects' generations
(`snapshot`), one list request per model.

Writes use `ifGenerationMatch` preconditions so two writers cannot silently overwrite each
other on real Cloud Storage; gcp-storage-emulator ignores preconditions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from shared.errors import ApiError, Code, invalid_argument, not_found
from shared.modelschema import NUMERIC_TYPES, InputSchema
from shared.storage import GcsUri, Storage
from shared.traffic import TrafficSplit, validate_split

# Artifact file names per framework, first is the default (Vertex's prebuilt containers look
# for model.joblib / model.pkl, model.bst / model.json / model.ubj, and LightGBM's model.txt).
ARTIFACTS: dict[str, tuple[str, ...]] = {
    "sklearn": ("model.joblib", "model.pkl"),
    "xgboost": ("model.json", "model.ubj", "model.bst"),
    "lightgbm": ("model.txt",),
}
OUTPUT_KINDS = ("regression", "label", "classification")
# A linear scikit-learn version's compiled form, beside its artifact (shared.sklearnfast).
COMPILED = "linear.npz"
CHAMPION = "champion"
LAST_VERSION = "last_version"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_ALIAS = re.compile(r"^[a-z][a-z0-9-]{0,127}$")


def now_rfc3339() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclasses.dataclass(frozen=True)
class ModelVersion:
    """One registered version, as stored in its `metadata.json`."""

    name: str
    version: str
    framework: str
    artifact: str
    output: dict[str, Any]
    schema: InputSchema | None = None
    framework_version: str = ""
    baseline: dict[str, Any] | None = None
    create_time: str = ""
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    # Vertex AI `Model` fields given at upload through ModelService (displayName,
    # description, versionDescription, containerSpec, artifactUri, predictSchemata, ...),
    # kept as sent so GetModel answers them back; empty for versions registered otherwise.
    vertex: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def output_kind(self) -> str:
        return self.output.get("kind", "regression")

    @property
    def identity(self) -> tuple[str, str, str]:
        """What a cache of loaded versions keys on: a model deleted and registered again
        under its name numbers its versions from 1 again; their create times differ."""
        return self.name, self.version, self.create_time

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "versionId": self.version,
            "framework": self.framework,
            "frameworkVersion": self.framework_version,
            "artifact": self.artifact,
            "output": self.output,
            "createTime": self.create_time,
        }
        if self.schema is not None:
            data["inputSchema"] = self.schema.to_json()
        if self.baseline is not None:
            data["baseline"] = self.baseline
        if self.labels:
            data["labels"] = self.labels
        if self.vertex:
            data["vertex"] = self.vertex
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModelVersion:
        try:
            schema = data.get("inputSchema")
            return cls(
                name=data["name"],
                version=str(data["versionId"]),
                framework=data["framework"],
                artifact=data["artifact"],
                output=dict(data.get("output") or {"kind": "regression"}),
                schema=InputSchema.from_json(schema) if schema else None,
                framework_version=data.get("frameworkVersion", ""),
                baseline=data.get("baseline"),
                create_time=data.get("createTime", ""),
                labels=dict(data.get("labels") or {}),
                vertex=dict(data.get("vertex") or {}),
            )
        except (KeyError, TypeError) as exc:
            raise ApiError(Code.DATA_LOSS, f"Malformed model metadata: missing {exc}.") from None


def check_version(version: ModelVersion) -> None:
    """What registering refuses: unknown framework or output kind, artifact name the
    framework's loaders do not know, categorical features for XGBoost/LightGBM."""
    if not _NAME.match(version.name):
        raise invalid_argument(
            f"Model name {version.name!r} must be lower case letters, digits, '-' or '_' "
            "(at most 63), starting with a letter or digit."
        )
    if not _VERSION.match(version.version):
        raise invalid_argument(f"Version id {version.version!r} must match {_VERSION.pattern}.")
    if version.framework not in ARTIFACTS:
        raise invalid_argument(
            f"Unknown framework {version.framework!r}; use one of {sorted(ARTIFACTS)}."
        )
    if version.artifact not in ARTIFACTS[version.framework]:
        raise invalid_argument(
            f"A {version.framework} artifact must be named one of "
            f"{list(ARTIFACTS[version.framework])}, not {version.artifact!r}."
        )
    if version.output_kind not in OUTPUT_KINDS:
        raise invalid_argument(
            f"Output kind {version.output_kind!r} is unknown; use one of {list(OUTPUT_KINDS)}."
        )
    if (
        version.framework != "sklearn"
        and version.schema is not None
        and any(f.type not in NUMERIC_TYPES for f in version.schema.features)
    ):
        raise invalid_argument(
            f"{version.framework} models take numeric features only; encode string features "
            "as numbers before training, or wrap the model in a scikit-learn Pipeline."
        )


class Snapshot(NamedTuple):
    """A model's aliases and raw split at one moment, with the generations they came from."""

    aliases: dict[str, str]
    split: dict[str, int] | None
    generations: tuple[int, int]  # (aliases.json, endpoint.json); 0 when absent

    def resolve(self, ref: str) -> str:
        """A version id for `ref`, an alias or a version (an alias never shadows a version:
        `set_alias` refuses names of existing versions)."""
        return self.aliases.get(ref, ref)

    def traffic(self, model: str) -> TrafficSplit:
        """The split with aliases resolved to versions (their percents added up)."""
        if self.split is None:
            if CHAMPION not in self.aliases:
                raise ApiError(
                    Code.FAILED_PRECONDITION,
                    f"Model {model!r} has no traffic split and no {CHAMPION!r} alias: run "
                    f"`mlapi models split {model} VERSION=100` or `mlapi models alias {model} "
                    f"{CHAMPION} VERSION`.",
                )
            return TrafficSplit({self.aliases[CHAMPION]: 100})
        resolved: dict[str, int] = {}
        for key, percent in self.split.items():
            version = self.aliases.get(key, key)
            resolved[version] = resolved.get(version, 0) + percent
        return TrafficSplit(resolved)


# The registry's storage is plain `shared.storage.Storage` (generations, listing, preconditions
# and fork safety live there); the name stays for the modules that use it.
Storage = Storage


class Registry:
    """Models in `gs://{bucket}/{prefix}/`. Thread-safe; holds no state beyond its client."""

    def __init__(self, bucket: str, prefix: str = "models", storage: Storage | None = None) -> None:
        if not bucket:
            raise invalid_argument("The model registry needs a bucket (set REGISTRY_BUCKET).")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.storage = storage or Storage()

    # -- locations -------------------------------------------------------------------------

    def model_dir(self, name: str) -> str:
        return f"{self.prefix}/{name}/"

    def version_uri(self, name: str, version: str, file: str = "") -> GcsUri:
        return GcsUri(self.bucket, f"{self.prefix}/{name}/{version}/{file}")

    def _uri(self, name: str, file: str) -> GcsUri:
        return GcsUri(self.bucket, f"{self.prefix}/{name}/{file}")

    # -- versions --------------------------------------------------------------------------

    def register(self, version: ModelVersion, artifact: bytes) -> ModelVersion:
        """Store a new version: the artifact, then `metadata.json`. A missing version id gets
        the next integer; a missing create time gets now."""
        last, generation = self._last_given(version.name)
        if not version.version:
            version = dataclasses.replace(version, version=self._next_version(version.name, last))
        if not version.create_time:
            version = dataclasses.replace(version, create_time=now_rfc3339())
        check_version(version)
        metadata = self.version_uri(version.name, version.version, "metadata.json")
        if self.storage.read_with_generation(metadata) is not None:
            raise ApiError(
                Code.ALREADY_EXISTS,
                f"Model {version.name!r} already has version {version.version!r}; versions are "
                "immutable, register a new one.",
            )
        if version.version.isdigit() and int(version.version) > last:
            # The id is taken before anything is written; ABORTED (another registration came
            # first) leaves nothing behind, and the caller tries again.
            self.storage.write_checked(
                self._uri(version.name, LAST_VERSION), version.version, generation, "text/plain"
            )
        self.storage.write(
            self.version_uri(version.name, version.version, version.artifact), artifact
        )
        self.storage.write_checked(
            metadata, json.dumps(version.to_json(), indent=1), 0, "application/json"
        )
        return version

    def _last_given(self, name: str) -> tuple[int, int]:
        """The highest version id `name` was given (`last_version`; 0 before any) and the
        generation to update it at (0: it does not exist)."""
        found = self.storage.read_with_generation(self._uri(name, LAST_VERSION))
        if found is None:
            return 0, 0
        text = found[0].decode().strip()
        return (int(text) if text.isdigit() else 0), found[1]

    def _next_version(self, name: str, last: int) -> str:
        """One past the highest id the model has had, deleted versions included: Vertex's
        version ids are auto-incrementing, and what keys on a version id (loaded models,
        request logs, monitoring baselines) must not meet two models under one."""
        numbers = [int(v) for v in self.versions(name) if v.isdigit()]
        return str(max([last, *numbers]) + 1)

    def models(self) -> list[str]:
        _, prefixes = self.storage.list_dir(self.bucket, f"{self.prefix}/")
        return [p[len(self.prefix) + 1 :].rstrip("/") for p in prefixes]

    def versions(self, name: str) -> list[str]:
        """Version ids of `name`, numbers in numeric order first, then others sorted."""
        _, prefixes = self.storage.list_dir(self.bucket, self.model_dir(name))
        found = [p[len(self.model_dir(name)) :].rstrip("/") for p in prefixes]
        return sorted(found, key=lambda v: (not v.isdigit(), int(v) if v.isdigit() else 0, v))

    def get(self, name: str, version: str) -> ModelVersion:
        """A version's metadata; NOT_FOUND naming what exists when it does not."""
        found = self.storage.read_with_generation(self.version_uri(name, version, "metadata.json"))
        if found is None:
            self._require_model(name)
            raise not_found(f"Model {name!r} has no version {version!r} in gs://{self.bucket}.")
        try:
            data = json.loads(found[0])
        except ValueError as exc:
            raise ApiError(
                Code.DATA_LOSS, f"metadata.json of {name}/{version} is not JSON: {exc}."
            ) from None
        return ModelVersion.from_json(data)

    def _require_model(self, name: str) -> None:
        """NOT_FOUND saying that `name` does not exist, when it has no version at all: said
        before any complaint about a missing version, alias or split, which would suggest the
        model is there."""
        if not self.versions(name):
            raise not_found(
                f"Model {name!r} does not exist in gs://{self.bucket}/{self.prefix}/: register "
                f"it first (`mlapi models register {name} MODEL_FILE`)."
            )

    def read_artifact(self, version: ModelVersion) -> bytes:
        return self.storage.read(self.version_uri(version.name, version.version, version.artifact))

    def read_compiled(self, version: ModelVersion) -> bytes | None:
        """The version's compiled form (`COMPILED`, see `shared.sklearnfast`), if stored."""
        found = self.storage.read_with_generation(
            self.version_uri(version.name, version.version, COMPILED)
        )
        return found[0] if found is not None else None

    def write_compiled(self, version: ModelVersion, data: bytes) -> None:
        """Store the compiled form beside the version (derived from its artifact, so a
        version stays immutable in what it serves)."""
        self.storage.write(
            self.version_uri(version.name, version.version, COMPILED),
            data,
            "application/octet-stream",
        )

    # -- aliases and splits ----------------------------------------------------------------

    def snapshot(self, name: str) -> Snapshot:
        """Aliases and split as they are now (one list request, plus reads of what exists)."""
        objects, _ = self.storage.list_dir(self.bucket, self.model_dir(name))
        aliases_gen = objects.get(self._uri(name, "aliases.json").name, 0)
        split_gen = objects.get(self._uri(name, "endpoint.json").name, 0)
        aliases, split = self._read_state(name, aliases_gen, split_gen)
        return Snapshot(aliases, split, (aliases_gen, split_gen))

    def generations(self, name: str) -> tuple[int, int]:
        """Just the generations of aliases.json and endpoint.json (0 when absent): what a
        server polls to notice a change."""
        objects, _ = self.storage.list_dir(self.bucket, self.model_dir(name))
        return (
            objects.get(self._uri(name, "aliases.json").name, 0),
            objects.get(self._uri(name, "endpoint.json").name, 0),
        )

    def _read_state(
        self, name: str, aliases_gen: int, split_gen: int
    ) -> tuple[dict[str, str], dict[str, int] | None]:
        aliases: dict[str, str] = {}
        split: dict[str, int] | None = None
        if aliases_gen:
            found = self.storage.read_with_generation(self._uri(name, "aliases.json"))
            if found:
                aliases = dict(json.loads(found[0]).get("aliases", {}))
        if split_gen:
            found = self.storage.read_with_generation(self._uri(name, "endpoint.json"))
            if found:
                split = validate_split(json.loads(found[0]).get("trafficSplit", {}))
        return aliases, split

    def set_alias(self, name: str, alias: str, version: str) -> dict[str, str]:
        if not _ALIAS.match(alias):
            raise invalid_argument(
                f"Alias {alias!r} must start with a lower case letter and hold only lower case "
                "letters, digits and '-'."
            )
        self.get(name, version)  # NOT_FOUND for an unknown version
        if alias in self.versions(name):
            raise invalid_argument(f"{alias!r} is a version of {name!r}; pick another alias.")
        return self._update_aliases(name, lambda aliases: aliases.__setitem__(alias, version))

    def delete_alias(self, name: str, alias: str) -> dict[str, str]:
        snapshot = self.snapshot(name)
        if alias not in snapshot.aliases:
            self._require_model(name)
            raise not_found(f"Model {name!r} has no alias {alias!r}.")
        if snapshot.split and alias in snapshot.split:
            raise ApiError(
                Code.FAILED_PRECONDITION,
                f"Alias {alias!r} is in the traffic split of {name!r}; change the split first.",
            )
        return self._update_aliases(name, lambda aliases: aliases.pop(alias))

    def _update_aliases(self, name: str, change: Any) -> dict[str, str]:
        uri = self._uri(name, "aliases.json")
        found = self.storage.read_with_generation(uri)
        aliases = dict(json.loads(found[0]).get("aliases", {})) if found else {}
        change(aliases)
        body = {"aliases": aliases, "updateTime": now_rfc3339()}
        self.storage.write_checked(
            uri, json.dumps(body, indent=1), found[1] if found else 0, "application/json"
        )
        return aliases

    def set_split(self, name: str, split: Mapping[str, int]) -> dict[str, int]:
        """Store the endpoint's traffic split; every key must be a version or an alias."""
        checked = validate_split(split)
        snapshot = self.snapshot(name)
        versions = set(self.versions(name))
        unknown = [k for k in checked if k not in versions and k not in snapshot.aliases]
        if unknown:
            self._require_model(name)
            raise not_found(
                f"Model {name!r} has no version or alias {unknown}; versions: "
                f"{sorted(versions)}, aliases: {sorted(snapshot.aliases)}."
            )
        uri = self._uri(name, "endpoint.json")
        body = {"trafficSplit": checked, "updateTime": now_rfc3339()}
        self.storage.write_checked(
            uri, json.dumps(body, indent=1), snapshot.generations[1], "application/json"
        )
        return checked

    # -- deletion (ModelService's DeleteModelVersion and DeleteModel) ----------------------

    def delete_version(self, name: str, version: str) -> None:
        """Remove one version and the aliases that point at it. FAILED_PRECONDITION while the
        model's traffic split sends it traffic (directly or through an alias)."""
        self.get(name, version)  # NOT_FOUND for an unknown version
        snapshot = self.snapshot(name)
        if snapshot.split and any(snapshot.resolve(key) == version for key in snapshot.split):
            raise ApiError(
                Code.FAILED_PRECONDITION,
                f"Version {version!r} of {name!r} is in the model's traffic split "
                f"{snapshot.split}; change the split first.",
            )
        held = [alias for alias, target in snapshot.aliases.items() if target == version]
        if held:
            self._update_aliases(name, lambda aliases: [aliases.pop(a) for a in held])
        self._delete_dir(self.version_uri(name, version), first="metadata.json")

    def delete_model(self, name: str) -> None:
        """Remove a model: its split, aliases and every version (metadata first, so a reader
        never finds a version whose artifact is gone)."""
        versions = self.versions(name)
        if not versions:
            raise not_found(f"Model {name!r} is not in gs://{self.bucket}/{self.prefix}/.")
        self.storage.delete(self._uri(name, "endpoint.json"))
        self.storage.delete(self._uri(name, "aliases.json"))
        self.storage.delete(self._uri(name, LAST_VERSION))  # a model made again starts at 1
        for version in versions:
            self._delete_dir(self.version_uri(name, version), first="metadata.json")

    def _delete_dir(self, folder: GcsUri, first: str) -> None:
        objects, prefixes = self.storage.list_dir(folder.bucket, folder.name)
        ordered = sorted(objects, key=lambda object_name: not object_name.endswith("/" + first))
        for object_name in ordered:
            self.storage.delete(GcsUri(folder.bucket, object_name))
        for prefix in prefixes:
            self._delete_dir(GcsUri(folder.bucket, prefix), first)
