"""Vertex AI's EndpointService over the registry's endpoints and splits: the same paths and
JSON as aiplatform.googleapis.com (google/cloud/aiplatform/v1/endpoint_service.proto).

    POST   /v1/{parent=projects/*/locations/*}/endpoints              CreateEndpoint (LRO)
    GET    /v1/{name=projects/*/locations/*/endpoints/*}              GetEndpoint
    GET    /v1/{parent=projects/*/locations/*}/endpoints              ListEndpoints
    PATCH  /v1/{endpoint.name=projects/*/locations/*/endpoints/*}     UpdateEndpoint
    POST   /v1/{endpoint.name=...}:update                             UpdateEndpointLongRunning
    POST   /v1/{endpoint=...}:deployModel                             DeployModel (LRO)
    POST   /v1/{endpoint=...}:undeployModel                           UndeployModel (LRO)
    POST   /v1/{endpoint=...}:mutateDeployedModel                     MutateDeployedModel (LRO)
    DELETE /v1/{name=projects/*/locations/*/endpoints/*}              DeleteEndpoint (LRO)

What an endpoint is here: `services.prediction.endpoint_views`. Traffic splits follow
`Endpoint.trafficSplit`: deployed model id -> integer percent, summing to 100, or empty for no
traffic; in DeployModel `"0"` names the model being deployed; a deployed model with traffic is
undeployed only when the request's split takes it away (or it is the last one). DeployModel
loads the version before deploying it, so a model that cannot serve fails the operation and
changes nothing. After a change the answering instance serves the new state at once; the
operation reports done once the other instances' pollers have seen it
(`services.prediction.operations`).

Honoured: `endpoint.{displayName, description, labels}`, `endpointId`, `deployedModel.{model,
id, displayName}` and the DeployedModel fields as sent (kept and answered back: replica
settings mean nothing on one machine), MutateDeployedModel's replica and logging fields with
`updateMask`, UpdateEndpoint's `displayName`, `description`, `labels`, `trafficSplit`,
ListEndpoints' `filter` (`endpoint`, `display_name`, `labels`), `pageSize`, `pageToken`.
UNIMPLEMENTED: `network` and Private Service Connect, dedicated endpoints (the SDK would call
their own DNS name), shared deployment resource pools.
"""

from __future__ import annotations

import re
from typing import Any

import flask

from services.prediction import control, endpoint_views, vertex_models, vertex_names
from services.prediction.endpoint_views import ModelView, View
from services.prediction.vertex_rest import LOCATION, body, check_api, matcher, page, respond
from shared.errors import ApiError, Code, invalid_argument, not_found, unimplemented
from shared.registry import now_rfc3339
from shared.service import context_of
from shared.traffic import validate_split

_ENDPOINTS = f"{LOCATION}/endpoints"
_ONE = f"{_ENDPOINTS}/<endpoint>"
_ENDPOINT_FIELDS = ("displayName", "description", "labels")
_KEPT_FIELDS = ("encryptionSpec", "predictRequestResponseLoggingConfig", "clientConnectionConfig")
_NOT_HERE = ("network", "privateServiceConnectConfig", "dedicatedEndpointEnabled")
_UPDATABLE = {
    "display_name": "displayName",
    "description": "description",
    "labels": "labels",
    "traffic_split": "trafficSplit",
}
_MUTABLE = frozenset(
    {
        "dedicated_resources.min_replica_count",
        "dedicated_resources.max_replica_count",
        "dedicated_resources.required_replica_count",
        "dedicated_resources.autoscaling_metric_specs",
        "automatic_resources.min_replica_count",
        "automatic_resources.max_replica_count",
        "disable_container_logging",
        "enable_container_logging",
    }
)
_FILTER_FIELDS = {
    "endpoint": "endpointId",
    "display_name": "displayName",
    "displayName": "displayName",
}
_NEW = "0"  # DeployModelRequest.traffic_split's name for the model being deployed


def blueprint() -> flask.Blueprint:
    bp = flask.Blueprint("vertex_endpoints", __name__)
    bp.add_url_rule(_ENDPOINTS, view_func=create_endpoint, methods=["POST"])
    bp.add_url_rule(_ENDPOINTS, view_func=list_endpoints, methods=["GET"])
    bp.add_url_rule(_ONE, view_func=get_endpoint, methods=["GET"])
    bp.add_url_rule(_ONE, view_func=update_endpoint, methods=["PATCH"])
    bp.add_url_rule(f"{_ONE}:update", view_func=update_long_running, methods=["POST"])
    bp.add_url_rule(_ONE, view_func=delete_endpoint, methods=["DELETE"])
    bp.add_url_rule(f"{_ONE}:deployModel", view_func=deploy_model, methods=["POST"])
    bp.add_url_rule(f"{_ONE}:undeployModel", view_func=undeploy_model, methods=["POST"])
    bp.add_url_rule(f"{_ONE}:mutateDeployedModel", view_func=mutate_model, methods=["POST"])
    return bp


def _view(api: str, project: str, location: str, endpoint: str) -> View:
    check_api(api)
    return endpoint_views.find(control.current(), project, location, endpoint)


def _changed(view: View) -> None:
    control.current().changed(view.id)


def _finish(view: View, metadata: str, **result: Any) -> flask.Response:
    return respond(control.current().operations.finish(view.name, metadata, **result))


# -- reads -------------------------------------------------------------------------------------


def get_endpoint(api: str, project: str, location: str, endpoint: str) -> flask.Response:
    backend = context_of("prediction").backend
    if getattr(backend, "control", None) is None:
        # The cloud backend answers Vertex AI's own endpoint; a container, its one model.
        from services.prediction.backends import Target

        check_api(api)
        return respond(backend.get_endpoint(Target(project, location, endpoint)))
    return respond(_view(api, project, location, endpoint).to_json())


def list_endpoints(api: str, project: str, location: str) -> flask.Response:
    check_api(api)
    keep = matcher(flask.request.args.get("filter", ""), _FILTER_FIELDS)
    shown = []
    for view in endpoint_views.every(control.current(), project, location):
        described = view.to_json()
        if keep({**described, "endpointId": view.id}):
            shown.append(described)
    return respond(page(shown, lambda e: e["name"], "endpoints"))


# -- create, update, delete ----------------------------------------------------------------------


def create_endpoint(api: str, project: str, location: str) -> flask.Response:
    check_api(api)
    plane = control.current()
    endpoint = body("endpoint.Endpoint")
    for field in _NOT_HERE:
        if endpoint.get(field):
            raise unimplemented(
                f"endpoint.{field} is not supported here: endpoints are served over plain HTTP "
                "by the prediction service."
            )
    if not endpoint.get("displayName"):
        raise invalid_argument("endpoint.display_name is required.")
    args = flask.request.args
    given = args.get("endpointId") or args.get("endpoint_id")
    endpoint_id = vertex_names.check_endpoint_id(given) if given else vertex_names.new_id()
    name = vertex_names.endpoint_name(project, location, endpoint_id)
    if plane.records.find(endpoint_id) is not None or plane.registry.versions(endpoint_id):
        raise ApiError(Code.ALREADY_EXISTS, f"Endpoint `{name}` already exists.")
    now = now_rfc3339()
    record = {
        "id": endpoint_id,
        **{k: endpoint[k] for k in (*_ENDPOINT_FIELDS, *_KEPT_FIELDS) if endpoint.get(k)},
        "createTime": now,
        "updateTime": now,
        "deployedModels": [],
        "trafficSplit": {},
    }
    plane.records.create(endpoint_id, record)
    plane.changed(endpoint_id)
    view = endpoint_views.find(plane, project, location, endpoint_id)
    return _finish(
        view,
        "CreateEndpointOperationMetadata",
        response=view.to_json(),
        response_type="Endpoint",
    )


def update_endpoint(api: str, project: str, location: str, endpoint: str) -> flask.Response:
    view = _view(api, project, location, endpoint)
    _update(view, body("endpoint.Endpoint"), flask.request.args.get("updateMask") or "")
    return respond(_fresh(view).to_json())


def update_long_running(api: str, project: str, location: str, endpoint: str) -> flask.Response:
    view = _view(api, project, location, endpoint)
    request = body("endpoint_service.UpdateEndpointLongRunningRequest")
    _update(view, request.get("endpoint") or {}, None)
    fresh = _fresh(view)
    return _finish(
        fresh,
        "UpdateEndpointOperationMetadata",
        response=fresh.to_json(),
        response_type="Endpoint",
        settle=True,
    )


def _update(view: View, endpoint: dict[str, Any], mask: str | None) -> None:
    """UpdateEndpoint: the fields the mask names (all updatable ones sent, for `:update`)."""
    if mask is None:
        paths = [p for p, field in _UPDATABLE.items() if field in endpoint]
    else:
        paths = [_snake(p.strip()) for p in mask.split(",") if p.strip()]
        if not paths:
            raise invalid_argument("update_mask is required.")
    fields: dict[str, Any] = {}
    split = view.split()
    for path in paths:
        field = _UPDATABLE.get(path)
        if field is None:
            raise invalid_argument(
                f"update_mask path {path!r} cannot be updated; use one of {sorted(_UPDATABLE)}."
            )
        if field == "trafficSplit":
            split = _checked_split(view, endpoint.get("trafficSplit") or {}, view.deployed())
        else:
            fields[field] = endpoint.get(field)
    view.save(view.deployed(), split, **fields)
    _changed(view)


def delete_endpoint(api: str, project: str, location: str, endpoint: str) -> flask.Response:
    view = _view(api, project, location, endpoint)
    if isinstance(view, ModelView):
        raise ApiError(
            Code.FAILED_PRECONDITION,
            f"Endpoint {view.name} is model {view.model}'s own endpoint; it goes with the "
            "model (DeleteModel).",
        )
    if view.deployed():
        raise ApiError(
            Code.FAILED_PRECONDITION,
            f"Endpoint {view.name} has deployed models "
            f"{[d['id'] for d in view.deployed()]}; undeploy them first.",
        )
    control.current().records.delete(view.id)
    _changed(view)
    return _finish(view, "DeleteOperationMetadata", settle=True)


# -- deployed models ------------------------------------------------------------------------------


def deploy_model(api: str, project: str, location: str, endpoint: str) -> flask.Response:
    view = _view(api, project, location, endpoint)
    plane = control.current()
    request = body("endpoint_service.DeployModelRequest")
    wanted = request.get("deployedModel")
    if not isinstance(wanted, dict) or not wanted.get("model"):
        raise invalid_argument("deployed_model.model is required.")
    if wanted.get("sharedResources"):
        raise unimplemented("Shared deployment resource pools are not supported here.")
    ref = vertex_names.parse_model(wanted["model"], "deployed_model.model")
    state, version = vertex_models.resolve(plane.registry, ref)
    deployed = view.deployed()
    deployed_id = _deployed_id(view, wanted, version.version)
    if any(d["id"] == deployed_id for d in deployed):
        raise ApiError(
            Code.ALREADY_EXISTS,
            f"Deployed model {deployed_id} already exists on endpoint {view.name}.",
        )
    new = {
        **endpoint_views.deployed_fields(wanted),
        "id": deployed_id,
        "model": state.name,
        "modelVersionId": version.version,
        "displayName": wanted.get("displayName") or version.vertex.get("displayName") or state.name,
        "createTime": now_rfc3339(),
    }
    traffic = dict(request.get("trafficSplit") or {})
    if _NEW in traffic:
        traffic[deployed_id] = traffic.pop(_NEW)
    split = _checked_split(view, traffic, [*deployed, new]) if traffic else view.split()
    try:
        plane.deployments.load_version(state.name, version.version)
    except ApiError as error:
        if error.code == Code.UNAVAILABLE:
            raise
        return _finish(view, "DeployModelOperationMetadata", error=error)
    view.save([*deployed, new], split)
    _changed(view)
    return _finish(
        view,
        "DeployModelOperationMetadata",
        response={"deployedModel": view.deployed_json(new)},
        response_type="DeployModelResponse",
        settle=True,
    )


def _deployed_id(view: View, wanted: dict[str, Any], version: str) -> str:
    given = str(wanted.get("id") or "")
    if isinstance(view, ModelView):
        if view.model != vertex_names.parse_model(wanted["model"], "deployed_model.model").model:
            raise invalid_argument(
                f"Endpoint {view.name} is model {view.model}'s own endpoint and serves its "
                "versions only; create an endpoint to deploy other models."
            )
        if given and given != version:
            raise invalid_argument(
                f"On model {view.model}'s own endpoint a deployed model's id is its version "
                f"id ({version}), not {given!r}."
            )
        return version
    if given and not (given.isdigit() and len(given) <= 10):
        raise invalid_argument(
            f"Invalid deployed_model.id {given!r}: 1-10 characters, digits only."
        )
    return given or vertex_names.new_id()


def undeploy_model(api: str, project: str, location: str, endpoint: str) -> flask.Response:
    view = _view(api, project, location, endpoint)
    request = body("endpoint_service.UndeployModelRequest")
    deployed_id = str(request.get("deployedModelId") or "")
    deployed = view.deployed()
    if not any(d["id"] == deployed_id for d in deployed):
        raise not_found(f"Deployed model {deployed_id!r} not found on endpoint {view.name}.")
    remaining = [d for d in deployed if d["id"] != deployed_id]
    current = view.split()
    given = dict(request.get("trafficSplit") or {})
    if given:
        if given.get(deployed_id):
            raise invalid_argument(
                f"traffic_split gives {given[deployed_id]}% to {deployed_id}, the deployed "
                "model being undeployed."
            )
        given.pop(deployed_id, None)
        split = _checked_split(view, given, remaining)
    elif not remaining:
        split = {}
    elif current.get(deployed_id, 0) > 0:
        raise ApiError(
            Code.FAILED_PRECONDITION,
            f"Deployed model {deployed_id} receives {current[deployed_id]}% of the traffic of "
            f"{view.name}; send a traffic_split that gives its share to the others.",
        )
    else:
        split = {k: v for k, v in current.items() if k != deployed_id}
    view.save(remaining, split)
    _changed(view)
    return _finish(
        view, "UndeployModelOperationMetadata", response_type="UndeployModelResponse", settle=True
    )


def mutate_model(api: str, project: str, location: str, endpoint: str) -> flask.Response:
    view = _view(api, project, location, endpoint)
    request = body("endpoint_service.MutateDeployedModelRequest")
    if isinstance(view, ModelView):
        raise unimplemented(
            f"Endpoint {view.name} is model {view.model}'s own endpoint, which keeps no "
            "per-deployment settings; create an endpoint to tune them."
        )
    wanted = request.get("deployedModel") or {}
    mask = request.get("updateMask") or flask.request.args.get("updateMask") or ""
    if isinstance(mask, dict):  # a FieldMask sent as an object rather than a string
        mask = ",".join(mask.get("paths", []))
    # FieldMask paths come snake_case (gRPC, gcloud) or lowerCamelCase (proto3 JSON).
    paths = [_snake(p.strip()) for p in str(mask).split(",") if p.strip()]
    if not paths:
        raise invalid_argument("update_mask is required.")
    bad = sorted(set(paths) - _MUTABLE)
    if bad:
        raise invalid_argument(
            f"update_mask paths {bad} cannot be mutated; use {sorted(_MUTABLE)}."
        )
    deployed = view.deployed()
    target = next((d for d in deployed if d["id"] == str(wanted.get("id", ""))), None)
    if target is None:
        raise not_found(f"Deployed model {wanted.get('id')!r} not found on endpoint {view.name}.")
    for path in paths:
        _set_path(target, wanted, [_camel(part) for part in path.split(".")])
    view.save(deployed, view.split())
    _changed(view)
    return _finish(
        view,
        "MutateDeployedModelOperationMetadata",
        response={"deployedModel": view.deployed_json(target)},
        response_type="MutateDeployedModelResponse",
        settle=True,
    )


# -- helpers ------------------------------------------------------------------------------------


def _checked_split(view: View, split: dict[str, Any], deployed: list[dict[str, Any]]):
    """A new `trafficSplit`: keys are deployed model ids, percents sum to 100 (or none for no
    traffic, on an endpoint record)."""
    ids = {d["id"] for d in deployed}
    unknown = sorted(set(split) - ids)
    if unknown:
        raise invalid_argument(
            f"traffic_split names {unknown}, which are not deployed on {view.name}; deployed: "
            f"{sorted(ids)}."
        )
    if not split:
        return {}
    return validate_split(split)


def _fresh(view: View) -> View:
    return endpoint_views.find(control.current(), view.project, view.location, view.id)


def _snake(path: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "_" + m.group(1).lower(), path)


def _camel(part: str) -> str:
    head, *rest = part.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _set_path(target: dict[str, Any], source: dict[str, Any], path: list[str]) -> None:
    for key in path[:-1]:
        target = target.setdefault(key, {})
        source = source.get(key) or {}
    if path[-1] in source:
        target[path[-1]] = source[path[-1]]
    else:
        target.pop(path[-1], None)
