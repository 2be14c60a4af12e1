"""translateText through the official v3 client: eng<->spa text and HTML, detection per string,
pivots named in `model`, batches kept in order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.services.translation.conftest import PARENT

TAGS = re.compile(r"<[^>]+>")


def translate(client, contents, target, source="", mime_type="text/plain", parent=PARENT):
    return client.translate_text(
        request={
            "parent": parent,
            "contents": contents,
            "target_language_code": target,
            "source_language_code": source,
            "mime_type": mime_type,
        }
    ).translations


@pytest.mark.parametrize(
    ("text", "source", "target", "expected_word"),
    [
        ("The house is red and the dog is big.", "en", "es", "casa"),
        ("I want to drink water.", "en", "es", "agua"),
        ("La casa es roja y el perro es grande.", "es", "en", "house"),
        ("Quiero beber agua fría.", "es", "en", "water"),
    ],
)
def test_eng_spa_both_ways(client, text, source, target, expected_word):
    (translation,) = translate(client, [text], target, source)
    assert translation.translated_text != text
    assert expected_word in translation.translated_text.lower()
    assert translation.model.endswith(
        "/models/apertium/" + {"es": "eng-spa", "en": "spa-eng"}[target]
    )
    assert translation.detected_language_code == ""  # only when the source was detected


@pytest.mark.parametrize(
    ("html", "source", "target"),
    [
        ('<p>The <b>house</b> is <a href="/red">red</a>.</p><br/><p>Good morning!</p>', "en", "es"),
        ("<div><h1>El perro</h1><p>El perro come <i>carne</i>.</p></div>", "es", "en"),
    ],
)
def test_html_keeps_its_tags(client, html, source, target):
    (translation,) = translate(client, [html], target, source, mime_type="text/html")
    assert translation.translated_text != html
    assert TAGS.findall(translation.translated_text) == TAGS.findall(html)


def test_source_detected_per_string_and_pivot_named(client):
    contents = [
        "The weather is very nice today.",
        "El tiempo es muy bueno hoy.",
        "Le chat dort sur le canapé.",
        "12345",
    ]
    translations = translate(client, contents, "es")
    assert [t.detected_language_code for t in translations] == ["en", "es", "fr", "und"]
    assert translations[0].translated_text != contents[0]
    assert translations[1].translated_text == contents[1]  # already Spanish
    assert translations[3].translated_text == "12345"


@pytest.mark.skipif(
    not Path("/usr/share/apertium/modes/fr-es.mode").exists(),
    reason="Debian's apertium-fr-es is not installed (optional in "
    "local/system_packages.sh): no French pair to pivot through",
)
def test_pivot_through_two_pairs_is_named(client):
    (french,) = translate(client, ["Le chat dort sur le canapé."], "en")
    assert french.model.endswith("/models/apertium/fr-es+spa-eng")  # through Spanish
    assert "cat" in french.translated_text.lower()


def test_batch_keeps_order_and_location_free_parent_works(client):
    contents = [f"I have {n} red houses." for n in range(1, 41)]
    translations = translate(client, contents, "es", "en", parent="projects/test-project")
    assert len(translations) == 40
    for n, translation in enumerate(translations, start=1):
        assert str(n) in translation.translated_text
        assert "casas" in translation.translated_text
    assert translations[0].model.startswith("projects/test-project/locations/global/models/")


def test_text_with_apertium_special_characters_and_lines_survives(client):
    text = "Price: [10] dollars ^ $5 / each @ home {ok}.\nSecond line\twith a tab."
    (translation,) = translate(client, [text], "es", "en")
    out = translation.translated_text
    for kept in ("[10]", "^", "$5", "/", "@", "{", "}", "\n", "\t"):
        assert kept in out
