"""Document AI v1's REST surface, the paths `google-cloud-documentai` calls over REST:

    POST /v1/projects/{p}/locations/{l}/processors/{id}:process                 ProcessDocument
    POST /v1/projects/{p}/locations/{l}/processors/{id}/processorVersions/{v}:process
    POST /v1/projects/{p}/locations/{l}/processors/{id}:batchProcess     BatchProcessDocuments
    POST /v1/projects/{p}/locations/{l}/processors/{id}/processorVersions/{v}:batchProcess
    GET  /v1/projects/{p}/locations/{l}/processors                              ListProcessors
    GET  /v1/projects/{p}/locations/{l}/processors/{id}                         GetProcessor
    GET  /v1/projects/{p}/locations/{l}/processorTypes                          ListProcessorTypes
    GET  /v1/projects/{p}/locations/{l}/processorTypes/{t}                      GetProcessorType
    GET  /v1/projects/{p}/locations/{l}/operations/{id}   (and /v1/projects/{p}/operations/{id})
    GET  /v1/projects/{p}/locations/{l}/operations                              ListOperations
    POST /v1/projects/{p}/locations/{l}/operations/{id}:cancel                  CancelOperation

Processors are configured (`DOCUMENTAI_PROCESSORS`), not created: an unknown id is NOT_FOUND.
Creating, deleting, enabling, training processors is UNIMPLEMENTED (nothing to manage).
"""

from __future__ import annotations

import flask

from services.documentai import operations as ops
from services.documentai.backends.base import Limits
from shared import protojson
from shared.app import json_body, proto_response, wants_enum_ints
from shared.errors import invalid_argument, not_found
from shared.gapictypes import message_types
from shared.service import context_of

documentai = message_types("google.cloud.documentai_v1")

_LOC = "/v1/projects/<project>/locations/<location>"
_PROC = f"{_LOC}/processors/<processor>"
_VERSION = f"{_PROC}/processorVersions/<version>"


def blueprint() -> flask.Blueprint:
    bp = flask.Blueprint("documentai_api", __name__)
    rules = [
        (f"{_PROC}:process", process, "POST"),
        (f"{_VERSION}:process", process, "POST"),
        (f"{_PROC}:batchProcess", batch_process, "POST"),
        (f"{_VERSION}:batchProcess", batch_process, "POST"),
        (f"{_LOC}/processors", list_processors, "GET"),
        (_PROC, get_processor, "GET"),
        (f"{_LOC}/processorTypes", list_processor_types, "GET"),
        (f"{_LOC}/processorTypes/<kind>", get_processor_type, "GET"),
        (f"{_LOC}/operations/<op_id>", get_operation, "GET"),
        ("/v1/projects/<project>/operations/<op_id>", get_operation, "GET"),
        (f"{_LOC}/operations", list_operations, "GET"),
        (f"{_LOC}/operations/<op_id>:cancel", cancel_operation, "POST"),
    ]
    for rule, view, method in rules:
        bp.add_url_rule(rule, view_func=view, methods=[method], endpoint=f"{view.__name__}:{rule}")
    return bp


def _context():
    return context_of("documentai")


def _parent(project: str, location: str) -> str:
    return f"projects/{project}/locations/{location}"


def _resolve(project: str, location: str, processor: str, version: str | None):
    context = _context()
    config = context.processors.get(project, location, processor)
    context.processors.check_version(version)
    name = f"{_parent(project, location)}/processors/{processor}"
    if version is not None:
        name += f"/processorVersions/{version}"
    return config, name


def process(
    project: str, location: str, processor: str, version: str | None = None
) -> flask.Response:
    config, name = _resolve(project, location, processor, version)
    request = protojson.parse(documentai.ProcessRequest, json_body())
    request.name = name
    context = _context()
    limits = Limits(online=True, max_bytes=context.settings.max_document_bytes)
    return proto_response(context.backend.process(request, config.type, limits))


def batch_process(
    project: str, location: str, processor: str, version: str | None = None
) -> flask.Response:
    config, name = _resolve(project, location, processor, version)
    request = protojson.parse(documentai.BatchProcessRequest, json_body())
    request.name = name
    context = _context()
    if _cloud():
        return _operation_response(context.backend.batch_process(request))
    kind = context.processors.types[config.type]
    record = context.batch.start(request, _parent(project, location), config, kind.batch_pages)
    return _operation_response(record)


def list_processors(project: str, location: str) -> flask.Response:
    parent = _parent(project, location)
    return proto_response(
        documentai.ListProcessorsResponse(processors=_context().processors.list(parent))
    )


def get_processor(project: str, location: str, processor: str) -> flask.Response:
    config, _ = _resolve(project, location, processor, None)
    return proto_response(_context().processors.processor(_parent(project, location), config))


def list_processor_types(project: str, location: str) -> flask.Response:
    parent = _parent(project, location)
    return proto_response(
        documentai.ListProcessorTypesResponse(
            processor_types=_context().processors.processor_types(parent)
        )
    )


def get_processor_type(project: str, location: str, kind: str) -> flask.Response:
    parent = _parent(project, location)
    for found in _context().processors.processor_types(parent):
        if found.type_ == kind:
            return proto_response(found)
    raise not_found(f"Processor type '{parent}/processorTypes/{kind}' not found.")


def get_operation(project: str, op_id: str, location: str | None = None) -> flask.Response:
    name = f"projects/{project}" + (f"/locations/{location}" if location else "")
    name += f"/operations/{op_id}"
    if _cloud():
        return _operation_response(_context().backend.get_operation(name))
    return _operation_response(_context().operations.get(name))


def list_operations(project: str, location: str) -> flask.Response:
    args = flask.request.args
    size = ops.check_page_size(args.get("pageSize"))
    token = args.get("pageToken", "")
    parent = _parent(project, location)
    if _cloud():
        found = _context().backend.list_operations(parent)
    else:
        found = _context().operations.list(parent)
    start = int(token) if token.isdigit() else 0
    if token and not token.isdigit():
        raise invalid_argument("Invalid pageToken.")
    page = found[start : start + size]
    body: dict = {"operations": [ops.render(r, wants_enum_ints()) for r in page]}
    if start + size < len(found):
        body["nextPageToken"] = str(start + size)
    return flask.jsonify(body)


def cancel_operation(project: str, location: str, op_id: str) -> flask.Response:
    if _cloud():
        _context().backend.cancel_operation(f"{_parent(project, location)}/operations/{op_id}")
        return flask.jsonify({})
    _context().operations.cancel(f"{_parent(project, location)}/operations/{op_id}")
    return flask.jsonify({})


def _cloud() -> bool:
    """With the cloud backend, batches and their operations are Google's."""
    return _context().settings.ml_backend == "cloud"


def _operation_response(record: dict) -> flask.Response:
    return flask.jsonify(ops.render(record, wants_enum_ints()))
