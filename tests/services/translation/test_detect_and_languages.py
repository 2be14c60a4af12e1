"""detectLanguage and supportedLanguages through the official v3 client."""

from __future__ import annotations

import pytest

from tests.services.translation.conftest import PARENT
from tests.services.translation.corpus import LANGUAGE_ID_SET


@pytest.mark.parametrize(("text", "code"), LANGUAGE_ID_SET, ids=[c for _, c in LANGUAGE_ID_SET])
def test_short_strings_in_eight_languages(client, text, code):
    response = client.detect_language(request={"parent": PARENT, "content": text})
    assert response.languages[0].language_code == code
    assert 0 < response.languages[0].confidence <= 1


def test_html_is_detected_on_its_text(client):
    response = client.detect_language(
        request={
            "parent": "projects/test-project",
            "content": "<p class='x'>Les enfants jouent dans le jardin.</p>",
            "mime_type": "text/html",
        }
    )
    assert response.languages[0].language_code == "fr"


def test_supported_languages_are_exactly_the_installed_pairs(client):
    from services.translation.backends.local import apertium

    installed = apertium.discover(apertium.DEFAULT_DATA_DIR)
    response = client.get_supported_languages(parent=PARENT)
    listed = {lang.language_code: lang for lang in response.languages}
    assert set(listed) == {s for s, _ in installed} | {t for _, t in installed}
    assert {"en", "es"} <= set(listed)
    assert listed["en"].support_source
    assert listed["en"].support_target
    assert not listed["en"].display_name


def test_display_names_in_the_requested_language(client):
    response = client.get_supported_languages(parent=PARENT, display_language_code="es")
    names = {lang.language_code: lang.display_name for lang in response.languages}
    assert names["en"] == "inglés"
    assert names["es"] == "español"
