"""A parsed document's entities as Google's `Entity`s: what patterns find, what spaCy names
(see `named`), and the numbers and dates in the text.

Sources, in order of precedence (a later one never overlaps an earlier one, except NUMBER):
1. ADDRESS (`addresses`), PHONE_NUMBER (`phones`, libphonenumber), PRICE (`money`);
2. identifiers: a document word with a number ("Invoice 4471", "Order #5521", "Room 12") is
   OTHER with a COMMON mention, as Google types a common noun, never an ORGANIZATION;
3. currency codes alone ("pay in EUR"): OTHER;
4. spaCy's named entities, typed by `named`;
5. DATE (`dates`): written dates anywhere, and the cores of spaCy's date expressions;
6. NUMBER: every number written in digits outside a phone number, also inside a date, price,
   address, product or identifier, as Google lists "1600" beside the address it starts
   ("Analyzing Entities" example); and numbers in words that spaCy tags NUM ("two medals").
   A price's amount is that NUMBER's mention ("7.5 billion").

spaCy's CARDINAL, ORDINAL, QUANTITY, PERCENT and MONEY spans are not used as such: the
patterns above find them with their values. TIME spans give no entity. Common-noun entities
(Google lists "phone", "city" as OTHER) are not produced.

Mentions: PROPER when a token of a named mention is a proper noun, COMMON otherwise;
TYPE_UNKNOWN for numbers, dates, prices, phone numbers and addresses (as Google does).
Mentions of one type with the same text (case-insensitive) are one entity, and so is a
one-word mention (PERSON, or ORGANIZATION/OTHER that spaCy's small model often gives a lone
surname) equal to the first or last word of an earlier person's full name ("Obama" after
"Barack Obama"). The entity's `name` is its longest mention; its `metadata` is what the text
gives (see each module). No `mid` or `wikipedia_url`: there is no offline knowledge graph.
Salience: see `salience`.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from services.language.backends.local import (
    addresses,
    dates,
    money,
    named,
    numbers,
    phones,
    salience,
)
from shared.gapictypes import message_types

language_v1 = message_types("google.cloud.language_v1")

Type = language_v1.Entity.Type
MentionType = language_v1.EntityMention.Type

NUMERIC = frozenset({Type.DATE, Type.NUMBER, Type.PRICE, Type.PHONE_NUMBER, Type.ADDRESS})
# Alias grouping: spaCy's small model often labels a lone surname ORG; after the full name,
# it is the person.
_ALIAS_TYPES = frozenset({Type.PERSON, Type.ORGANIZATION, Type.OTHER})
_IDENTIFIER = re.compile(
    r"\b(?:invoice|order|ticket|account|booking|reservation|case|claim|policy|reference|ref|"
    r"receipt|contract|shipment|tracking|item|serial|room|gate|platform|chapter|section|"
    r"page|table|figure|article|flight|seat|patient|customer|employee|member)"
    r"(?:\s+(?:no\.?|number|num\.?|id))?\s*[#:]?\s*(?=[A-Z]{0,3}\d)[A-Z]{0,3}\d[\w/-]*",
    re.I,
)
_CURRENCY_CODE = re.compile(r"\b[A-Z]{3}\b")


@dataclasses.dataclass
class Mention:
    start: int  # character offsets into the text
    end: int
    text: str
    type: Type
    mention_type: MentionType
    sentence: int
    metadata: dict[str, str]
    head: Any = None  # the spaCy token that carries the mention's grammatical role
    weight: float = 0.0


@dataclasses.dataclass
class Found:
    """One entity before it becomes a proto: its mentions, in text order."""

    type: Type
    mentions: list[Mention]
    salience: float = 0.0

    @property
    def name(self) -> str:
        return max((m.text for m in self.mentions), key=len)


class _Mentions:
    """Mentions collected so far, kept sorted by start, so that an overlap check looks only at
    the mentions that start within the longest mention's length before it (documents can hold
    thousands of numbers)."""

    def __init__(self, text: str, sentence_starts: Sequence[int]) -> None:
        self.text = text
        self.sentence_starts = sentence_starts
        self.items: list[Mention] = []
        self._starts: list[int] = []
        self._longest = 0

    def overlaps(self, start: int, end: int, kinds: frozenset[Type] | None = None) -> bool:
        low = bisect.bisect_left(self._starts, start - self._longest)
        high = bisect.bisect_left(self._starts, end)
        return any(
            m.end > start and (kinds is None or m.type in kinds) for m in self.items[low:high]
        )

    def add(self, start: int, end: int, kind: Type, metadata: dict[str, str], **extra) -> None:
        sentence = max(bisect.bisect_right(self.sentence_starts, start) - 1, 0)
        mention_type = extra.pop("mention_type", MentionType.TYPE_UNKNOWN)
        mention = Mention(
            start, end, self.text[start:end], kind, mention_type, sentence, metadata, **extra
        )
        index = bisect.bisect_right(self._starts, start)
        self._starts.insert(index, start)
        self.items.insert(index, mention)
        self._longest = max(self._longest, end - start)


def extract(doc: Any, sentence_starts: Sequence[int], phone_region: str = "US") -> list[Found]:
    """Entities of a parsed document, most salient first."""
    text = doc.text
    found = _Mentions(text, sentence_starts)
    for address in addresses.find(text):
        found.add(address.start, address.end, Type.ADDRESS, address.metadata)
    for phone in phones.find(text, phone_region):
        if not found.overlaps(phone.start, phone.end):
            found.add(phone.start, phone.end, Type.PHONE_NUMBER, phone.metadata)
    amounts = []
    for price in money.find(text):
        if not found.overlaps(price.start, price.end):
            found.add(
                price.start,
                price.end,
                Type.PRICE,
                {"currency": price.currency, "value": price.value},
            )
            amounts.append(price)
    for match in _IDENTIFIER.finditer(text):
        if not found.overlaps(match.start(), match.end()):
            found.add(match.start(), match.end(), Type.OTHER, {}, mention_type=MentionType.COMMON)
    for match in _CURRENCY_CODE.finditer(text):
        if money.is_code_alone(match.group(0)) and not found.overlaps(*match.span()):
            found.add(*match.span(), Type.OTHER, {}, mention_type=MentionType.COMMON)
    _add_named(doc, found)
    _add_dates(doc, found)
    _add_numbers(doc, found, amounts)
    return salience.rank(_group(found.items, doc))


def _add_named(doc: Any, found: _Mentions) -> None:
    for mention in named.mentions(doc):
        if found.overlaps(mention.start, mention.end):
            continue
        proper = any(token.pos_ == "PROPN" for token in mention.tokens)
        found.add(
            mention.start,
            mention.end,
            mention.type,
            {},
            mention_type=MentionType.PROPER if proper else MentionType.COMMON,
            head=_head(mention.tokens),
        )
    # spaCy's MONEY without a currency the patterns know ("50 cents"): a PRICE all the same.
    for span in doc.ents:
        if span.label_ == "MONEY" and not found.overlaps(span.start_char, span.end_char):
            metadata = money.value_of(span.text)
            if metadata:
                found.add(span.start_char, span.end_char, Type.PRICE, metadata)


def _add_dates(doc: Any, found: _Mentions) -> None:
    expressions = [(s.start_char, s.end_char) for s in doc.ents if s.label_ == "DATE"]
    blocking = frozenset(set(Type) - {Type.NUMBER})
    for date in dates.find(found.text, expressions):
        if not found.overlaps(date.start, date.end, blocking):
            found.add(date.start, date.end, Type.DATE, date.metadata)


def _add_numbers(doc: Any, found: _Mentions, amounts: list[money.Price]) -> None:
    text = found.text
    # No NUMBER inside a phone number, nor inside a postcode with letters ("NW1 6XE"); a
    # price's amount is its NUMBER.
    excluded = _Mentions(text, found.sentence_starts)
    for mention in found.items:
        postcode = mention.metadata.get("postal_code", "") if mention.type == Type.ADDRESS else ""
        if mention.type == Type.PHONE_NUMBER:
            excluded.add(mention.start, mention.end, Type.PHONE_NUMBER, {})
        elif postcode and not postcode.isdigit():
            start = text.find(postcode, mention.start)
            excluded.add(start, start + len(postcode), Type.ADDRESS, {})
    for price in amounts:
        start, end = price.amount
        found.add(start, end, Type.NUMBER, {"value": price.value})
        excluded.add(start, end, Type.NUMBER, {})
    for number in numbers.find(text):
        if not excluded.overlaps(number.start, number.end):
            found.add(number.start, number.end, Type.NUMBER, {"value": number.value})
    named_spans = frozenset(
        {Type.PERSON, Type.LOCATION, Type.ORGANIZATION, Type.EVENT, Type.WORK_OF_ART}
    )
    for run in _number_word_runs(doc):
        start, end = run[0].idx, run[-1].idx + len(run[-1].text)
        value = numbers.words_value([token.text for token in run])
        if value is None or found.overlaps(start, end, named_spans):
            continue
        if not found.overlaps(start, end, frozenset({Type.NUMBER})):
            found.add(start, end, Type.NUMBER, {"value": value})


def _number_word_runs(doc: Any) -> list[list[Any]]:
    runs: list[list[Any]] = []
    for token in doc:
        if token.pos_ == "NUM" and token.is_alpha:
            if runs and runs[-1][-1].i == token.i - 1:
                runs[-1].append(token)
            else:
                runs.append([token])
    return runs


def _head(tokens: list[Any]) -> Any:
    """The token of the mention whose head lies outside it: its grammatical role."""
    inside = {token.i for token in tokens}
    for token in tokens:
        if token.head.i not in inside or token.head.i == token.i:
            return token
    return tokens[-1]


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


def _group(mentions: list[Mention], doc: Any) -> list[Found]:
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
