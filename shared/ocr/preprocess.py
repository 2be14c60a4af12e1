"""Image clean-up before OCR, with the geometry kept so boxes map back to the original image.

Engines read best upright, level, dark-on-light text on even paper whose capitals are 20-40 px
tall. Photos and scans are none of these, so `prepare` does, in order (each step only when its
detector says so: see `cleanup.py` and `layout.py`):

1. grey scale (alpha composited on white; for colour, the channel with the most contrast);
2. salt-and-pepper specks removed at the original resolution (what sticks to the strokes goes
   with a median filter after step 6);
3. polarity fixed to dark text on a light background;
4. uneven paper (gradients, shadows) flattened by dividing by the paper's own brightness;
5. Gaussian noise removed with non-local means;
6. scale so the median character height is about `TARGET_CHAR_HEIGHT` px (never more than 4x,
   never down below 1x unless the image is huge), then sharpened if the edges were blurred;
7. contrast stretched with CLAHE when the ink and paper are close (low-contrast photos);
8. lines running down the image turned across (a quarter turn; which way round is decided by
   comparing readings in `pipeline.py`);
9. deskew by the angle that sharpens the horizontal projection profile (within +/-15 degrees).

Every step composes a 3x3 affine matrix from original to processed coordinates;
`Prepared.to_original` inverts it for the boxes the engine returns.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image

from shared.ocr import cleanup, layout

TARGET_CHAR_HEIGHT = 32.0
MAX_UPSCALE = 4.0
# Downscale only beyond this many pixels: OCR time grows with area, accuracy does not.
MAX_PIXELS = 12_000_000


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
        return self.mapper()(points)

    def mapper(self) -> Callable[[list[tuple[float, float]]], list[tuple[int, int]]]:
        """`to_original` with the inverse computed once (a page has thousands of boxes)."""
        inverse = np.linalg.inv(self.matrix)
        width, height = self.original_size

        def mapped(points: list[tuple[float, float]]) -> list[tuple[int, int]]:
            xy = np.asarray(points, dtype=float).reshape(-1, 2)
            out = xy @ inverse[:2, :2].T + inverse[:2, 2]
            out[:, 0] = np.clip(out[:, 0], 0, width)
            out[:, 1] = np.clip(out[:, 1], 0, height)
            return [(round(x), round(y)) for x, y in out.tolist()]

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


def prepare(image: Image.Image) -> Prepared:
    grey, specks = cleanup.remove_impulse_noise(cleanup.to_grey(image))
    height, width = grey.shape
    prepared = Prepared(image=grey, matrix=np.eye(3), original_size=(width, height))
    background = cleanup.paper(grey)
    if cleanup.text_is_lighter(grey, background):
        grey = 255 - grey
    grey = cleanup.flatten(grey, cleanup.paper(grey, dark_ink=True))
    prepared.image = cleanup.remove_gaussian_noise(grey)
    blurred = cleanup.is_blurred(prepared.image)
    scale = _rescale(prepared)
    if blurred:
        prepared.image = cleanup.sharpen(prepared.image, scale)
    if specks:
        # What salt and pepper stuck to the strokes is a pixel or two, wider strokes now.
        prepared.image = cv2.medianBlur(prepared.image, 3)
    prepared.image = cleanup.enhance_contrast(prepared.image)
    if layout.lines_run_down(prepared.image):
        prepared.rotate90(90)
    _deskew(prepared)
    return prepared


def _rescale(prepared: Prepared) -> float:
    height, width = prepared.image.shape
    scale = 1.0
    char_height = layout.char_height(prepared.image)
    if char_height:
        scale = min(max(TARGET_CHAR_HEIGHT / char_height, 1.0), MAX_UPSCALE)
    if width * height * scale * scale > MAX_PIXELS:
        scale = math.sqrt(MAX_PIXELS / (width * height))
    if abs(scale - 1.0) < 0.15:
        return 1.0
    interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    prepared.image = cv2.resize(
        prepared.image, None, fx=scale, fy=scale, interpolation=interpolation
    )
    prepared.matrix = np.diag([scale, scale, 1.0]) @ prepared.matrix
    return scale


def _deskew(prepared: Prepared) -> None:
    angle = layout.estimate_skew(prepared.image)
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
