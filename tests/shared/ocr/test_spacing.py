"""Spaces a recogniser dropped, put back from the ink (`shared.ocr.spacing`), on lines rendered
here with each character's box measured from the font, as RapidOCR reports them."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from local.samples import font
from shared.ocr.spacing import restore_spaces


def _line(text: str, face_name: str, size: int = 32):
    """The rendered line (grey, dark on light) and (char, 1.0, corners) per non-space char."""
    face = font(face_name, size)
    width = int(face.getlength(text)) + 40
    image = Image.new("L", (width, size * 2), 255)
    ImageDraw.Draw(image).text((20, size // 2), text, font=face, fill=0)
    chars = []
    for index, char in enumerate(text):
        if char.isspace():
            continue
        left = 20 + face.getlength(text[:index])
        right = 20 + face.getlength(text[: index + 1])
        top, bottom = size // 2, size // 2 + size
        chars.append((char, 1.0, [[left, top], [right, top], [right, bottom], [left, bottom]]))
    return np.asarray(image), chars


def test_a_dropped_space_is_put_back():
    image, chars = _line("Total amount payable: 1,250.00 EUR", "sans")
    assert restore_spaces(image, "Total amount payable: 1,250.00EUR", chars) == (
        "Total amount payable: 1,250.00 EUR"
    )


def test_several_dropped_spaces_in_a_serif_line():
    image, chars = _line("Subtotal 84.20 and tax 16.84 make 101.04", "serif")
    assert restore_spaces(image, "Subtotal 84.20and tax16.84 make 101.04", chars) == (
        "Subtotal 84.20 and tax 16.84 make 101.04"
    )


def test_monospaced_gaps_around_narrow_letters_are_not_spaces():
    text = "Fill in the list, till 11.30 at the latest."
    image, chars = _line(text, "mono")
    assert restore_spaces(image, text, chars) == text


def test_a_line_read_right_is_left_alone():
    for face in ("sans", "serif", "sans-bold", "serif-dejavu"):
        text = "Invoice 4471 is due on 12 March 2026."
        image, chars = _line(text, face)
        assert restore_spaces(image, text, chars) == text, face
