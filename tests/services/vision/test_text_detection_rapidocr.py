"""TEXT_DETECTION with `VISION_OCR_ENGINE=rapidocr`, through the official client against the
service as a process: the same full hierarchy, breaks, boxes on the words in the original image
(rotated pages' corners in the upright text's order), and Google's per-image error for a
language the engine cannot read."""

from __future__ import annotations

import numpy as np
import pytest
from google.cloud import vision

from local.samples import TextImage, cer, png_bytes, render
from tests.conftest import ServiceProcess
from tests.services.vision.conftest import official_client

pytest.importorskip("rapidocr", reason="the extra `ocr-accurate` is not installed")

Feature = vision.Feature.Type
BreakType = vision.TextAnnotation.DetectedBreak.BreakType

CASES = {
    "upright": TextImage(
        (
            "Your parcel will arrive between 9 and 11 tomorrow.",
            "Return the signed form to the office by Friday.",
            "Room 214 is on the second floor, left of the lift.",
        ),
        font="serif",
        size=26,
    ),
    "rotated-90": TextImage(
        ("Battery level low: connect the charger now.", "Water the plants twice a week."),
        font="sans",
        size=24,
        rotate=90,
    ),
    "rotated-180": TextImage(
        ("Flight KL 1675 departs from gate D7.",), font="sans-bold", size=28, rotate=180
    ),
    "noisy": TextImage(
        ("Scan the code below to pay your parking fee.",), font="sans", size=24, impulse=0.05
    ),
}


@pytest.fixture(scope="module")
def rapid_client(tmp_path_factory, storage_emulator):
    service = ServiceProcess(
        "vision",
        "vision",
        env={"STORAGE_EMULATOR_HOST": storage_emulator, "VISION_OCR_ENGINE": "rapidocr"},
        log_path=tmp_path_factory.mktemp("vision-rapidocr") / "service.log",
    )
    yield official_client(service.url)
    service.stop()


@pytest.fixture(scope="module")
def readings(rapid_client):
    images = {name: render(spec) for name, spec in CASES.items()}
    response = rapid_client.batch_annotate_images(
        requests=[
            {
                "image": {"content": png_bytes(images[name])},
                "features": [{"type_": Feature.TEXT_DETECTION}],
            }
            for name in CASES
        ]
    )
    return images, dict(zip(CASES, response.responses, strict=True))


@pytest.mark.parametrize("name", list(CASES))
def test_text_is_read(readings, name):
    _, results = readings
    assert not results[name].error.message
    text = results[name].full_text_annotation.text
    assert cer("\n".join(CASES[name].lines), text) <= 0.03, text


def test_full_hierarchy_breaks_and_text_annotations(readings):
    images, results = readings
    response = results["upright"]
    full = response.full_text_annotation
    (page,) = full.pages
    assert (page.width, page.height) == images["upright"].size
    assert page.property.detected_languages[0].language_code == "en"
    # Three lines set as one paragraph: one block, lines ending EOL_SURE_SPACE, then LINE_BREAK.
    assert len(page.blocks) == 1
    (paragraph,) = page.blocks[0].paragraphs
    words = list(paragraph.words)
    assert len(words) == len(full.text.split())
    symbols = [s for w in words for s in w.symbols]
    assert "".join(s.text for s in symbols) == "".join(full.text.split())
    breaks = [s.property.detected_break.type_ for s in symbols if s.property]
    assert breaks.count(BreakType.SPACE) == len(words) - 3
    assert breaks.count(BreakType.EOL_SURE_SPACE) == 2
    assert breaks[-1] == BreakType.LINE_BREAK
    for level in (page.blocks[0], paragraph, *words, *symbols):
        assert 0 < level.confidence <= 1
        assert len(level.bounding_box.vertices) == 4
    first, *rest = response.text_annotations
    assert first.locale == "en"
    assert first.description == full.text
    assert [a.description for a in rest] == full.text.split()


def _ink_inside(image, poly: vision.BoundingPoly) -> float:
    xs = [v.x for v in poly.vertices]
    ys = [v.y for v in poly.vertices]
    grey = np.asarray(image.convert("L"))
    region = grey[min(ys) : max(ys) + 1, min(xs) : max(xs) + 1]
    return float((region < 128).mean()) if region.size else 0.0


@pytest.mark.parametrize("name", ["upright", "rotated-90", "rotated-180"])
def test_word_and_symbol_boxes_lie_on_the_ink(readings, name):
    images, results = readings
    image = images[name]
    words = [
        w
        for b in results[name].full_text_annotation.pages[0].blocks
        for p in b.paragraphs
        for w in p.words
    ]
    assert words
    for word in words:
        assert _ink_inside(image, word.bounding_box) > 0.05
        for symbol in word.symbols:
            for vertex in symbol.bounding_box.vertices:
                assert 0 <= vertex.x <= image.width
                assert 0 <= vertex.y <= image.height


def test_rotated_boxes_start_at_the_words_top_left(readings):
    # Turned 90 degrees counter-clockwise: a word's top-left is its bottom-left on screen.
    _, results = readings
    poly = results["rotated-90"].text_annotations[1].bounding_poly
    ys = [v.y for v in poly.vertices]
    assert ys[0] == max(ys)
    # Upside down: the top-left corner is the bottom-right on screen.
    poly = results["rotated-180"].text_annotations[1].bounding_poly
    xs, ys = [v.x for v in poly.vertices], [v.y for v in poly.vertices]
    assert (xs[0], ys[0]) == (max(xs), max(ys))


def test_a_language_the_engine_cannot_read_is_a_per_image_error(rapid_client):
    response = rapid_client.annotate_image(
        {
            "image": {"content": png_bytes(render(CASES["upright"]))},
            "features": [{"type_": Feature.TEXT_DETECTION}],
            "image_context": {"language_hints": ["ru"]},
        }
    )
    assert response.error.code == 3  # INVALID_ARGUMENT
    assert "ru" in response.error.message
    assert "rapidocr" in response.error.message
