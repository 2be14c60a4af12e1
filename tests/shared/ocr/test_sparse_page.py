"""A few lines on a large white sheet: fewer than 2% of the pixels are ink, which once made the
clean-up take the page for a low-contrast one and stretch it to black (nothing read)."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont

from local.samples import SENTENCES, cer

pytest.importorskip("tesserocr")


def test_a_sparse_page_is_read():
    from shared.ocr import OcrSettings, create_engine

    lines = SENTENCES[5:8]
    image = Image.new("L", (3000, 3000), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=40)
    for row, line in enumerate(lines):
        draw.text((150, 400 + row * 90), line, fill=0, font=font)
    engine = create_engine(OcrSettings())
    try:
        page = engine.recognise(image)
    finally:
        engine.close()
    text = " ".join(word.text for word in page.words)
    assert cer("\n".join(lines), text) < 0.05, text
