"""google.pubsub.v1.SchemaService as plain methods, one per RPC (see schemas.py for the rules).

The gRPC servicer and the REST app both call these, as they call :class:`PubsubApi`.
"""

from __future__ import annotations

from local.pubsub import protos
from local.pubsub.api import _page


class SchemaApi:
    def __init__(self, schemas, policies=None) -> None:
        self.schemas = schemas  # SchemaBook
        self.policies = policies  # PolicyBook: a deleted schema takes its policy with it

    def CreateSchema(self, request):
        return self.schemas.create(request)

    def GetSchema(self, request):
        return self.schemas.get(request)

    def ListSchemas(self, request):
        found = self.schemas.list(request.parent, request.view)
        page, token = _page(found, request.page_size, request.page_token, lambda s: s.name)
        return protos.ListSchemasResponse(schemas=page, next_page_token=token)

    def ListSchemaRevisions(self, request):
        found = self.schemas.revisions(request.name, request.view)
        # Newest first, so the page token is a position rather than a name.
        start = int(request.page_token) if request.page_token.isdigit() else 0
        size = min(request.page_size or 100, 1000)
        page = found[start : start + size]
        token = str(start + size) if start + size < len(found) else ""
        return protos.ListSchemaRevisionsResponse(schemas=page, next_page_token=token)

    def CommitSchema(self, request):
        return self.schemas.commit(request)

    def RollbackSchema(self, request):
        return self.schemas.rollback(request)

    def DeleteSchemaRevision(self, request):
        return self.schemas.delete_revision(request)

    def DeleteSchema(self, request):
        self.schemas.delete(request.name)
        if self.policies is not None:
            self.policies.forget(request.name)
        return protos.Empty()

    def ValidateSchema(self, request):
        self.schemas.validate_schema(request)
        return protos.ValidateSchemaResponse()

    def ValidateMessage(self, request):
        self.schemas.validate_message(request)
        return protos.ValidateMessageResponse()
