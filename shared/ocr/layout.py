"""What the ink's shapes say before any reading: how tall the characters are, whether the lines
run across or down the image, and by how small an angle they are tilted."""

from __future__ import annotations

import cv2
import numpy as np

MAX_SKEW_DEGREES = 15.0
# Character-like components sampled for the line direction (the nearest-neighbour search is
# quadratic in their number; 400 is plenty to outvote stray dots and noise).
_DIRECTION_SAMPLE = 400


def binarise(grey: np.ndarray) -> np.ndarray:
    """Text pixels as 255, background 0 (Otsu; the paper is even by now)."""
    _, binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return binary


def _components(grey: np.ndarray) -> np.ndarray:
    """Stats rows (x, y, w, h, area) of the connected components of the ink."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(binarise(grey), connectivity=8)
    return stats[1:] if count > 1 else np.empty((0, 5), dtype=np.int32)


def char_height(grey: np.ndarray) -> float | None:
    """Median height of connected components that look like characters, or None."""
    stats = _components(grey)
    heights = stats[:, cv2.CC_STAT_HEIGHT]
    widths = stats[:, cv2.CC_STAT_WIDTH]
    areas = stats[:, cv2.CC_STAT_AREA]
    plausible = (
        (heights >= 4) & (heights < grey.shape[0] * 0.5) & (areas >= 6) & (widths < heights * 4)
    )
    if plausible.sum() < 3:
        return None
    return float(np.median(heights[plausible]))


def lines_run_down(grey: np.ndarray) -> bool:
    """Whether the text lines run vertically (a page or a line on its side).

    Each character-sized component votes for the direction of its nearest neighbour, which in
    running text is the next character of its line (letters sit closer than lines); one
    stretched along an axis (letters run together into a word) votes for that axis."""
    stats = _components(grey)
    widths = stats[:, cv2.CC_STAT_WIDTH].astype(float)
    heights = stats[:, cv2.CC_STAT_HEIGHT].astype(float)
    big = (np.maximum(widths, heights) >= 4) & (stats[:, cv2.CC_STAT_AREA] >= 6)
    limit = 0.5 * min(grey.shape)  # frames and rules are not characters
    big &= np.minimum(widths, heights) < limit
    stats, widths, heights = stats[big], widths[big], heights[big]
    if len(stats) < 3:
        return False
    across = down = 0
    stretched = np.maximum(widths, heights) > 2.5 * np.minimum(widths, heights)
    across += int(np.sum(stretched & (widths > heights)))
    down += int(np.sum(stretched & (heights > widths)))
    single = stats[~stretched]
    if len(single) >= 2:
        if len(single) > _DIRECTION_SAMPLE:
            step = len(single) / _DIRECTION_SAMPLE
            single = single[(np.arange(_DIRECTION_SAMPLE) * step).astype(int)]
        centres = single[:, :2] + single[:, 2:4] / 2.0
        delta = centres[:, None, :] - centres[None, :, :]
        distance = np.hypot(delta[..., 0], delta[..., 1])
        np.fill_diagonal(distance, np.inf)
        nearest = delta[np.arange(len(centres)), distance.argmin(axis=1)]
        across += int(np.sum(np.abs(nearest[:, 0]) > np.abs(nearest[:, 1])))
        down += int(np.sum(np.abs(nearest[:, 1]) > np.abs(nearest[:, 0])))
    return down > 1.5 * across


def estimate_skew(grey: np.ndarray) -> float:
    """Angle in degrees (counter-clockwise positive) that levels the text lines: the one whose
    horizontal projection profile has the largest variance, coarse then fine."""
    full = binarise(grey)
    # The coarse search (31 angles) on a copy of at most 500 px, the fine one (11) on 1000 px:
    # a 1-degree step needs no more, and the search was half the clean-up's time.
    binary, coarse = _shrunk(full, 1000.0), _shrunk(full, 500.0)
    if np.count_nonzero(binary) < 50:
        return 0.0

    def score(image: np.ndarray, angle: float) -> float:
        rotated = _rotate(image, angle, border=0)
        profile = rotated.sum(axis=1, dtype=np.float64)
        return float(np.var(profile))

    angles = np.arange(-MAX_SKEW_DEGREES, MAX_SKEW_DEGREES + 0.1, 1.0)
    best = max(angles, key=lambda angle: score(coarse, angle))
    fine = np.arange(best - 1.0, best + 1.01, 0.2)
    return float(max(fine, key=lambda angle: score(binary, angle)))


def _shrunk(binary: np.ndarray, longest: float) -> np.ndarray:
    scale = min(1.0, longest / max(binary.shape))
    if scale >= 1.0:
        return binary
    return cv2.resize(binary, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def _rotate(image: np.ndarray, angle: float, border: int) -> np.ndarray:
    height, width = image.shape
    rotation = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    return cv2.warpAffine(
        image,
        rotation,
        (width, height),
        flags=cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border,
    )
