"""Vertex AI's batchPredictionJobs REST surface (JobService), the same paths and JSON:

    POST /v1/projects/{p}/locations/{l}/batchPredictionJobs               CreateBatchPredictionJob
    GET  /v1/projects/{p}/locations/{l}/batchPredictionJobs/{id}          GetBatchPredictionJob
    GET  /v1/projects/{p}/locations/{l}/batchPredictionJobs               ListBatchPredictionJobs
    POST /v1/projects/{p}/locations/{l}/batchPredictionJobs/{id}:cancel   CancelBatchPredictionJob
    (and the same under /v1beta1)

`model` is a reference to this project's registry, not a Vertex Model: NAME@ALIAS,
NAME@VERSION, NAME/VERSION, or projects/P/locations/L/models/NAME@ALIAS (see `models`); an
unknown model is NOT_FOUND at creation. A created job is JOB_STATE_QUEUED and runs in the
background. `list` takes `pageSize` (default 100, at most 1000), `pageToken` and a `filter`
of the form `state=JOB_STATE_...` (other filters are INVALID_ARGUMENT); jobs come in id
order, REST-created ones by creation time. Accepted and ignored: `modelParameters`,
`serviceAccount`, `encryptionSpec`, `disableContainerLogging`. Not implemented: delete
(Vertex answers it with a long-running operation).
"""

from __future__ import annotations

import re
from typing import Any

import flask
import orjson

from services.batch_prediction import jobspec
from services.batch_prediction.jobrecord import STATE_NUMBERS, SUCCEEDED, JobRecord
from services.batch_prediction.jobs import Jobs
from shared import jsonbody
from shared.app import json_body, wants_enum_ints
from shared.errors import echo, invalid_argument, not_found
from shared.service import context_of

_API_VERSIONS = ("v1", "v1beta1")
_JOBS = "/<api>/projects/<project>/locations/<location>/batchPredictionJobs"
_FILTER = re.compile(r'^\s*state\s*=\s*"?([A-Z_]+)"?\s*$')
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def blueprint() -> flask.Blueprint:
    bp = flask.Blueprint("batch_prediction_api", __name__)
    bp.add_url_rule(_JOBS, view_func=create_job, methods=["POST"])
    bp.add_url_rule(_JOBS, view_func=list_jobs, methods=["GET"])
    bp.add_url_rule(f"{_JOBS}/<job_id>", view_func=get_job, methods=["GET"])
    bp.add_url_rule(f"{_JOBS}/<job_id>:cancel", view_func=cancel_job, methods=["POST"])
    return bp


def _jobs() -> Jobs:
    return context_of("batch_prediction").backend


def _check_api(api: str) -> None:
    if api not in _API_VERSIONS:
        raise not_found("The requested URL was not found on this server.")


def _parent(project: str, location: str) -> str:
    return f"projects/{project}/locations/{location}"


def create_job(api: str, project: str, location: str) -> flask.Response:
    _check_api(api)
    body = jsonbody.object_body(json_body())
    if body.get("generateExplanation") is True:
        raise invalid_argument("generateExplanation is not supported by this service.")
    spec = jobspec.from_vertex(body)  # checks every field (`jobspec.JOB_SHAPE`)
    return _respond(_jobs().create(_parent(project, location), spec).public_json())


def get_job(api: str, project: str, location: str, job_id: str) -> flask.Response:
    """The job; header `X-Mlapi-Progress` (ours) is the share of input bytes done, 0..1."""
    _check_api(api)
    record = _record(project, location, job_id)
    response = _respond(record.public_json())
    share = record.progress_share()
    if record.state == SUCCEEDED:
        response.headers["X-Mlapi-Progress"] = "1"
    elif share is not None:
        response.headers["X-Mlapi-Progress"] = f"{share:.4f}"
    return response


def cancel_job(api: str, project: str, location: str, job_id: str) -> flask.Response:
    _check_api(api)
    _record(project, location, job_id)
    _jobs().cancel(job_id)
    return _respond({})


def list_jobs(api: str, project: str, location: str) -> flask.Response:
    _check_api(api)
    args = flask.request.args
    page_size = _int_arg(args.get("pageSize") or args.get("page_size") or DEFAULT_PAGE_SIZE)
    page_size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    token = args.get("pageToken") or args.get("page_token") or ""
    state = _state_filter(args.get("filter") or "")
    found, next_token = _jobs().page(_parent(project, location), state, page_size, token)
    body: dict[str, Any] = (
        {"batchPredictionJobs": [record.public_json() for record in found]} if found else {}
    )
    if next_token:
        body["nextPageToken"] = next_token
    return _respond(body)


def _record(project: str, location: str, job_id: str) -> JobRecord:
    record = _jobs().get(job_id)
    if not record.name.startswith(_parent(project, location) + "/"):
        raise not_found(f"BatchPredictionJob {job_id!r} was not found.")
    return record


def _state_filter(text: str) -> str:
    if not text.strip():
        return ""
    match = _FILTER.match(text)
    if not match or match.group(1) not in STATE_NUMBERS:
        raise invalid_argument(
            f"Unsupported filter {echo(text)}; this service filters on state only, e.g. "
            'state="JOB_STATE_RUNNING".'
        )
    return match.group(1)


def _int_arg(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid_argument(f"pageSize must be an integer, got {echo(value)}.") from None
    if number < 0:
        raise invalid_argument("pageSize must not be negative.")
    return number


def _respond(body: dict[str, Any]) -> flask.Response:
    """Vertex's JSON; the job state as a number when the client asked for enum numbers."""
    if wants_enum_ints():
        body = _enums_as_ints(body)
    response = flask.make_response(orjson.dumps(body), 200)
    response.mimetype = "application/json"
    return response


def _enums_as_ints(body: dict[str, Any]) -> dict[str, Any]:
    if "state" in body:
        body = {**body, "state": STATE_NUMBERS.get(body["state"], 0)}
    if "batchPredictionJobs" in body:
        body = {
            **body,
            "batchPredictionJobs": [_enums_as_ints(j) for j in body["batchPredictionJobs"]],
        }
    return body
