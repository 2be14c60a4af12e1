"""Instances in, Vertex AI output lines out: the pure part of a batch job (no I/O).

Input lines (JSONL): each line one instance, as Vertex AI reads them: an array of feature
values, or an object keyed by feature name. Two of our own conveniences, never in conflict
with a model's features: a line `{"instance": X}` (the shape of Vertex's own output lines) is
the instance X, unless the model has a feature called `instance`; blank lines are skipped.
CSV input is `csvlines`'s, on the `Batch` and checks here.

`InstanceConfig` is Vertex's `instanceConfig`: `keyField` (output carries `key` instead of
`instance`; the key is not sent to the model), `includedFields` / `excludedFields` (object
lines only), `instanceType` (`object` or `array`; `array` takes the order of
`includedFields`).

Output lines, one per instance, in input order:
    predictions: {"instance": <the instance's bytes as read>, "prediction": <JSON>}
                 {"key": <key>, "prediction": <JSON>}          with a key field
    errors:      {"instance": <the line as read>, "error": {"code": 3, "message": "..."}}
The instance is echoed from the input bytes, never re-serialised (CSV rows, and instances cut
down by field selection, are serialised once). A line that is not JSON is echoed as a JSON
string. Error codes are `google.rpc.Code` numbers.

The fast path: a chunk whose lines are all `{"instance": [numbers]}` (or all `[numbers]`)
for a numeric model becomes one float64 matrix without a Python object per value
(`numeric.parse_lines`: numpy over the chunk's bytes, Arrow's CSV reader for the numbers); its
output is spliced from the input bytes without a Python operation per line (so is CSV's, in
`csvlines`). Anything else goes line by line and finds the bad rows exactly.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson

from services.batch_prediction import numeric
from shared.errors import ApiError, Code
from shared.modelschema import InputSchema, fits, to_matrix

WRAPPED = b'{"instance": ['
WRAPPED_END = b"]}\n"
_PREDICTION = b', "prediction": '
PREDICTED_END = _PREDICTION + b"%b}"  # a line's end in a fast-path template
_INSTANCE_INDEX = re.compile(r"^instances\[(\d+)\]")
MAX_ECHO_BYTES = 1 << 20  # an unparseable line longer than this is echoed cut short


@dataclasses.dataclass(frozen=True)
class InstanceConfig:
    key_field: str = ""
    included_fields: tuple[str, ...] = ()
    excluded_fields: tuple[str, ...] = ()
    instance_type: str = ""  # "", "object" or "array"

    @property
    def selects(self) -> bool:
        return bool(self.included_fields or self.excluded_fields or self.instance_type)


@dataclasses.dataclass
class Batch:
    """One parsed chunk: the matrix of its good instances and how to write each of them."""

    matrix: np.ndarray
    label: bytes  # b"instance" or b"key"
    echoes: list[bytes] | None = None  # per good row: the JSON after "instance"/"key"
    # Fast path: the chunk's prediction lines with `%b` where each prediction goes.
    template: bytes | None = None
    errors: list[bytes] = dataclasses.field(default_factory=list)  # finished error lines

    @property
    def rows(self) -> int:
        return int(self.matrix.shape[0])

    def echo(self, index: int) -> bytes:
        if self.echoes is None:  # only when a chunk falls back to row by row: cut once
            assert self.template is not None
            start, end = len(WRAPPED) - 1, len(PREDICTED_END)
            self.echoes = [line[start:-end] for line in self.template.split(b"\n")[:-1]]
        return self.echoes[index]


class RowError(Exception):
    def __init__(self, message: str, echo: bytes, code: Code = Code.INVALID_ARGUMENT) -> None:
        super().__init__(message)
        self.message = message
        self.echo = echo
        self.code = code


def error_line(echo: bytes, code: Code, message: str, label: bytes = b"instance") -> bytes:
    error = orjson.dumps({"code": int(code), "message": message})
    return b'{"' + label + b'": ' + echo + b', "error": ' + error + b"}\n"


def string_echo(line: bytes) -> bytes:
    return orjson.dumps(line[:MAX_ECHO_BYTES].decode("utf-8", "replace"))


# -- JSONL ---------------------------------------------------------------------------------


def parse_jsonl(
    blob: bytes,
    offset: int,
    source: str,
    schema: InputSchema,
    config: InstanceConfig,
    newlines: np.ndarray | None = None,
) -> Batch:
    """`blob`: whole lines, each ending in a newline, starting at byte `offset` of `source`;
    `newlines`, if known, their offsets in `blob`."""
    if schema.numeric and not config.key_field and not config.selects:
        fast = _fast_numeric(blob, schema, newlines)
        if fast is not None:
            return fast
    label = b"key" if config.key_field else b"instance"
    instances: list[Any] = []
    echoes: list[bytes] = []
    offsets: list[int] = []
    errors: list[tuple[int, bytes]] = []  # (row position, error line) to keep input order
    position = offset
    for raw in blob.split(b"\n"):
        at, position = position, position + len(raw) + 1
        line = raw.strip()
        if not line:
            continue
        try:
            instance, echo = _jsonl_instance(line, schema, config)
        except RowError as exc:
            errors.append((len(instances), located(exc, source, at)))
            continue
        instances.append(instance)
        echoes.append(echo)
        offsets.append(at)
    return checked_batch(instances, echoes, offsets, errors, schema, label, source)


def _fast_numeric(blob: bytes, schema: InputSchema, newlines: np.ndarray | None) -> Batch | None:
    """The homogeneous case, or None: every line `{"instance": [numbers]}` (resp.
    `[numbers]`) with exactly as many numbers as the model has features, all finite, parsed
    into one matrix by `numeric.parse_lines` (which proves the lines are that shape)."""
    wrapped = blob.startswith(WRAPPED)
    if wrapped and "instance" in schema.features_by_name:
        return None
    head, tail = (WRAPPED, WRAPPED_END[:-1]) if wrapped else (b"[", b"]")
    matrix = numeric.parse_lines(blob, head, tail, len(schema.features), newlines)
    if matrix is None or not fits(matrix, schema):
        return None
    # Every `{`, `}`, `[` and `]` of a chunk that got here is a wrapper's (a value holds only
    # number bytes), one of each a line, and no `%` is anywhere: one `replace` a wrapper
    # byte makes the template of the output lines, filled by one `%` (2.6 ms a 10,000-line
    # chunk as 10,000 pieces joined with the predictions; 0.4 this way).
    if wrapped:
        template = blob.replace(b"}", PREDICTED_END)
    else:
        template = blob.replace(b"[", WRAPPED).replace(b"]", b"]" + PREDICTED_END)
    return Batch(matrix, b"instance", template=template)


def _jsonl_instance(line: bytes, schema: InputSchema, config: InstanceConfig) -> tuple[Any, bytes]:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise RowError(f"Not a JSON value: {exc}", string_echo(line)) from None
    if config.key_field:
        if not isinstance(value, dict):
            raise RowError(
                f"With keyField {config.key_field!r} every line must be a JSON object.", line
            )
        if config.key_field not in value:
            raise RowError(f"The instance has no key field {config.key_field!r}.", line)
        echo = orjson.dumps(value.pop(config.key_field))
        return _select(value, config, line), echo
    if (
        isinstance(value, dict)
        and len(value) == 1
        and "instance" in value
        and "instance" not in schema.features_by_name
    ):
        inner = line[line.index(b":") + 1 : line.rindex(b"}")].strip()
        return _select(value["instance"], config, inner), inner
    return _select(value, config, line), line


def _select(value: Any, config: InstanceConfig, line: bytes) -> Any:
    if not config.selects:
        return value
    if not isinstance(value, dict):
        if config.instance_type == "array" and isinstance(value, list):
            return value
        raise RowError("includedFields, excludedFields and instanceType need object lines.", line)
    if config.included_fields:
        missing = [f for f in config.included_fields if f not in value]
        if missing:
            raise RowError(f"The instance lacks included field(s) {missing}.", line)
        if config.instance_type == "array":
            return [value[f] for f in config.included_fields]
        return {f: value[f] for f in config.included_fields}
    kept = {k: v for k, v in value.items() if k not in config.excluded_fields}
    if config.instance_type == "array":
        return list(kept.values())
    return kept


def located(exc: RowError, source: str, at: int) -> bytes:
    return error_line(exc.echo, exc.code, f"{exc.message} ({source}, byte {at})")


# -- validation against the schema ---------------------------------------------------------


def checked_batch(
    instances: list[Any],
    echoes: list[bytes],
    offsets: list[int],
    errors: list[tuple[int, bytes]],
    schema: InputSchema,
    label: bytes,
    source: str,
) -> Batch:
    """One matrix of the instances that fit the schema; the others become error lines, found
    by the index `to_matrix` names, without re-checking rows one by one."""
    matrices: list[np.ndarray] = []
    keep: list[bytes] = []
    start = 0
    while start < len(instances):
        try:
            matrices.append(to_matrix(instances[start:], schema))
            keep.extend(echoes[start:])
            break
        except ApiError as exc:
            bad = _bad_index(exc)
            if bad is None:
                raise
            if bad:
                matrices.append(to_matrix(instances[start : start + bad], schema))
                keep.extend(echoes[start : start + bad])
            row = start + bad
            message = exc.message.replace(f"instances[{bad}]", "instance", 1)
            message = f"{message} ({source}, byte {offsets[row]})"
            errors.append((row, error_line(echoes[row], exc.code, message, label)))
            start = row + 1
    width = len(schema.features)
    dtype = np.float64 if schema.numeric else object
    matrix = np.concatenate(matrices) if matrices else np.empty((0, width), dtype=dtype)
    errors.sort(key=lambda item: item[0])
    return Batch(matrix, label, echoes=keep, errors=[line for _, line in errors])


def _bad_index(error: ApiError) -> int | None:
    for detail in error.details:
        for violation in detail.get("fieldViolations", ()):
            match = _INSTANCE_INDEX.match(str(violation.get("field", "")))
            if match:
                return int(match.group(1))
    match = _INSTANCE_INDEX.match(error.message)
    return int(match.group(1)) if match else None


# -- predictions -----------------------------------------------------------------------------


def prediction_bytes(predictions: Sequence[Any]) -> list[bytes]:
    """Each prediction as JSON; repeated labels are serialised once. A 1-D float64, integer or
    boolean array is serialised in one call (orjson writes numpy's float64 as it writes
    Python's float: the shortest repr)."""
    if isinstance(predictions, np.ndarray):
        if predictions.ndim == 1 and (
            predictions.dtype == np.float64 or predictions.dtype.kind in "biu"
        ):
            if not len(predictions):
                return []
            return orjson.dumps(predictions, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].split(b",")
        predictions = predictions.tolist()
    cache: dict[Any, bytes] = {}
    out: list[bytes] = []
    for value in predictions:
        if isinstance(value, str | int | bool) or value is None:
            encoded = cache.get(value)
            if encoded is None:
                encoded = cache[value] = orjson.dumps(value)
            out.append(encoded)
        else:
            out.append(orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY))
    return out


def prediction_lines(batch: Batch, predictions: Sequence[bytes]) -> bytes:
    """The chunk's prediction lines, in input order (the fast path's template filled, or one
    join: no per-line concatenation)."""
    count = len(predictions)
    if not count:
        return b""
    if batch.template is not None:
        return batch.template % tuple(predictions)
    assert batch.echoes is not None
    parts = [b""] * (5 * count)
    parts[0::5] = [b'{"' + batch.label + b'": '] * count
    parts[1::5] = batch.echoes
    parts[2::5] = [_PREDICTION] * count
    parts[3::5] = predictions
    parts[4::5] = [b"}\n"] * count
    return b"".join(parts)
