"""Bad input: each case a 4xx in Google's error JSON, and the service keeps answering."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from google.api_core import exceptions

from tests.services.translation.conftest import PARENT


def _post(url: str, body: dict | bytes) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def _translate(client, **fields):
    return client.translate_text(request={"parent": PARENT, **fields})


@pytest.fixture(autouse=True)
def _service_still_answers(translation_service, client):
    yield
    assert translation_service.alive()
    (translation,) = _translate(
        client, contents=["The house is red."], target_language_code="es", source_language_code="en"
    ).translations
    assert "casa" in translation.translated_text


def test_1025_strings_is_400(client):
    with pytest.raises(exceptions.BadRequest, match="limit is 1024"):
        _translate(client, contents=["Hello."] * 1025, target_language_code="es")


def test_1024_strings_is_fine(client):
    response = _translate(
        client, contents=["Hello."] * 1024, target_language_code="es", source_language_code="en"
    )
    assert len(response.translations) == 1024


@pytest.mark.parametrize(
    "html",
    ["<p>The <b>house</p></b>", "<div>The house is red", "The house </i> is red", "The <b house"],
)
def test_malformed_html_is_400(client, html):
    with pytest.raises(exceptions.BadRequest, match="Malformed HTML"):
        _translate(
            client,
            contents=[html],
            target_language_code="es",
            source_language_code="en",
            mime_type="text/html",
        )


@pytest.mark.parametrize(
    ("source", "target", "text"),
    [("en", "ja", "The house."), ("de", "en", "Das Haus."), ("", "en", "Wo ist der Bahnhof?")],
)
def test_unsupported_pairs_are_400_naming_the_installed(client, source, target, text):
    with pytest.raises(exceptions.BadRequest) as raised:
        _translate(
            client, contents=[text], target_language_code=target, source_language_code=source
        )
    assert "Installed pairs:" in raised.value.message
    assert "en->es" in raised.value.message


def test_other_bad_requests(client, translation_service):
    with pytest.raises(exceptions.BadRequest, match="contents"):
        _translate(client, contents=[], target_language_code="es")
    with pytest.raises(exceptions.BadRequest, match="targetLanguageCode"):
        _translate(client, contents=["Hi"])
    with pytest.raises(exceptions.BadRequest, match="mimeType"):
        _translate(client, contents=["Hi"], target_language_code="es", mime_type="text/rtf")
    with pytest.raises(exceptions.BadRequest, match="content"):
        client.detect_language(request={"parent": PARENT, "content": ""})
    with pytest.raises(exceptions.BadRequest, match="limit is 30000"):
        _translate(client, contents=["word " * 7000], target_language_code="es")
    url = f"{translation_service.url}/v3/{PARENT}:translateText"
    status, answer = _post(url, b"{oops")
    assert status == 400
    assert answer["error"]["status"] == "INVALID_ARGUMENT"


def test_glossary_is_unimplemented_locally(client):
    with pytest.raises(exceptions.MethodNotImplemented, match="glossaryConfig"):
        _translate(
            client,
            contents=["Hello."],
            target_language_code="es",
            glossary_config={"glossary": f"{PARENT}/glossaries/g"},
        )
