"""The bytes of a document, checked and opened: PDFs through pypdfium2 (pages counted,
sizes checked, scans rendered) and pdfplumber (born-digital text), images through Pillow
(PNG, JPEG, TIFF with several pages, GIF, BMP, WEBP).

Every defect is INVALID_ARGUMENT starting with Google's own "Unsupported input file format."
(what Document AI answers for a file it cannot read) followed by what is wrong: not the
declared type, truncated, encrypted, a page too large.
"""

from __future__ import annotations

import contextlib
import io
import logging

from PIL import Image

from shared.errors import echo, invalid_argument

PDF = "application/pdf"
IMAGE_TYPES = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/jpg": "JPEG",
    "image/tiff": "TIFF",
    "image/tif": "TIFF",
    "image/gif": "GIF",
    "image/bmp": "BMP",
    "image/webp": "WEBP",
}
SUPPORTED = (PDF, *IMAGE_TYPES)
# pdfminer (under pdfplumber) warns about every oddity of a damaged file, naming its objects:
# noise in the service's log, and not ours to report (the file's own problems are answered).
logging.getLogger("pdfminer").setLevel(logging.ERROR)
UNSUPPORTED = "Unsupported input file format."
# A page whose text layer has fewer characters than this is read as a scan.
MIN_TEXT_CHARS = 8


def check_mime_type(mime_type: str) -> None:
    if not mime_type:
        raise invalid_argument(
            "mimeType is required: the document's MIME type, such as application/pdf."
        )
    if mime_type.lower() not in SUPPORTED:
        raise invalid_argument(
            f"{UNSUPPORTED} The mime type {echo(mime_type)} is not supported; "
            f"supported: {', '.join(SUPPORTED)}."
        )


class Source:
    """An opened document: its page count, and each page as text-with-positions (born-digital
    PDF pages) or as an image (scans and image files). Close it when done."""

    def __init__(self, data: bytes, mime_type: str, *, max_page_points: float,
                 max_pixels: int) -> None:  # fmt: skip
        self.mime_type = mime_type.lower()
        self._data = data
        self._max_points = max_page_points
        self._max_pixels = max_pixels
        self._pdf = None
        self._plumber = None
        self._image: Image.Image | None = None
        if self.mime_type == PDF:
            self._pdf = _open_pdf(data)
            self.page_count = len(self._pdf)
        else:
            self._image = _open_image(data, IMAGE_TYPES[self.mime_type])
            self.page_count = getattr(self._image, "n_frames", 1)
        if self.page_count < 1:
            raise invalid_argument(f"{UNSUPPORTED} The document has no pages.")

    def check_page_size(self, number: int) -> None:
        """INVALID_ARGUMENT when page `number` (1-based) is too large to read."""
        if self._pdf is not None:
            width, height = self._pdf_page(number).get_size()
            if max(width, height) > self._max_points:
                raise invalid_argument(
                    f"{UNSUPPORTED} Page {number} is {width:.0f} x {height:.0f} points; "
                    f"the largest page side read is {self._max_points:.0f} points "
                    f"({self._max_points / 72:.0f} in)."
                )
        else:
            image = self._frame(number)
            width, height = image.size
            if width * height > self._max_pixels:
                raise invalid_argument(
                    f"{UNSUPPORTED} Page {number} is {width} x {height} pixels; the limit is "
                    f"{self._max_pixels} pixels."
                )

    def text_page(self, number: int):
        """The pdfplumber page, when page `number` has a text layer; None for a scan."""
        if self._pdf is None:
            return None
        if self._plumber is None:
            import pdfplumber

            try:
                self._plumber = pdfplumber.open(io.BytesIO(self._data))
            except Exception:
                raise invalid_argument(f"{UNSUPPORTED} The PDF could not be parsed.") from None
        try:
            page = self._plumber.pages[number - 1]
            chars = page.chars
        except Exception:
            raise invalid_argument(
                f"{UNSUPPORTED} Page {number} of the PDF could not be parsed."
            ) from None
        if sum(1 for c in chars if c.get("text", "").strip()) < MIN_TEXT_CHARS:
            return None
        return page

    def image(self, number: int, dpi: int) -> Image.Image:
        """Page `number` as an RGB image (a PDF page rendered at `dpi`, capped to the pixel
        limit)."""
        if self._pdf is None:
            frame = self._frame(number)
            return frame.convert("RGB")
        page = self._pdf_page(number)
        width, height = page.get_size()
        scale = dpi / 72.0
        pixels = width * height * scale * scale
        if pixels > self._max_pixels:
            scale *= (self._max_pixels / pixels) ** 0.5
        try:
            bitmap = page.render(scale=scale)
            return bitmap.to_pil().convert("RGB")
        finally:
            page.close()

    def _pdf_page(self, number: int):
        import pypdfium2

        assert self._pdf is not None
        try:
            return self._pdf[number - 1]
        except pypdfium2.PdfiumError:
            raise invalid_argument(
                f"{UNSUPPORTED} Page {number} of the PDF could not be loaded (damaged)."
            ) from None

    def _frame(self, number: int) -> Image.Image:
        assert self._image is not None
        try:
            self._image.seek(number - 1)
            self._image.load()
        except (EOFError, OSError, ValueError):
            raise invalid_argument(
                f"{UNSUPPORTED} Page {number} of the image is unreadable."
            ) from None
        return self._image

    def close(self) -> None:
        if self._plumber is not None:
            with contextlib.suppress(Exception):
                self._plumber.close()
        if self._pdf is not None:
            self._pdf.close()
        if self._image is not None:
            self._image.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _open_pdf(data: bytes):
    import pypdfium2
    import pypdfium2.raw as pdfium_c

    if not data.lstrip()[:5] == b"%PDF-":
        raise invalid_argument(f"{UNSUPPORTED} The content is not a PDF (no %PDF- header).")
    # pdfium repairs a file cut short by rebuilding its cross-references, and would read what
    # is left; Google refuses such a file, and so do we.
    if b"%%EOF" not in data[-2048:]:
        raise invalid_argument(f"{UNSUPPORTED} The PDF is truncated (no %%EOF marker at its end).")
    try:
        return pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise invalid_argument(
                f"{UNSUPPORTED} The PDF is encrypted with a password; send it decrypted."
            ) from None
        raise invalid_argument(f"{UNSUPPORTED} The PDF is damaged: {exc}.") from None


def _open_image(data: bytes, kind: str) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
    except Exception:
        raise invalid_argument(f"{UNSUPPORTED} The content is not a readable image.") from None
    if image.format != kind and not (kind == "JPEG" and image.format == "MPO"):
        raise invalid_argument(
            f"{UNSUPPORTED} The content is {image.format or 'unknown'}, not the {kind} its "
            "mime type says."
        )
    return image
