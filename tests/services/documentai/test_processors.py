"""What a user discovers: the configured processors and the processor types offered."""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.cloud import documentai_v1 as documentai

from tests.services.documentai.conftest import LOCATION, PROJECT, processor_name

PARENT = f"projects/{PROJECT}/locations/{LOCATION}"


def test_processors_are_listed_as_configured(client):
    found = {p.name: p for p in client.list_processors(parent=PARENT)}
    assert set(found) == {processor_name(p) for p in ("ocr", "form", "invoice", "layout")}
    form = found[processor_name("form")]
    assert form.type_ == "FORM_PARSER_PROCESSOR"
    assert form.state == documentai.Processor.State.ENABLED
    assert client.get_processor(name=processor_name("ocr")).type_ == "OCR_PROCESSOR"


def test_processor_types_offered_are_those_the_local_engines_can_do(client):
    types = {t.type_ for t in client.list_processor_types(parent=PARENT)}
    assert types == {
        "OCR_PROCESSOR",
        "FORM_PARSER_PROCESSOR",
        "INVOICE_PROCESSOR",
        "LAYOUT_PARSER_PROCESSOR",
    }


def test_an_unknown_processor_is_not_found(client):
    with pytest.raises(exceptions.NotFound, match="not found"):
        client.get_processor(name=processor_name("nope"))
