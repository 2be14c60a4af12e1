"""Pixel clean-up before OCR: pure functions from a grey uint8 array to another of the same
size, each applied only when its detector says the image needs it (a clean image passes
through untouched, so it reads exactly as it would have without them).

Detectors and thresholds were set on the tuning part of the generated OCR set
(`local.samples.ocr_set("tuning")`), where the affected and unaffected images are far apart:
- impulse noise: the share of pixels unlike all 8 of their neighbours; 0.020-0.025 with 4-8%
  salt and pepper, at most 0.0065 otherwise (Gaussian noise, 9 px text);
- Gaussian noise: the median absolute Laplacian (most pixels are flat paper, so text edges do
  not count); 17-22 for sigma 30-45, below 0.3 for every other image, JPEG at quality 30
  included;
- uneven paper (gradients, shadows): the spread of the paper's brightness once the ink is
  filtered out;
- blur: the steepest edges (99.5th percentile of the gradient) against the ink-to-paper
  contrast; 0.45-0.55 for sharp text (JPEG, noise removed, shadows, small print), 0.27-0.33
  with a Gaussian blur of 1.0-1.6 px.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image

IMPULSE_SHARE = 0.01
SPECK_AREA = 3
NOISE_SIGMA = 4.0
# Paper brightness spread (2nd to 98th percentile, grey levels) beyond which it is flattened.
UNEVEN_PAPER = 30.0
# Ink and paper closer than this (2nd to 98th percentile) get their contrast stretched.
LOW_CONTRAST = 96.0
# ... unless they are closer than this: then over 96% of the image is one grey (a sparse
# page, mostly paper, or an image already made black on white), and a stretch between the
# two percentiles would turn all of it, text included, one colour.
FLAT = 8.0
# Edges less steep than this share of the contrast per pixel are blurred.
BLURRED_EDGES = 0.38

_RING = np.ones((3, 3), np.uint8)
_RING[1, 1] = 0
_LAPLACIAN = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def to_grey(image: Image.Image) -> np.ndarray:
    """Grey uint8 array; transparent pixels become white (text on a transparent PNG). A colour
    image gives the channel mix with the most ink-to-paper contrast: luminance loses red ink on
    green paper, one channel often keeps it."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    luminance = np.asarray(image.convert("L"), dtype=np.uint8)
    if image.mode not in ("RGB", "RGBA"):
        return luminance
    rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    channels = [rgb[..., i] for i in range(3)]
    if all(np.array_equal(channels[0], c) for c in channels[1:]):
        return luminance  # a grey image stored as RGB
    return max([luminance, *channels], key=_separation)


def _separation(grey: np.ndarray) -> float:
    """Otsu's between-class variance, normalised: how well ink and paper separate."""
    small = _shrunk(grey, 400)
    threshold, _ = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    low, high = small[small <= threshold], small[small > threshold]
    if not low.size or not high.size:
        return 0.0
    share = low.size / small.size
    return share * (1 - share) * (float(high.mean()) - float(low.mean())) ** 2


def _impulses(grey: np.ndarray) -> np.ndarray:
    """Pixels darker or lighter than all 8 neighbours by more than 60 grey levels."""
    lowest = cv2.erode(grey, _RING).astype(np.int16)
    highest = cv2.dilate(grey, _RING).astype(np.int16)
    pixels = grey.astype(np.int16)
    return (pixels < lowest - 60) | (pixels > highest + 60)


def impulse_share(grey: np.ndarray) -> float:
    return float(_impulses(grey).mean())


def remove_impulse_noise(grey: np.ndarray) -> tuple[np.ndarray, bool]:
    """Salt and pepper replaced by the median of their neighbourhood, and nothing else: specks
    are ink or paper components of at most `SPECK_AREA` pixels (a plain median filter would
    also thin the strokes of light fonts to nothing). Also says whether there were any: the
    specks stuck to strokes are left for a median filter once the text is scaled up."""
    if impulse_share(grey) <= IMPULSE_SHARE:
        return grey, False
    _, dark = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    specks = np.zeros(grey.shape, dtype=bool)
    for mask in (dark, 1 - dark):
        _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        small = stats[:, cv2.CC_STAT_AREA] <= SPECK_AREA
        specks |= small[labels] & (mask == 1)
    return np.where(specks, cv2.medianBlur(grey, 3), grey), True


def noise_sigma(grey: np.ndarray) -> float:
    """Gaussian noise level (grey levels), from the median absolute Laplacian (Immerkaer's
    estimator with a median, so edges of the text do not count)."""
    response = cv2.filter2D(grey.astype(np.float32), -1, _LAPLACIAN)[1:-1, 1:-1]
    if not response.size:
        return 0.0
    return float(np.median(np.abs(response))) * math.sqrt(math.pi / 2) / 6.0


def remove_gaussian_noise(grey: np.ndarray) -> np.ndarray:
    sigma = noise_sigma(grey)
    if sigma <= NOISE_SIGMA:
        return grey
    # Non-local means at a strength following the noise; windows of OpenCV's defaults.
    return cv2.fastNlMeansDenoising(
        grey, None, h=min(0.9 * sigma, 40.0), templateWindowSize=7, searchWindowSize=21
    )


def edge_steepness(grey: np.ndarray) -> float:
    """The steepest edges' grey-level step per pixel, as a share of the ink-to-paper contrast
    (about 0.5 for sharp anti-aliased text, lower the more it is blurred)."""
    pixels = grey.astype(np.float32)
    gx = cv2.Sobel(pixels, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(pixels, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    low, high = np.percentile(pixels, [1, 99])
    return float(np.percentile(np.hypot(gx, gy), 99.5)) / max(float(high - low), 1.0)


def is_blurred(grey: np.ndarray) -> bool:
    return edge_steepness(grey) < BLURRED_EDGES


def sharpen(grey: np.ndarray, scale: float) -> np.ndarray:
    """An unsharp mask sized to the blur as it is after scaling by `scale` (blur grows with
    the image), for images `is_blurred` found blurred."""
    sigma = max(1.0, 1.5 * scale)
    smooth = cv2.GaussianBlur(grey, (0, 0), sigma)
    return cv2.addWeighted(grey, 2.0, smooth, -1.0, 0)


def paper(grey: np.ndarray, *, dark_ink: bool = False) -> np.ndarray:
    """The paper's brightness under the text, as smooth as the lighting (float32): a median
    over windows wider than several characters, computed on a shrunk copy. With `dark_ink`,
    strokes are first filled in with the paper around them (a grey dilation), so that narrow
    images with dense text do not pass their ink for shadow."""
    small = _shrunk(grey, 600)
    if dark_ink:
        small = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    window = min(max(3, (min(small.shape) // 4) | 1), 61)
    background = cv2.medianBlur(small, window)
    background = cv2.GaussianBlur(background, (0, 0), window / 3)
    return cv2.resize(
        background.astype(np.float32),
        (grey.shape[1], grey.shape[0]),
        interpolation=cv2.INTER_LINEAR,
    )


def text_is_lighter(grey: np.ndarray, background: np.ndarray) -> bool:
    """Whether the ink is lighter than the paper (light on dark, a negative), from the pixels
    that stand out from the paper around them."""
    residual = grey.astype(np.float32) - background
    standing_out = residual[np.abs(residual) > 24]
    if standing_out.size < 20:
        return False
    return float(standing_out.mean()) > 0


def flatten(grey: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Dark ink on uneven paper -> the same ink on even white paper, when the paper is uneven."""
    low, high = np.percentile(background, [2, 98])
    if high - low < UNEVEN_PAPER:
        return grey
    flat = grey.astype(np.float32) * 255.0 / np.maximum(background, 1.0)
    return np.clip(flat, 0, 255).astype(np.uint8)


def enhance_contrast(grey: np.ndarray) -> np.ndarray:
    low, high = np.percentile(grey, [2, 98])
    if high - low < LOW_CONTRAST:
        # On a sparse page (a few lines on a large sheet) fewer than 2% of the pixels are ink,
        # so both percentiles are paper: take the ink's level from the pixels darker than it.
        darker = grey[grey < high]
        if darker.size:
            low = min(low, float(np.percentile(darker, 2)))
    if high - low >= LOW_CONTRAST or high - low < FLAT:
        return grey
    # Stretch first, so CLAHE works on the full range; tiles of about 8 characters.
    stretched = np.clip((grey.astype(np.float32) - low) * 255.0 / max(high - low, 1), 0, 255)
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    return clahe.apply(stretched.astype(np.uint8))


def _shrunk(grey: np.ndarray, longest: int) -> np.ndarray:
    scale = longest / max(grey.shape)
    if scale >= 1.0:
        return grey
    return cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
