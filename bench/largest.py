"""The largest request each service allows, sent once to the running local stack: how long it
takes and the peak memory of the service's processes (VmHWM, summed over its process tree),
against the same service after a small warm-up request. The figures go in
docs/architecture.md ("Cost per request").

    .venv/bin/python -m bench.largest [--services language,translation]

Inputs: vision, an image at the 10 MiB request limit's pixel budget (7,000 x 7,000, text on
white) with DOCUMENT_TEXT_DETECTION; language, a 999,995-byte English document with every
annotateText feature; translation, 1,024 strings holding 30,000 code points (en -> es);
prediction, 10,000 instances (the limit) in one predict. Batch prediction has no largest
request: a job's input is read in chunks (bench/batch.py measures RSS against input size).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import time
import urllib.request
from collections.abc import Callable

from bench import fuzz
from bench._proc import peak_mb
from deploy.topology import DEFAULT_PATH, load
from local.samples import SENTENCES
from local.stack import Stack, free_ports_for

PROJECT = fuzz.PROJECT
Request = tuple[str, dict]  # path, JSON body


def _vision() -> tuple[Request, Request]:
    from PIL import Image, ImageDraw, ImageFont

    from local.samples import TextImage, png_bytes, render

    small = png_bytes(render(TextImage(("A small warm-up line.",), size=24)))
    image = Image.new("L", (7000, 7000), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=48)
    for row in range(60):
        draw.text((200, 200 + row * 110), SENTENCES[row % len(SENTENCES)], fill=0, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")

    def body(png: bytes) -> dict:
        content = base64.b64encode(png).decode()
        features = [{"type": "DOCUMENT_TEXT_DETECTION"}]
        return {"requests": [{"image": {"content": content}, "features": features}]}

    path = "/v1/images:annotate"
    return (path, body(small)), (path, body(buffer.getvalue()))


def _language() -> tuple[Request, Request]:
    paragraph = " ".join(SENTENCES) + "\n\n"
    text = paragraph * (999_995 // len(paragraph.encode()))
    text += "x" * (999_995 - len(text.encode()))
    features = {
        "extractSyntax": True,
        "extractEntities": True,
        "extractDocumentSentiment": True,
        "extractEntitySentiment": True,
    }

    def body(content: str) -> dict:
        document = {"type": "PLAIN_TEXT", "content": content, "language": "en"}
        return {"document": document, "features": features, "encodingType": "UTF8"}

    return ("/v1/documents:annotateText", body("Ada Lovelace lived in London.")), (
        "/v1/documents:annotateText",
        body(text),
    )


def _translation() -> tuple[Request, Request]:
    path = f"/v3/projects/{PROJECT}/locations/global:translateText"
    words = " ".join(SENTENCES).split()
    contents, size, index = [], 0, 0
    while len(contents) < 1024:
        piece = " ".join(words[index % len(words) : index % len(words) + 5])[: 30_000 // 1024]
        contents.append(piece)
        size += len(piece)
        index += 5

    def body(strings: list[str]) -> dict:
        return {"contents": strings, "sourceLanguageCode": "en", "targetLanguageCode": "es"}

    return (path, body(["Good morning."])), (path, body(contents))


def _prediction() -> tuple[Request, Request]:
    path = f"/v1/projects/{PROJECT}/locations/us-central1/endpoints/cancer:predict"
    return (path, {"instances": [[0.1, 0.2]]}), (path, {"instances": [[0.1, 0.2]] * 10_000})


BUILDERS: dict[str, Callable[[], tuple[Request, Request]]] = {
    "vision": _vision,
    "language": _language,
    "translation": _translation,
    "prediction": _prediction,
}


def _post(url: str, body: dict) -> tuple[int, int, float]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            answer = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        answer, status = error.read(), error.code
    return status, len(answer), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", default=",".join(BUILDERS))
    args = parser.parse_args()
    wanted = [name for name in args.services.split(",") if name in BUILDERS]
    topology = load(DEFAULT_PATH)
    stack = Stack(
        topology,
        project=PROJECT,
        pubsub_port=fuzz._free_port(),
        storage_port=fuzz._free_port(),
        service_ports=free_ports_for(topology),
        log_sink=lambda _name, _line: None,
    )
    rows = []
    with stack:
        fuzz._seed_data(stack)
        for name in wanted:
            component = next(c for c in stack.components if c.name == name)
            (small_path, small), (path, large) = BUILDERS[name]()
            _post(stack.service_url(name) + small_path, small)
            warm = peak_mb(component.process.pid)
            status, answered, seconds = _post(stack.service_url(name) + path, large)
            peak = peak_mb(component.process.pid)
            size = len(json.dumps(large)) / 2**20
            rows.append((name, size, status, answered / 2**20, seconds, warm, peak))
            print(f"{name}: done", flush=True)
    print("\n| service | request MiB | status | response MiB | time s | warm peak MiB | peak MiB |")
    print("|---|---|---|---|---|---|---|")
    for name, size, status, answered, seconds, warm, peak in rows:
        print(
            f"| {name} | {size:.1f} | {status} | {answered:.1f} | {seconds:.1f} "
            f"| {warm:.0f} | {peak:.0f} |"
        )


if __name__ == "__main__":
    main()
