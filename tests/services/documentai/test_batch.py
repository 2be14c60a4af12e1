"""`batchProcess` as a long-running operation: Cloud Storage in and out (the storage
emulator), polled by the official client until done, output in Google's layout that parses
as `Document`; operations get, list and cancel."""

from __future__ import annotations

import json

import pytest
from google.api_core import exceptions
from google.cloud import documentai_v1 as documentai

from local import document_samples as samples
from tests.services.documentai.conftest import LOCATION, PROJECT, processor_name

INPUTS = "docai-batch-in"
OUTPUTS = "docai-batch-out"
State = documentai.BatchProcessMetadata.State


@pytest.fixture(scope="module")
def buckets(storage_emulator, invoices):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORAGE_EMULATOR_HOST", storage_emulator)
        client = storage.Client(project=PROJECT, credentials=AnonymousCredentials())
        inputs = client.lookup_bucket(INPUTS) or client.create_bucket(INPUTS)
        outputs = client.lookup_bucket(OUTPUTS) or client.create_bucket(OUTPUTS)
        for k, form in enumerate(invoices):
            inputs.blob(f"invoices/invoice-{k}.pdf").upload_from_string(
                form.pdf, content_type="application/pdf"
            )
        inputs.blob("broken/not-a.pdf").upload_from_string(
            b"plain text", content_type="application/pdf"
        )
        long_pdf, _ = samples.pages_pdf(40)
        inputs.blob("long/forty-pages.pdf").upload_from_string(
            long_pdf, content_type="application/pdf"
        )
        yield inputs, outputs


def _request(inputs: documentai.BatchDocumentsInputConfig, out: str, processor: str = "form"):
    return documentai.BatchProcessRequest(
        name=processor_name(processor),
        input_documents=inputs,
        document_output_config=documentai.DocumentOutputConfig(
            gcs_output_config=documentai.DocumentOutputConfig.GcsOutputConfig(gcs_uri=out)
        ),
    )


def _documents(*uris: str) -> documentai.BatchDocumentsInputConfig:
    return documentai.BatchDocumentsInputConfig(
        gcs_documents=documentai.GcsDocuments(
            documents=[documentai.GcsDocument(gcs_uri=u, mime_type="application/pdf") for u in uris]
        )
    )


def _shards(bucket, destination: str) -> list[documentai.Document]:
    prefix = destination[len(f"gs://{bucket.name}/") :] + "/"
    blobs = sorted(bucket.list_blobs(prefix=prefix), key=lambda b: b.name)
    return [
        documentai.Document.from_json(b.download_as_bytes(), ignore_unknown_fields=False)
        for b in blobs
    ]


def test_batch_result_through_the_clients_polling(client, buckets, invoices):
    _inputs, outputs = buckets
    uris = [f"gs://{INPUTS}/invoices/invoice-{k}.pdf" for k in range(len(invoices))]
    operation = client.batch_process_documents(
        request=_request(_documents(*uris), f"gs://{OUTPUTS}/run-1")
    )
    assert operation.operation.name.startswith(
        f"projects/{PROJECT}/locations/{LOCATION}/operations/"
    )
    result = operation.result(timeout=120)
    assert isinstance(result, documentai.BatchProcessResponse)
    metadata = operation.metadata
    assert metadata.state == State.SUCCEEDED
    op_id = operation.operation.name.rsplit("/", 1)[-1]
    statuses = metadata.individual_process_statuses
    assert [s.input_gcs_source for s in statuses] == uris
    for index, (status, form) in enumerate(zip(statuses, invoices, strict=True)):
        assert status.status.code == 0
        assert status.output_gcs_destination == f"gs://{OUTPUTS}/run-1/{op_id}/{index}"
        (doc,) = _shards(outputs, status.output_gcs_destination)
        assert doc.shard_info.shard_count == 1
        fields = {
            doc.text[
                int(f.field_name.text_anchor.text_segments[0].start_index) : int(
                    f.field_name.text_anchor.text_segments[0].end_index
                )
            ].strip()
            for f in doc.pages[0].form_fields
        }
        assert set(form.fields) <= fields


def test_a_prefix_a_bad_document_and_a_long_one_shard(client, buckets):
    _inputs, outputs = buckets
    operation = client.batch_process_documents(
        request=_request(
            documentai.BatchDocumentsInputConfig(
                gcs_prefix=documentai.GcsPrefix(gcs_uri_prefix=f"gs://{INPUTS}/long/")
            ),
            f"gs://{OUTPUTS}/run-2",
            processor="ocr",
        )
    )
    operation.result(timeout=120)
    (status,) = operation.metadata.individual_process_statuses
    docs = _shards(outputs, status.output_gcs_destination)
    assert [d.shard_info.shard_index for d in docs] == [0]  # 40 pages: one shard of 50
    assert len(docs[0].pages) == 40  # batch reads past the online limit of 15

    failing = client.batch_process_documents(
        request=_request(_documents(f"gs://{INPUTS}/broken/not-a.pdf"), f"gs://{OUTPUTS}/run-3")
    )
    with pytest.raises(exceptions.GoogleAPICallError, match="Failed to process all documents"):
        failing.result(timeout=120)
    (status,) = failing.metadata.individual_process_statuses
    assert status.status.code == 3
    assert "Unsupported input file format." in status.status.message
    assert failing.metadata.state == State.FAILED


def test_operations_get_list_and_cancel(client, buckets, docai_service):
    import urllib.request

    operation = client.batch_process_documents(
        request=_request(
            _documents(f"gs://{INPUTS}/invoices/invoice-0.pdf"), f"gs://{OUTPUTS}/run-4"
        )
    )
    operation.result(timeout=120)
    name = operation.operation.name
    op_id = name.rsplit("/", 1)[-1]
    got = client.get_operation(request={"name": name})
    assert got.done
    assert got.name == name
    listed = client.list_operations(
        request={"name": f"projects/{PROJECT}/locations/{LOCATION}/operations"}
    )
    assert name in [op.name for op in listed.operations]
    # The project-level form names the same operation.
    url = f"{docai_service.url}/v1/projects/{PROJECT}/operations/{op_id}"
    with urllib.request.urlopen(url) as response:
        body = json.load(response)
    assert body["done"] is True
    assert body["metadata"]["@type"].endswith("BatchProcessMetadata")
    client.cancel_operation(request={"name": name})  # done already: nothing changes
    assert client.get_operation(request={"name": name}).done
    with pytest.raises(exceptions.NotFound):
        client.get_operation(
            request={"name": f"projects/{PROJECT}/locations/{LOCATION}/operations/123"}
        )


def test_bad_batch_requests(client, buckets):
    with pytest.raises(exceptions.BadRequest, match="inputDocuments"):
        client.batch_process_documents(
            request=documentai.BatchProcessRequest(
                name=processor_name(),
                document_output_config={"gcs_output_config": {"gcs_uri": f"gs://{OUTPUTS}/x"}},
            )
        )
    with pytest.raises(exceptions.BadRequest, match="gcsOutputConfig"):
        client.batch_process_documents(
            request=documentai.BatchProcessRequest(
                name=processor_name(),
                input_documents=_documents(f"gs://{INPUTS}/invoices/invoice-0.pdf"),
            )
        )
    with pytest.raises(exceptions.BadRequest, match="matches nothing"):
        client.batch_process_documents(
            request=_request(
                documentai.BatchDocumentsInputConfig(
                    gcs_prefix=documentai.GcsPrefix(gcs_uri_prefix=f"gs://{INPUTS}/nothing-here/")
                ),
                f"gs://{OUTPUTS}/run-5",
            )
        )


def test_cancelling_a_running_batch_stops_it(client, buckets, scans):
    inputs, _ = buckets
    for k in range(6):
        inputs.blob(f"slow/scan-{k}.png").upload_from_string(
            scans[k % len(scans)], content_type="image/png"
        )
    operation = client.batch_process_documents(
        request=_request(
            documentai.BatchDocumentsInputConfig(
                gcs_prefix=documentai.GcsPrefix(gcs_uri_prefix=f"gs://{INPUTS}/slow/")
            ),
            f"gs://{OUTPUTS}/run-cancel",
            processor="ocr",
        )
    )
    client.cancel_operation(request={"name": operation.operation.name})
    with pytest.raises(exceptions.GoogleAPICallError, match="cancelled"):
        operation.result(timeout=120)
    assert operation.metadata.state == State.CANCELLED
    done = [s for s in operation.metadata.individual_process_statuses if s.output_gcs_destination]
    assert len(done) < 6
