"""The SchemaService: schemas with revisions, and the check of a topic's messages at publish.

As ``google/pubsub/v1/schema.proto`` and cloud.google.com/pubsub/docs/schemas describe it:

* a schema (``projects/P/schemas/S``) is a list of revisions, newest last; each revision has
  an 8-character ``revision_id`` and a ``revision_create_time``; CommitSchema adds one,
  RollbackSchema adds a copy of an older one, DeleteSchemaRevision removes one (not the only
  one); a schema keeps at most 20 revisions;
* ``name@revision`` names one revision in GetSchema and DeleteSchemaRevision; the ``BASIC``
  view leaves the definition out (ListSchemas and ListSchemaRevisions default to it);
* a topic's ``schema_settings`` (schema, encoding JSON or BINARY, optional first and last
  revision) make Publish refuse, with INVALID_ARGUMENT, a message whose data matches no
  revision in that range (tried newest first), and stamp the accepted ones with
  ``googclient_schemaname``, ``googclient_schemaencoding`` and
  ``googclient_schemarevisionid``;
* deleting a schema leaves its topics pointing at ``_deleted-schema_``, and publishing to them
  fails.

Definitions are compiled on first use and cached per revision (see schema_codec).
"""

from __future__ import annotations

import os
import threading
import time

from local.pubsub import names, protos
from local.pubsub.errors import ApiError, already_exists, failed_precondition, invalid, not_found
from local.pubsub.schema_codec import Codec, SchemaError, compile_definition

MAX_REVISIONS = 20
DELETED_SCHEMA = "_deleted-schema_"
BASIC = 1  # SchemaView.BASIC
_TYPES = {1: "PROTOCOL_BUFFER", 2: "AVRO"}
_ENCODINGS = {0: "JSON", 1: "JSON", 2: "BINARY"}  # unspecified encoding checks as JSON


def _type_name(schema) -> str:
    if schema.type_ not in _TYPES:
        raise invalid("Invalid schema type: the type must be AVRO or PROTOCOL_BUFFER.")
    return _TYPES[schema.type_]


class SchemaBook:
    def __init__(self, store) -> None:
        self._store = store
        # _lock protects _schemas (name -> revisions, oldest first) and _codecs.
        self._lock = threading.Lock()
        self._schemas: dict[str, list] = {}
        self._codecs: dict[tuple[str, str], Codec] = {}
        self.on_delete = None  # callback(name): the registry repoints topics at the tombstone

    def load(self, snapshot) -> None:
        for name, blob in snapshot.resources.get("schema", []):
            revisions = protos.ListSchemaRevisionsResponse.FromString(blob).schemas
            self._schemas[name] = list(revisions)

    def _persist(self, name: str) -> None:
        revisions = self._schemas.get(name)
        if revisions is None:
            self._store.delete_resource("schema", name)
        else:
            blob = protos.ListSchemaRevisionsResponse(schemas=revisions).SerializeToString()
            self._store.put_resource("schema", name, blob)
        self._store.sync()

    # -- definitions ----------------------------------------------------------------------------

    def _codec(self, revision) -> Codec:
        key = (revision.name, revision.revision_id)
        with self._lock:
            codec = self._codecs.get(key)
        if codec is None:
            codec = self._compile(revision)
            with self._lock:
                self._codecs[key] = codec
        return codec

    def _compile(self, schema) -> Codec:
        try:
            return compile_definition(_type_name(schema), schema.definition)
        except SchemaError as exc:
            raise invalid(f"Invalid schema definition: {exc}.") from None

    def _revision(self, schema, base) -> object:
        revision = protos.Schema()
        revision.CopyFrom(schema)
        revision.name = base
        revision.revision_id = os.urandom(4).hex()
        revision.revision_create_time.FromNanoseconds(time.time_ns() // 1000 * 1000)
        return revision

    # -- RPCs -----------------------------------------------------------------------------------

    def create(self, request):
        project = names.parse_project(request.parent)
        if not request.schema_id:
            raise invalid("schema_id is required.")
        name = f"projects/{project}/schemas/{request.schema_id}"
        names.parse_schema(name)
        self._compile(request.schema)
        revision = self._revision(request.schema, name)
        with self._lock:
            if name in self._schemas:
                raise already_exists(request.schema_id)
            self._schemas[name] = [revision]
        self._persist(name)
        return revision

    def _revisions(self, name: str) -> list:
        names.parse_schema(name)
        with self._lock:
            revisions = self._schemas.get(name)
        if revisions is None:
            raise not_found(names.short(name))
        return revisions

    def resolve(self, name: str):
        """``name`` or ``name@revision`` -> that revision (the newest for a bare name)."""
        base, _, revision_id = name.partition("@")
        revisions = self._revisions(base)
        if not revision_id:
            return revisions[-1]
        for revision in revisions:
            if revision.revision_id == revision_id:
                return revision
        raise not_found(f"{names.short(base)}@{revision_id}")

    def get(self, request):
        return _view(self.resolve(request.name), request.view or 2)

    def list(self, project: str, view: int) -> list:
        prefix = f"projects/{names.parse_project(project)}/schemas/"
        with self._lock:
            latest = [r[-1] for n, r in sorted(self._schemas.items()) if n.startswith(prefix)]
        return [_view(revision, view or BASIC) for revision in latest]

    def revisions(self, name: str, view: int) -> list:
        """Newest first, as the real service lists them."""
        return [_view(r, view or BASIC) for r in reversed(self._revisions(name))]

    def commit(self, request):
        revisions = self._revisions(request.name)
        if request.schema.type_ and request.schema.type_ != revisions[-1].type_:
            raise invalid("A new revision must keep the schema's type.")
        schema = protos.Schema()
        schema.CopyFrom(request.schema)
        schema.type_ = revisions[-1].type_
        self._compile(schema)
        return self._append(request.name, self._revision(schema, request.name))

    def rollback(self, request):
        if not request.revision_id:
            raise invalid("revision_id is required.")
        old = self.resolve(f"{request.name}@{request.revision_id}")
        return self._append(request.name, self._revision(old, request.name))

    def _append(self, name: str, revision):
        with self._lock:
            revisions = self._schemas.get(name)
            if revisions is None:
                raise not_found(names.short(name))
            if len(revisions) >= MAX_REVISIONS:
                raise failed_precondition(
                    f"A schema can have at most {MAX_REVISIONS} revisions; delete one first."
                )
            revisions.append(revision)
        self._persist(name)
        return revision

    def delete_revision(self, request):
        name = request.name
        if request.revision_id and "@" not in name:
            name = f"{name}@{request.revision_id}"
        if "@" not in name:
            raise invalid("Name a revision to delete: projects/P/schemas/S@REVISION.")
        revision = self.resolve(name)
        base = name.partition("@")[0]
        with self._lock:
            revisions = self._schemas[base]
            if len(revisions) == 1:
                raise failed_precondition(
                    "The only revision of a schema cannot be deleted; delete the schema instead."
                )
            revisions.remove(revision)
        self._persist(base)
        return revision

    def delete(self, name: str) -> None:
        self._revisions(name)
        with self._lock:
            self._schemas.pop(name, None)
        self._persist(name)
        if self.on_delete is not None:
            self.on_delete(name)

    def validate_schema(self, request) -> None:
        names.parse_project(request.parent)
        self._compile(request.schema)

    def validate_message(self, request) -> None:
        names.parse_project(request.parent)
        if request.WhichOneof("schema_spec") == "name":
            revision = self.resolve(request.name)
        elif request.WhichOneof("schema_spec") == "schema":
            revision = request.schema
        else:
            raise invalid("Either name or schema must be set.")
        codec = self._codec(revision) if revision.revision_id else self._compile(revision)
        try:
            codec.check(request.message, _ENCODINGS.get(request.encoding, "JSON"))
        except SchemaError as exc:
            raise invalid(f"Invalid data in message: {exc}.") from None

    # -- topics ---------------------------------------------------------------------------------

    def check_settings(self, settings) -> None:
        """Validates a topic's schema_settings at CreateTopic and UpdateTopic."""
        if settings.schema == DELETED_SCHEMA:
            return
        revisions = self._revisions(settings.schema)
        ids = [r.revision_id for r in revisions]
        for field in ("first_revision_id", "last_revision_id"):
            value = getattr(settings, field)
            if value and value not in ids:
                raise invalid(f"Invalid schema_settings.{field}: no revision {value}.")
        first, last = settings.first_revision_id, settings.last_revision_id
        if first and last and ids.index(first) > ids.index(last):
            raise invalid("Invalid schema_settings: first_revision_id is after last_revision_id.")

    def stamp(self, settings, messages: list) -> None:
        """Checks each message of a publish against the topic's schema and adds the schema
        attributes; the whole request fails (INVALID_ARGUMENT) if one message matches no
        revision, as the real service answers."""
        if settings.schema == DELETED_SCHEMA:
            raise failed_precondition("The topic's schema has been deleted: messages are refused.")
        try:
            revisions = self._revisions(settings.schema)
        except ApiError:
            raise failed_precondition(f"The schema {settings.schema} does not exist.") from None
        ids = [r.revision_id for r in revisions]
        low = ids.index(settings.first_revision_id) if settings.first_revision_id in ids else 0
        high = ids.index(settings.last_revision_id) if settings.last_revision_id in ids else None
        candidates = list(reversed(revisions[low : None if high is None else high + 1]))
        encoding = _ENCODINGS.get(settings.encoding, "JSON")
        for msg in messages:
            for revision in candidates:
                try:
                    self._codec(revision).check(msg.data, encoding)
                except SchemaError:
                    continue
                msg.attributes["googclient_schemaname"] = settings.schema
                msg.attributes["googclient_schemaencoding"] = encoding
                msg.attributes["googclient_schemarevisionid"] = revision.revision_id
                break
            else:
                raise invalid("Invalid data in message: Message failed schema validation.")


def _view(revision, view: int):
    if view != BASIC:
        return revision
    basic = protos.Schema()
    basic.CopyFrom(revision)
    basic.ClearField("definition")
    return basic
