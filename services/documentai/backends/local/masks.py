"""`fieldMask` on a Document: only the named fields are returned, as Google does
(`text,pages.pageNumber,pages.tables`). Paths may be camelCase or snake_case; a path into a
repeated field applies to every element."""

from __future__ import annotations

import re

from google.protobuf import field_mask_pb2

from shared.gapictypes import message_types

documentai = message_types("google.cloud.documentai_v1")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _tree(paths: list[str]) -> dict:
    tree: dict = {}
    for path in paths:
        for piece in (p.strip() for p in path.split(",")):
            if not piece:
                continue
            node = tree
            for part in piece.split("."):
                node = node.setdefault(_snake(part), {})
    return tree


def wants(mask: field_mask_pb2.FieldMask | None, path: str) -> bool:
    """Whether `mask` names `path` (or a field above it)."""
    if mask is None or not list(getattr(mask, "paths", [])):
        return False
    node = _tree(list(mask.paths))
    for part in path.split("."):
        if part not in node:
            return False
        node = node[part]
        if not node:
            return True
    return True


def apply(doc: documentai.Document, paths: list[str]) -> documentai.Document:
    pb = documentai.Document.pb(doc)
    _prune(pb, _tree(paths))
    return documentai.Document.wrap(pb)


def _prune(message, tree: dict) -> None:
    for field, value in message.ListFields():
        sub = tree.get(field.name)
        if sub is None:
            message.ClearField(field.name)
        elif sub and field.message_type is not None:
            if field.is_repeated:
                for element in value:
                    _prune(element, sub)
            else:
                _prune(value, sub)
