"""Measure the translation service as it runs: RSS after start and warm, language-id accuracy
on the tests' short strings, translation latency per string once warm (one string a request,
and batched). Last, its line of `bench/overhead.py` (through the service vs the backend
in-process, and the cold start beside a functions-framework hello world). Run from the
repository root:

    .venv/bin/python -m bench.translation
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from google.cloud import translate_v3

from bench import overhead
from bench._proc import rss_mb
from local.clients import api_client
from local.harness import ServiceProcess
from tests.services.translation.corpus import LANGUAGE_ID_SET

PARENT = "projects/test-project/locations/global"

SENTENCES = [
    "The weather is very nice today and we are going to the beach.",
    "My brother works in a big hospital in the city.",
    "Please send me the documents before Friday.",
    "The children read a book about animals.",
    "We need to buy bread, milk and eggs.",
]


def main() -> None:
    log = Path(tempfile.mkdtemp()) / "translation.log"
    service = ServiceProcess("translation", "translation", env={}, log_path=log)
    try:
        print(f"start (health answers): {service.startup_seconds:.2f} s")
        print(f"RSS after start: {rss_mb(service.process.pid):.0f} MiB")
        client = api_client(translate_v3.TranslationServiceClient, service.url)

        correct = 0
        started = time.perf_counter()
        for text, code in LANGUAGE_ID_SET:
            response = client.detect_language(request={"parent": PARENT, "content": text})
            correct += response.languages[0].language_code == code
        print(
            f"language id: {correct}/{len(LANGUAGE_ID_SET)} = "
            f"{correct / len(LANGUAGE_ID_SET):.1%} (first call loads lingua; "
            f"{(time.perf_counter() - started) / len(LANGUAGE_ID_SET) * 1000:.1f} ms a call)"
        )
        print(f"RSS after lingua: {rss_mb(service.process.pid):.0f} MiB")

        def translate(contents: list[str], source: str, target: str) -> float:
            started = time.perf_counter()
            client.translate_text(
                request={
                    "parent": PARENT,
                    "contents": contents,
                    "source_language_code": source,
                    "target_language_code": target,
                }
            )
            return time.perf_counter() - started

        for source, target in (("en", "es"), ("es", "en"), ("fr", "en")):
            cold = translate(["Hello."], source, target)
            single = [translate([s], source, target) for s in SENTENCES * 4]
            batch = translate(SENTENCES * 40, source, target) / (len(SENTENCES) * 40)
            print(
                f"{source}->{target}: first request {cold * 1000:.0f} ms (starts the pipeline); "
                f"warm {statistics.median(single) * 1000:.1f} ms a one-string request; "
                f"{batch * 1000:.2f} ms a string in a batch of {len(SENTENCES) * 40}"
            )
        print(f"RSS after three directions warm: {rss_mb(service.process.pid):.0f} MiB")
    finally:
        service.stop()
    overhead.report("translation")


if __name__ == "__main__":
    main()
