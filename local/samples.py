"""Sample inputs made on the spot (text rendered into images) and how OCR of them is scored
(character error rate), for the demo, tests and benches.

Nothing is downloaded. Fonts come from Debian's font packages when installed (`make install`
installs fonts-dejavu-core, fonts-liberation and fonts-freefont-ttf) and otherwise from the font
that Pillow carries, so a sample can always be made.
"""

from __future__ import annotations

import dataclasses
import io
import os
import random
import zlib

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIRS = ("/usr/share/fonts/truetype",)
FONTS = {
    "sans": "dejavu/DejaVuSans.ttf",
    "serif": "liberation/LiberationSerif-Regular.ttf",
    "mono": "freefont/FreeMono.ttf",
    "sans-bold": "liberation/LiberationSans-Bold.ttf",
    "serif-dejavu": "dejavu/DejaVuSerif.ttf",
    "sans-free": "freefont/FreeSans.ttf",
}

SENTENCES = (
    "Invoice 4471 is due on 12 March 2026.",
    "The quick brown fox jumps over the lazy dog.",
    "Please deliver 36 boxes to the north warehouse.",
    "Meeting moved to Thursday at 3:30 pm in room B.",
    "Total amount payable: 1,250.00 EUR",
    "Keep this receipt for your records.",
    "Cloud Vision reads text in photographs and scans.",
    "Order number 88120 shipped from Lisbon today.",
    "Fresh bread, milk and eggs are on the list.",
    "Call the front desk if you need anything else.",
)


@dataclasses.dataclass(frozen=True)
class TextImage:
    """What to render. `rotate` turns the finished image counter-clockwise, in degrees."""

    lines: tuple[str, ...]
    font: str = "sans"
    size: int = 28
    rotate: float = 0.0
    noise: float = 0.0  # standard deviation of Gaussian noise, in grey levels
    ink: int = 0
    paper: int = 255
    blur: float = 0.0
    margin: int = 24


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    relative = FONTS.get(name, name)
    for directory in FONT_DIRS:
        path = os.path.join(directory, relative)
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def render(spec: TextImage) -> Image.Image:
    face = font(spec.font, spec.size)
    spacing = int(spec.size * 0.5)
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    text = "\n".join(spec.lines)
    left, top, right, bottom = probe.multiline_textbbox((0, 0), text, font=face, spacing=spacing)
    width, height = right - left + 2 * spec.margin, bottom - top + 2 * spec.margin
    image = Image.new("L", (width, height), spec.paper)
    ImageDraw.Draw(image).multiline_text(
        (spec.margin - left, spec.margin - top), text, font=face, fill=spec.ink, spacing=spacing
    )
    if spec.rotate:
        image = image.rotate(
            spec.rotate, expand=True, fillcolor=spec.paper, resample=Image.Resampling.BICUBIC
        )
    if spec.blur:
        image = image.filter(ImageFilter.GaussianBlur(spec.blur))
    if spec.noise:
        image = _add_noise(image, spec.noise, seed=zlib.crc32(text.encode()))
    return image.convert("RGB")


def _add_noise(image: Image.Image, sigma: float, seed: int) -> Image.Image:
    import numpy as np

    rng = np.random.default_rng(seed)
    pixels = np.asarray(image, dtype=np.float32)
    noisy = np.clip(pixels + rng.normal(0, sigma, pixels.shape), 0, 255).astype(np.uint8)
    return Image.fromarray(noisy)


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def sentences(count: int, seed: int = 0) -> tuple[str, ...]:
    rng = random.Random(seed)  # noqa: S311 - sample text, not secrets
    return tuple(rng.sample(SENTENCES, count))


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate on whitespace-normalised text."""
    reference, hypothesis = " ".join(reference.split()), " ".join(hypothesis.split())
    return levenshtein(reference, hypothesis) / max(len(reference), 1)
