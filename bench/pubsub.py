"""Benchmark the local Pub/Sub emulator against the official one (not part of the tests).

    .venv/bin/python bench/pubsub.py [--publish N] [--push N] [--paced N] [--skip-official]

A quick check that it runs: ``--publish 200 --push 100 --paced 10 --starts 1``.

Measures, for ``python -m local.pubsub`` and, where gcloud is installed, for
``gcloud beta emulators pubsub start`` in the same run:

* start: process start until ``GET /`` answers (median of a few starts; for the official one
  this includes the gcloud wrapper, as users run it);
* idle RSS: the server process (Java for the official one) and its whole process tree, 1 s
  after start;
* publish: messages/s through the official Python client with batching (100-byte messages,
  one pull subscription attached);
* publish with a schema: the same, on a topic whose schema_settings name an Avro schema
  (JSON encoding), so every message is validated and stamped with the schema attributes;
* push: messages/s delivered to a local HTTP endpoint answering 204 (a backlog is published
  first, then the push endpoint is set with ModifyPushConfig);
* paced push latency: one message every 10 ms, publish() call to the endpoint's receipt,
  p50 and p99 (the Python client sends each message at once: max_messages=1).

The endpoint is a separate asyncio process (``--serve-endpoint``) so it does not share the
benchmark's GIL. Targets from the issue are checked in the last column.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _proc  # noqa: E402
from local.harness import free_port  # noqa: E402

PROJECT = "projects/bench"


# -- the push endpoint (runs in its own process) -----------------------------------------------


def serve_endpoint() -> None:
    count = 0
    latencies: list[float] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count, latencies
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        key, value = line.split(":", 1)
                        headers[key.strip().lower()] = value.strip()
                if headers.get("expect", "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = b""
                if headers.get("transfer-encoding", "").lower() == "chunked":
                    while True:
                        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                        chunk = await reader.readexactly(size + 2)
                        if size == 0:
                            break
                        body += chunk[:-2]
                elif headers.get("content-length"):
                    body = await reader.readexactly(int(headers["content-length"]))
                now = time.monotonic()
                if method == "GET" and path == "/stats":
                    payload = json.dumps({"count": count, "latencies": latencies}).encode()
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload)
                    )
                else:
                    if path == "/reset":
                        count, latencies = 0, []
                    elif path.startswith("/push"):
                        count += 1
                        if path == "/push/latency":
                            data = base64.b64decode(json.loads(body)["message"]["data"])
                            latencies.append(now - float(data))
                    writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(main())


class Endpoint:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve-endpoint"], stdout=subprocess.PIPE, text=True
        )
        self.port = int(self.proc.stdout.readline())

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stats(self) -> dict:
        with urllib.request.urlopen(self.url("/stats"), timeout=10) as response:
            return json.loads(response.read())

    def reset(self) -> None:
        urllib.request.urlopen(
            urllib.request.Request(self.url("/reset"), data=b"", method="POST"), timeout=10
        ).read()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)


# -- emulators ---------------------------------------------------------------------------------


class Emulator:
    def __init__(self, name: str, command: list[str], server_match: str) -> None:
        self.name = name
        self.command = command
        self.server_match = server_match  # how to find the serving process in the tree
        self.proc: subprocess.Popen | None = None
        self.target = ""

    def start(self) -> float:
        port = free_port()
        self.target = f"127.0.0.1:{port}"
        cmd = [part.replace("{port}", str(port)) for part in self.command]
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = started + 60
        while time.perf_counter() < deadline:
            try:
                with urllib.request.urlopen(f"http://{self.target}/", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.002)
        raise RuntimeError(f"{self.name} did not start")

    def rss(self) -> tuple[float, float]:
        """(server process, whole tree) RSS in MB."""
        assert self.proc is not None
        pids = _proc.tree(self.proc.pid)
        server = self.proc.pid
        for pid in pids:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if self.server_match in cmdline:
                server = pid
        return _proc.rss_mb(server, whole_tree=False), _proc.rss_mb(self.proc.pid)

    def stop(self) -> None:
        """Stops what this benchmark started: its session, and the server by its pid (gcloud
        starts Java in a process group of its own)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        started = _proc.tree(self.proc.pid)[1:]
        os.killpg(self.proc.pid, signal.SIGTERM)
        for pid in started:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        deadline = time.monotonic() + 10
        for pid in started:
            while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            with contextlib.suppress(ProcessLookupError):
                if Path(f"/proc/{pid}").exists():
                    os.kill(pid, signal.SIGKILL)


def clients(target: str, **publisher_kwargs):
    import grpc
    from google.cloud import pubsub_v1
    from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport
    from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

    publisher = pubsub_v1.PublisherClient(
        transport=PublisherGrpcTransport(channel=grpc.insecure_channel(target)), **publisher_kwargs
    )
    subscriber = pubsub_v1.SubscriberClient(
        transport=SubscriberGrpcTransport(channel=grpc.insecure_channel(target))
    )
    return publisher, subscriber


def wait_count(endpoint: Endpoint, count: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if endpoint.stats()["count"] >= count:
            return time.monotonic()
        time.sleep(0.02)
    raise RuntimeError(f"only {endpoint.stats()['count']} of {count} pushes arrived")


AVRO_RECORD = {
    "type": "record",
    "name": "Reading",
    "fields": [
        {"name": "sensor", "type": "string"},
        {"name": "value", "type": "double"},
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}


def publish_with_schema(target: str, publisher, count: int) -> float:
    """msg/s publishing ~100-byte Avro JSON messages to a topic with an Avro schema."""
    import grpc
    from google.cloud import pubsub_v1
    from google.pubsub_v1.services.schema_service.transports import SchemaServiceGrpcTransport
    from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport
    from google.pubsub_v1.types import Encoding, Schema

    channel = grpc.insecure_channel(target)
    schemas = pubsub_v1.SchemaServiceClient(transport=SchemaServiceGrpcTransport(channel=channel))
    schema = schemas.create_schema(
        parent=PROJECT,
        schema=Schema(type_=Schema.Type.AVRO, definition=json.dumps(AVRO_RECORD)),
        schema_id="bench-reading",
    ).name
    topic, sub = f"{PROJECT}/topics/schema", f"{PROJECT}/subscriptions/schema"
    publisher.create_topic(
        request={"name": topic, "schema_settings": {"schema": schema, "encoding": Encoding.JSON}}
    )
    subscriber = pubsub_v1.SubscriberClient(transport=SubscriberGrpcTransport(channel=channel))
    subscriber.create_subscription(name=sub, topic=topic)
    payload = json.dumps({"sensor": "s" * 40, "value": 21.5, "note": {"string": "x" * 20}})
    began = time.perf_counter()
    futures = [publisher.publish(topic, payload.encode()) for _ in range(count)]
    for future in futures:
        future.result(timeout=120)
    rate = count / (time.perf_counter() - began)
    channel.close()
    return rate


def measure(emulator: Emulator, endpoint: Endpoint, args) -> dict:
    from google.cloud import pubsub_v1

    starts = []
    for _ in range(args.starts):
        starts.append(emulator.start())
        emulator.stop()
    result = {"start": statistics.median(starts)}
    emulator.start()
    try:
        time.sleep(1.0)
        result["rss"], result["rss_tree"] = emulator.rss()

        batching = pubsub_v1.types.BatchSettings(
            max_messages=1000, max_bytes=1_000_000, max_latency=0.01
        )
        publisher, subscriber = clients(emulator.target, batch_settings=batching)
        topic, sub = f"{PROJECT}/topics/publish", f"{PROJECT}/subscriptions/publish"
        publisher.create_topic(name=topic)
        subscriber.create_subscription(name=sub, topic=topic)
        payload = b"x" * 100
        began = time.perf_counter()
        futures = [publisher.publish(topic, payload) for _ in range(args.publish)]
        for future in futures:
            future.result(timeout=120)
        result["publish"] = args.publish / (time.perf_counter() - began)
        result["publish_schema"] = publish_with_schema(emulator.target, publisher, args.publish)

        topic, sub = f"{PROJECT}/topics/push", f"{PROJECT}/subscriptions/push"
        publisher.create_topic(name=topic)
        subscriber.create_subscription(name=sub, topic=topic, ack_deadline_seconds=60)
        for future in [publisher.publish(topic, payload) for _ in range(args.push)]:
            future.result(timeout=120)
        endpoint.reset()
        began = time.monotonic()
        subscriber.modify_push_config(
            request={
                "subscription": sub,
                "push_config": {"push_endpoint": endpoint.url("/push/bulk")},
            }
        )
        ended = wait_count(endpoint, args.push, timeout=300)
        result["push"] = args.push / (ended - began)
        subscriber.delete_subscription(subscription=sub)

        single = pubsub_v1.types.BatchSettings(max_messages=1, max_latency=0.001)
        paced, _ = clients(emulator.target, batch_settings=single)
        topic, sub = f"{PROJECT}/topics/paced", f"{PROJECT}/subscriptions/paced"
        publisher.create_topic(name=topic)
        subscriber.create_subscription(
            request={
                "name": sub,
                "topic": topic,
                "push_config": {"push_endpoint": endpoint.url("/push/latency")},
            }
        )
        time.sleep(0.5)
        endpoint.reset()
        for _ in range(args.paced):
            paced.publish(topic, repr(time.monotonic()).encode())
            time.sleep(0.01)
        wait_count(endpoint, args.paced, timeout=120)
        latencies = sorted(endpoint.stats()["latencies"])
        result["p50"] = latencies[len(latencies) // 2] * 1000
        result["p99"] = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
        publisher.stop()
        paced.stop()
        subscriber.close()
    finally:
        emulator.stop()
    return result


ROWS = [
    ("start (s)", "start", "{:.3f}", "lower", lambda ours, off: ours <= 0.3),
    ("idle RSS, server process (MB)", "rss", "{:.1f}", "lower", lambda ours, off: ours <= 60),
    ("idle RSS, process tree (MB)", "rss_tree", "{:.1f}", "lower", None),
    ("publish, batched (msg/s)", "publish", "{:,.0f}", "higher", None),
    ("publish, batched, Avro schema (msg/s)", "publish_schema", "{:,.0f}", "higher", None),
    ("push (msg/s)", "push", "{:,.0f}", "higher", lambda ours, off: off is None or ours >= 3 * off),
    ("paced push latency p50 (ms)", "p50", "{:.1f}", "lower", lambda ours, off: ours <= 10),
    ("paced push latency p99 (ms)", "p99", "{:.1f}", "lower", None),
]


def table(ours: dict, official: dict | None, reason: str) -> str:
    header = ["metric", "local.pubsub", "official (gcloud)", "ratio", "target"]
    rows = [header]
    for label, key, fmt, better, target in ROWS:
        mine = ours[key]
        theirs = official[key] if official else None
        if theirs:
            factor = theirs / mine if better == "lower" else mine / theirs
            ratio = f"{factor:.1f}x {'better' if factor >= 1 else 'worse'}"
        else:
            ratio = "-"
        check = "-" if target is None else ("PASS" if target(mine, theirs) else "FAIL")
        rows.append(
            [label, fmt.format(mine), fmt.format(theirs) if theirs else "skipped", ratio, check]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    if not official:
        lines.append(f"\nofficial emulator skipped: {reason}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--publish", type=int, default=20000)
    parser.add_argument("--push", type=int, default=5000)
    parser.add_argument("--paced", type=int, default=300)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--skip-official", action="store_true")
    parser.add_argument("--serve-endpoint", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_endpoint:
        serve_endpoint()
        return

    endpoint = Endpoint()
    try:
        ours = measure(
            Emulator(
                "local.pubsub",
                [sys.executable, "-m", "local.pubsub", "--port", "{port}"],
                "local.pubsub",
            ),
            endpoint,
            args,
        )
        official, reason = None, ""
        if args.skip_official:
            reason = "--skip-official"
        elif shutil.which("gcloud") is None:
            reason = "gcloud is not installed on this machine"
        else:
            gcloud = Emulator(
                "official",
                [
                    "gcloud",
                    "beta",
                    "emulators",
                    "pubsub",
                    "start",
                    "--host-port=127.0.0.1:{port}",
                    "--project=bench",
                ],
                "cloud-pubsub-emulator",
            )
            try:
                official = measure(
                    gcloud, endpoint, argparse.Namespace(**{**vars(args), "starts": 2})
                )
            except Exception as exc:  # an installed gcloud without the emulator component
                reason = f"the official emulator failed: {exc!r}"
        print(table(ours, official, reason))
    finally:
        endpoint.stop()


if __name__ == "__main__":
    main()
