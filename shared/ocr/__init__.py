"""The OCR engine that every service reading text shares (vision, Document AI).

    engine = shared.ocr.create_engine(settings)      # settings: a `shared.ocr.OcrSettings`
    page = engine.recognise(pil_image, ["en"])       # -> shared.ocr.types.Page

The result is engine-neutral (`types.py`): blocks -> paragraphs -> lines -> words -> symbols,
boxes in the original image's pixels, confidences, languages, breaks, the page's orientation.
Each service converts it to its API's types. The heavy parts (tesserocr, OpenCV, NumPy,
Pillow) are imported only by `create_engine`, so a `cloud` process that imports this package
for its settings loads none of them.

Modules: `settings.py` (the shared settings), `types.py` (the result), `languages.py` (language
codes and data, pure Python), `preprocess.py` (clean-up with the geometry kept),
`pipeline.py` (clean-up, reading, orientation), `tesseract.py` (the Tesseract reader),
`rapid.py` (the RapidOCR reader, `OCR_ENGINE=rapidocr`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.ocr.settings import OcrSettings

if TYPE_CHECKING:
    from shared.ocr.pipeline import Reader, Recogniser

__all__ = ["OcrSettings", "Recogniser", "create_engine"]


def create_engine(settings: OcrSettings) -> Recogniser:
    """The configured engine (`settings.ocr_engine`), ready to read (Tesseract's language data
    and RapidOCR's install are checked here; models load on first use)."""
    from shared.ocr.pipeline import Recogniser

    if settings.ocr_engine == "rapidocr":
        from shared.ocr.rapid import RapidOcrReader

        reader: Reader = RapidOcrReader(settings.ocr_engines, settings.ocr_threads)
    else:
        from shared.ocr.tesseract import TesseractReader

        reader = TesseractReader(settings.tessdata, max_per_key=settings.ocr_engines)
    return Recogniser(reader, settings.ocr_languages)
