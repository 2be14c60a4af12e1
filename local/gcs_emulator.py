"""Cloud Storage for the local stack: `gcp-storage-emulator` plus the bucket notifications it
lacks.

The emulator (PyPI `gcp-storage-emulator`) speaks the JSON API well enough for
google-cloud-storage, but has no Pub/Sub notifications. This module runs it with two additions:

- the notification-config routes of the JSON API
  (`/storage/v1/b/{bucket}/notificationConfigs[/{id}]`: insert, list, get, delete), so
  `bucket.notification(...).create()` works here as on Google Cloud, and the deploy's wiring code
  is the same for both;
- every object written through the emulator (simple, multipart and resumable uploads, copy,
  rewrite, compose) publishes `OBJECT_FINALIZE` to the configured topics, with Google's
  attributes (`notificationConfig`, `eventType`, `payloadFormat`, `bucketId`, `objectId`,
  `objectGeneration`, `eventTime`, `overwroteGeneration`) and the JSON_API_V1 object resource as
  data; a replaced or deleted object publishes `OBJECT_DELETE` (with `overwrittenByGeneration`
  when replaced). `object_name_prefix` and `custom_attributes` are honoured.

Publishing goes through google-cloud-pubsub, so `PUBSUB_EMULATOR_HOST` points it at the local
Pub/Sub emulator. Not emulated: OBJECT_ARCHIVE and OBJECT_METADATA_UPDATE.

    python -m local.gcs_emulator --port 9023 [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import re
import signal
import threading
from http import HTTPStatus
from pathlib import Path
from typing import Any

from gcp_storage_emulator import server as gcs_server
from gcp_storage_emulator.storage import Storage

log = logging.getLogger("local.gcs_emulator")

_TOPIC = re.compile(r"^//pubsub\.googleapis\.com/(projects/[^/]+/topics/[^/]+)$")
_FIELDS = ("topic", "event_types", "payload_format", "object_name_prefix", "custom_attributes")


class NotifyingStorage(Storage):
    """The emulator's storage, publishing Cloud Storage notifications as objects change."""

    def __init__(self, *, data_dir: str | None, publisher: Any | None = None) -> None:
        super().__init__(use_memory_fs=data_dir is None, data_dir=data_dir)
        self._publisher = publisher
        self._configs_path = Path(data_dir) / "notifications.json" if data_dir else None
        # Protects `configs` and `_next_id` (the emulator's HTTP server is single-threaded,
        # but publish callbacks and tests may read them from other threads).
        self._lock = threading.Lock()
        self.configs: dict[str, dict[str, dict[str, Any]]] = self._load_configs()
        self._next_id = 1 + max((int(i) for b in self.configs.values() for i in b), default=0)

    # -- notification configs ----------------------------------------------------------------

    def add_config(self, bucket: str, body: dict[str, Any]) -> dict[str, Any]:
        topic = body.get("topic", "")
        if not _TOPIC.match(topic):
            raise ValueError("topic must be //pubsub.googleapis.com/projects/P/topics/T")
        with self._lock:
            config_id = str(self._next_id)
            self._next_id += 1
            resource = {
                "kind": "storage#notification",
                "id": config_id,
                "selfLink": f"/storage/v1/b/{bucket}/notificationConfigs/{config_id}",
                "etag": config_id,
                "payload_format": "JSON_API_V1",
                **{k: body[k] for k in _FIELDS if k in body},
            }
            self.configs.setdefault(bucket, {})[config_id] = resource
            self._save_configs()
        return resource

    def delete_config(self, bucket: str, config_id: str) -> bool:
        with self._lock:
            found = self.configs.get(bucket, {}).pop(config_id, None) is not None
            self._save_configs()
        return found

    def _load_configs(self) -> dict[str, dict[str, dict[str, Any]]]:
        if self._configs_path and self._configs_path.exists():
            return json.loads(self._configs_path.read_text())
        return {}

    def _save_configs(self) -> None:
        if self._configs_path:
            self._configs_path.write_text(json.dumps(self.configs))

    # -- object changes ------------------------------------------------------------------------

    def create_file(self, bucket_name, file_name, content, file_obj, file_id=None):
        previous = self.objects.get(bucket_name, {}).get(file_name)
        super().create_file(bucket_name, file_name, content, file_obj, file_id)
        generation = str(file_obj.get("generation", ""))
        if previous:
            self._notify("OBJECT_DELETE", previous, overwrittenByGeneration=generation)
        extra = {"overwroteGeneration": str(previous["generation"])} if previous else {}
        self._notify("OBJECT_FINALIZE", file_obj, **extra)

    def delete_file(self, bucket_name, file_name):
        previous = self.objects.get(bucket_name, {}).get(file_name)
        super().delete_file(bucket_name, file_name)
        if previous:
            self._notify("OBJECT_DELETE", previous)

    def _notify(self, event_type: str, resource: dict[str, Any], **extra: str) -> None:
        if self._publisher is None:
            return
        bucket, name = resource["bucket"], resource["name"]
        with self._lock:
            configs = list(self.configs.get(bucket, {}).values())
        for config in configs:
            if event_type not in config.get("event_types", list(_ALL_EVENTS)):
                continue
            if not name.startswith(config.get("object_name_prefix") or ""):
                continue
            payload_format = config.get("payload_format", "JSON_API_V1")
            attributes = {
                **config.get("custom_attributes", {}),
                "notificationConfig": f"projects/_/buckets/{bucket}/notificationConfigs/"
                f"{config['id']}",
                "eventType": event_type,
                "payloadFormat": payload_format,
                "bucketId": bucket,
                "objectId": name,
                "objectGeneration": str(resource.get("generation", "")),
                "eventTime": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                **extra,
            }
            data = json.dumps(resource).encode() if payload_format == "JSON_API_V1" else b""
            topic = _TOPIC.match(config["topic"]).group(1)
            future = self._publisher.publish(topic, data, **attributes)
            future.add_done_callback(_log_failure(topic, event_type, bucket, name))


_ALL_EVENTS = ("OBJECT_FINALIZE", "OBJECT_DELETE", "OBJECT_ARCHIVE", "OBJECT_METADATA_UPDATE")


def _log_failure(topic: str, event_type: str, bucket: str, name: str):
    def done(future) -> None:
        error = future.exception()
        if error is not None:
            log.error(
                "notification %s for gs://%s/%s to %s failed: %s",
                event_type,
                bucket,
                name,
                topic,
                error,
            )

    return done


class _LazyPublisher:
    """google-cloud-pubsub's publisher, made on the first notification (none may be needed)."""

    def __init__(self) -> None:
        self._client = None

    def publish(self, topic: str, data: bytes, **attributes: str):
        if self._client is None:
            from google.cloud import pubsub_v1

            self._client = pubsub_v1.PublisherClient()
        return self._client.publish(topic, data, **attributes)


# -- the JSON API routes the emulator lacks -----------------------------------------------------


def _insert(request, response, storage: NotifyingStorage, *_args, **_kwargs) -> None:
    bucket = request.params["bucket_name"]
    if bucket not in storage.buckets:
        return _error(response, HTTPStatus.NOT_FOUND, "The specified bucket does not exist.")
    try:
        response.json(storage.add_config(bucket, request.data or {}))
    except ValueError as exc:
        _error(response, HTTPStatus.BAD_REQUEST, str(exc))
    return None


def _list(request, response, storage: NotifyingStorage, *_args, **_kwargs) -> None:
    bucket = request.params["bucket_name"]
    items = list(storage.configs.get(bucket, {}).values())
    response.json({"kind": "storage#notifications", "items": items})


def _get(request, response, storage: NotifyingStorage, *_args, **_kwargs) -> None:
    config = storage.configs.get(request.params["bucket_name"], {}).get(request.params["config_id"])
    if config is None:
        return _error(response, HTTPStatus.NOT_FOUND, "Notification config not found.")
    response.json(config)
    return None


def _delete(request, response, storage: NotifyingStorage, *_args, **_kwargs) -> None:
    if not storage.delete_config(request.params["bucket_name"], request.params["config_id"]):
        return _error(response, HTTPStatus.NOT_FOUND, "Notification config not found.")
    response.status = HTTPStatus.NO_CONTENT
    return None


def _error(response, status: HTTPStatus, message: str) -> None:
    response.status = status
    response.json(
        {
            "error": {
                "code": status.value,
                "message": message,
                "errors": [{"message": message, "reason": status.phrase}],
            }
        }
    )


def _install_notification_routes() -> None:
    bucket = r"(?P<bucket_name>[-.\w]+)"
    routes = []
    for prefix in ("/storage/v1", ""):
        routes += [
            (
                rf"^{prefix}/b/{bucket}/notificationConfigs$",
                {gcs_server.GET: _list, gcs_server.POST: _insert},
            ),
            (
                rf"^{prefix}/b/{bucket}/notificationConfigs/(?P<config_id>[^/]+)$",
                {gcs_server.GET: _get, gcs_server.DELETE: _delete},
            ),
        ]
    if not any("notificationConfigs" in regex for regex, _ in gcs_server.HANDLERS):
        gcs_server.HANDLERS = (*routes, *gcs_server.HANDLERS)


class GcsEmulator:
    """The emulator in this process, on its own thread. `start()` returns once it listens."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 9023,
        data_dir: str | None = None,
        publish: bool = True,
    ) -> None:
        _install_notification_routes()
        self.storage = NotifyingStorage(
            data_dir=data_dir, publisher=_LazyPublisher() if publish else None
        )
        self._thread = gcs_server.APIThread(
            host, port, self.storage, daemon=True, name="gcs-emulator"
        )
        self.url = f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()
        self._thread.is_running.wait()

    def stop(self) -> None:
        self._thread.join(timeout=1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.gcs_emulator", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("GCS_EMULATOR_HOST_BIND", "127.0.0.1"))
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("GCS_EMULATOR_PORT", "9023"))
    )
    parser.add_argument("--data-dir", default=os.environ.get("GCS_EMULATOR_DATA_DIR"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("gcp_storage_emulator").setLevel(logging.WARNING)
    if args.data_dir:
        Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    emulator = GcsEmulator(args.host, args.port, args.data_dir)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    emulator.start()
    print(f"Cloud Storage emulator listening on {emulator.url}", flush=True)
    stopped.wait()
    emulator.stop()


if __name__ == "__main__":
    main()
