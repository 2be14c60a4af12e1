"""`make demo`: the topology's pipelines on one machine, offline, no Google account.

1. Starts the local stack (`local.stack.Stack`: Pub/Sub and Cloud Storage emulators, every
   service of `deploy/topology.yaml` on its port, the wiring applied).
2. Calls the vision service directly with the official `google-cloud-vision` client, as one
   would call vision.googleapis.com, and prints the text it received.
3. Uploads a few images the demo renders into the images bucket; the bucket's notification goes
   through Pub/Sub to the vision service, whose text lands on the `text-ready` topic; prints
   each result as it arrives on the `text-ready-sink` subscription.
4. Stops everything.

Default ports (vision 8081, Pub/Sub 8085, storage 9023) are used when free, free ones otherwise.
"""

from __future__ import annotations

import socket
import sys
import tempfile
import time
from pathlib import Path

from local.samples import TextImage, png_bytes, render

PROJECT = "demo-project"
IMAGES = {
    "receipt.png": TextImage(
        ("Invoice 4471 is due on 12 March 2026.", "Total amount payable: 1,250.00 EUR"),
        font="serif",
        size=30,
        rotate=4,
        noise=12,
    ),
    "sign.png": TextImage(
        ("Meeting moved to Thursday", "at 3:30 pm in room B."),
        font="sans-bold",
        size=40,
        rotate=180,
    ),
    "note.png": TextImage(
        ("Fresh bread, milk and eggs", "are on the list."), font="mono", size=24, ink=90, paper=200
    ),
}
WAIT_S = 60.0


def _port(preferred: int) -> int:
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", preferred)) != 0:
            return preferred
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _quiet(_name: str, _line: str) -> None:
    """The demo prints results, not the services' logs (`mlapi up` shows those)."""


def main() -> int:
    from deploy.topology import load
    from local.stack import PUBSUB_PORT, STORAGE_PORT, Stack

    topology = load()
    ports = {name: _port(service.port) for name, service in topology.services.items()}
    with tempfile.TemporaryDirectory(prefix="mlapi-demo-") as state:
        stack = Stack(
            topology,
            project=PROJECT,
            data_dir=Path(state),
            pubsub_port=_port(PUBSUB_PORT),
            storage_port=_port(STORAGE_PORT),
            service_ports=ports,
            log_sink=_quiet,
        )
        started = time.monotonic()
        with stack:
            print(
                f"local stack up in {time.monotonic() - started:.1f} s "
                f"(project {PROJECT}, offline, local backends)"
            )
            for name, url, serves in stack.endpoints():
                print(f"  {name:<8} {url:<24} {serves}")
            _direct_call(stack.service_url("vision"))
            return _pipeline(stack)


def _direct_call(url: str) -> None:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import vision

    client = vision.ImageAnnotatorClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=url),
    )
    image = render(IMAGES["receipt.png"])
    started = time.perf_counter()
    response = client.text_detection({"content": png_bytes(image)})
    elapsed = (time.perf_counter() - started) * 1000
    print(
        f"\n1) google-cloud-vision -> {url}/v1/images:annotate ({elapsed:.0f} ms); "
        "the text the official client received:\n"
    )
    print(_indent(response.full_text_annotation.text))


def _pipeline(stack) -> int:
    storage = stack.emulators.storage()
    subscriber = stack.emulators.subscriber()
    bucket = storage.bucket(f"{PROJECT}-images")
    sink = f"projects/{PROJECT}/subscriptions/text-ready-sink"
    print(
        f"2) uploading {len(IMAGES)} images to gs://{bucket.name}: bucket notification -> "
        "Pub/Sub push -> vision -> topic text-ready\n"
    )
    started = time.monotonic()
    for name, spec in IMAGES.items():
        bucket.blob(f"scans/{name}").upload_from_string(
            png_bytes(render(spec)), content_type="image/png"
        )
    pending = {f"gs://{bucket.name}/scans/{name}" for name in IMAGES}
    while pending and time.monotonic() - started < WAIT_S:
        response = subscriber.pull(subscription=sink, max_messages=10, timeout=5)
        for received in response.received_messages:
            message = received.message
            source = message.attributes.get("sourceUri", "?")
            pending.discard(source)
            print(f"   {source}  ({time.monotonic() - started:.1f} s after upload)")
            print(f"   result object: {message.attributes.get('resultUri')}")
            print(_indent(message.data.decode()))
        if response.received_messages:
            subscriber.acknowledge(
                subscription=sink, ack_ids=[r.ack_id for r in response.received_messages]
            )
    if pending:
        print(f"no result within {WAIT_S:.0f} s for: {', '.join(sorted(pending))}", file=sys.stderr)
        return 1
    print("every image went through the pipeline; stopping the stack")
    return 0


def _indent(text: str) -> str:
    return "\n".join(f"      {line}" for line in text.strip().splitlines()) + "\n"


if __name__ == "__main__":
    sys.exit(main())
