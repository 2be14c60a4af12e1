"""What the ML API services add to their engines: the same request answered by the local
backend called in this process ("engine direct") and through the service (official client,
REST transport -> HTTP -> the service -> the same backend), p50 of interleaved warm calls;
then each service's cold start with the `cloud` backend against a functions-framework hello
world. Run from the repository root:

    .venv/bin/python -m bench.overhead                       # vision, language, translation
    .venv/bin/python -m bench.overhead --apis vision --rounds 30

`bench/vision.py`, `bench/language.py` and `bench/translation.py` print their own line of the
same table (`report`). The calls alternate between the two paths, so drift on a shared
machine lands on both; the service's engines are warmed before timing, as a running
instance's are.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _proc  # noqa: E402
from local.clients import api_client  # noqa: E402
from local.harness import BIN, free_port, stop, wait_for_http  # noqa: E402

# Inputs from the sets the other benches and the tests use: the language corpus's held-out
# texts (entities, sentiment) and a sample of the OCR set's sentence pool.
LANGUAGE_TEXTS = 6
TRANSLATION_SENTENCES = 6


@dataclass
class Case:
    """One API's requests, the backend method that answers them in-process, and the official
    client's method that sends them to the service."""

    api: str
    requests: list  # proto-plus requests, sent as they are both ways
    direct: Callable  # request -> response, in this process
    remote: Callable  # request -> response, through the service


def _case(api: str, requests: list, direct: Callable, send: Callable) -> Case:
    """`send`: the client's method, which takes the request as a keyword."""
    return Case(api, requests, direct, lambda request: send(request=request))


@dataclass
class Row:
    api: str
    direct_ms: float
    service_ms: float

    @property
    def overhead(self) -> float:
        return self.service_ms / self.direct_ms - 1


def _vision(url: str) -> Case:
    from google.cloud import vision

    from local.samples import TextImage, png_bytes, render, sentences
    from services.vision.backends.local import LocalBackend
    from services.vision.settings import VisionSettings
    from shared.storage import Storage

    backend = LocalBackend(VisionSettings.from_env("vision"), Storage("test-project"))
    images = [
        TextImage(sentences(3, seed), font=font, size=size)
        for seed, (font, size) in enumerate([("sans", 28), ("serif", 22), ("mono", 24)])
    ]
    feature = vision.Feature(type_=vision.Feature.Type.TEXT_DETECTION)
    requests = [
        vision.BatchAnnotateImagesRequest(
            requests=[{"image": {"content": png_bytes(render(image))}, "features": [feature]}]
        )
        for image in images
    ]
    client = api_client(vision.ImageAnnotatorClient, url)
    return _case(
        "vision TEXT_DETECTION", requests, backend.annotate_images, client.batch_annotate_images
    )


def _language(url: str) -> Case:
    from google.cloud import language_v1

    from services.language.backends import RPCS
    from services.language.backends.local import LocalBackend
    from services.language.settings import LanguageSettings
    from shared.storage import Storage
    from tests.services.language.corpus import HELD_OUT

    backend = LocalBackend(LanguageSettings.from_env("language"), Storage("test-project"))
    rpc = RPCS["v1"]["annotateText"]
    features = language_v1.AnnotateTextRequest.Features(
        extract_syntax=True,
        extract_entities=True,
        extract_document_sentiment=True,
        extract_entity_sentiment=True,
    )
    requests = [
        language_v1.AnnotateTextRequest(
            document={"content": text, "type_": language_v1.Document.Type.PLAIN_TEXT},
            features=features,
            encoding_type=language_v1.EncodingType.UTF8,
        )
        for text, _gold in HELD_OUT[:LANGUAGE_TEXTS]
    ]
    client = api_client(language_v1.LanguageServiceClient, url)
    return _case(
        "language annotateText", requests, lambda request: backend.call(rpc, request),
        client.annotate_text,
    )  # fmt: skip


def _translation(url: str) -> Case:
    from google.cloud import translate_v3

    from local.samples import sentences
    from services.translation.backends.local import LocalBackend
    from services.translation.settings import TranslationSettings

    backend = LocalBackend(TranslationSettings.from_env("translation"))
    requests = [
        translate_v3.TranslateTextRequest(
            parent="projects/test-project/locations/global",
            contents=[sentence],
            source_language_code="en",
            target_language_code="es",
            mime_type="text/plain",
        )
        for sentence in sentences(TRANSLATION_SENTENCES, seed=3)
    ]
    client = api_client(translate_v3.TranslationServiceClient, url)
    return _case(
        "translation translateText", requests, backend.translate_text, client.translate_text
    )


CASES = {"vision": _vision, "language": _language, "translation": _translation}


def measure(api: str, rounds: int = 20) -> Row:
    """Start `api`'s service (local backend), warm both paths, then time them interleaved."""
    service = _proc.start(api, ML_BACKEND="local")
    try:
        case = CASES[api](service.url)
        for request in case.requests:  # loads the engines on both sides
            case.direct(request)
            case.remote(request)
        direct, remote = [], []
        for _ in range(rounds):
            for request in case.requests:
                for path, times in ((case.direct, direct), (case.remote, remote)):
                    started = time.perf_counter()
                    path(request)
                    times.append(time.perf_counter() - started)
        return Row(case.api, statistics.median(direct) * 1e3, statistics.median(remote) * 1e3)
    finally:
        service.stop()


HELLO = "def hello(request):\n    return 'ok'\n"


def hello_world_start() -> float:
    """Process start to the first answer of a functions-framework hello world."""
    source = Path(tempfile.mkdtemp(prefix="bench-hello-")) / "main.py"
    source.write_text(HELLO)
    port = free_port()
    command = [str(BIN / "functions-framework"), "--source", str(source), "--target", "hello",
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return wait_for_http(f"http://127.0.0.1:{port}/", process)
    finally:
        stop(process)


def cold_starts(services: list[str], runs: int = 5) -> dict[str, float]:
    """Median process start -> first health answer, `cloud` backend, as each image runs."""
    starts = {"functions-framework hello world": [hello_world_start() for _ in range(runs)]}
    for service in services:
        starts[service] = []
        for _ in range(runs):
            process = _proc.start(service, ML_BACKEND="cloud")
            starts[service].append(process.startup_seconds)
            process.stop()
    return {name: statistics.median(times) for name, times in starts.items()}


def print_overhead(rows: list[Row]) -> None:
    print("| API | engine direct p50 ms | via service p50 ms | overhead |")
    print("|---|---|---|---|")
    for row in rows:
        print(
            f"| {row.api} | {row.direct_ms:.2f} | {row.service_ms:.2f} | "
            f"{row.overhead:+.1%} ({row.service_ms - row.direct_ms:+.2f} ms) |"
        )


def print_cold(starts: dict[str, float]) -> None:
    hello = starts["functions-framework hello world"]
    print("| process (cloud backend) | start -> first answer s | vs hello world |")
    print("|---|---|---|")
    for name, seconds in starts.items():
        print(f"| {name} | {seconds:.2f} | {seconds / hello:.2f}x |")


def report(api: str, rounds: int = 20) -> None:
    """One API's overhead line and its cold start beside the hello world."""
    print(f"\nOverhead through the service ({rounds} rounds, interleaved):")
    print_overhead([measure(api, rounds)])
    print("\nCold start (median of 5):")
    print_cold(cold_starts([api]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apis", default=",".join(CASES))
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--cold", default="vision,language,translation,speech,documentai",
        help="services whose cold start is measured",
    )  # fmt: skip
    args = parser.parse_args()
    rows = [measure(api, args.rounds) for api in args.apis.split(",")]
    print(f"Overhead through the service ({args.rounds} rounds, interleaved):")
    print_overhead(rows)
    print("\nCold start (median of 5):")
    print_cold(cold_starts(args.cold.split(",")))


if __name__ == "__main__":
    main()
