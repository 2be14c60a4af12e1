"""CSV input: a header line, then one instance per line (an object keyed by the header when
the header names exactly the model's features, else an array in column order); quoted fields
must not hold line breaks (chunks are cut at line ends). Numbers become numbers (integers
stay integers), empty fields null, anything else a string; the echo of a row is its values
as orjson writes them. A chunk of numbers and commas only, for a numeric model, is parsed at
once (`numeric.parse_fields`) and answered byte for byte as row by row would answer it.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson

from services.batch_prediction import numeric
from services.batch_prediction.formats import (
    PREDICTED_END,
    WRAPPED,
    Batch,
    InstanceConfig,
    RowError,
    checked_batch,
    located,
    string_echo,
)
from shared.errors import ApiError, Code
from shared.modelschema import InputSchema, fits


def parse_header(line: bytes) -> list[str]:
    try:
        header = next(csv.reader([line.decode("utf-8-sig").strip("\r\n")]))
    except (StopIteration, UnicodeDecodeError, csv.Error) as exc:
        raise ApiError(Code.INVALID_ARGUMENT, f"Unreadable CSV header: {exc}.") from None
    if not header or any(not name for name in header):
        raise ApiError(Code.INVALID_ARGUMENT, "The CSV header has an empty column name.")
    return header


def parse_csv(
    blob: bytes,
    offset: int,
    source: str,
    header: Sequence[str],
    schema: InputSchema,
    config: InstanceConfig,
    newlines: np.ndarray | None = None,
) -> Batch:
    """CSV data lines (no header). Numbers become numbers, empty fields null."""
    if schema.numeric and not config.key_field and not config.selects:
        fast = _fast_csv(blob, header, schema, newlines)
        if fast is not None:
            return fast
    key_at = header.index(config.key_field) if config.key_field in header else -1
    if config.key_field and key_at < 0:
        raise ApiError(
            Code.INVALID_ARGUMENT, f"The CSV header has no key field {config.key_field!r}."
        )
    names = [name for i, name in enumerate(header) if i != key_at]
    keyed_by_name = set(names) == set(schema.names) and len(names) == len(schema.names)
    instances: list[Any] = []
    echoes: list[bytes] = []
    offsets: list[int] = []
    errors: list[tuple[int, bytes]] = []
    position = offset
    for raw in blob.split(b"\n"):
        at, position = position, position + len(raw) + 1
        line = raw.strip(b"\r")
        if not line.strip():
            continue
        try:
            fields = next(csv.reader([line.decode("utf-8")]))
        except (UnicodeDecodeError, csv.Error) as exc:
            errors.append(
                (len(instances), located(RowError(str(exc), string_echo(line)), source, at))
            )
            continue
        if len(fields) != len(header):
            message = f"The row has {len(fields)} fields; the header has {len(header)}."
            errors.append(
                (len(instances), located(RowError(message, string_echo(line)), source, at))
            )
            continue
        key = fields[key_at] if key_at >= 0 else None
        values = [_csv_value(v) for i, v in enumerate(fields) if i != key_at]
        instances.append(dict(zip(names, values, strict=True)) if keyed_by_name else values)
        echoes.append(orjson.dumps(_csv_value(key) if key_at >= 0 else values))
        offsets.append(at)
    label = b"key" if key_at >= 0 else b"instance"
    return checked_batch(instances, echoes, offsets, errors, schema, label, source)


def _fast_csv(
    blob: bytes, header: Sequence[str], schema: InputSchema, newlines: np.ndarray | None
) -> Batch | None:
    """The homogeneous case, or None: every line `width` JSON numbers and commas, for a
    numeric model (`numeric.parse_fields`), answered as the exact way answers it. The echo
    is a row's values as `orjson` writes them (`1.50` is `1.5`, `3` stays `3`): the text
    itself when the matrix written back is the text (floats written as `orjson` writes
    them), else the rows read and written once more as a whole; either way the output lines
    are a template of it, filled by one `%`."""
    width = len(schema.features)
    if len(header) != width:
        return None
    matrix = numeric.parse_fields(blob, width, newlines)
    if matrix is None:
        return None
    rows = b"[[" + blob[:-1].replace(b"\n", b"],[") + b"]]"
    written = matrix
    if set(header) == set(schema.names):  # an object keyed by the header: schema order
        matrix = matrix[:, [header.index(name) for name in schema.names]]
    if not fits(matrix, schema):
        return None
    end = b"]" + PREDICTED_END + b"\n"
    if _written_as_orjson(written, blob, rows):
        template = WRAPPED + blob.replace(b"\n", end + WRAPPED)[: -len(WRAPPED)]
        return Batch(matrix, b"instance", template=template)
    try:
        rows = orjson.dumps(orjson.loads(rows))  # integers, or numbers written otherwise
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):  # integers over 64 bits
        return None
    # Only numbers and commas between a row's brackets: `],[` is where rows meet.
    template = WRAPPED + rows[2:-2].replace(b"],[", end + WRAPPED) + end
    return Batch(matrix, b"instance", template=template)


def _written_as_orjson(matrix: np.ndarray, blob: bytes, rows: bytes) -> bool:
    """Whether orjson writes the values of `blob` (`rows`: its lines as a JSON array) as
    they are written there: all floats (`matrix` written back), or all integers (no `.` or
    exponent anywhere; written back as int64 when within a double's exact range)."""
    if b"." in blob or b"e" in blob or b"E" in blob:
        values = np.ascontiguousarray(matrix)
    elif np.abs(matrix).max(initial=0) < 2**53:
        values = np.ascontiguousarray(matrix.astype(np.int64))
    else:
        return False
    return orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY) == rows


def _csv_value(text: str | None) -> Any:
    if text is None or text == "":
        return None
    try:
        whole = int(text)
    except ValueError:
        pass
    else:
        # Beyond 64 bits an integer is a float, as orjson reads it in JSONL (and writes no
        # other: the echo of such a row failed the whole job).
        return whole if -(2**63) <= whole < 2**64 else float(whole)
    try:
        number = float(text)
    except ValueError:
        return text
    return number if number == number and abs(number) != float("inf") else text
