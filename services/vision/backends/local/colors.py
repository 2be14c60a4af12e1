"""IMAGE_PROPERTIES: dominant colours by median-cut quantisation (Pillow).

`pixelFraction` is the exact share of pixels nearest each palette colour (on a copy scaled to at
most 256 px, as colour statistics need no more). `score` is Google's relevance of the colour;
here it equals the pixel fraction (no saliency model offline): an approximation, said plainly.
"""

from __future__ import annotations

from google.type import color_pb2
from PIL import Image

from shared.gapictypes import message_types

vision = message_types("google.cloud.vision_v1")

MAX_COLORS = 10


def dominant_colors(image: Image.Image, max_results: int = MAX_COLORS) -> vision.ImageProperties:
    small = image.convert("RGB")
    small.thumbnail((256, 256))
    count = min(max_results or MAX_COLORS, MAX_COLORS)
    quantised = small.quantize(colors=count, method=Image.Quantize.MEDIANCUT)
    palette = quantised.getpalette() or []
    total = small.width * small.height
    colors = []
    for pixels, index in sorted(quantised.getcolors(maxcolors=256) or [], reverse=True):
        red, green, blue = palette[index * 3 : index * 3 + 3]
        fraction = pixels / total
        colors.append(
            vision.ColorInfo(
                color=color_pb2.Color(red=red, green=green, blue=blue),
                score=fraction,
                pixel_fraction=fraction,
            )
        )
    return vision.ImageProperties(dominant_colors=vision.DominantColorsAnnotation(colors=colors))
