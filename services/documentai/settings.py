"""The Document AI service's settings (beyond `shared.config.Settings` and the OCR engine's
`shared.ocr.OcrSettings`), read from the environment with the `DOCUMENTAI_` prefix first.

- `DOCUMENTAI_PROCESSORS` (`ocr=OCR_PROCESSOR:Local OCR,form=FORM_PARSER_PROCESSOR:Local form
  parser,invoice=INVOICE_PROCESSOR:Local invoice parser,layout=LAYOUT_PARSER_PROCESSOR:Local
  layout parser`): the configured processors,
  `id=TYPE:display name`, comma-separated;
- `DOCUMENTAI_WORKFLOW_PROCESSOR` (`form`): the processor the workflow runs;
- `DOCUMENTAI_LOCATION` (`us`): where the workflow's processor is named;
- `MAX_REQUEST_BYTES` (60 MiB here): the body limit; 40 MB of content is ~53.4 MB of base64.
  The server (`shared.serving`) reads the plain variable before the app: the topology sets it;
- `DOCUMENTAI_MAX_DOCUMENT_BYTES` (40 MiB): largest online document (Google: 40 MB);
- `DOCUMENTAI_MAX_BATCH_DOCUMENT_BYTES` (1 GiB), `DOCUMENTAI_MAX_BATCH_DOCUMENTS` (5000):
  Google's batch limits;
- `DOCUMENTAI_PDF_DPI` (300): resolution scanned PDF pages are rendered at for OCR (scanners'
  usual resolution; at 200 dpi Tesseract misread twice as many words of an 11 pt form);
- `DOCUMENTAI_MAX_PAGE_POINTS` (14400): longest page side, in points (PDF's own maximum, 200 in);
- `DOCUMENTAI_MAX_IMAGE_PIXELS` (50000000): largest page image, checked before decoding;
- `DOCUMENTAI_BATCH_WORKERS` (CPUs): documents of a batch processed at once on one instance;
- `DOCUMENTAI_SHARD_PAGES` (50): pages per Document JSON shard (batch and workflow output).
"""

from __future__ import annotations

import os

from pydantic import Field, field_validator

from shared.ocr.settings import OcrSettings

DEFAULT_PROCESSORS = [
    "ocr=OCR_PROCESSOR:Local OCR",
    "form=FORM_PARSER_PROCESSOR:Local form parser",
    "invoice=INVOICE_PROCESSOR:Local invoice parser",
    "layout=LAYOUT_PARSER_PROCESSOR:Local layout parser",
]


class DocumentAISettings(OcrSettings):
    processors: list[str] = Field(default_factory=lambda: list(DEFAULT_PROCESSORS), min_length=1)
    workflow_processor: str = "form"
    location: str = "us"
    # Overrides the shared 10 MiB: Document AI takes 40 MB documents inline, base64 in JSON.
    max_request_bytes: int = Field(default=60 * 1024 * 1024, gt=0)
    max_document_bytes: int = Field(default=40 * 1024 * 1024, gt=0)
    max_batch_document_bytes: int = Field(default=1024 * 1024 * 1024, gt=0)
    max_batch_documents: int = Field(default=5000, gt=0)
    pdf_dpi: int = Field(default=300, ge=72, le=600)
    max_page_points: float = Field(default=14400.0, gt=0)
    max_image_pixels: int = Field(default=50_000_000, gt=0)
    batch_workers: int = Field(default_factory=lambda: os.cpu_count() or 2, ge=1, le=64)
    shard_pages: int = Field(default=50, ge=1)

    @field_validator("processors")
    @classmethod
    def _well_formed(cls, value: list[str]) -> list[str]:
        from services.documentai.processors import parse_processor

        for entry in value:
            parse_processor(entry)  # raises ValueError naming the defect
        return value
