"""`make demo`: the vision service, offline, answering the official client.

Starts the vision service with the local backend (port 8081, or `$VISION_PORT`), makes a sample
image, sends it with `google-cloud-vision` over REST exactly as one would send it to Google, and
prints the text the client got back. Stops the service on the way out.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from local.samples import TextImage, png_bytes, render

ROOT = Path(__file__).resolve().parent.parent
DEMO_LINES = (
    "Invoice 4471 is due on 12 March 2026.",
    "Total amount payable: 1,250.00 EUR",
    "Keep this receipt for your records.",
)


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the vision service exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the vision service did not answer at {url} within {timeout} s")


def main() -> int:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import vision

    port = int(os.environ.get("VISION_PORT", "8081"))
    if not _port_free(port):
        print(f"port {port} is taken; set VISION_PORT to another one", file=sys.stderr)
        return 1
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ML_BACKEND": "local", "LOG_FORMAT": "text", "PORT": str(port)}
    service = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "functions-framework"),
            "--source",
            "services/vision/main.py",
            "--target",
            "vision",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_healthy(url, service)
        print(f"vision service (local backend) listening on {url}")
        image = render(TextImage(DEMO_LINES, font="serif", size=30, rotate=4, noise=12))
        print(f"sample image: {image.width}x{image.height} px, slightly rotated and noisy")
        client = vision.ImageAnnotatorClient(
            transport="rest",
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=url),
        )
        started = time.perf_counter()
        response = client.text_detection({"content": png_bytes(image)})
        elapsed = time.perf_counter() - started
        if response.error.message:
            print(f"error: {response.error.message}", file=sys.stderr)
            return 1
        words = len(response.text_annotations) - 1
        language = response.text_annotations[0].locale if words > 0 else "?"
        print(
            f"\ntext the official client received ({words} words, language {language!r}, "
            f"{elapsed * 1000:.0f} ms):\n"
        )
        print(response.full_text_annotation.text)
        return 0
    finally:
        service.send_signal(signal.SIGTERM)
        try:
            service.wait(timeout=10)
        except subprocess.TimeoutExpired:
            service.kill()


if __name__ == "__main__":
    sys.exit(main())
