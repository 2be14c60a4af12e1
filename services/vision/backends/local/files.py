"""Pages of PDF, TIFF and GIF files for `files:annotate`.

Pages are numbered from 1; negative numbers count from the end (-1 is the last page), as
`AnnotateFileRequest.pages` defines. Without `pages`, the first 5 are read; more than 5 is
INVALID_ARGUMENT, as Google answers. PDF pages are rendered at `PDF_DPI` (capped so a page stays
within the pixel limit) with pypdfium2.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence

from PIL import Image

from services.vision.backends.local.images import BAD_IMAGE, ImageLimits, decode
from shared.errors import invalid_argument

MAX_PAGES = 5
PDF_DPI = 200
SUPPORTED = ("application/pdf", "image/tiff", "image/gif")


def select_pages(requested: Sequence[int], total: int) -> list[int]:
    """1-based page numbers to read, in the order asked."""
    if len(requested) > MAX_PAGES:
        raise invalid_argument(f"At most {MAX_PAGES} pages in one call please.")
    if not requested:
        return list(range(1, min(total, MAX_PAGES) + 1))
    pages = []
    for number in requested:
        page = total + number + 1 if number < 0 else number
        if not 1 <= page <= total:
            raise invalid_argument(f"Invalid page number {number}: the file has {total} pages.")
        pages.append(page)
    return pages


def count_pages(data: bytes, mime_type: str) -> int:
    if mime_type == "application/pdf":
        document = _open_pdf(data)
        try:
            return len(document)
        finally:
            document.close()
    image = _open_frames(data, None)
    return getattr(image, "n_frames", 1)


def render_pages(
    data: bytes, mime_type: str, pages: Sequence[int], limits: ImageLimits
) -> Iterator[tuple[int, Image.Image]]:
    """(page number, image) for each page asked."""
    if mime_type == "application/pdf":
        yield from _render_pdf(data, pages, limits)
        return
    image = _open_frames(data, limits)
    for page in pages:
        try:
            image.seek(page - 1)
        except EOFError:
            raise invalid_argument(BAD_IMAGE) from None
        _check_pixels(image, limits)
        buffer = io.BytesIO()
        image.copy().save(buffer, format="PNG")
        yield page, decode(buffer.getvalue(), limits)


def _render_pdf(data: bytes, pages: Sequence[int], limits: ImageLimits):
    document = _open_pdf(data)
    try:
        for page_number in pages:
            page = document[page_number - 1]
            width_pt, height_pt = page.get_size()
            scale = PDF_DPI / 72.0
            pixels = width_pt * height_pt * scale * scale
            if pixels > limits.max_pixels:
                scale *= (limits.max_pixels / pixels) ** 0.5
            bitmap = page.render(scale=scale)
            yield page_number, bitmap.to_pil().convert("RGB")
            page.close()
    finally:
        document.close()


def _open_pdf(data: bytes):
    import pypdfium2

    try:
        return pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError:
        raise invalid_argument("Bad PDF data.") from None


def _open_frames(data: bytes, limits: ImageLimits | None) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        image.seek(0)
    except Exception:
        raise invalid_argument(BAD_IMAGE) from None
    if limits:
        _check_pixels(image, limits)
    return image


def _check_pixels(image: Image.Image, limits: ImageLimits) -> None:
    width, height = image.size
    if width * height > limits.max_pixels:
        raise invalid_argument(
            f"Page is {width}x{height} pixels; the limit is {limits.max_pixels} pixels."
        )
