"""spaCy's named entities, plus phone numbers and addresses, as Google's `Entity`s.

Types: PERSON -> PERSON; ORG -> ORGANIZATION; GPE, LOC, FAC -> LOCATION; EVENT -> EVENT;
WORK_OF_ART -> WORK_OF_ART; PRODUCT -> CONSUMER_GOOD; DATE -> DATE; MONEY -> PRICE (a currency
symbol just before is taken in); CARDINAL, ORDINAL, QUANTITY, PERCENT -> NUMBER; NORP, LAW,
LANGUAGE, TIME -> OTHER. PHONE_NUMBER and ADDRESS come from `patterns` and win over the spaCy
spans they overlap. Common-noun entities (Google also lists "phone", "city") are not produced.

Mentions: a leading "the" is left out; PROPER when a token of the mention is a proper noun,
COMMON otherwise; TYPE_UNKNOWN for numbers, dates, prices, phone numbers and addresses (as
Google does). Mentions of one type with the same text (case-insensitive) are one entity, and so
is a one-word mention (PERSON, or ORGANIZATION/OTHER that spaCy's small model often gives a
lone surname) equal to the first or last word of an earlier person's full name ("Obama" after
"Barack Obama"). The entity's `name` is its longest mention.

Salience (a heuristic; Google's is a trained model): each mention weighs 1, doubled when it is a
sentence's subject, x1.5 in the first sentence, x0.3 for numeric types, divided by
(1 + sentence index / 10); an entity's salience is the sum of its mentions' weights, normalised
so that all entities sum to 1. Entities come most salient first.

`metadata` only where known from the text: DATE year/month/day, NUMBER value, PRICE
value/currency, PHONE_NUMBER number, ADDRESS street_number/street_name/locality/broad_region/
postal_code. No `mid` or `wikipedia_url`: there is no offline knowledge graph.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Sequence
from typing import Any

from google.cloud import language_v1

from services.language.backends.local import patterns

Type = language_v1.Entity.Type
MentionType = language_v1.EntityMention.Type

SPACY_TYPES = {
    "PERSON": Type.PERSON,
    "ORG": Type.ORGANIZATION,
    "GPE": Type.LOCATION,
    "LOC": Type.LOCATION,
    "FAC": Type.LOCATION,
    "EVENT": Type.EVENT,
    "WORK_OF_ART": Type.WORK_OF_ART,
    "PRODUCT": Type.CONSUMER_GOOD,
    "DATE": Type.DATE,
    "MONEY": Type.PRICE,
    "CARDINAL": Type.NUMBER,
    "ORDINAL": Type.NUMBER,
    "QUANTITY": Type.NUMBER,
    "PERCENT": Type.NUMBER,
    "NORP": Type.OTHER,
    "LAW": Type.OTHER,
    "LANGUAGE": Type.OTHER,
    "TIME": Type.OTHER,
}
NUMERIC = frozenset({Type.DATE, Type.NUMBER, Type.PRICE, Type.PHONE_NUMBER, Type.ADDRESS})
SUBJECTS = frozenset({"nsubj", "nsubjpass"})
# spaCy's small model often labels a lone surname ORG; after the full name, it is the person.
_ALIAS_TYPES = frozenset({Type.PERSON, Type.ORGANIZATION, Type.OTHER})


@dataclasses.dataclass
class Mention:
    start: int  # character offsets into the text
    end: int
    text: str
    type: Type
    mention_type: MentionType
    sentence: int
    weight: float
    metadata: dict[str, str]


@dataclasses.dataclass
class Found:
    """One entity before it becomes a proto: its mentions, in text order."""

    type: Type
    mentions: list[Mention]
    salience: float = 0.0

    @property
    def name(self) -> str:
        return max((m.text for m in self.mentions), key=len)


def extract(doc: Any, sentence_starts: Sequence[int]) -> list[Found]:
    """Entities of a parsed document, most salient first."""
    text = doc.text
    mentions = _pattern_mentions(text, sentence_starts)
    taken = [(m.start, m.end) for m in mentions]
    for span in doc.ents:
        kind = SPACY_TYPES.get(span.label_)
        if kind is None:
            continue
        mention = _spacy_mention(span, kind, text, sentence_starts)
        if mention is None or any(s < mention.end and mention.start < e for s, e in taken):
            continue
        mentions.append(mention)
    mentions.sort(key=lambda m: m.start)
    return _rank(_group(mentions))


def to_proto(found: Found, offset: Any) -> language_v1.Entity:
    metadata: dict[str, str] = {}
    for mention in found.mentions:
        metadata = {**mention.metadata, **metadata}
    return language_v1.Entity(
        name=found.name,
        type_=found.type,
        metadata=metadata,
        salience=found.salience,
        mentions=[
            language_v1.EntityMention(
                text=language_v1.TextSpan(content=m.text, begin_offset=offset(m.start)),
                type_=m.mention_type,
            )
            for m in found.mentions
        ],
    )


def _sentence_of(start: int, sentence_starts: Sequence[int]) -> int:
    return max(bisect.bisect_right(sentence_starts, start) - 1, 0)


def _pattern_mentions(text: str, sentence_starts: Sequence[int]) -> list[Mention]:
    found: list[Mention] = []
    for kind, pattern in ((Type.ADDRESS, patterns.ADDRESS), (Type.PHONE_NUMBER, patterns.PHONE)):
        for match in pattern.finditer(text):
            if any(m.start < match.end() and match.start() < m.end for m in found):
                continue
            metadata = (
                patterns.address_metadata(match)
                if kind == Type.ADDRESS
                else patterns.phone_metadata(match.group(0))
            )
            sentence = _sentence_of(match.start(), sentence_starts)
            found.append(
                Mention(
                    match.start(),
                    match.end(),
                    match.group(0),
                    kind,
                    MentionType.TYPE_UNKNOWN,
                    sentence,
                    _weight(kind, sentence, subject=False),
                    metadata,
                )
            )
    return found


def _spacy_mention(
    span: Any, kind: Type, text: str, sentence_starts: Sequence[int]
) -> Mention | None:
    start, end = span.start_char, span.end_char
    tokens = list(span)
    if tokens and tokens[0].lower_ == "the" and len(tokens) > 1:
        tokens = tokens[1:]
        start = tokens[0].idx
    if kind == Type.PRICE and start > 0 and text[start - 1] in patterns.CURRENCY_SYMBOLS:
        start -= 1
    if start >= end:
        return None
    content = text[start:end]
    sentence = _sentence_of(start, sentence_starts)
    if kind in NUMERIC:
        mention_type = MentionType.TYPE_UNKNOWN
    elif any(token.pos_ == "PROPN" for token in tokens):
        mention_type = MentionType.PROPER
    else:
        mention_type = MentionType.COMMON
    subject = span.root.dep_ in SUBJECTS
    return Mention(
        start,
        end,
        content,
        kind,
        mention_type,
        sentence,
        _weight(kind, sentence, subject),
        _metadata(kind, content),
    )


def _metadata(kind: Type, content: str) -> dict[str, str]:
    if kind == Type.DATE:
        return patterns.date_metadata(content)
    if kind == Type.PRICE:
        return patterns.price_metadata(content)
    if kind == Type.NUMBER:
        value = patterns.number_value(content)
        return {"value": value} if value is not None else {}
    return {}


def _weight(kind: Type, sentence: int, subject: bool) -> float:
    weight = 2.0 if subject else 1.0
    if sentence == 0:
        weight *= 1.5
    if kind in NUMERIC:
        weight *= 0.3
    return weight / (1 + sentence / 10)


def _group(mentions: list[Mention]) -> list[Found]:
    entities: list[Found] = []
    by_key: dict[tuple[Type, str], Found] = {}
    for mention in mentions:
        key = (mention.type, mention.text.lower())
        found = by_key.get(key) or _person_alias(mention, entities)
        if found is None:
            found = Found(mention.type, [])
            entities.append(found)
        found.mentions.append(mention)
        by_key[key] = found
    return entities


def _person_alias(mention: Mention, entities: list[Found]) -> Found | None:
    if mention.type not in _ALIAS_TYPES or " " in mention.text.strip():
        return None
    word = mention.text.lower()
    for found in entities:
        if found.type == Type.PERSON:
            words = found.name.lower().split()
            if len(words) > 1 and word in (words[0], words[-1]):
                return found
    return None


def _rank(entities: list[Found]) -> list[Found]:
    totals = [sum(m.weight for m in found.mentions) for found in entities]
    grand = sum(totals) or 1.0
    for found, total in zip(entities, totals, strict=True):
        found.salience = round(total / grand, 4)
    order = sorted(range(len(entities)), key=lambda i: (-entities[i].salience, i))
    return [entities[i] for i in order]
