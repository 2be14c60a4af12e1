"""Spaces a recogniser left out, put back from the ink.

PP-OCR's recogniser reads a line as one sequence and often drops the space between words set
close together ("1,250.00EUR", "84.20and tax16.84"), which matters downstream: the entity
extractor then sees one token. Between two characters it read side by side, a space belongs
where the line's ink has a gap as wide as the word spaces it did read (`SAME_AS_SPACES` of
their median: monospaced fonts leave wide gaps around narrow letters and full stops, so a fixed
share of the height will not do), and never narrower than `WORD_GAP_LEAST` of the ink's height;
on a line with no space read, at least `WORD_GAP_ALONE` of it.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np

SAME_AS_SPACES = 0.9
WORD_GAP_LEAST = 0.2
WORD_GAP_ALONE = 0.45


def restore_spaces(image: np.ndarray, text: str, chars: list) -> str:
    """`text` with a space added between consecutive characters that a word-wide ink gap
    separates. `image` is grey, dark ink on light paper; `chars` are (character, confidence,
    corners) for the non-space characters of `text`, in order, in `image`'s pixels."""
    if len(chars) < 2:
        return text
    corners = np.concatenate([np.asarray(q, float).reshape(-1, 2) for _, _, q in chars])
    left, top = np.floor(corners.min(axis=0)).astype(int)
    right, bottom = np.ceil(corners.max(axis=0)).astype(int)
    height, width = image.shape[:2]
    left, top = max(left, 0), max(top, 0)
    right, bottom = min(right, width), min(bottom, height)
    crop = image[top:bottom, left:right]
    if crop.size == 0 or crop.shape[0] < 4 or crop.shape[1] < 4:
        return text
    _, ink = cv2.threshold(crop, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return text
    ink_height = rows[-1] - rows[0] + 1
    empty = ~ink.any(axis=0)
    centres = [float(np.asarray(q, float).reshape(-1, 2)[:, 0].mean()) - left for _, _, q in chars]
    runs = [_widest_run(empty, a, b) for a, b in itertools.pairwise(centres)]
    # Whether the recogniser put a space before each character but the first.
    spaced, seen, after_space = [], 0, False
    for char in text:
        if char.isspace():
            after_space = True
            continue
        if seen:
            spaced.append(after_space)
        seen, after_space = seen + 1, False
    known = [run for run, space in zip(runs, spaced, strict=False) if space]
    if known:
        min_gap = max(SAME_AS_SPACES * float(np.median(known)), WORD_GAP_LEAST * ink_height)
    else:
        min_gap = WORD_GAP_ALONE * ink_height
    out, index = [], 0
    for position, char in enumerate(text):
        if char.isspace():
            out.append(char)
            continue
        if index and not text[position - 1].isspace() and runs[index - 1] >= min_gap:
            out.append(" ")
        out.append(char)
        index += 1
    return "".join(out)


def _widest_run(empty: np.ndarray, a: float, b: float) -> int:
    """The widest run of inkless columns between columns a and b."""
    widest = run = 0
    for column in range(max(int(a), 0), min(int(b) + 1, empty.size)):
        run = run + 1 if empty[column] else 0
        widest = max(widest, run)
    return widest
