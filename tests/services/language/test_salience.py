"""Salience ranks what a text is about first: the subject of its main clause, wherever it
stands in the sentence, before places, dates and objects; numbers weigh nothing."""

from __future__ import annotations

import pytest

from tests.services.language.conftest import document

SUBJECT_FIRST = [
    ("Apple unveiled the iPhone 15 in Cupertino on September 12, 2023.", "Apple"),
    ("The iPhone 15 was unveiled by Apple in Cupertino.", "iPhone 15"),
    ("In Paris, Angela Merkel met Emmanuel Macron.", "Angela Merkel"),
    ("Last week in Berlin, Microsoft announced a partnership with OpenAI.", "Microsoft"),
    ("After the meeting in Geneva, the United Nations published its report.", "United Nations"),
    ("Toni Morrison wrote Beloved while she worked at Random House in New York.",
     "Toni Morrison"),
    ("Barack Obama was born in Hawaii. Obama later moved to Chicago.", "Barack Obama"),
    ("Tokyo hosted the Olympic Games, and Simone Biles won two medals there.", "Tokyo"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "subject"), SUBJECT_FIRST, ids=[s for _, s in SUBJECT_FIRST])
def test_the_subject_ranks_first(client, text, subject):
    response = client.analyze_entities(document=document(text))
    assert response.entities[0].name == subject, [(e.name, e.salience) for e in response.entities]
    saliences = [e.salience for e in response.entities]
    assert saliences == sorted(saliences, reverse=True)
    assert sum(saliences) == pytest.approx(1.0, abs=0.01)


def test_numbers_weigh_nothing(client):
    response = client.analyze_entities(document=document("Boeing delivered 42 planes."))
    by_type = {e.type_.name: e.salience for e in response.entities}
    assert by_type["NUMBER"] == 0
    assert by_type["ORGANIZATION"] == pytest.approx(1.0)
