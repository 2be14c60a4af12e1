"""The `cloud` backend: Cloud Vision itself, through `google-cloud-vision`.

Requests pass through unchanged (Google reads `gs://` and `http(s)` sources itself); errors of the
whole call are translated once into `ApiError`; `CLOUD_API_ENDPOINT` picks a regional endpoint.
"""

from __future__ import annotations

from shared.cloudclients import CloudClients, google_errors
from shared.config import Settings
from shared.gapictypes import message_types

vision = message_types("google.cloud.vision_v1")
_CLIENT = ("google.cloud.vision_v1", "ImageAnnotatorClient")


class CloudBackend:
    def __init__(self, settings: Settings) -> None:
        self._clients = CloudClients(settings)

    @google_errors
    def annotate_images(
        self, request: vision.BatchAnnotateImagesRequest
    ) -> vision.BatchAnnotateImagesResponse:
        client = self._clients.get(*_CLIENT)
        return client.batch_annotate_images(request=request)

    @google_errors
    def annotate_files(
        self, request: vision.BatchAnnotateFilesRequest
    ) -> vision.BatchAnnotateFilesResponse:
        return self._clients.get(*_CLIENT).batch_annotate_files(request=request)

    def close(self) -> None:
        self._clients.close()
