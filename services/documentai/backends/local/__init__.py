"""The `local` backend: Document AI's OCR and form parser answered offline.

- born-digital PDF pages: pdfplumber (the file's own characters with positions, its ruled
  lines and check boxes; see `digital.py`);
- scans (PDF pages without a text layer) and images (PNG, JPEG, multi-page TIFF, GIF, BMP,
  WEBP): rendered with pypdfium2 where needed, levelled, table rules found and wiped, read
  with the shared Tesseract engine (`shared.ocr`; orientation by comparing readings; see
  `scan.py`);
- then the same path for both: reading order by X-Y cut (`layout.py`), ruled tables
  (`tables.py`), key/value pairs and check boxes by layout (`forms.py`), the `Document` in
  Google's shape (`document.py`).

Honoured request fields: `rawDocument` (content, mimeType), `inlineDocument` (content,
mimeType, or `uri` in Cloud Storage), `gcsDocument`, `processOptions.individualPageSelector`,
`fromStart`, `fromEnd`, `processOptions.ocrConfig.hints.languageHints` (OCR languages),
`processOptions.layoutConfig.chunkingConfig` (`chunkSize` in words, `includeAncestorHeadings`),
`imagelessMode` (30 pages instead of 15; `page.image` is only returned without it and only
for scans, when `fieldMask` asks for `pages.image`), `fieldMask`. Accepted and ignored:
`skipHumanReview` (there is no human review; `humanReviewStatus` is SKIPPED), `labels`,
`processOptions.layoutConfig`, `schemaOverride`, the other `ocrConfig` switches.
Approximations: confidences are 1 for born-digital text and Tesseract's for scans; the first
row of a ruled table is its header; unruled tables are not found; entities only for
INVOICE_PROCESSOR, from labelled fields and line-item tables (`entities.py`); the OCR and
form parser processors give none (Google's give none either, apart from generic ones).
"""

from __future__ import annotations

import concurrent.futures
import os
import threading

from services.documentai import pages as page_selection
from services.documentai.backends.base import Limits
from services.documentai.backends.local import (
    digital,
    document,
    entities,
    files,
    layoutparser,
    masks,
    scan,
)
from services.documentai.settings import DocumentAISettings
from shared.errors import invalid_argument
from shared.gapictypes import message_types
from shared.storage import Storage

documentai = message_types("google.cloud.documentai_v1")

# pdfium is not thread-safe: every call into it, from any document, holds this lock.
PDFIUM_LOCK = threading.Lock()


class LocalBackend:
    def __init__(self, settings: DocumentAISettings, storage: Storage) -> None:
        self._settings = settings
        self._storage = storage
        self._ocr = None
        self._langid = None
        # Protects the lazy creation of the OCR engine and the language identifier.
        self._lock = threading.Lock()
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=os.cpu_count() or 2, thread_name_prefix="documentai-page"
        )

    def process(
        self, request: documentai.ProcessRequest, processor_type: str, limits: Limits
    ) -> documentai.ProcessResponse:
        data, mime_type = self._content(request, limits)
        form_parser = processor_type in (
            "FORM_PARSER_PROCESSOR",
            "INVOICE_PROCESSOR",
            "LAYOUT_PARSER_PROCESSOR",
        )
        hints = list(request.process_options.ocr_config.hints.language_hints)
        wants_images = masks.wants(request.field_mask, "pages.image") and not request.imageless_mode
        doc = self.read(
            data,
            mime_type,
            options=request.process_options if "process_options" in request else None,
            form_parser=form_parser,
            limits=limits,
            imageless=request.imageless_mode,
            hints=hints,
            images=wants_images,
            layout_config=request.process_options.layout_config
            if processor_type == "LAYOUT_PARSER_PROCESSOR"
            else None,
        )
        if processor_type == "INVOICE_PROCESSOR":
            doc.entities = entities.extract(doc)
            # Google's specialised processors answer with entities, not form fields.
            for page in doc.pages:
                del page.form_fields[:]
                del page.tables[:]
        if request.field_mask.paths:
            doc = masks.apply(doc, list(request.field_mask.paths))
        return documentai.ProcessResponse(
            document=doc,
            human_review_status=documentai.HumanReviewStatus(
                state=documentai.HumanReviewStatus.State.SKIPPED
            ),
        )

    def read(
        self,
        data: bytes,
        mime_type: str,
        *,
        options: documentai.ProcessOptions | None,
        form_parser: bool,
        limits: Limits,
        imageless: bool = False,
        hints: list[str] | None = None,
        images: bool = False,
        layout_config: documentai.ProcessOptions.LayoutConfig | None = None,
    ) -> documentai.Document:
        files.check_mime_type(mime_type)
        settings = self._settings
        with PDFIUM_LOCK:
            source = files.Source(
                data,
                mime_type,
                max_page_points=settings.max_page_points,
                max_pixels=settings.max_image_pixels,
            )
        try:
            numbers = page_selection.select(options, source.page_count)
            if limits.online:
                page_selection.check_online(len(numbers), imageless)
            else:
                page_selection.check_batch(len(numbers), limits.batch_pages, "this processor")
            contents = self._pages(source, numbers, hints or [])
        finally:
            with PDFIUM_LOCK:
                source.close()
        self._detect_languages(contents)
        analysed = [document.analyse(c, form_parser=form_parser) for c in contents]
        if layout_config is not None:
            return layoutparser.build(analysed, mime_type.lower(), layout_config)
        return document.build(analysed, mime_type=mime_type.lower(), images=images)

    def _pages(self, source: files.Source, numbers: list[int], hints: list[str]):
        engine = None
        pending = []
        for number in numbers:
            with PDFIUM_LOCK:
                source.check_page_size(number)
            text_page = source.text_page(number)
            if text_page is not None:
                pending.append(digital.read_page(text_page, number))
                continue
            with PDFIUM_LOCK:
                image = source.image(number, self._settings.pdf_dpi)
            engine = engine or self._ocr_engine()
            engine.languages(hints)  # bad language hints fail before any reading
            pending.append(self._executor.submit(scan.read_page, image, number, engine, hints))
        return [p.result() if isinstance(p, concurrent.futures.Future) else p for p in pending]

    def _ocr_engine(self):
        with self._lock:
            if self._ocr is None:
                import shared.ocr

                self._ocr = shared.ocr.create_engine(self._settings)
            return self._ocr

    def _detect_languages(self, contents) -> None:
        """Born-digital pages: their language from their text (lingua, low-accuracy mode:
        ~12 MB); scans carry the OCR's."""
        for content in contents:
            if content.languages or not content.words:
                continue
            with self._lock:
                if self._langid is None:
                    from shared.langid import DEFAULT_LANGUAGES, LanguageIdentifier

                    self._langid = LanguageIdentifier(DEFAULT_LANGUAGES, "low")
            text = " ".join(w.text for w in content.words[:400])
            found = self._langid.detect(text)
            content.languages = [(code, round(conf, 3)) for code, conf in found[:1]]

    def _content(self, request: documentai.ProcessRequest, limits: Limits) -> tuple[bytes, str]:
        which = documentai.ProcessRequest.pb(request).WhichOneof("source")
        if which == "raw_document":
            raw = request.raw_document
            self._check_size(len(raw.content), limits)
            if not raw.content:
                raise invalid_argument("rawDocument.content is empty.")
            return raw.content, raw.mime_type
        if which == "inline_document":
            inline = request.inline_document
            if inline.content:
                self._check_size(len(inline.content), limits)
                return inline.content, inline.mime_type
            if inline.uri:
                return self._storage.read(inline.uri, max_bytes=limits.max_bytes), inline.mime_type
            raise invalid_argument("inlineDocument has neither content nor uri.")
        if which == "gcs_document":
            gcs = request.gcs_document
            if not gcs.gcs_uri:
                raise invalid_argument("gcsDocument.gcsUri is required.")
            return self._storage.read(gcs.gcs_uri, max_bytes=limits.max_bytes), gcs.mime_type
        raise invalid_argument(
            "A document is required: give rawDocument, inlineDocument or gcsDocument."
        )

    @staticmethod
    def _check_size(size: int, limits: Limits) -> None:
        if size > limits.max_bytes:
            raise invalid_argument(
                f"Document size {size} bytes exceeds the limit of {limits.max_bytes} bytes for "
                "online processing. Use batchProcess for larger documents."
            )

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._ocr is not None:
            self._ocr.close()
