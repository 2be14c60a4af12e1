"""Vertex AI's ModelService over the model registry: the same paths and JSON as
aiplatform.googleapis.com (google/cloud/aiplatform/v1/model_service.proto).

    POST   /v1/{parent=projects/*/locations/*}/models:upload          UploadModel (LRO)
    GET    /v1/{name=projects/*/locations/*/models/*}                 GetModel (`@version`,
                                                                      `@alias`)
    GET    /v1/{parent=projects/*/locations/*}/models                 ListModels
    GET    /v1/{name=projects/*/locations/*/models/*}:listVersions    ListModelVersions
    POST   /v1/{name=projects/*/locations/*/models/*}:mergeVersionAliases  MergeVersionAliases
    DELETE /v1/{name=projects/*/locations/*/models/*}:deleteVersion   DeleteModelVersion (LRO)
    DELETE /v1/{name=projects/*/locations/*/models/*}                 DeleteModel (LRO)
    (and the same under /v1beta1; operations in `services.prediction.operations`)

The registry is the one source of truth: `mlapi models` and these methods read and write the
same records, and nothing is cached between requests. Request checks fail the call itself
(INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION); the upload's own work
(reading the artifact, loading it once to prove it serves) fails its operation, as Vertex
reports a failed upload.

Honoured: `model.{displayName, description, versionDescription, labels, versionAliases,
artifactUri, containerSpec, predictSchemata, explanationSpec}`, `parentModel`, `modelId`;
ListModels' and ListModelVersions' `filter` (`display_name`, `labels`), `pageSize`,
`pageToken`. Accepted and ignored: `serviceAccount`, `orderBy` (models come in id order,
versions in version order), `readMask`. MergeVersionAliases moves an alias that another
version holds (as adding `default` elsewhere does in Vertex). UNIMPLEMENTED: UpdateModel,
ExportModel, CopyModel, checkpoints, IAM (model evaluations: not found).
"""

from __future__ import annotations

import re
from typing import Any

import flask

from services.prediction import control, vertex_models, vertex_names, vertex_upload
from services.prediction.vertex_rest import LOCATION, body, check_api, matcher, page, respond
from shared.errors import ApiError, Code, invalid_argument, unimplemented

_MODELS = f"{LOCATION}/models"
_VERTEX_ALIAS = re.compile(r"^[a-z][a-zA-Z0-9-]{0,126}[a-z0-9-]$")
_FILTER_FIELDS = {"display_name": "displayName", "displayName": "displayName"}


def blueprint() -> flask.Blueprint:
    bp = flask.Blueprint("vertex_models", __name__)
    bp.add_url_rule(f"{_MODELS}:upload", view_func=upload_model, methods=["POST"])
    bp.add_url_rule(_MODELS, view_func=list_models, methods=["GET"])
    bp.add_url_rule(f"{_MODELS}/<model>", view_func=get_model, methods=["GET"])
    bp.add_url_rule(f"{_MODELS}/<model>", view_func=delete_model, methods=["DELETE"])
    bp.add_url_rule(f"{_MODELS}/<model>:listVersions", view_func=list_versions, methods=["GET"])
    bp.add_url_rule(
        f"{_MODELS}/<model>:mergeVersionAliases", view_func=merge_aliases, methods=["POST"]
    )
    bp.add_url_rule(
        f"{_MODELS}/<model>:deleteVersion", view_func=delete_version, methods=["DELETE"]
    )
    bp.add_url_rule(f"{_MODELS}/<model>", view_func=not_here, methods=["PATCH"])
    bp.add_url_rule(
        f"{_MODELS}/<model>:<method>", view_func=not_here, methods=["GET", "POST", "DELETE"]
    )
    bp.add_url_rule(f"{_MODELS}:<method>", view_func=not_here, methods=["POST"])
    return bp


def _ref(api: str, project: str, location: str, model: str) -> vertex_names.ModelRef:
    check_api(api)
    name, version = vertex_names.split_version(model)
    return vertex_names.ModelRef(project, location, name, version)


def _describe(ref: vertex_names.ModelRef, model: vertex_models.ModelState, version) -> dict:
    plane = control.current()
    return vertex_models.describe(
        plane.registry,
        ref.project,
        ref.location,
        model,
        version,
        _deployed_refs(ref, model.name, version.version),
    )


def _deployed_refs(ref: vertex_names.ModelRef, model: str, version: str | None) -> list[dict]:
    """DeployedModelRefs: the endpoint records that deploy `model` (the `version` of it)."""
    found = []
    for endpoint_id, record in control.current().records.all().items():
        for deployed in record.get("deployedModels", []):
            if deployed["model"] == model and version in (None, deployed["modelVersionId"]):
                found.append(
                    {
                        "endpoint": vertex_names.endpoint_name(
                            ref.project, ref.location, endpoint_id
                        ),
                        "deployedModelId": deployed["id"],
                    }
                )
    return found


def get_model(api: str, project: str, location: str, model: str) -> flask.Response:
    ref = _ref(api, project, location, model)
    state, version = vertex_models.resolve(control.current().registry, ref)
    return respond(_describe(ref, state, version))


def list_models(api: str, project: str, location: str) -> flask.Response:
    check_api(api)
    plane = control.current()
    keep = matcher(flask.request.args.get("filter", ""), _FILTER_FIELDS)
    found = []
    for name in plane.registry.models():
        ref = vertex_names.ModelRef(project, location, name, None)
        try:
            state, version = vertex_models.resolve(plane.registry, ref)
        except ApiError as error:
            if error.code == Code.NOT_FOUND:
                continue  # a folder without versions (being written or deleted)
            raise
        described = _describe(ref, state, version)
        if keep(described):
            found.append(described)
    return respond(page(found, lambda m: m["name"], "models"))


def list_versions(api: str, project: str, location: str, model: str) -> flask.Response:
    ref = _ref(api, project, location, model)
    plane = control.current()
    resource = vertex_names.model_name(project, location, ref.model)
    state = vertex_models.state(plane.registry, ref.model, resource)
    keep = matcher(flask.request.args.get("filter", ""), _FILTER_FIELDS)
    described = [
        _describe(ref, state, plane.registry.get(ref.model, version)) for version in state.versions
    ]
    found = [d for d in described if keep(d)]
    return respond(page(found, lambda m: m["versionId"], "models"))


def upload_model(api: str, project: str, location: str) -> flask.Response:
    check_api(api)
    plane = control.current()
    request = body("model_service.UploadModelRequest")
    model = request.get("model")
    if not isinstance(model, dict):
        raise invalid_argument("model is required: the Model to upload.")
    if not model.get("displayName"):
        raise invalid_argument("model.display_name is required.")
    aliases = [str(a) for a in model.get("versionAliases") or []]
    for alias in aliases:
        _check_alias(alias)
    if request.get("parentModel"):
        parent = vertex_names.parse_model(request["parentModel"], "parent_model")
        if parent.version:
            raise invalid_argument("parent_model must name a model, not a version.")
        vertex_models.state(plane.registry, parent.model, request["parentModel"])
        name = parent.model
    else:
        name = vertex_names.check_model_id(request["modelId"]) if request.get("modelId") else ""
        name = name or vertex_names.new_id()
        if plane.registry.versions(name):
            raise ApiError(
                Code.ALREADY_EXISTS,
                f"Model {vertex_names.model_name(project, location, name)} already exists; "
                "upload a new version with parent_model.",
            )
        if vertex_models.DEFAULT not in aliases:
            aliases.append(vertex_models.DEFAULT)  # a model's first version is its default
    resource = vertex_names.model_name(project, location, name)
    uploaded = {k: model[k] for k in vertex_models.UPLOADED_FIELDS if model.get(k)}
    try:
        version, artifact = vertex_upload.build_version(plane.storage, name, model, uploaded)
        version = vertex_upload.checked_load(version, artifact)
    except ApiError as error:
        if error.code == Code.UNAVAILABLE:
            raise  # storage is down: the call fails, so the client retries it
        return respond(
            plane.operations.finish(resource, "UploadModelOperationMetadata", error=error)
        )
    registered = plane.registry.register(version, artifact)
    for alias in aliases:
        plane.registry.set_alias(name, alias, registered.version)
    plane.model_changed(name)
    return respond(
        plane.operations.finish(
            resource,
            "UploadModelOperationMetadata",
            response={"model": resource, "modelVersionId": registered.version},
            response_type="UploadModelResponse",
        )
    )


def _check_alias(alias: str) -> None:
    if not _VERTEX_ALIAS.match(alias) or alias.isdigit():
        raise invalid_argument(
            f"Invalid version alias {alias!r}: it must match [a-z][a-zA-Z0-9-]{{0,126}}[a-z-0-9]."
        )


def merge_aliases(api: str, project: str, location: str, model: str) -> flask.Response:
    ref = _ref(api, project, location, model)
    if not ref.version:
        raise invalid_argument("name must include the version: models/{model}@{version_id}.")
    plane = control.current()
    request = body("model_service.MergeVersionAliasesRequest")
    changes = [str(a) for a in request.get("versionAliases") or []]
    if not changes:
        raise invalid_argument("version_aliases is required.")
    state, version = vertex_models.resolve(plane.registry, ref)
    adds = {c for c in changes if not c.startswith("-")}
    removes = {c[1:] for c in changes if c.startswith("-")}
    for alias in adds | removes:
        _check_alias(alias)
    for alias in sorted(removes - adds):  # adding and removing one alias cancel out
        if alias == vertex_models.DEFAULT:
            raise invalid_argument(
                "The default alias cannot be removed: add it to another version to move it."
            )
        if state.snapshot.aliases.get(alias) != version.version:
            raise invalid_argument(f"Alias {alias!r} is not on version {version.version}.")
        plane.registry.delete_alias(ref.model, alias)
    for alias in sorted(adds - removes):
        plane.registry.set_alias(ref.model, alias, version.version)
    plane.model_changed(ref.model)
    fresh = vertex_models.state(plane.registry, ref.model, ref.model)
    return respond(_describe(ref, fresh, version))


def delete_version(api: str, project: str, location: str, model: str) -> flask.Response:
    ref = _ref(api, project, location, model)
    if not ref.version:
        raise invalid_argument("name must include the version: models/{model}@{version_id}.")
    plane = control.current()
    state, version = vertex_models.resolve(plane.registry, ref)
    resource = vertex_names.model_name(project, location, ref.model)
    if len(state.versions) == 1:
        raise ApiError(
            Code.FAILED_PRECONDITION,
            f"Version {version.version} is the only version of {resource}; delete the model.",
        )
    if version.version == state.default:
        raise ApiError(
            Code.FAILED_PRECONDITION,
            f"Version {version.version} is the default version of {resource}; move the "
            "default alias to another version first.",
        )
    _refuse_if_deployed(ref, ref.model, version.version, f"{resource}@{version.version}")
    plane.registry.delete_version(ref.model, version.version)
    plane.model_changed(ref.model)
    return respond(plane.operations.finish(resource, "DeleteOperationMetadata", settle=True))


def delete_model(api: str, project: str, location: str, model: str) -> flask.Response:
    ref = _ref(api, project, location, model)
    if ref.version:
        raise invalid_argument("To delete one version use :deleteVersion.")
    plane = control.current()
    resource = vertex_names.model_name(project, location, ref.model)
    vertex_models.state(plane.registry, ref.model, resource)
    _refuse_if_deployed(ref, ref.model, None, resource)
    plane.registry.delete_model(ref.model)
    plane.model_changed(ref.model)
    return respond(plane.operations.finish(resource, "DeleteOperationMetadata", settle=True))


def _refuse_if_deployed(ref, model: str, version: str | None, resource: str) -> None:
    deployed = _deployed_refs(ref, model, version)
    if deployed:
        where = ", ".join(f"{d['deployedModelId']} on {d['endpoint']}" for d in deployed)
        raise ApiError(
            Code.FAILED_PRECONDITION,
            f"Model {resource} is deployed ({where}); undeploy it before deleting it.",
        )


def not_here(api: str, **_path: Any) -> flask.Response:
    check_api(api)
    control.current()
    raise unimplemented(
        "This ModelService implements UploadModel, GetModel, ListModels, ListModelVersions, "
        "MergeVersionAliases, DeleteModelVersion and DeleteModel."
    )
