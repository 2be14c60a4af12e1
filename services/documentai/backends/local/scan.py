"""A scanned page (an image, or a PDF page without a text layer) read with the shared OCR
engine (`shared.ocr`), into the same `PageContent` a born-digital page gives.

Before reading, the page is levelled (the skew that sharpens its lines' projection, within
15 degrees) so lines and table rules run straight; rules are found with morphology (long thin
runs of ink) and wiped out before OCR, so cell borders are not read as letters. Boxes are
therefore in the levelled image's pixels: what Google calls the page image after deskewing
(its `page.image`, when asked for, is this image).
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from services.documentai.backends.local.model import Box, CheckBox, PageContent, Rule, Word
from shared.ocr import layout as ocr_layout

# A rule is a run of ink at least this share of the page's shorter side long (a cell of a
# narrow column is still a few characters wide) and at most `_RULE_THICKNESS` thick.
_RULE_SHARE = 1 / 30
_RULE_THICKNESS = 12


def level(image: Image.Image) -> Image.Image:
    grey = np.asarray(image.convert("L"), dtype=np.uint8)
    # The angle is the same at any scale: measure it on a copy of about 1,000 px, whose
    # area averaging also smooths the grain (a median over the full page cost 0.3 s).
    scale = min(1.0, 1000.0 / max(grey.shape))
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    angle = ocr_layout.estimate_skew(cv2.medianBlur(small, 3))
    if abs(angle) < 0.2:
        return image
    # PIL rotates counter-clockwise for positive angles, as `estimate_skew` measures.
    return image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)


def find_rules(grey: np.ndarray) -> tuple[list[Rule], np.ndarray]:
    """Horizontal and vertical rules, and the mask of their pixels."""
    smooth = cv2.medianBlur(grey, 3)
    binary = cv2.adaptiveThreshold(
        smooth, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15
    )
    length = max(20, int(min(grey.shape) * _RULE_SHARE))
    rules: list[Rule] = []
    mask = np.zeros_like(binary)
    for horizontal in (True, False):
        kernel = cv2.getStructuringElement(
            cv2.MORPH_RECT, (length, 1) if horizontal else (1, length)
        )
        lines = cv2.morphologyEx(binary, cv2.MORPH_OPEN, kernel)
        # Close small breaks (noise, JPEG) along the rule.
        lines = cv2.dilate(lines, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
        count, _, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
        for x, y, w, h, _area in stats[1:count]:
            thick = h if horizontal else w
            if thick > _RULE_THICKNESS * 2:
                continue
            if horizontal:
                rules.append(Rule(True, y + h / 2, float(x), float(x + w)))
            else:
                rules.append(Rule(False, x + w / 2, float(y), float(y + h)))
        mask |= lines
    return rules, mask


def clean(grey: np.ndarray) -> np.ndarray:
    """Scanner noise (specks, grain) removed and the page made black on white.

    Tesseract reads specks as letters, and on a sparse page (a form is mostly paper) the
    shared clean-up takes grain on white paper for low contrast and stretches it. A 3x3
    median removes specks at scanning resolutions (strokes are 3 px and more at 200 dpi);
    Otsu's threshold then separates ink from paper, after dividing by the paper's own
    brightness so shadows and gradients do not turn black; a light blur gives the hard
    edges back the antialiasing Tesseract was trained on (measured on generated scans: 2 of
    42 fields and 5 of 180 cells misread without it, 1 and 1 with it)."""
    smooth = cv2.medianBlur(grey, 3)
    background = cv2.medianBlur(cv2.resize(smooth, None, fx=0.125, fy=0.125), 15)
    background = cv2.resize(background, (grey.shape[1], grey.shape[0]))
    flat = np.clip(smooth.astype(np.float32) * 255.0 / np.maximum(background, 1), 0, 255)
    _, binary = cv2.threshold(flat.astype(np.uint8), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return cv2.GaussianBlur(binary, (3, 3), 0)


def read_page(image: Image.Image, number: int, engine, hints: list[str]) -> PageContent:
    # Grey from here on: turning and reading a grey page costs a third of an RGB one.
    image = level(image.convert("L"))
    content = _read(image, number, engine, hints, detect_orientation=True)
    if content.orientation:
        # A page scanned on its side or upside down: read it again turned upright, so that
        # reading order, lines and tables work on upright text (Google reports the turn in
        # `layout.orientation`; boxes here are on the upright page image).
        turned = image.rotate(content.orientation, expand=True, fillcolor=255)
        orientation = content.orientation
        content = _read(turned, number, engine, hints, detect_orientation=False)
        content.orientation = orientation
    return content


def _read(image: Image.Image, number: int, engine, hints: list[str], *,
          detect_orientation: bool) -> PageContent:  # fmt: skip
    grey = np.asarray(image.convert("L"), dtype=np.uint8)
    rules, mask = find_rules(grey)
    cleaned = clean(grey)
    cleaned[mask > 0] = 255
    page = engine.recognise(Image.fromarray(cleaned), hints, detect_orientation=detect_orientation)
    words = []
    for word in page.words:
        xs = [x for x, _ in word.box]
        ys = [y for _, y in word.box]
        text = word.text.strip()
        if text:
            words.append(Word(text, Box(min(xs), min(ys), max(xs), max(ys)), word.confidence))
    width, height = image.size
    content = PageContent(number, float(width), float(height), "pixels", words, rules)
    content.checkboxes = find_checkboxes(cleaned, content.text_height)
    if content.checkboxes:
        # What the OCR made of the boxes themselves ("[]", "(_]", "X") is not text.
        content.words = [
            w for w in words if not any(_overlaps(w.box, b.box) for b in content.checkboxes)
        ]
    content.image = image
    content.languages = [(lang.code, lang.confidence) for lang in page.languages]
    content.orientation = page.orientation
    return content


def find_checkboxes(cleaned: np.ndarray, unit: float) -> list[CheckBox]:
    """Hollow squares about a character high (0.5 to 2.2 word heights): the outline's area
    fills its bounding box (a ring "O" fills ~79%, a square's ~100%) and it has a hole; filled
    when more than a tenth of the inside is ink (a cross, a tick, a blot)."""
    ink = (cleaned < 128).astype(np.uint8)
    contours, hierarchy = cv2.findContours(ink, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    found = []
    for i, contour in enumerate(contours):
        _next, _prev, child, parent = hierarchy[0][i]
        if parent != -1 or child == -1:
            continue
        x, y, w, h = cv2.boundingRect(contour)
        if not (0.5 * unit <= w <= 2.2 * unit and abs(w - h) <= 0.2 * max(w, h)):
            continue
        if cv2.contourArea(contour) < 0.88 * w * h:
            continue
        hole = cv2.boundingRect(contours[child])
        if hole[2] * hole[3] < 0.4 * w * h:
            continue
        border = max(2, w // 6)
        inside = ink[y + border : y + h - border, x + border : x + w - border]
        filled = bool(inside.size) and float(inside.mean()) > 0.1
        found.append(CheckBox(Box(float(x), float(y), float(x + w), float(y + h)), filled))
    return found


def _overlaps(a: Box, b: Box) -> bool:
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return width > 0 and height > 0 and width * height >= 0.3 * (a.width * a.height)
