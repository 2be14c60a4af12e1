"""Document AI benchmark: pages per second through the service against pdfplumber and
Tesseract called directly (born-digital and scanned), batch throughput over 200 pages on one
instance, and the service's memory. Not part of the test run.

    .venv/bin/python bench/documentai.py [--digital 20] [--scans 6] [--batch-pages 200]

Peers, on the same generated invoices (`local.document_samples`, seeds not used by tests):
- `pdfplumber direct`: open the PDF, `extract_words` on its page (what a user would write);
- `tesseract direct`: tesserocr, warm engine, the scan as it is (`GetUTF8Text`);
- `service, form parser`: the official client -> HTTP -> the service (warm) -> words, layout,
  tables, form fields, the Document built and serialised;
- `service, OCR`: the same with the OCR processor (no tables or fields).
Quality is counted on the way (fields and cells found, as the tests count them). Batch: one
`batchProcess` of documents of 10 pages each in the storage emulator, from the request to
`result()`, on one instance (`DOCUMENTAI_BATCH_WORKERS` = CPUs).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _proc  # noqa: E402
from local import document_samples as samples  # noqa: E402
from local.clients import api_client  # noqa: E402
from local.harness import free_port, stop, wait_for_port  # noqa: E402

PROJECT = "bench-project"


def _client(url: str):
    from google.cloud import documentai_v1 as documentai

    return api_client(documentai.DocumentProcessorServiceClient, url)


def _text(doc, layout) -> str:
    return "".join(
        doc.text[int(s.start_index) : int(s.end_index)] for s in layout.text_anchor.text_segments
    ).strip()


def _score(doc, form) -> tuple[int, int, int, int]:
    fields = {
        _text(doc, f.field_name): _text(doc, f.field_value)
        for page in doc.pages
        for f in page.form_fields
        if not f.value_type
    }
    pairs = sum(fields.get(k) == v for k, v in form.fields.items())
    got = [
        _text(doc, c.layout)
        for page in doc.pages
        for t in page.tables
        for row in [*t.header_rows, *t.body_rows]
        for c in row.cells
    ]
    truth = [cell for row in form.table for cell in row]
    cells = sum(1 for cell in truth if cell in got)
    return pairs, len(form.fields), cells, len(truth)


def _rate(pages: int, seconds: float) -> str:
    return f"{pages / seconds:7.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--digital", type=int, default=20)
    parser.add_argument("--scans", type=int, default=6)
    parser.add_argument("--batch-pages", type=int, default=200)
    args = parser.parse_args()

    import pdfplumber
    import tesserocr
    from google.cloud import documentai_v1 as documentai
    from PIL import Image

    forms = [samples.invoice(5000 + k) for k in range(args.digital)]
    scan_forms = forms[: args.scans]
    scans = [samples.scan(f.pdf, seed=900 + k) for k, f in enumerate(scan_forms)]
    rows: list[tuple[str, str, str, str]] = []

    started = time.perf_counter()
    for form in forms:
        with pdfplumber.open(io.BytesIO(form.pdf)) as pdf:
            pdf.pages[0].extract_words()
    rows.append(
        ("born-digital", "pdfplumber direct", _rate(len(forms), time.perf_counter() - started), "-")
    )

    images = [Image.open(io.BytesIO(png)).convert("L") for png in scans]
    from shared.ocr.languages import find_tessdata

    with tesserocr.PyTessBaseAPI(path=find_tessdata(), lang="eng") as api:
        api.SetImage(images[0])
        api.GetUTF8Text()  # warm
        started = time.perf_counter()
        for image in images:
            api.SetImage(image)
            api.GetUTF8Text()
        rows.append(
            ("scanned", "tesseract direct", _rate(len(images), time.perf_counter() - started), "-")
        )

    storage_port = free_port()
    storage = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local.gcs_emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(storage_port),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(storage_port, storage)
    storage_url = f"http://127.0.0.1:{storage_port}"
    os.environ["STORAGE_EMULATOR_HOST"] = storage_url
    service = _proc.start(
        "documentai",
        STORAGE_EMULATOR_HOST=storage_url,
        RESULTS_BUCKET="bench-results",
        GOOGLE_CLOUD_PROJECT=PROJECT,
        LOG_LEVEL="WARNING",
        MAX_REQUEST_BYTES="62914560",
    )
    try:
        client = _client(service.url)
        name = f"projects/{PROJECT}/locations/us/processors/"

        def process(content: bytes, mime: str, processor: str):
            return client.process_document(
                request=documentai.ProcessRequest(
                    name=name + processor,
                    raw_document=documentai.RawDocument(content=content, mime_type=mime),
                )
            ).document

        process(forms[0].pdf, "application/pdf", "form")  # warm: lingua, pdfplumber
        process(scans[0], "image/png", "form")  # warm: Tesseract
        quality = {"born-digital": [0, 0, 0, 0], "scanned": [0, 0, 0, 0]}
        for kind, docs, mime in (
            ("born-digital", [f.pdf for f in forms], "application/pdf"),
            ("scanned", scans, "image/png"),
        ):
            for processor in ("ocr", "form"):
                latencies = []
                for k, content in enumerate(docs):
                    started = time.perf_counter()
                    doc = process(content, mime, processor)
                    latencies.append(time.perf_counter() - started)
                    if processor == "form":
                        score = _score(doc, forms[k])
                        quality[kind] = [a + b for a, b in zip(quality[kind], score, strict=True)]
                label = "service, form parser" if processor == "form" else "service, OCR"
                median = statistics.median(latencies) * 1000
                rows.append((kind, label, _rate(len(docs), sum(latencies)), f"{median:.0f} ms"))
        rss_online = _proc.rss_mb(service.process.pid)

        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage as gcs

        bucket = gcs.Client(project=PROJECT, credentials=AnonymousCredentials()).create_bucket(
            "bench-in"
        )
        gcs.Client(project=PROJECT, credentials=AnonymousCredentials()).create_bucket(
            "bench-results"
        )
        per_document = 10
        count = max(1, args.batch_pages // per_document)
        for k in range(count):
            pdf, _ = samples.pages_pdf(per_document, seed=k)
            bucket.blob(f"batch/doc-{k:03d}.pdf").upload_from_string(
                pdf, content_type="application/pdf"
            )
        started = time.perf_counter()
        operation = client.batch_process_documents(
            request=documentai.BatchProcessRequest(
                name=name + "form",
                input_documents=documentai.BatchDocumentsInputConfig(
                    gcs_prefix=documentai.GcsPrefix(gcs_uri_prefix="gs://bench-in/batch/")
                ),
                document_output_config=documentai.DocumentOutputConfig(
                    gcs_output_config={"gcs_uri": "gs://bench-results/batch-out"}
                ),
            )
        )
        operation.result(timeout=1800)
        seconds = time.perf_counter() - started
        pages = count * per_document
        rows.append(
            (
                "born-digital",
                f"batchProcess, {pages} pages",
                _rate(pages, seconds),
                f"{seconds:.1f} s total",
            )
        )
        rss_batch = _proc.rss_mb(service.process.pid)
    finally:
        service.stop()
        stop(storage)

    print(f"\n{'pages':<13} {'path':<28} {'pages/s':>8}  latency (median)")
    for row in rows:
        print(f"{row[0]:<13} {row[1]:<28} {row[2]:>8}  {row[3]}")
    for kind, (pairs, pairs_total, cells, cells_total) in quality.items():
        print(
            f"quality {kind:<13} fields {pairs}/{pairs_total} "
            f"({pairs / pairs_total:.1%}), cells {cells}/{cells_total} ({cells / cells_total:.1%})"
        )
    print(
        f"service RSS: {rss_online:.0f} MiB after online calls, {rss_batch:.0f} MiB after the batch"
    )
    print(f"service startup to health: {service.startup_seconds:.2f} s; CPUs: {os.cpu_count()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
