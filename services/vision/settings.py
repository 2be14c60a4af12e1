"""The vision service's settings (beyond `shared.config.Settings` and the OCR engine's
`shared.ocr.OcrSettings`), read from the environment with the `VISION_` prefix first:
`VISION_OCR_LANGUAGES=en,fr` beats `OCR_LANGUAGES`.

| variable | default | meaning |
|---|---|---|
| `VISION_OCR_ENGINE` | `tesseract` | `tesseract` or `rapidocr` (extra `ocr-accurate`; README) |
| `VISION_OCR_LANGUAGES` | `en` | OCR languages when a request gives no `languageHints` |
| `VISION_TESSDATA` | Debian's | directory of Tesseract `*.traineddata` |
| `VISION_IMAGE_URI_ALLOWED_HOSTS` | none | hosts that `imageUri` may fetch from over http(s) |
| `VISION_MAX_IMAGE_BYTES` | 20971520 | largest image file (Google's limit: 20 MB) |
| `VISION_MAX_IMAGE_PIXELS` | 50000000 | largest image, in pixels, checked before decoding |
| `VISION_WORKFLOW_FEATURES` | `DOCUMENT_TEXT_DETECTION` | features the workflow asks for |
| `VISION_OCR_ENGINES` | 2 | warm OCR engines per language set (memory vs. parallelism) |
| `VISION_OCR_THREADS` | 2 | threads one rapidocr reading may use |
"""

from __future__ import annotations

from pydantic import Field, field_validator

from shared.gapictypes import message_types
from shared.ocr.settings import OcrSettings

vision = message_types("google.cloud.vision_v1")


class VisionSettings(OcrSettings):
    image_uri_allowed_hosts: list[str] = Field(default_factory=list)
    max_image_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    max_image_pixels: int = Field(default=50_000_000, gt=0)
    workflow_features: list[str] = Field(
        default_factory=lambda: ["DOCUMENT_TEXT_DETECTION"], min_length=1
    )

    @field_validator("workflow_features")
    @classmethod
    def _known_features(cls, value: list[str]) -> list[str]:
        known = set(vision.Feature.Type.__members__)
        unknown = [name for name in value if name not in known]
        if unknown:
            raise ValueError(f"unknown Vision feature(s) {unknown}; known: {sorted(known)}")
        return value
