"""The shared OCR engine on the generated OCR set (`local.samples.ocr_set`): every condition
phones and scanners produce, rendered here from several fonts and sizes, in the part the engine
was tuned on and in the held-out part (other sentences, seeds and fonts) that nothing was tuned
on. The bar: mean CER <= 0.02 and no image above 0.10, for each part, with the default engine;
the same for RapidOCR where its extra is installed.

The engines are built once per session and read in-process (the service's conversion of the
same `Page` is tested under tests/services/vision)."""

from __future__ import annotations

import statistics

import pytest

import shared.ocr
from local.samples import OCR_CONDITIONS, cer, ocr_set, render

PARTS = ("tuning", "held-out")
MEAN_CER = 0.02
WORST_CER = 0.10


@pytest.fixture(scope="session")
def tesseract() -> shared.ocr.Recogniser:
    engine = shared.ocr.create_engine(shared.ocr.OcrSettings())
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def rapidocr() -> shared.ocr.Recogniser:
    pytest.importorskip("rapidocr", reason="the extra `ocr-accurate` is not installed")
    engine = shared.ocr.create_engine(shared.ocr.OcrSettings(ocr_engine="rapidocr"))
    yield engine
    engine.close()


def _rates(engine: shared.ocr.Recogniser, part: str) -> dict[str, float]:
    return {
        sample.name: cer(sample.reference, engine.recognise(render(sample.spec)).text)
        for sample in ocr_set(part)
    }


def test_the_set_covers_every_condition_in_both_parts():
    for part in PARTS:
        samples = ocr_set(part)
        assert len(samples) >= 38
        assert {s.condition for s in samples} == set(OCR_CONDITIONS)
        assert len({s.spec.font for s in samples}) >= 4
        assert len({s.spec.size for s in samples}) >= 8
    tuning, held_out = (ocr_set(part) for part in PARTS)
    # The held-out part shares no sentence with the tuning part.
    assert not {line for s in tuning for line in s.spec.lines} & {
        line for s in held_out for line in s.spec.lines
    }


@pytest.mark.parametrize("part", PARTS)
def test_default_engine_reads_the_set(tesseract, part):
    assert tesseract.name == "tesseract"
    rates = _rates(tesseract, part)
    worst = max(rates, key=rates.__getitem__)
    assert statistics.mean(rates.values()) <= MEAN_CER, rates
    assert rates[worst] <= WORST_CER, (worst, rates[worst])


@pytest.mark.parametrize("part", PARTS)
def test_rapidocr_reads_the_set(rapidocr, part):
    assert rapidocr.name == "rapidocr"
    rates = _rates(rapidocr, part)
    worst = max(rates, key=rates.__getitem__)
    assert statistics.mean(rates.values()) <= MEAN_CER, rates
    assert rates[worst] <= WORST_CER, (worst, rates[worst])


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_orientation_of_a_single_line_is_reported(tesseract, rotate):
    from local.samples import TextImage

    spec = TextImage(
        ("Return the signed form to the office by Friday.",), font="serif", rotate=rotate
    )
    page = tesseract.recognise(render(spec))
    assert cer(spec.lines[0], page.text) <= 0.05
    # `rotate` turns the image counter-clockwise: the text then stands turned clockwise by
    # 360 - rotate, which is what the page reports.
    assert page.orientation == (360 - rotate) % 360


def test_bench_parts_are_drawn_apart_from_the_tested_ones():
    from local.samples import HARD_CONDITIONS

    tested = {line for part in PARTS for s in ocr_set(part) for line in s.spec.lines}
    fresh, hard = ocr_set("fresh", 1, seed=3), ocr_set("hard", 2, seed=3)
    assert {s.condition for s in fresh} == set(OCR_CONDITIONS)
    assert {s.condition for s in hard} == set(HARD_CONDITIONS)
    assert not tested & {line for s in fresh + hard for line in s.spec.lines}
    assert ocr_set("fresh", 1, seed=3) == fresh  # the same seed draws the same images
    with pytest.raises(ValueError, match="part must be"):
        ocr_set("other")
