"""OCR settings every service that reads text shares. A service's settings subclass
`OcrSettings`, so each reads them under its own prefix: `VISION_OCR_ENGINE` for vision,
`DOCUMENTAI_OCR_ENGINE` for Document AI, plain `OCR_ENGINE` for both.

| variable | default | meaning |
|---|---|---|
| `OCR_ENGINE` | `tesseract` | `tesseract` (fast) or `rapidocr` (PP-OCRv6, ONNX Runtime) |
| `OCR_LANGUAGES` | `en` | OCR languages when a request gives no language hints |
| `TESSDATA` | Debian's | directory of Tesseract `*.traineddata` |
| `OCR_ENGINES` | 2 | warm engines per language set (memory vs. parallelism) |
| `OCR_THREADS` | 2 | threads one rapidocr reading may use (ONNX Runtime's intra-op threads) |

Which engine when: see the README's OCR section (rapidocr needs the extra `ocr-accurate`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.config import Settings


class OcrSettings(Settings):
    ocr_engine: Literal["tesseract", "rapidocr"] = "tesseract"
    ocr_languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1)
    tessdata: str | None = None
    ocr_engines: int = Field(default=2, ge=1, le=32)
    ocr_threads: int = Field(default=2, ge=1, le=64)
