"""A request's JSON checked against its proto message type before it is parsed, so that every
defect is answered the way Google's front end answers it, naming the field:

    Invalid JSON payload received. Invalid value at 'requests[0].features[0].max_results'
        (TYPE_INT32), "x"
    Invalid JSON payload received. Invalid value at 'requests[0].features[0].type'
        (type.googleapis.com/google.cloud.vision.v1.Feature.Type), 999
    Invalid JSON payload received. Unknown name "foo" at 'requests[0]': Cannot find field.

(one line each). The error carries a `google.rpc.BadRequest` detail whose field violation names
the field, as Google's do.

`json_format.ParseDict` would reject most of these too, but with messages of its own, and it
accepts unknown enum numbers (proto3 enums are open), which then fail deep inside a backend.
Field paths use the proto names (`max_results`), as Google's messages do. Well-known types
(`Struct`, `Value`, `Timestamp`, `Duration`, wrappers, ...) are left to `ParseDict`, which knows
their JSON forms.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from shared.errors import invalid_argument

_INVALID_JSON = "Invalid JSON payload received."
_INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
_TYPE_NAMES = {
    value: name
    for name, value in vars(FieldDescriptor).items()
    if name.startswith("TYPE_") and isinstance(value, int)
}
_FLOATS = (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT)
_FLOAT_WORDS = frozenset({"NaN", "Infinity", "-Infinity"})
_FLOAT_MAX = 3.4028234663852886e38
# Longest value echoed back in an error message.
_ECHO = 40


def check(payload: dict[str, Any], descriptor: Descriptor) -> None:
    """INVALID_ARGUMENT naming the first field of `payload` that `descriptor` cannot take."""
    _message(payload, descriptor, "")


# A JSON request described without its proto (a service that must not import the heavy client
# package that holds it): a scalar type name ("TYPE_INT32"), "ANY", a dict of camelCase field
# names to shapes ({"*": shape} for a map), or a one-item list for a repeated field.
Shape = str | dict[str, Any] | list[Any]
_SCALARS = {
    "TYPE_STRING": FieldDescriptor.TYPE_STRING,
    "TYPE_BOOL": FieldDescriptor.TYPE_BOOL,
    "TYPE_INT32": FieldDescriptor.TYPE_INT32,
    "TYPE_INT64": FieldDescriptor.TYPE_INT64,
    "TYPE_DOUBLE": FieldDescriptor.TYPE_DOUBLE,
    "TYPE_BYTES": FieldDescriptor.TYPE_BYTES,
}


def check_shape(payload: dict[str, Any], shape: dict[str, Any], root: str) -> None:
    """INVALID_ARGUMENT, in the same words as `check`, for the first value of `payload` that
    does not have `shape`; paths start at `root` (`batch_prediction_job`) in proto names."""
    _shaped(payload, shape, root, "")


def _shaped(value: Any, shape: Shape, path: str, type_name: str) -> None:
    if value is None or shape == "ANY":
        return
    if isinstance(shape, list):
        if not isinstance(value, list):
            raise _invalid(path, type_name or "TYPE_MESSAGE", value)
        for index, item in enumerate(value):
            _shaped(item, shape[0], f"{path}[{index}]", type_name)
        return
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            raise _invalid(path, type_name or "TYPE_MESSAGE", value)
        for key, item in value.items():
            if "*" in shape:
                _shaped(item, shape["*"], f"{path}[{_echo_text(str(key))}]", "")
                continue
            if key not in shape:
                raise _violation(
                    path, f"Unknown name \"{_echo_text(key)}\" at '{path}': Cannot find field."
                )
            _shaped(item, shape[key], _join(path, _snake(key)), "")
        return
    kind = _SCALARS[shape]
    if kind in _INT_RANGES:
        ok = _fits_integer(value, *_INT_RANGES[kind])
    elif kind in _FLOATS:
        ok = _is_float(value, False)
    elif kind == FieldDescriptor.TYPE_BOOL:
        ok = isinstance(value, bool)
    elif kind == FieldDescriptor.TYPE_BYTES:
        ok = _is_base64(value)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise _invalid(path, shape, value)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _message(value: dict[str, Any], descriptor: Descriptor, path: str) -> None:
    if descriptor.full_name.startswith("google.protobuf."):
        return  # a well-known type: its own JSON form, checked by ParseDict
    fields = descriptor.fields_by_camelcase_name
    by_name = descriptor.fields_by_name
    for key, item in value.items():
        field = fields.get(key) or by_name.get(key)
        if field is None:
            where = f" at '{path}'" if path else ""
            raise _violation(path, f'Unknown name "{_echo_text(key)}"{where}: Cannot find field.')
        if item is None:
            continue
        _field(item, field, _join(path, _proto_name(field)))


def _field(value: Any, field: FieldDescriptor, path: str) -> None:
    if _is_map(field):
        if not isinstance(value, dict):
            raise _invalid(path, _type_of(field), value)
        value_field = field.message_type.fields_by_name["value"]
        for key, item in value.items():
            if item is not None:
                _single(item, value_field, f"{path}[{_echo_text(str(key))}]")
        return
    if field.is_repeated:
        if not isinstance(value, list):
            raise _invalid(path, _type_of(field), value)
        for index, item in enumerate(value):
            if item is not None:
                _single(item, field, f"{path}[{index}]")
        return
    _single(value, field, path)


def _single(value: Any, field: FieldDescriptor, path: str) -> None:
    kind = field.type
    if kind == FieldDescriptor.TYPE_MESSAGE:
        if field.message_type.full_name.startswith("google.protobuf."):
            return
        if not isinstance(value, dict):
            raise _invalid(path, _type_of(field), value)
        _message(value, field.message_type, path)
    elif kind == FieldDescriptor.TYPE_ENUM:
        if not _known_enum(value, field.enum_type):
            raise _invalid(path, _type_of(field), value)
    elif kind in _INT_RANGES:
        if not _fits_integer(value, *_INT_RANGES[kind]):
            raise _invalid(path, _TYPE_NAMES[kind], value)
    elif kind in _FLOATS:
        if not _is_float(value, kind == FieldDescriptor.TYPE_FLOAT):
            raise _invalid(path, _TYPE_NAMES[kind], value)
    elif kind == FieldDescriptor.TYPE_BOOL:
        if not isinstance(value, bool):
            raise _invalid(path, "TYPE_BOOL", value)
    elif kind == FieldDescriptor.TYPE_STRING:
        if not isinstance(value, str):
            raise _invalid(path, "TYPE_STRING", value)
    elif kind == FieldDescriptor.TYPE_BYTES and not _is_base64(value):
        raise _invalid(path, "TYPE_BYTES", value)


def _known_enum(value: Any, enum: EnumDescriptor) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value in enum.values_by_number
    return isinstance(value, str) and value in enum.values_by_name


def _fits_integer(value: Any, low: int, high: int) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            return False
    if isinstance(value, float):
        if not value.is_integer():
            return False
        value = int(value)
    return isinstance(value, int) and low <= value <= high


def _is_float(value: Any, single: bool) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        if value in _FLOAT_WORDS:
            return True
        try:
            value = float(value)
        except ValueError:
            return False
    if not isinstance(value, int | float):
        return False
    return not single or abs(value) <= _FLOAT_MAX


def bytes_value(text: str) -> bytes:
    """A proto3 JSON `bytes` value: base64, standard or URL-safe, padding optional."""
    text = text.replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _is_base64(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        bytes_value(value)
    except (binascii.Error, ValueError):
        return False
    return True


def _is_map(field: FieldDescriptor) -> bool:
    message = field.message_type
    return field.is_repeated and message is not None and message.GetOptions().map_entry


def _type_of(field: FieldDescriptor) -> str:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return f"type.googleapis.com/{field.message_type.full_name}"
    if field.type == FieldDescriptor.TYPE_ENUM:
        return f"type.googleapis.com/{field.enum_type.full_name}"
    return _TYPE_NAMES[field.type]


def _invalid(path: str, type_name: str, value: Any):
    return _violation(path, f"Invalid value at '{path}' ({type_name}), {_echo(value)}")


def _violation(path: str, description: str):
    message = f"{_INVALID_JSON} {description}"
    detail = {
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [{"field": path, "description": message}],
    }
    return invalid_argument(message, details=[detail])


def _proto_name(field: FieldDescriptor) -> str:
    # proto-plus renames fields that are Python keywords or builtins (`type` -> `type_`).
    return field.name[:-1] if field.name.endswith("_") else field.name


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _echo(value: Any) -> str:
    """A short, escaped rendering of a value the caller sent (never the whole of it)."""
    if isinstance(value, str):
        return '"' + _echo_text(value) + '"'
    if isinstance(value, dict):
        return "{...}"
    if isinstance(value, list):
        return "[...]"
    return _echo_text(repr(value) if not isinstance(value, bool) else str(value).lower())


def _echo_text(text: str) -> str:
    escaped = text.encode("unicode_escape").decode("ascii")
    return escaped if len(escaped) <= _ECHO else escaped[:_ECHO] + "..."
