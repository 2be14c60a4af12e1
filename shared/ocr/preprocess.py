"""Image clean-up before OCR, with the geometry kept so boxes map back to the original image.

Tesseract reads best upright, level, dark-on-light text whose capitals are 20-40 px tall. Photos
and scans are none of these, so `prepare` does, in order:

1. grey scale (alpha composited on white), polarity fixed to dark text on a light background;
2. scale so the median character height is about `TARGET_CHAR_HEIGHT` px (never more than 4x,
   never down below 1x unless the image is huge);
3. contrast stretched with CLAHE when the ink and paper are close (low-contrast photos);
4. noise removed with a median filter when the image is speckled;
5. deskew by the angle that sharpens the horizontal projection profile (within +/-15 degrees);
6. coarse orientation (90/180/270) is decided in `pipeline.py`, which applies it with
   `rotate90` here so the transform stays in one place.

Every step composes a 3x3 affine matrix from original to processed coordinates;
`Prepared.to_original` inverts it for the boxes Tesseract returns.
"""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np
from PIL import Image

TARGET_CHAR_HEIGHT = 32.0
MAX_UPSCALE = 4.0
# Downscale only beyond this many pixels: OCR time grows with area, accuracy does not.
MAX_PIXELS = 12_000_000
MAX_SKEW_DEGREES = 15.0


@dataclasses.dataclass
class Prepared:
    """The image Tesseract reads, and the transform from the original image to it."""

    image: np.ndarray  # uint8, grey, dark text on light
    matrix: np.ndarray  # 3x3, original -> processed
    original_size: tuple[int, int]  # (width, height)
    orientation: int = 0  # clockwise degrees the text was turned in the original (0/90/180/270)
    skew: float = 0.0  # degrees counter-clockwise that levelled the lines

    def to_original(self, points: list[tuple[float, float]]) -> list[tuple[int, int]]:
        """Map processed-image points back, clipped to the original image."""
        inverse = np.linalg.inv(self.matrix)
        width, height = self.original_size
        mapped = []
        for x, y in points:
            ox, oy, _ = inverse @ np.array([x, y, 1.0])
            mapped.append((round(min(max(ox, 0), width)), round(min(max(oy, 0), height))))
        return mapped

    def pil(self) -> Image.Image:
        return Image.fromarray(self.image)

    def rotate90(self, degrees: int) -> None:
        """Rotate the processed image counter-clockwise by 90, 180 or 270 degrees."""
        turns = (degrees // 90) % 4
        if not turns:
            return
        height, width = self.image.shape[:2]
        self.image = np.ascontiguousarray(np.rot90(self.image, turns))
        # np.rot90 turns counter-clockwise: (x, y) -> (y, W-1-x) for one turn, and so on.
        step = {
            1: np.array([[0, 1, 0], [-1, 0, width - 1], [0, 0, 1]], dtype=float),
            2: np.array([[-1, 0, width - 1], [0, -1, height - 1], [0, 0, 1]], dtype=float),
            3: np.array([[0, -1, height - 1], [1, 0, 0], [0, 0, 1]], dtype=float),
        }[turns]
        self.matrix = step @ self.matrix
        self.orientation = (self.orientation + degrees) % 360


def to_grey(image: Image.Image) -> np.ndarray:
    """Grey uint8 array; transparent pixels become white (text on a transparent PNG)."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.asarray(image.convert("L"), dtype=np.uint8)


def prepare(image: Image.Image) -> Prepared:
    grey = to_grey(image)
    height, width = grey.shape
    prepared = Prepared(image=grey, matrix=np.eye(3), original_size=(width, height))
    _fix_polarity(prepared)
    _rescale(prepared)
    _enhance_contrast(prepared)
    _denoise(prepared)
    _deskew(prepared)
    return prepared


def _binarise(grey: np.ndarray) -> np.ndarray:
    """Text pixels as 255, background 0 (Otsu)."""
    _, binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return binary


def _fix_polarity(prepared: Prepared) -> None:
    # Light text on a dark background: the background (the majority after Otsu) is dark.
    grey = prepared.image
    threshold, _ = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if np.mean(grey > threshold) < 0.4:
        prepared.image = 255 - grey


def _char_height(grey: np.ndarray) -> float | None:
    """Median height of connected components that look like characters, or None."""
    binary = _binarise(grey)
    count, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count <= 1:
        return None
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    widths = stats[1:, cv2.CC_STAT_WIDTH]
    areas = stats[1:, cv2.CC_STAT_AREA]
    image_height = grey.shape[0]
    plausible = (
        (heights >= 4) & (heights < image_height * 0.5) & (areas >= 6) & (widths < heights * 4)
    )
    if plausible.sum() < 3:
        return None
    return float(np.median(heights[plausible]))


def _rescale(prepared: Prepared) -> None:
    height, width = prepared.image.shape
    scale = 1.0
    char_height = _char_height(prepared.image)
    if char_height:
        scale = min(max(TARGET_CHAR_HEIGHT / char_height, 1.0), MAX_UPSCALE)
    if width * height * scale * scale > MAX_PIXELS:
        scale = math.sqrt(MAX_PIXELS / (width * height))
    if abs(scale - 1.0) < 0.15:
        return
    interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    prepared.image = cv2.resize(
        prepared.image, None, fx=scale, fy=scale, interpolation=interpolation
    )
    prepared.matrix = np.diag([scale, scale, 1.0]) @ prepared.matrix


def _enhance_contrast(prepared: Prepared) -> None:
    grey = prepared.image
    low, high = np.percentile(grey, [2, 98])
    if high - low >= 96:
        return
    # Stretch first, so CLAHE works on the full range; tiles of about 8 characters.
    stretched = np.clip((grey.astype(np.float32) - low) * 255.0 / max(high - low, 1), 0, 255)
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    prepared.image = clahe.apply(stretched.astype(np.uint8))


def _noise_level(grey: np.ndarray) -> float:
    """Mean absolute difference between the image and its median-filtered self."""
    smooth = cv2.medianBlur(grey, 3)
    return float(np.mean(cv2.absdiff(grey, smooth)))


def _denoise(prepared: Prepared) -> None:
    if _noise_level(prepared.image) > 6.0:
        prepared.image = cv2.medianBlur(prepared.image, 3)
        if _noise_level(prepared.image) > 6.0:
            prepared.image = cv2.fastNlMeansDenoising(prepared.image, None, 15, 7, 21)


def estimate_skew(grey: np.ndarray) -> float:
    """Angle in degrees (counter-clockwise positive) that levels the text lines: the one whose
    horizontal projection profile has the largest variance, coarse then fine."""
    binary = _binarise(grey)
    small_scale = min(1.0, 1000.0 / max(binary.shape))
    if small_scale < 1.0:
        binary = cv2.resize(
            binary, None, fx=small_scale, fy=small_scale, interpolation=cv2.INTER_AREA
        )
    if np.count_nonzero(binary) < 50:
        return 0.0

    def score(angle: float) -> float:
        rotated = _rotate(binary, angle, border=0)
        profile = rotated.sum(axis=1, dtype=np.float64)
        return float(np.var(profile))

    best = max(np.arange(-MAX_SKEW_DEGREES, MAX_SKEW_DEGREES + 0.1, 1.0), key=score)
    fine = np.arange(best - 1.0, best + 1.01, 0.1)
    return float(max(fine, key=score))


def _deskew(prepared: Prepared) -> None:
    angle = estimate_skew(prepared.image)
    if abs(angle) < 0.3:
        return
    height, width = prepared.image.shape
    rotation = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    # Grow the canvas so no corner is cut off.
    cos, sin = abs(rotation[0, 0]), abs(rotation[0, 1])
    new_width, new_height = int(height * sin + width * cos), int(height * cos + width * sin)
    rotation[0, 2] += new_width / 2 - width / 2
    rotation[1, 2] += new_height / 2 - height / 2
    prepared.image = cv2.warpAffine(
        prepared.image,
        rotation,
        (new_width, new_height),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=255,
    )
    prepared.matrix = np.vstack([rotation, [0, 0, 1]]) @ prepared.matrix
    prepared.skew = angle


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
