"""Long-running operations of ModelService and EndpointService, kept in Cloud Storage.

An operation is the `google.longrunning.Operation` JSON, stored under the results bucket at
`{prefix}/{resource}/operations/{id}.json` and named `{resource}/operations/{id}`, where
`{resource}` is the model or endpoint it acts on: the path the SDK polls
(`GET /ui/{name=projects/*/locations/*/endpoints/*/operations/*}`: the aiplatform REST
transport lists the `/ui/` form first, so that is what it calls), routed by the local Vertex
host to the service that owns the resource. Any instance answers a poll: nothing lives in
process memory.

The work is done before the first answer. An operation that changes what endpoints serve
(deploy, undeploy, mutate, delete) reports `done` only once `settle_seconds` have passed since
then: the time every other instance's registry poller (`REFRESH_SECONDS`) needs to see the
change, so that when the SDK's `deploy()` returns, every instance serves the new split. The
answering instance serves it at once. Every other operation is `done: true` in its first
answer.
"""

from __future__ import annotations

import time
from typing import Any

import flask
import orjson

from services.prediction import control, vertex_names
from shared.errors import ApiError, invalid_argument, not_found
from shared.registry import now_rfc3339
from shared.storage import GcsUri, Storage

V1 = "type.googleapis.com/google.cloud.aiplatform.v1."
EMPTY = "type.googleapis.com/google.protobuf.Empty"
DELETE_METADATA = "DeleteOperationMetadata"
_PRIVATE = "mlapi"
_API_VERSIONS = ("v1", "v1beta1", "ui")  # the SDK polls the /ui/ form
DEFAULT_PAGE_SIZE = 100


class Operations:
    """Finished operations in `gs://{bucket}/{prefix}/`. Thread-safe (no state but the client)."""

    def __init__(
        self,
        storage: Storage,
        bucket: str,
        prefix: str = "prediction/operations",
        settle_seconds: float = 0.0,
    ) -> None:
        self.storage = storage
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.settle_seconds = settle_seconds

    def finish(
        self,
        resource: str,
        metadata_type: str,
        *,
        response: dict[str, Any] | None = None,
        response_type: str | None = None,
        error: ApiError | None = None,
        settle: bool = False,
    ) -> dict[str, Any]:
        """Store the operation of work just done on `resource`; its first answer."""
        now = now_rfc3339()
        name = f"{resource}/operations/{vertex_names.new_id()}"
        operation: dict[str, Any] = {
            "name": name,
            "metadata": {
                "@type": V1 + metadata_type,
                "genericMetadata": {"createTime": now, "updateTime": now},
            },
            "done": True,
        }
        if error is not None:
            operation["error"] = {"code": int(error.code), "message": error.message}
        else:
            body = {"@type": (V1 + response_type) if response_type else EMPTY}
            operation["response"] = {**body, **(response or {})}
        ready_at = time.time() + (self.settle_seconds if settle else 0.0)
        operation[_PRIVATE] = {"readyAt": ready_at}
        self.storage.write(self._uri(name), orjson.dumps(operation), "application/json")
        return _public(operation)

    def get(self, name: str) -> dict[str, Any]:
        return _public(self._read(name))

    def wait(self, name: str, timeout_s: float) -> dict[str, Any]:
        """`:wait`: the operation once done, or as it is after `timeout_s`."""
        operation = self._read(name)
        remaining = operation[_PRIVATE]["readyAt"] - time.time()
        if remaining > 0:
            # The work is done; only the settling time is left to pass.
            time.sleep(min(remaining, timeout_s))
        return _public(operation)

    def delete(self, name: str) -> None:
        if not self.storage.delete(self._uri(name)):
            raise not_found(f"Operation {name} was not found.")

    def list(self, resource: str, page_size: int, page_token: str) -> dict[str, Any]:
        folder = f"{self.prefix}/{resource}/operations/"
        objects, _ = self.storage.list_dir(self.bucket, folder)
        ids = sorted(o[len(folder) : -len(".json")] for o in objects if o.endswith(".json"))
        ids = [i for i in ids if i > page_token] if page_token else ids
        page, rest = ids[:page_size], ids[page_size:]
        found = [self.get(f"{resource}/operations/{i}") for i in page]
        body: dict[str, Any] = {"operations": found} if found else {}
        if rest:
            body["nextPageToken"] = page[-1]
        return body

    def _read(self, name: str) -> dict[str, Any]:
        found = self.storage.read_with_generation(self._uri(name))
        if found is None:
            raise not_found(f"Operation {name} was not found.")
        return orjson.loads(found[0])

    def _uri(self, name: str) -> GcsUri:
        return GcsUri(self.bucket, f"{self.prefix}/{name}.json")


def _public(operation: dict[str, Any]) -> dict[str, Any]:
    """The operation as Google answers it: not done (no result yet) until it has settled."""
    ready_at = operation.get(_PRIVATE, {}).get("readyAt", 0.0)
    shown = {k: v for k, v in operation.items() if k != _PRIVATE}
    if time.time() < ready_at:
        shown.pop("response", None)
        shown.pop("error", None)
        shown.pop("done", None)  # proto3 JSON leaves out a false bool
    return shown


# -- routes ------------------------------------------------------------------------------------

_OPERATION = (
    "/<api>/projects/<project>/locations/<location>/<any(models,endpoints):collection>/"
    "<resource_id>/operations"
)


def blueprint() -> flask.Blueprint:
    """google.longrunning.Operations for models and endpoints."""
    bp = flask.Blueprint("vertex_operations", __name__)

    def store() -> Operations:
        return control.current().operations

    def name_of(
        api: str, project: str, location: str, collection: str, resource_id: str, op: str
    ) -> str:
        if api not in _API_VERSIONS:
            flask.abort(404)
        location_path = vertex_names.location_name(project, location)
        return f"{location_path}/{collection}/{resource_id}/operations/{op}"

    def get(operation: str, **path: str) -> flask.Response:
        return _json(store().get(name_of(**path, op=operation)))

    def wait(operation: str, **path: str) -> flask.Response:
        body = orjson.loads(flask.request.get_data() or b"{}")
        timeout = _duration((body or {}).get("timeout", "60s"))
        return _json(store().wait(name_of(**path, op=operation), timeout))

    def cancel(operation: str, **path: str) -> flask.Response:
        store().get(name_of(**path, op=operation))  # NOT_FOUND; a finished one stays as it is
        return _json({})

    def delete(operation: str, **path: str) -> flask.Response:
        store().delete(name_of(**path, op=operation))
        return _json({})

    def list_operations(**path: str) -> flask.Response:
        args = flask.request.args
        size = args.get("pageSize", type=int) or DEFAULT_PAGE_SIZE
        resource = name_of(**path, op="x").rsplit("/operations/", 1)[0]
        return _json(store().list(resource, min(size, 1000), args.get("pageToken", "")))

    bp.add_url_rule(f"{_OPERATION}/<operation>", view_func=get, methods=["GET"])
    bp.add_url_rule(f"{_OPERATION}/<operation>", view_func=delete, methods=["DELETE"])
    bp.add_url_rule(f"{_OPERATION}/<operation>:wait", view_func=wait, methods=["POST"])
    bp.add_url_rule(f"{_OPERATION}/<operation>:cancel", view_func=cancel, methods=["POST"])
    bp.add_url_rule(_OPERATION, view_func=list_operations, methods=["GET"])
    return bp


def _duration(value: Any) -> float:
    text = str(value)
    try:
        return max(0.0, min(float(text.removesuffix("s")), 600.0))
    except ValueError:
        raise invalid_argument(
            f"Invalid timeout {text!r}: expected a duration such as '5s'."
        ) from None


def _json(body: dict[str, Any]) -> flask.Response:
    return flask.Response(orjson.dumps(body), mimetype="application/json")
