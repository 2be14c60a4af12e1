"""TEXT_DETECTION and DOCUMENT_TEXT_DETECTION through the official client, against the service
running as a process: the quality bar (mean CER <= 0.03 over rendered images, rotated, noisy and
low-contrast ones among them) and the shape of what comes back."""

from __future__ import annotations

import statistics

import numpy as np
import pytest
from google.cloud import vision

from local.samples import TextImage, cer, png_bytes, render, sentences

Feature = vision.Feature.Type

CASES = {
    "sans-28": TextImage(sentences(3, 1), font="sans", size=28),
    "serif-22": TextImage(sentences(3, 2), font="serif", size=22),
    "mono-20": TextImage(sentences(3, 3), font="mono", size=20),
    "bold-36": TextImage(sentences(2, 4), font="sans-bold", size=36),
    "small-11": TextImage(sentences(3, 5), font="sans", size=11),
    "rotated-90": TextImage(sentences(3, 6), font="serif-dejavu", size=26, rotate=90),
    "rotated-180": TextImage(sentences(2, 7), font="sans", size=26, rotate=180),
    "rotated-270": TextImage(sentences(2, 13), font="sans-free", size=24, rotate=270),
    "skewed-7": TextImage(sentences(3, 8), font="sans-free", size=26, rotate=7),
    "noisy": TextImage(sentences(3, 9), font="sans", size=26, noise=40),
    "low-contrast": TextImage(sentences(3, 10), font="serif", size=26, ink=150, paper=185),
    "blurred": TextImage(sentences(3, 11), font="sans", size=24, blur=1.2),
    "light-on-dark": TextImage(sentences(2, 12), font="sans", size=26, ink=240, paper=30),
}


def test_cer_helper_counts_edits():
    assert cer("abcd", "abcd") == 0
    assert cer("abcd", "abed") == 0.25
    assert cer("a  b\nc", "a b c") == 0


@pytest.fixture(scope="module")
def readings(client):
    """Every case read once through the service, in batches of images as a client would."""
    names = list(CASES)
    images = {name: render(CASES[name]) for name in names}
    results = {}
    for start in range(0, len(names), 8):
        batch = names[start : start + 8]
        response = client.batch_annotate_images(
            requests=[
                {
                    "image": {"content": png_bytes(images[name])},
                    "features": [{"type_": Feature.TEXT_DETECTION}],
                }
                for name in batch
            ]
        )
        results.update(zip(batch, response.responses, strict=True))
    return images, results


def test_mean_character_error_rate_is_at_most_three_percent(readings):
    _, results = readings
    rates = {
        name: cer("\n".join(CASES[name].lines), results[name].full_text_annotation.text)
        for name in CASES
    }
    assert len(rates) >= 10
    assert statistics.mean(rates.values()) <= 0.03, rates


@pytest.mark.parametrize("name", ["rotated-90", "rotated-180", "noisy", "low-contrast"])
def test_hard_images_are_read(readings, name):
    _, results = readings
    assert cer("\n".join(CASES[name].lines), results[name].full_text_annotation.text) <= 0.08


def test_full_hierarchy_and_text_annotations(readings):
    _, results = readings
    response = results["sans-28"]
    full = response.full_text_annotation
    assert len(full.pages) == 1
    page = full.pages[0]
    assert (page.width, page.height) == render(CASES["sans-28"]).size
    assert page.property.detected_languages[0].language_code == "en"
    words = [w for b in page.blocks for p in b.paragraphs for w in p.words]
    assert len(words) == len(full.text.split())
    for block in page.blocks:
        assert block.block_type == vision.Block.BlockType.TEXT
        assert 0 < block.confidence <= 1
    symbols = [s for w in words for s in w.symbols]
    assert "".join(s.text for s in symbols) == "".join(full.text.split())
    breaks = [s.property.detected_break.type_ for s in symbols]
    assert breaks.count(vision.TextAnnotation.DetectedBreak.BreakType.SPACE) == len(words) - 3
    # textAnnotations: the whole text with its locale first, then one entry per word.
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


@pytest.mark.parametrize("name", ["sans-28", "rotated-90", "rotated-180", "skewed-7"])
def test_word_boxes_lie_on_the_words_in_the_original_image(readings, name):
    images, results = readings
    image = images[name]
    words = results[name].text_annotations[1:]
    assert words
    for word in words:
        for vertex in word.bounding_poly.vertices:
            assert 0 <= vertex.x <= image.width
            assert 0 <= vertex.y <= image.height
        assert _ink_inside(image, word.bounding_poly) > 0.05, word.description


def test_rotated_boxes_start_at_the_words_top_left(readings):
    # A page turned 90 degrees counter-clockwise: the word's top-left corner is its
    # bottom-left on screen, so the first vertex has the largest y of the box.
    _, results = readings
    poly = results["rotated-90"].text_annotations[1].bounding_poly
    ys = [v.y for v in poly.vertices]
    assert ys[0] == max(ys)


def test_document_text_detection_gives_the_same_reading(client):
    spec = CASES["serif-22"]
    response = client.document_text_detection({"content": png_bytes(render(spec))})
    assert not response.error.message
    assert cer("\n".join(spec.lines), response.full_text_annotation.text) <= 0.03


def test_language_hint_without_installed_data_is_a_per_image_error(client):
    response = client.annotate_image(
        {
            "image": {"content": png_bytes(render(CASES["sans-28"]))},
            "features": [{"type_": Feature.TEXT_DETECTION}],
            "image_context": {"language_hints": ["xx"]},
        }
    )
    assert response.error.code == 3  # INVALID_ARGUMENT
    assert "xx" in response.error.message
    assert "apt-get install" in response.error.message
    assert not response.full_text_annotation.text


def test_blank_image_has_no_text(client):
    from PIL import Image

    blank = Image.new("RGB", (200, 100), "white")
    response = client.text_detection({"content": png_bytes(blank)})
    assert not response.error.message
    assert list(response.text_annotations) == []
