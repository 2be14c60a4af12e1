"""`batchProcess`: Cloud Storage documents (a list, or every object under a prefix) in, the
Document JSON shards out in Google's layout, `{gcsUri}/{operationId}/{index}/{name}-{k}.json`,
one index per input document in request order.

The request is checked and the operation recorded before the answer; the documents are then
processed in the background, `DOCUMENTAI_BATCH_WORKERS` at a time (Tesseract and pdfplumber
work in parallel threads), and the record is rewritten after each one, so a poll on any
instance sees the progress. A document's failure is its own status; the operation ends FAILED
when any document failed ("Failed to process all documents.", as Google says), else
SUCCEEDED.
"""

from __future__ import annotations

import concurrent.futures
import logging
import posixpath
import threading

from google.rpc import status_pb2

from services.documentai import operations as ops
from services.documentai import shards
from services.documentai.backends.base import Limits
from services.documentai.processors import ProcessorConfig
from services.documentai.settings import DocumentAISettings
from shared.errors import ApiError, Code, invalid_argument
from shared.gapictypes import message_types
from shared.storage import GcsUri, Storage, parse_gs_uri

documentai = message_types("google.cloud.documentai_v1")

log = logging.getLogger(__name__)
State = documentai.BatchProcessMetadata.State


class BatchRunner:
    def __init__(
        self,
        settings: DocumentAISettings,
        storage: Storage,
        backend,
        operations: ops.Operations,
    ) -> None:
        self._settings = settings
        self._storage = storage
        self._backend = backend
        self._operations = operations
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=settings.batch_workers, thread_name_prefix="documentai-batch"
        )

    def start(
        self,
        request: documentai.BatchProcessRequest,
        parent: str,
        processor: ProcessorConfig,
        batch_pages: int,
    ) -> dict:
        inputs = self._inputs(request)
        output = request.document_output_config.gcs_output_config.gcs_uri
        if not output:
            raise invalid_argument("documentOutputConfig.gcsOutputConfig.gcsUri is required.")
        parse_gs_uri(output.rstrip("/") + "/x")
        op_id = ops.new_id()
        name = f"{parent}/operations/{op_id}"
        created = ops.now()
        metadata = documentai.BatchProcessMetadata(
            state=State.RUNNING,
            create_time=created,
            update_time=created,
            individual_process_statuses=[
                documentai.BatchProcessMetadata.IndividualProcessStatus(input_gcs_source=uri)
                for uri, _ in inputs
            ],
        )
        record = self._operations.create(name, metadata)
        limits = Limits(
            online=False, batch_pages=batch_pages, max_bytes=self._settings.max_batch_document_bytes
        )
        threading.Thread(
            target=self._run,
            args=(name, op_id, request, inputs, output.rstrip("/"), processor, limits, metadata),
            name=f"documentai-op-{op_id}",
            daemon=True,
        ).start()
        return record

    def _inputs(self, request: documentai.BatchProcessRequest) -> list[tuple[str, str]]:
        config = request.input_documents
        which = documentai.BatchDocumentsInputConfig.pb(config).WhichOneof("source")
        if which == "gcs_documents":
            found = [(d.gcs_uri, d.mime_type) for d in config.gcs_documents.documents]
            for uri, _ in found:
                parse_gs_uri(uri)
        elif which == "gcs_prefix":
            prefix = config.gcs_prefix.gcs_uri_prefix
            if not prefix.startswith("gs://"):
                raise invalid_argument("inputDocuments.gcsPrefix.gcsUriPrefix must be a gs:// URI.")
            listed = prefix if prefix.endswith("/") or "*" in prefix else prefix + "*"
            found = [(obj.uri, "") for obj in self._storage.expand(listed)]
        else:
            raise invalid_argument("inputDocuments is required: gcsDocuments or gcsPrefix.")
        if not found:
            raise invalid_argument(
                "No input documents: the list is empty or the prefix matches nothing."
            )
        if len(found) > self._settings.max_batch_documents:
            raise invalid_argument(
                f"Too many documents: {len(found)}; the limit is "
                f"{self._settings.max_batch_documents} a request."
            )
        return found

    def _run(self, name, op_id, request, inputs, output, processor, limits, metadata) -> None:
        lock = threading.Lock()  # protects `metadata` and `stopped` between the workers
        stopped = threading.Event()

        def one(index: int) -> None:
            if stopped.is_set():
                return
            uri, mime_type = inputs[index]
            destination = f"{output}/{op_id}/{index}"
            status = self._one(uri, mime_type, destination, request, processor, limits)
            with lock:
                entry = metadata.individual_process_statuses[index]
                entry.status = status
                if status.code == 0:
                    entry.output_gcs_destination = destination
                    entry.human_review_status = documentai.HumanReviewStatus(
                        state=documentai.HumanReviewStatus.State.SKIPPED
                    )
                if not self._operations.update(name, metadata):
                    stopped.set()

        try:
            list(self._executor.map(one, range(len(inputs))))
            with lock:
                failed = [s for s in metadata.individual_process_statuses if s.status.code]
                done = len(inputs) - len(failed)
                error = None
                if failed:
                    metadata.state = State.FAILED
                    metadata.state_message = f"Processed {done} of {len(inputs)} documents."
                    error = ApiError(Code.INVALID_ARGUMENT, "Failed to process all documents.")
                else:
                    metadata.state = State.SUCCEEDED
                    metadata.state_message = f"Processed {done} documents."
                self._operations.update(name, metadata, done=True, error=error)
        except Exception as exc:  # the record must end, whatever happened
            log.exception("batch operation failed", extra={"json_fields": {"operation": name}})
            metadata.state = State.FAILED
            metadata.state_message = "Internal error."
            try:
                self._operations.update(
                    name, metadata, done=True, error=ApiError(Code.INTERNAL, str(exc)[:200])
                )
            except ApiError:
                log.exception("could not record the batch's end")

    def _one(self, uri, mime_type, destination, request, processor, limits) -> status_pb2.Status:
        try:
            mime_type = mime_type or guess_mime_type(uri)
            process_request = documentai.ProcessRequest(
                name=request.name,
                gcs_document=documentai.GcsDocument(gcs_uri=uri, mime_type=mime_type),
                process_options=request.process_options,
                skip_human_review=request.skip_human_review,
            )
            response = self._backend.process(process_request, processor.type, limits)
            stem = posixpath.splitext(parse_gs_uri(uri).name.rsplit("/", 1)[-1])[0]
            base = parse_gs_uri(destination + "/x")
            prefix = base.name[:-1]
            for k, (shard, _count) in enumerate(
                shards.split(response.document, self._settings.shard_pages)
            ):
                self._storage.write(
                    GcsUri(base.bucket, f"{prefix}{stem}-{k}.json"),
                    shards.to_json(shard),
                    content_type="application/json",
                )
            return status_pb2.Status(code=0)
        except ApiError as error:
            return error.to_status()
        except Exception as exc:
            log.exception("batch document failed", extra={"json_fields": {"input": uri}})
            return status_pb2.Status(
                code=int(Code.INTERNAL), message=f"Internal error: {type(exc).__name__}."
            )

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


_EXTENSIONS = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
    ".webp": "image/webp",
}


def guess_mime_type(uri: str) -> str:
    """A prefix's objects come without a mime type: Google goes by the object's content
    type; the file extension says the same for what this reads."""
    extension = posixpath.splitext(uri)[1].lower()
    if extension not in _EXTENSIONS:
        raise invalid_argument(f"Unsupported input file format: {uri} (by its extension).")
    return _EXTENSIONS[extension]
