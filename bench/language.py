"""Measure the language service as it runs: RSS after start and after the engines load, entity
F1 on the tests' entity set, latency per call. Run from the repository root:

    .venv/bin/python -m bench.language
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from google.cloud import language_v1

from bench._proc import rss_mb
from tests.conftest import ServiceProcess
from tests.services.language.conftest import official_client
from tests.services.language.corpus import ENTITY_SET, entity_f1


def main() -> None:
    log = Path(tempfile.mkdtemp()) / "language.log"
    service = ServiceProcess("language", "language", env={}, log_path=log)
    try:
        print(f"start (health answers): {service.startup_seconds:.2f} s")
        print(f"RSS after start: {rss_mb(service.process.pid):.0f} MiB")
        client = official_client(service.url)

        def doc(text: str) -> language_v1.Document:
            return language_v1.Document(content=text, type_=language_v1.Document.Type.PLAIN_TEXT)

        started = time.perf_counter()
        client.analyze_entities(document=doc(ENTITY_SET[0][0]))
        print(f"first call (loads spaCy, lingua): {time.perf_counter() - started:.2f} s")
        print(f"RSS after first call: {rss_mb(service.process.pid):.0f} MiB")

        predicted, latencies = [], []
        for text, _gold in ENTITY_SET:
            started = time.perf_counter()
            response = client.analyze_entities(
                document=doc(text), encoding_type=language_v1.EncodingType.UTF8
            )
            latencies.append(time.perf_counter() - started)
            predicted.append(
                {(m.text.content, e.type_.name) for e in response.entities for m in e.mentions}
            )
        precision, recall, f1 = entity_f1(predicted)
        print(f"entity P/R/F1 on {len(ENTITY_SET)} texts: {precision:.3f} {recall:.3f} {f1:.3f}")
        print(f"analyzeEntities median latency: {statistics.median(latencies) * 1000:.1f} ms")
        annotate = []
        for text, _gold in ENTITY_SET:
            started = time.perf_counter()
            client.annotate_text(
                document=doc(text),
                features=language_v1.AnnotateTextRequest.Features(
                    extract_syntax=True,
                    extract_entities=True,
                    extract_document_sentiment=True,
                    extract_entity_sentiment=True,
                ),
            )
            annotate.append(time.perf_counter() - started)
        print(f"annotateText (all features) median: {statistics.median(annotate) * 1000:.1f} ms")
    finally:
        service.stop()


if __name__ == "__main__":
    main()
