"""The one interface both backends implement: Vision's request types in, response types out."""

from __future__ import annotations

from typing import Protocol

from shared.gapictypes import message_types

vision = message_types("google.cloud.vision_v1")


class VisionBackend(Protocol):
    def annotate_images(
        self, request: vision.BatchAnnotateImagesRequest
    ) -> vision.BatchAnnotateImagesResponse:
        """Per-image failures go in that image's `error`; raise ApiError only for the batch."""
        ...

    def annotate_files(
        self, request: vision.BatchAnnotateFilesRequest
    ) -> vision.BatchAnnotateFilesResponse: ...

    def close(self) -> None: ...
