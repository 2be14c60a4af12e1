"""Slow clients against a service, per server: N sockets that send half a header or announce
a body they never send, then the time a good request takes to be answered while they are all
still open. A thread-per-connection server (functions-framework's gunicorn) gives each slow
socket a thread; `shared.serving` reads requests asynchronously and runs only whole ones.

    .venv/bin/python -m bench.slow_clients [--sockets 64] [--service translation]

Prints, per server, the good request's time (median of 5 and the worst), or "starved" when it
got no answer within the timeout.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

from local.harness import ServiceProcess

SERVERS = ("granian", "functions-framework", "gunicorn")
TIMEOUT_S = 10.0


def _slow(port: int, index: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    head = b"POST /v3/projects/p/locations/global:translateText HTTP/1.1\r\nHost: x\r\n"
    if index % 2:
        sock.sendall(head)  # half a header
    else:
        sock.sendall(head + b"Content-Length: 1000\r\nContent-Type: application/json\r\n\r\n{")
    return sock


def _good(url: str) -> float | None:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=TIMEOUT_S) as response:
            response.read()
    except OSError:
        return None
    return time.perf_counter() - started


def measure(service: str, server: str, sockets: int) -> list[float | None]:
    log = Path(tempfile.mkdtemp(prefix="slow-")) / "service.log"
    process = ServiceProcess(service, service, env={"SERVER": server}, log_path=log)
    try:
        with contextlib.ExitStack() as stack:
            for index in range(sockets):
                stack.enter_context(_slow(process.port, index))
            time.sleep(0.2)  # let the server accept them all before the good request
            return [_good(process.url) for _ in range(5)]
    finally:
        process.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=64)
    parser.add_argument("--service", default="translation")
    args = parser.parse_args()
    print(
        f"| server ({args.service}, {args.sockets} slow sockets) | good request p50 ms | worst ms |"
    )
    print("|---|---|---|")
    for server in SERVERS:
        times = measure(args.service, server, args.sockets)
        answered = [t for t in times if t is not None]
        if len(answered) < len(times):
            print(f"| {server} | starved ({len(times) - len(answered)}/5 timed out at "
                  f"{TIMEOUT_S:.0f} s) | - |")  # fmt: skip
            continue
        print(
            f"| {server} | {statistics.median(answered) * 1000:.1f} | {max(answered) * 1000:.1f} |"
        )


if __name__ == "__main__":
    main()
