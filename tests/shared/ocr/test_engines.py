"""Which OCR engine a service gets: the setting under each service's prefix, its values, the
RapidOCR reader's languages, and a clear error when its extra is missing."""

from __future__ import annotations

import sys

import pydantic
import pytest

import shared.ocr
from shared.errors import ApiError, Code
from shared.ocr import rapid


def test_engine_setting_is_read_under_the_service_prefix():
    from services.vision.settings import VisionSettings

    env = {"OCR_ENGINE": "tesseract", "VISION_OCR_ENGINE": "rapidocr"}
    assert VisionSettings.from_env("vision", env).ocr_engine == "rapidocr"
    assert shared.ocr.OcrSettings.from_env("documentai", env).ocr_engine == "tesseract"
    assert shared.ocr.OcrSettings.from_env("documentai", {}).ocr_engine == "tesseract"
    documentai = {"DOCUMENTAI_OCR_ENGINE": "rapidocr"}
    assert shared.ocr.OcrSettings.from_env("documentai", documentai).ocr_engine == "rapidocr"


def test_an_unknown_engine_is_refused():
    with pytest.raises(pydantic.ValidationError, match="tesseract"):
        shared.ocr.OcrSettings.from_env("vision", {"VISION_OCR_ENGINE": "easyocr"})


def test_rapidocr_languages_are_google_codes_it_reads():
    assert rapid.resolve([], ["en"]) == ["en"]
    assert rapid.resolve(["en-GB", "zh-CN", "ja", "fr"], ["en"]) == ["en", "zh", "ja", "fr"]
    assert rapid.resolve(["zh-TW"], ["en"]) == ["zh-hant"]
    with pytest.raises(ApiError) as raised:
        rapid.resolve(["en", "ru", "ar"], ["en"])
    assert raised.value.code == Code.INVALID_ARGUMENT
    assert "ru, ar" in str(raised.value)


def test_rapidocr_without_its_extra_is_unavailable_naming_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "rapidocr", None)  # as if not installed
    with pytest.raises(ApiError) as raised:
        shared.ocr.create_engine(shared.ocr.OcrSettings(ocr_engine="rapidocr"))
    assert raised.value.code == Code.UNAVAILABLE
    assert "ocr-accurate" in str(raised.value)
