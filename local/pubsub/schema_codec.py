"""Schema definitions compiled once, and message data checked against them.

Two kinds, as Pub/Sub has them (cloud.google.com/pubsub/docs/schemas):

* ``AVRO``: the definition is an Avro schema (JSON), parsed by ``fastavro``. ``JSON``
  encoding is Avro's JSON encoding of one datum (unions written as ``{"type": value}``);
  ``BINARY`` is Avro's binary encoding of one datum (no container, no header), and every byte
  must belong to it.
* ``PROTOCOL_BUFFER``: the definition is the text of one ``.proto`` file (proto2 or proto3)
  defining exactly one top-level message type (nested types allowed, imports not: Google's
  rules). The text is compiled by the ``protoc`` bundled with ``grpcio-tools`` into a
  descriptor, and the message class is built with protobuf's own descriptor pool.
  ``JSON`` encoding is protobuf's JSON mapping (unknown fields refused); ``BINARY`` is the
  wire format (required proto2 fields must be present).

:func:`compile_definition` raises :class:`SchemaError` with the parser's own words.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass

MAX_DEFINITION_BYTES = 300 * 1000  # "must not exceed 300 KB" (Pub/Sub schema quotas)
AVRO, PROTOCOL_BUFFER = "AVRO", "PROTOCOL_BUFFER"
JSON, BINARY = "JSON", "BINARY"
_FILE = "schema.proto"


class SchemaError(ValueError):
    """A definition or a message does not hold; the text says why."""


@dataclass(frozen=True)
class Codec:
    kind: str
    parsed: object  # fastavro's parsed schema, or the protobuf message class

    def check(self, data: bytes, encoding: str) -> None:
        """Raises SchemaError unless ``data`` is one valid message in ``encoding``."""
        if self.kind == AVRO:
            _check_avro(self.parsed, data, encoding)
        else:
            _check_proto(self.parsed, data, encoding)


def compile_definition(kind: str, definition: str) -> Codec:
    if not definition.strip():
        raise SchemaError("the definition is empty")
    if len(definition.encode()) > MAX_DEFINITION_BYTES:
        raise SchemaError(f"the definition is larger than {MAX_DEFINITION_BYTES} bytes")
    if kind == AVRO:
        return Codec(kind, _compile_avro(definition))
    if kind == PROTOCOL_BUFFER:
        return Codec(kind, _compile_proto(definition))
    raise SchemaError(f"unknown schema type {kind!r}: use AVRO or PROTOCOL_BUFFER")


# -- Avro ----------------------------------------------------------------------------------------


def _compile_avro(definition: str):
    import fastavro

    try:
        schema = json.loads(definition)
    except ValueError as exc:
        raise SchemaError(f"the Avro definition is not JSON: {exc}") from None
    try:
        return fastavro.parse_schema(schema)
    except Exception as exc:  # fastavro raises SchemaParseException, KeyError, TypeError...
        raise SchemaError(f"the Avro definition is not valid: {exc}") from None


def _check_avro(schema, data: bytes, encoding: str) -> None:
    import fastavro

    if encoding == BINARY:
        buffer = io.BytesIO(data)
        try:
            fastavro.schemaless_reader(buffer, schema, None)
        except Exception as exc:
            raise SchemaError(f"not a binary-encoded Avro datum of the schema: {exc!r}") from None
        if buffer.tell() != len(data):
            raise SchemaError("bytes left over after the Avro datum")
        return
    from fastavro.validation import validate

    try:
        text = data.decode("utf-8")
        records = list(fastavro.json_reader(io.StringIO(text), schema))
    except Exception as exc:
        raise SchemaError(f"not a JSON-encoded Avro datum of the schema: {exc!r}") from None
    if len(records) != 1:
        raise SchemaError(f"expected one JSON-encoded Avro datum, found {len(records)}")
    # The JSON reader converts leniently (a number where a string belongs); check the datum.
    try:
        validate(records[0], schema, raise_errors=True)
    except Exception as exc:
        raise SchemaError(f"the datum does not match the schema: {exc}") from None


# -- protocol buffers ----------------------------------------------------------------------------


def _compile_proto(definition: str):
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    with tempfile.TemporaryDirectory(prefix="pubsub-schema-") as tmp:
        with open(os.path.join(tmp, "schema.proto"), "w", encoding="utf-8") as source:
            source.write(definition)
        out = os.path.join(tmp, "schema.pb")
        # protoc in its own process: its errors come on stderr, and a crash stays there.
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "grpc_tools.protoc",
                "-I.",
                f"--descriptor_set_out={out}",
                _FILE,
            ],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            # protoc's own errors are "schema.proto:LINE:COLUMN: what"; the rest is log noise.
            lines = [ln for ln in result.stderr.splitlines() if ln.startswith("schema.proto:")]
            detail = " ".join(lines) or f"protoc exited with {result.returncode}"
            raise SchemaError(f"the protocol buffer definition does not compile: {detail}")
        with open(out, "rb") as compiled:
            files = descriptor_pb2.FileDescriptorSet.FromString(compiled.read())
    [file] = files.file
    if file.dependency:
        raise SchemaError(f"imports are not supported (found {', '.join(file.dependency)})")
    if len(file.message_type) != 1 or file.enum_type:
        raise SchemaError(
            "the definition must contain exactly one top-level type, a message "
            f"(found {len(file.message_type)} messages and {len(file.enum_type)} enums)"
        )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    full_name = (file.package + "." if file.package else "") + file.message_type[0].name
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))


def _check_proto(cls, data: bytes, encoding: str) -> None:
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError

    if encoding == BINARY:
        try:
            message = cls.FromString(data)
        except DecodeError as exc:
            raise SchemaError(f"not a binary-encoded message of the schema: {exc}") from None
        if not message.IsInitialized():
            missing = ", ".join(message.FindInitializationErrors())
            raise SchemaError(f"required fields are missing: {missing}")
        return
    try:
        json_format.Parse(data.decode("utf-8"), cls())
    except (json_format.ParseError, UnicodeDecodeError) as exc:
        raise SchemaError(f"not a JSON-encoded message of the schema: {exc}") from None
