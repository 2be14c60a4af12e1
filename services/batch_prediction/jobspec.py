"""What a batch prediction job is asked to do (`JobSpec`), read from either request shape and
written back as the spec fields of Vertex AI's `BatchPredictionJob` JSON (the job record,
`jobrecord`, adds the rest).

A job is asked for in one of two shapes, both turned into the same `JobSpec`:
- Vertex's `BatchPredictionJob` (the REST API, or a Pub/Sub message holding one under
  `batchPredictionJob`): `inputConfig.gcsSource.uris`, `inputConfig.instancesFormat`
  (`jsonl`, `csv`, `file-list`), `outputConfig.gcsDestination.outputUriPrefix`,
  `outputConfig.predictionsFormat` (`jsonl`), `instanceConfig`,
  `manualBatchTuningParameters.batchSize` (our chunk size), label `engine` (`local`|`beam`);
- the short form of a Pub/Sub message: `{"model", "input" (a URI or a list), "output",
  "format"?, "keyField"?, "includedFields"?, "excludedFields"?, "instanceType"?,
  "chunkSize"?, "engine"?, "displayName"?, "labels"?, "jobId"?, "outputDirectory"?}`.
  `outputDirectory` (ours) names the exact directory to write, instead of a new
  `prediction-<model>-<time>` directory under `output`.

Not implemented (INVALID_ARGUMENT naming what is): BigQuery and tf-record inputs, csv and
bigquery outputs, explanations, dedicated resources. Vertex's own `file-list` sends each
listed file to the model as one `{"b64": ...}` instance; ours lists JSONL or CSV files whose
lines are the instances (tabular models take no bytes).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from services.batch_prediction.backends import ENGINES
from services.batch_prediction.formats import InstanceConfig
from shared import protocheck
from shared.errors import echo, invalid_argument

INPUT_FORMATS = ("jsonl", "csv", "file-list")
# BatchPredictionJob's JSON (google/cloud/aiplatform/v1/batch_prediction_job.proto), checked
# field by field before anything is read from it, so that a wrong type is Google's 400 naming
# the field and nothing invalid is ever stored. Output-only fields (a stored record, or a
# job echoed back by a client) may be anything; the service writes them itself.
_GCS = {"uris": ["TYPE_STRING"]}
JOB_SHAPE: dict[str, Any] = {
    "displayName": "TYPE_STRING",
    "model": "TYPE_STRING",
    "unmanagedContainerModel": "ANY",
    "inputConfig": {
        "instancesFormat": "TYPE_STRING",
        "gcsSource": _GCS,
        "bigquerySource": {"inputUri": "TYPE_STRING"},
    },
    "instanceConfig": {
        "instanceType": "TYPE_STRING",
        "keyField": "TYPE_STRING",
        "includedFields": ["TYPE_STRING"],
        "excludedFields": ["TYPE_STRING"],
    },
    "modelParameters": "ANY",
    "outputConfig": {
        "predictionsFormat": "TYPE_STRING",
        "gcsDestination": {"outputUriPrefix": "TYPE_STRING"},
        "bigqueryDestination": {"outputUri": "TYPE_STRING"},
    },
    "dedicatedResources": "ANY",
    "serviceAccount": "TYPE_STRING",
    "manualBatchTuningParameters": {"batchSize": "TYPE_INT32"},
    "generateExplanation": "TYPE_BOOL",
    "explanationSpec": "ANY",
    "labels": {"*": "TYPE_STRING"},
    "encryptionSpec": {"kmsKeyName": "TYPE_STRING"},
    "disableContainerLogging": "TYPE_BOOL",
    **dict.fromkeys(
        ("name", "modelVersionId", "outputInfo", "state", "error", "partialFailures",
         "resourcesConsumed", "completionStats", "createTime", "startTime", "endTime",
         "updateTime", "satisfiesPzs", "satisfiesPzi"),
        "ANY",
    ),
}  # fmt: skip
# The short form of a Pub/Sub job request.
SHORT_SHAPE: dict[str, Any] = {
    "model": "TYPE_STRING",
    "input": "ANY",  # a string or a list of strings: checked below
    "output": "TYPE_STRING",
    "outputDirectory": "TYPE_STRING",
    "format": "TYPE_STRING",
    "keyField": "TYPE_STRING",
    "includedFields": ["TYPE_STRING"],
    "excludedFields": ["TYPE_STRING"],
    "instanceType": "TYPE_STRING",
    "chunkSize": "TYPE_INT32",
    "engine": "TYPE_STRING",
    "displayName": "TYPE_STRING",
    "labels": {"*": "TYPE_STRING"},
    "jobId": "TYPE_STRING",
}


@dataclasses.dataclass(frozen=True)
class JobSpec:
    display_name: str
    model: str
    inputs: tuple[str, ...]
    instances_format: str
    output_prefix: str
    instance_config: InstanceConfig = dataclasses.field(default_factory=InstanceConfig)
    chunk_size: int = 0  # 0: the service's CHUNK_SIZE
    engine: str = ""  # "": the service's ENGINE
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    output_directory: str = ""  # "": a new prediction-<model>-<time> under output_prefix

    def to_vertex(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "displayName": self.display_name,
            "model": self.model,
            "inputConfig": {
                "instancesFormat": self.instances_format,
                "gcsSource": {"uris": list(self.inputs)},
            },
            "outputConfig": {
                "predictionsFormat": "jsonl",
                "gcsDestination": {"outputUriPrefix": self.output_prefix},
            },
        }
        config = self.instance_config
        instance: dict[str, Any] = {}
        if config.instance_type:
            instance["instanceType"] = config.instance_type
        if config.key_field:
            instance["keyField"] = config.key_field
        if config.included_fields:
            instance["includedFields"] = list(config.included_fields)
        if config.excluded_fields:
            instance["excludedFields"] = list(config.excluded_fields)
        if instance:
            body["instanceConfig"] = instance
        if self.chunk_size:
            body["manualBatchTuningParameters"] = {"batchSize": self.chunk_size}
        labels = dict(self.labels)
        if self.engine:
            labels["engine"] = self.engine
        if labels:
            body["labels"] = labels
        return body


def from_vertex(body: Mapping[str, Any]) -> JobSpec:
    """A `BatchPredictionJob` JSON (camelCase: a request, or a stored record) -> JobSpec."""
    protocheck.check_shape(dict(body), JOB_SHAPE, "batch_prediction_job")
    unsupported = [
        field
        for field in ("unmanagedContainerModel", "explanationSpec", "dedicatedResources")
        if body.get(field)
    ]
    if body.get("generateExplanation"):
        unsupported.append("generateExplanation")
    if unsupported:
        raise invalid_argument(f"Not supported by this service: {unsupported}.")
    model = str(body.get("model") or "")
    if not model:
        raise invalid_argument("model is required: a registry reference such as NAME@champion.")
    input_config = body.get("inputConfig") or {}
    instances_format = str(input_config.get("instancesFormat") or "")
    if instances_format not in INPUT_FORMATS:
        raise invalid_argument(
            f"inputConfig.instancesFormat {echo(instances_format)} is not supported; use one of "
            f"{list(INPUT_FORMATS)}."
        )
    if input_config.get("bigquerySource"):
        raise invalid_argument("inputConfig.bigquerySource is not supported; use gcsSource.")
    uris = tuple((input_config.get("gcsSource") or {}).get("uris") or ())
    if not uris:
        raise invalid_argument("inputConfig.gcsSource.uris is required (gs:// URIs).")
    output_config = body.get("outputConfig") or {}
    predictions_format = output_config.get("predictionsFormat") or "jsonl"
    if predictions_format != "jsonl":
        raise invalid_argument(
            f"outputConfig.predictionsFormat {echo(predictions_format)} is not supported; "
            "use jsonl."
        )
    prefix = str((output_config.get("gcsDestination") or {}).get("outputUriPrefix") or "")
    if not prefix:
        raise invalid_argument("outputConfig.gcsDestination.outputUriPrefix is required.")
    instance = body.get("instanceConfig") or {}
    config = InstanceConfig(
        key_field=str(instance.get("keyField") or ""),
        included_fields=tuple(instance.get("includedFields") or ()),
        excluded_fields=tuple(instance.get("excludedFields") or ()),
        instance_type=str(instance.get("instanceType") or ""),
    )
    _check_instance_config(config, instances_format)
    labels = {str(k): str(v) for k, v in (body.get("labels") or {}).items()}
    engine = labels.pop("engine", "")
    if engine and engine not in ENGINES:
        raise invalid_argument(f"label engine={echo(engine)}: use one of {list(ENGINES)}.")
    tuning = body.get("manualBatchTuningParameters") or {}
    chunk_size = int(tuning.get("batchSize") or 0)
    if chunk_size < 0:
        raise invalid_argument("manualBatchTuningParameters.batchSize must be positive.")
    return JobSpec(
        display_name=str(body.get("displayName") or ""),
        model=model,
        inputs=tuple(str(u) for u in uris),
        instances_format=instances_format,
        output_prefix=prefix,
        instance_config=config,
        chunk_size=chunk_size,
        engine=engine,
        labels=labels,
    )


def from_message(data: Mapping[str, Any]) -> JobSpec:
    """A Pub/Sub job request (the short form, or `{"batchPredictionJob": {...}}`)."""
    if "batchPredictionJob" in data:
        job = data["batchPredictionJob"] or {}
        if not isinstance(job, Mapping):
            raise invalid_argument('"batchPredictionJob" must be a BatchPredictionJob object.')
        return from_vertex(job)
    protocheck.check_shape(dict(data), SHORT_SHAPE, "job_request")
    inputs = data.get("input")
    inputs = [inputs] if isinstance(inputs, str) else list(inputs or [])
    if not inputs or not all(isinstance(u, str) for u in inputs):
        raise invalid_argument('"input" is required: a gs:// URI, prefix or glob, or a list.')
    output = data.get("output") or ""
    directory = data.get("outputDirectory") or ""
    if not output and not directory:
        raise invalid_argument('"output" is required: a gs:// prefix for the job\'s directory.')
    body: dict[str, Any] = {
        "displayName": data.get("displayName") or "",
        "model": data.get("model") or "",
        "inputConfig": {
            "instancesFormat": data.get("format") or format_for(inputs[0]),
            "gcsSource": {"uris": inputs},
        },
        "outputConfig": {
            "predictionsFormat": "jsonl",
            "gcsDestination": {"outputUriPrefix": output or directory},
        },
        "instanceConfig": {
            "keyField": data.get("keyField") or "",
            "includedFields": data.get("includedFields") or [],
            "excludedFields": data.get("excludedFields") or [],
            "instanceType": data.get("instanceType") or "",
        },
        "manualBatchTuningParameters": {"batchSize": data.get("chunkSize") or 0},
        "labels": {
            **(data.get("labels") or {}),
            **({"engine": data["engine"]} if data.get("engine") else {}),
        },
    }
    spec = from_vertex(body)
    return dataclasses.replace(spec, output_directory=str(directory).rstrip("/"))


def format_for(uri: str) -> str:
    """The input format an object's name suggests: .csv, .txt/.list (file-list), else jsonl."""
    name = uri.lower().rstrip("/")
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".txt", ".list", ".lst")):
        return "file-list"
    return "jsonl"


def _check_instance_config(config: InstanceConfig, instances_format: str) -> None:
    if config.instance_type not in ("", "object", "array"):
        raise invalid_argument(
            f"instanceConfig.instanceType {echo(config.instance_type)}: use object or array."
        )
    if config.included_fields and config.excluded_fields:
        raise invalid_argument(
            "instanceConfig: set includedFields or excludedFields, not both (as Vertex AI)."
        )
    if instances_format == "csv" and (config.included_fields or config.excluded_fields):
        raise invalid_argument("includedFields and excludedFields apply to jsonl input only.")
