"""analyzeSyntax and annotateText through the official client: tokens at their offsets,
heads consistent, Google's tags and labels; classify and moderate honestly UNIMPLEMENTED."""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.cloud import language_v1

from tests.services.language.conftest import document

Encoding = language_v1.EncodingType
Tag = language_v1.PartOfSpeech.Tag
Label = language_v1.DependencyEdge.Label


def test_tokens_and_heads_are_consistent(client):
    text = "The quick brown fox jumped over the lazy dogs.  Señor García is running home!"
    response = client.analyze_syntax(document=document(text), encoding_type=Encoding.UTF32)
    tokens = response.tokens
    assert [t.text.content for t in tokens][:4] == ["The", "quick", "brown", "fox"]
    for token in tokens:
        start = token.text.begin_offset
        assert text[start : start + len(token.text.content)] == token.text.content
        assert 0 <= token.dependency_edge.head_token_index < len(tokens)
    roots = [i for i, t in enumerate(tokens) if t.dependency_edge.label == Label.ROOT]
    assert len(roots) == len(response.sentences) == 2
    assert all(tokens[i].dependency_edge.head_token_index == i for i in roots)
    # Every head chain reaches a root without a cycle.
    for i in range(len(tokens)):
        seen = set()
        while tokens[i].dependency_edge.label != Label.ROOT:
            assert i not in seen
            seen.add(i)
            i = tokens[i].dependency_edge.head_token_index


def test_tags_labels_lemmas_and_morphology(client):
    response = client.analyze_syntax(document=document("She was running to the shops."))
    by_text = {t.text.content: t for t in response.tokens}
    assert by_text["She"].part_of_speech.tag == Tag.PRON
    assert by_text["She"].dependency_edge.label == Label.NSUBJ
    assert by_text["running"].part_of_speech.tag == Tag.VERB
    assert by_text["running"].lemma == "run"
    assert by_text["was"].dependency_edge.label == Label.AUX
    assert by_text["shops"].part_of_speech.number == language_v1.PartOfSpeech.Number.PLURAL
    assert by_text["the"].part_of_speech.tag == Tag.DET
    assert by_text["."].part_of_speech.tag == Tag.PUNCT
    assert by_text["."].dependency_edge.label == Label.P


def test_utf8_token_offsets_count_bytes(client):
    text = "Zoë bought naïve crêpes."
    # Given, not detected: lingua finds these borrowed words French.
    response = client.analyze_syntax(
        document=document(text, language="en"), encoding_type=Encoding.UTF8
    )
    for token in response.tokens:
        index = text.index(token.text.content)
        assert token.text.begin_offset == len(text[:index].encode("utf-8"))


def test_annotate_text_gives_what_the_features_ask(client):
    response = client.annotate_text(
        document=document("Angela Merkel loves Berlin. The food there is wonderful."),
        features=language_v1.AnnotateTextRequest.Features(
            extract_syntax=True, extract_entities=True, extract_document_sentiment=True
        ),
        encoding_type=Encoding.UTF8,
    )
    assert response.tokens
    assert response.entities
    assert len(response.sentences) == 2
    assert response.document_sentiment.score > 0
    assert response.language == "en"
    only_entities = client.annotate_text(
        document=document("Angela Merkel loves Berlin."),
        features=language_v1.AnnotateTextRequest.Features(extract_entities=True),
    )
    assert only_entities.entities
    assert not only_entities.tokens
    assert not only_entities.sentences


def test_classify_names_the_extra_and_moderate_is_unimplemented(client):
    text = "The new graphics card renders games at high frame rates and low power." * 3
    with pytest.raises(exceptions.MethodNotImplemented, match="`classify` extra"):
        client.classify_text(document=document(text))
    with pytest.raises(exceptions.MethodNotImplemented, match="moderateText"):
        client.moderate_text(document=document(text))
    with pytest.raises(exceptions.MethodNotImplemented):
        client.annotate_text(
            document=document(text),
            features=language_v1.AnnotateTextRequest.Features(classify_text=True),
        )
