"""The `local` backend: Cloud Vision answered by offline engines.

- TEXT_DETECTION, DOCUMENT_TEXT_DETECTION: the shared OCR engine (`shared/ocr`: Tesseract 5, or
  RapidOCR with `VISION_OCR_ENGINE=rapidocr`), the full hierarchy; `imageContext.languageHints`
  pick the languages (see `ocr.py`);
- FACE_DETECTION: OpenCV's Haar cascade, boxes and confidence; no landmarks, likelihoods
  UNKNOWN (see `faces.py`);
- IMAGE_PROPERTIES: Pillow's median cut, dominant colours (see `colors.py`);
- LABEL_DETECTION: EfficientNet-Lite0 on ImageNet-1k (torch CPU), ImageNet class names with
  softmax scores, no `mid`; only with the optional `labels` extra, UNIMPLEMENTED naming it
  otherwise (see `labels.py`);
- SAFE_SEARCH_DETECTION, LANDMARK_DETECTION, LOGO_DETECTION, WEB_DETECTION, PRODUCT_SEARCH,
  OBJECT_LOCALIZATION, CROP_HINTS: no offline engine; that image's `error` is UNIMPLEMENTED and
  says what would enable it.

Honoured request fields: `image.content`, `image.source.gcsImageUri`, `image.source.imageUri`
(gs://, or http(s) on the allow-list), `features[].type`, `features[].maxResults` (faces,
colours, labels), `imageContext.languageHints`; for files, `inputConfig.content` / `gcsSource.uri`,
`mimeType`, `pages`. Ignored: `features[].model`, `imageContext.latLongRect`,
`cropHintsParams`, `productSearchParams`, `webDetectionParams`, `textDetectionParams`.
When some features are unavailable, the available ones are still answered and `error` names
the others: Google documents that annotations filled in alongside `error` are correct.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
from collections.abc import Callable

import numpy as np
from PIL import Image

import shared.ocr
from services.vision.backends.local import colors, faces, files, images, labels, ocr
from services.vision.settings import VisionSettings
from shared.errors import ApiError, Code, echo, invalid_argument, unimplemented
from shared.gapictypes import message_types
from shared.storage import Storage

vision = message_types("google.cloud.vision_v1")

Feature = vision.Feature.Type
DEFAULT_MAX_RESULTS = 10

_NOT_OFFLINE = (
    "{feature} is not available with the local backend: no offline engine for it ships in a "
    "wheel or a Debian package. Set VISION_ML_BACKEND=cloud to have Cloud Vision answer it."
)


class LocalBackend:
    def __init__(self, settings: VisionSettings, storage: Storage) -> None:
        self._settings = settings
        self._storage = storage
        self._limits = images.ImageLimits(
            max_bytes=settings.max_image_bytes,
            max_pixels=settings.max_image_pixels,
            allowed_hosts=frozenset(h.lower() for h in settings.image_uri_allowed_hosts),
        )
        self._ocr: shared.ocr.Recogniser | None = None
        # Protects the lazy creation of `_ocr` (loading the OCR engine is deferred to first use).
        self._lock = threading.Lock()
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=os.cpu_count() or 2, thread_name_prefix="vision-image"
        )

    # -- the interface -------------------------------------------------------------------

    def annotate_images(
        self, request: vision.BatchAnnotateImagesRequest
    ) -> vision.BatchAnnotateImagesResponse:
        responses = list(self._executor.map(self._annotate_one, request.requests))
        return vision.BatchAnnotateImagesResponse(responses=responses)

    def annotate_files(
        self, request: vision.BatchAnnotateFilesRequest
    ) -> vision.BatchAnnotateFilesResponse:
        return vision.BatchAnnotateFilesResponse(
            responses=[self._annotate_file(file_request) for file_request in request.requests]
        )

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._ocr is not None:
            self._ocr.close()

    # -- images --------------------------------------------------------------------------

    def _annotate_one(self, request: vision.AnnotateImageRequest) -> vision.AnnotateImageResponse:
        try:
            data = images.load_bytes(request.image, self._storage, self._limits)
            image = images.decode(data, self._limits)
        except ApiError as error:
            return vision.AnnotateImageResponse(error=error.to_status())
        return self.annotate_pixels(image, request.features, request.image_context)

    def annotate_pixels(
        self,
        image: Image.Image,
        features: list[vision.Feature],
        context: vision.ImageContext,
    ) -> vision.AnnotateImageResponse:
        response = vision.AnnotateImageResponse()
        if not features:
            response.error = invalid_argument("No feature specified.").to_status()
            return response
        errors: list[ApiError] = []
        done: set[int] = set()
        for feature in features:
            kind = Feature(feature.type_)
            handler = self._handlers().get(kind)
            key = Feature.TEXT_DETECTION if kind == Feature.DOCUMENT_TEXT_DETECTION else kind
            if key in done:
                continue
            done.add(key)
            if handler is None:
                errors.append(_unsupported(kind))
                continue
            try:
                handler(image, feature, context, response)
            except ApiError as error:
                errors.append(error)
        if errors:
            response.error = _combine(errors).to_status()
        return response

    def _handlers(self) -> dict[int, Callable]:
        return {
            Feature.TEXT_DETECTION: self._text,
            Feature.DOCUMENT_TEXT_DETECTION: self._text,
            Feature.FACE_DETECTION: self._faces,
            Feature.IMAGE_PROPERTIES: self._properties,
            Feature.LABEL_DETECTION: self._labels,
        }

    def _text(self, image, _feature, context: vision.ImageContext, response) -> None:
        page = self._ocr_engine().recognise(image, list(context.language_hints))
        result = ocr.to_vision(page)
        response.full_text_annotation = result.full_text
        response.text_annotations = result.text_annotations

    def _faces(self, image, feature: vision.Feature, _context, response) -> None:
        grey = np.asarray(image.convert("L"), dtype=np.uint8)
        response.face_annotations = faces.detect_faces(
            grey, feature.max_results or DEFAULT_MAX_RESULTS
        )

    def _properties(self, image, feature: vision.Feature, _context, response) -> None:
        response.image_properties_annotation = colors.dominant_colors(
            image, feature.max_results or colors.MAX_COLORS
        )

    def _labels(self, image, feature: vision.Feature, _context, response) -> None:
        response.label_annotations = labels.detect_labels(
            image, feature.max_results or DEFAULT_MAX_RESULTS
        )

    def _ocr_engine(self) -> shared.ocr.Recogniser:
        with self._lock:
            if self._ocr is None:
                self._ocr = shared.ocr.create_engine(self._settings)
            return self._ocr

    # -- files ---------------------------------------------------------------------------

    def _annotate_file(self, request: vision.AnnotateFileRequest) -> vision.AnnotateFileResponse:
        response = vision.AnnotateFileResponse(input_config=request.input_config)
        config = request.input_config
        uri = config.gcs_source.uri
        try:
            mime_type = config.mime_type
            if mime_type not in files.SUPPORTED:
                raise invalid_argument(
                    f"Unsupported mime type {echo(mime_type)}; files:annotate reads "
                    f"{', '.join(files.SUPPORTED)}."
                )
            if config.content:
                data = config.content
            elif uri:
                data = self._storage.read(uri, max_bytes=self._limits.max_bytes)
            else:
                raise invalid_argument("No file content or gcsSource.uri given.")
            total = files.count_pages(data, mime_type)
            pages = files.select_pages(list(request.pages), total)
            response.total_pages = total
            for number, image in files.render_pages(data, mime_type, pages, self._limits):
                page_response = self.annotate_pixels(image, request.features, request.image_context)
                page_response.context = vision.ImageAnnotationContext(uri=uri, page_number=number)
                response.responses.append(page_response)
        except ApiError as error:
            response.error = error.to_status()
        return response


def _unsupported(kind: Feature) -> ApiError:
    if kind == Feature.TYPE_UNSPECIFIED:
        return invalid_argument("Feature type is unspecified.")
    return unimplemented(_NOT_OFFLINE.format(feature=kind.name))


def _combine(errors: list[ApiError]) -> ApiError:
    if len(errors) == 1:
        return errors[0]
    # One Status per image: the most actionable code first (a bad argument before a gap).
    errors = sorted(errors, key=lambda e: e.code != Code.INVALID_ARGUMENT)
    return ApiError(errors[0].code, " ".join(e.message for e in errors))
