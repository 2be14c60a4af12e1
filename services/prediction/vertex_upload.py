"""UploadModel's work: an uploaded `Model` (artifact directory, container, schemata) -> one
registry version, loaded once to prove it serves.

The framework comes from the serving container, as Vertex AI's prebuilt images name it:

| `containerSpec.imageUri` (`{region}-docker.pkg.dev/vertex-ai/prediction/...`) | here |
|---|---|
| `sklearn-cpu.*` | scikit-learn: `model.joblib` or `model.pkl` in `artifactUri` |
| `xgboost-cpu.*` | XGBoost: `model.bst`, `model.json` or `model.ubj` |
| `tf2-*`, `tf-*`, `pytorch-*` and their GPU images | UNIMPLEMENTED: no local engine |
| any other image | approximated: the artifact's file name tells the framework (see below) |

Any other image is taken to be this project's own prediction image as a custom container
(`services/prediction/container.py`), which serves the artifact it finds by its file name
(LightGBM's `model.txt` too). The image itself is not run, so a container with code of its own
is not reproduced: its model is served as the prebuilt container of its framework would.

The instance schema: `metadata.json` in the artifact directory (the registry's own format, with
the baseline statistics monitoring needs) when there is one; else
`predictSchemata.instanceSchemaUri`, an OpenAPI object schema (`properties` in input order,
`type` number/integer/boolean/string, `nullable` for missing values); else the model's own
(`feature_names_in_`, booster feature names). The output is what the prebuilt container
answers: scikit-learn's `predict()` (a class label for classifiers), XGBoost's
`Booster.predict` (probabilities for classifiers), unless `metadata.json` says otherwise.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import yaml

from shared.errors import ApiError, Code, invalid_argument, unimplemented
from shared.modelschema import Feature, InputSchema
from shared.registry import ARTIFACTS, ModelVersion
from shared.storage import GcsUri, Storage, parse_gs_uri

_PREBUILT = re.compile(
    r"(?:vertex-ai|cloud-aiplatform)/prediction/(?P<family>[a-z0-9]+)-(?:cpu|gpu)\b"
)
_FAMILIES = {"sklearn": "sklearn", "xgboost": "xgboost"}
_NO_ENGINE = {"tf2": "TensorFlow", "tf": "TensorFlow", "pytorch": "PyTorch"}
# Vertex's XGBoost container tries model.bst first; our registry names are a superset.
_SEARCH_ORDER = {
    "sklearn": ("model.joblib", "model.pkl"),
    "xgboost": ("model.bst", "model.json", "model.ubj"),
    "lightgbm": ("model.txt",),
}
_OPENAPI_TYPES = {
    "number": "double",
    "integer": "integer",
    "boolean": "boolean",
    "string": "string",
}
MAX_ARTIFACT_BYTES = 2 * 1024**3  # what one serving process could hold anyway


def framework_of(container: dict[str, Any] | None) -> str | None:
    """The framework a prebuilt image names; None for any other image (or none)."""
    image = (container or {}).get("imageUri") or ""
    match = _PREBUILT.search(image)
    if not match:
        return None
    family = match["family"]
    if family in _NO_ENGINE:
        raise unimplemented(
            f"{image} serves {_NO_ENGINE[family]} models, which have no local engine here; "
            "scikit-learn, XGBoost and LightGBM models can be served."
        )
    if family not in _FAMILIES:
        raise unimplemented(f"The prebuilt container {image} has no local counterpart.")
    return _FAMILIES[family]


def build_version(
    storage: Storage, name: str, model: dict[str, Any], uploaded: dict[str, Any]
) -> tuple[ModelVersion, bytes]:
    """The version to register (version id and time still unset) and its artifact bytes."""
    artifact_uri = (model.get("artifactUri") or "").rstrip("/")
    if not artifact_uri:
        raise invalid_argument(
            "model.artifactUri is required: the gs:// directory holding the model file."
        )
    folder = parse_gs_uri(artifact_uri + "/")
    objects, _ = storage.list_dir(folder.bucket, folder.name)
    files = {o[len(folder.name) :] for o in objects}
    framework = framework_of(model.get("containerSpec"))
    candidates = [framework] if framework else list(_SEARCH_ORDER)
    artifact = next(
        ((fw, file) for fw in candidates for file in _SEARCH_ORDER[fw] if file in files),
        None,
    )
    if artifact is None:
        wanted = [f for fw in candidates for f in _SEARCH_ORDER[fw]]
        raise invalid_argument(
            f"{artifact_uri} holds no model file the container loads: expected one of {wanted}."
        )
    framework, file = artifact
    data = storage.read(GcsUri(folder.bucket, folder.name + file), max_bytes=MAX_ARTIFACT_BYTES)
    output: dict[str, Any] = {"kind": "regression"}
    schema, baseline = None, None
    if "metadata.json" in files:
        stored = _registry_metadata(storage, GcsUri(folder.bucket, folder.name + "metadata.json"))
        output = stored.output
        schema, baseline = stored.schema, stored.baseline
    schema_uri = (model.get("predictSchemata") or {}).get("instanceSchemaUri")
    if schema is None and schema_uri:
        schema = instance_schema(storage, schema_uri)
    version = ModelVersion(
        name=name,
        version="",
        framework=framework,
        artifact=file if file in ARTIFACTS[framework] else ARTIFACTS[framework][0],
        output=output,
        schema=schema,
        baseline=baseline,
        labels=dict(model.get("labels") or {}),
        vertex=uploaded,
    )
    return version, data


def _registry_metadata(storage: Storage, uri: GcsUri) -> ModelVersion:
    try:
        return ModelVersion.from_json(
            {"name": "-", "versionId": "-", **orjson.loads(storage.read(uri))}
        )
    except (orjson.JSONDecodeError, ApiError) as exc:
        raise invalid_argument(f"{uri} is not the registry's metadata.json: {exc}") from None


def instance_schema(storage: Storage, uri: str) -> InputSchema:
    """An OpenAPI 3 object schema (YAML or JSON) -> the input schema, properties in order."""
    try:
        document = yaml.safe_load(storage.read(uri, max_bytes=1024 * 1024))
    except yaml.YAMLError as exc:
        raise invalid_argument(
            f"predictSchemata.instanceSchemaUri {uri} is not YAML: {exc}"
        ) from None
    properties = document.get("properties") if isinstance(document, dict) else None
    if not isinstance(properties, dict) or not properties:
        raise invalid_argument(
            f"predictSchemata.instanceSchemaUri {uri} must describe an object: `type: object` "
            "with `properties`, one per feature in input order."
        )
    features = []
    for feature, spec in properties.items():
        spec = spec if isinstance(spec, dict) else {}
        kind = _OPENAPI_TYPES.get(str(spec.get("type", "number")))
        if kind is None:
            raise invalid_argument(
                f"{uri}: property {feature!r} has type {spec.get('type')!r}; use number, "
                "integer, boolean or string."
            )
        features.append(Feature(str(feature), kind, bool(spec.get("nullable", False))))  # type: ignore[arg-type]
    return InputSchema(tuple(features))


def checked_load(version: ModelVersion, artifact: bytes) -> ModelVersion:
    """Load the artifact as the server will; the version with the schema and output kind the
    loaded model has. A model that does not load is INVALID_ARGUMENT (the upload's error)."""
    import dataclasses

    from shared.modelruntime import load

    try:
        served = load(version, artifact)
    except ApiError as error:
        reason = error.message.split("failed to load: ", 1)[-1]
        uri = version.vertex.get("artifactUri", "the artifact")
        raise ApiError(
            Code.INVALID_ARGUMENT, f"The {version.framework} model in {uri} does not load: {reason}"
        ) from None
    output = version.output
    if (
        version.framework == "sklearn"
        and output == {"kind": "regression"}
        and hasattr(served.native, "classes_")
    ):
        output = {"kind": "label", "classes": list(served.classes or [])}
    return dataclasses.replace(version, schema=served.schema, output=output)
