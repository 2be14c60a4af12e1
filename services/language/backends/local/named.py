"""spaCy's named entities as Google types them, with the corrections that a sentence's grammar
makes cheap (spaCy's small English model gets these wrong often; the rules are about how
English is written, not lists of names):

| spaCy label | Google type |
|---|---|
| PERSON | PERSON |
| ORG | ORGANIZATION |
| GPE, LOC, FAC | LOCATION |
| EVENT | EVENT |
| WORK_OF_ART | WORK_OF_ART |
| PRODUCT | CONSUMER_GOOD |
| NORP, LAW, LANGUAGE | OTHER |

Corrections, in order:
1. a currency code alone ("EUR", which spaCy calls an organisation) is OTHER;
2. the object of a verb of making a work (write, paint, compose, publish, record, ...) or the
   passive subject of one ("The Great Gatsby was written by") is a WORK_OF_ART, also when spaCy
   did not name it (a run of proper nouns);
3. a proper name with a model number ("iPhone 15", "Galaxy S24", "PlayStation 5") is a
   CONSUMER_GOOD, also when spaCy did not name it;
4. a "person" after "the" ("in the Louvre") is no person: a LOCATION after a preposition of
   place, an ORGANIZATION otherwise.
A leading "the" is not part of the mention.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from services.language.backends.local import dates, money
from shared.gapictypes import message_types

language_v1 = message_types("google.cloud.language_v1")

Type = language_v1.Entity.Type

SPACY_TYPES = {
    "PERSON": Type.PERSON,
    "ORG": Type.ORGANIZATION,
    "GPE": Type.LOCATION,
    "LOC": Type.LOCATION,
    "FAC": Type.LOCATION,
    "EVENT": Type.EVENT,
    "WORK_OF_ART": Type.WORK_OF_ART,
    "PRODUCT": Type.CONSUMER_GOOD,
    "NORP": Type.OTHER,
    "LAW": Type.OTHER,
    "LANGUAGE": Type.OTHER,
}
_CREATIVE_VERBS = frozenset(
    [
        "write",
        "paint",
        "compose",
        "publish",
        "record",
        "direct",
        "film",
        "sculpt",
        "author",
        "pen",
        "draw",
        "sing",
    ]
)
_PLACE_PREPOSITIONS = frozenset(("in", "at", "near", "from", "to", "into", "inside", "outside"))
# A model number: digits, or up to two capitals before digits ("S24", "X1"), a letter after.
_MODEL_NUMBER = re.compile(r"^(?:[A-Z]{0,2}\d{1,4}[a-z]?)$")
_YEAR = re.compile(r"^(?:1\d{3}|20\d{2})$")


class Named(NamedTuple):
    start: int  # character offsets
    end: int
    type: Type
    tokens: list[Any]  # the spaCy tokens of the mention


def mentions(doc: Any) -> list[Named]:
    """Named mentions of a parsed document, typed and corrected, in text order."""
    found: list[Named] = []
    covered: set[int] = set()
    for span in doc.ents:
        kind = SPACY_TYPES.get(span.label_)
        if kind is None:
            continue
        tokens = _without_the(list(span))
        if not tokens:
            continue
        found.append(_corrected(tokens, kind))
        covered.update(token.i for token in span)
    for tokens, kind in _unnamed(doc, covered):
        found.append(Named(tokens[0].idx, _end(tokens), kind, tokens))
    return sorted(found, key=lambda named: named.start)


def _end(tokens: list[Any]) -> int:
    return tokens[-1].idx + len(tokens[-1].text)


def _without_the(tokens: list[Any]) -> list[Any]:
    if len(tokens) > 1 and tokens[0].lower_ == "the":
        return tokens[1:]
    return tokens


def _corrected(tokens: list[Any], kind: Type) -> Named:
    text = "".join(token.text_with_ws for token in tokens).strip()
    if money.is_code_alone(text):
        kind = Type.OTHER
    elif _made_work(tokens):
        kind = Type.WORK_OF_ART
    elif _MODEL_NUMBER.match(tokens[-1].text) and len(tokens) > 1 and _product_name(tokens[:-1]):
        kind = Type.CONSUMER_GOOD
    elif kind == Type.PERSON and _after_the(tokens):
        kind = Type.LOCATION if tokens[0].head.lower_ in _PLACE_PREPOSITIONS else Type.ORGANIZATION
    return Named(tokens[0].idx, _end(tokens), kind, tokens)


def _after_the(tokens: list[Any]) -> bool:
    first = tokens[0]
    return first.i > 0 and first.doc[first.i - 1].lower_ == "the"


def _made_work(tokens: list[Any]) -> bool:
    root = min(tokens, key=lambda token: _depth(token, tokens))
    head = root.head
    if head.lemma_.lower() not in _CREATIVE_VERBS or head.pos_ not in ("VERB", "AUX"):
        return False
    return root.dep_ in ("dobj", "nsubjpass", "attr", "oprd")


def _depth(token: Any, tokens: list[Any]) -> int:
    depth = 0
    while token.head in tokens and token.head is not token and depth < 10:
        token, depth = token.head, depth + 1
    return depth


def _product_name(tokens: list[Any]) -> bool:
    """Proper-name words before a model number, not a month ("September 12")."""
    return bool(tokens) and all(
        (token.pos_ == "PROPN" or _mixed(token)) and token.text.lower() not in dates.MONTHS
        for token in tokens
    )


def _mixed(token: Any) -> bool:
    """Brand casing ("iPhone", "PlayStation"): capitals inside a word, not a sentence's."""
    return token.text.isalpha() and any(ch.isupper() for ch in token.text[1:])


def _unnamed(doc: Any, covered: set[int]) -> list[tuple[list[Any], Type]]:
    """Proper-noun runs spaCy did not name that rules 2 and 3 type."""
    found = []
    tokens = list(doc)
    index = 0
    while index < len(tokens):
        if not _name_word(tokens[index], covered):
            index += 1
            continue
        end = index + 1
        while end < len(tokens) and _name_word(tokens[end], covered):
            end += 1
        run = _without_the(tokens[index:end])
        after = tokens[end] if end < len(tokens) else None
        if (
            after is not None
            and after.i not in covered
            and _MODEL_NUMBER.match(after.text)
            and not _YEAR.match(after.text)
            and _product_name(run)
        ):
            found.append(([*run, after], Type.CONSUMER_GOOD))
        elif _made_work(run):
            found.append((run, Type.WORK_OF_ART))
        index = end
    return found


def _name_word(token: Any, covered: set[int]) -> bool:
    """A word of a name: a proper noun or brand-cased word (a model number ends the name), or
    a capitalised word inside a sentence that is a number or a title's "The" ("The Two
    Fridas")."""
    if token.i in covered or token.text.lower() in dates.MONTHS:
        return False
    if any(ch.isdigit() for ch in token.text):
        return False
    if token.pos_ == "PROPN" or _mixed(token):
        return True
    inside = not token.is_sent_start and token.is_title
    return inside and (token.pos_ == "NUM" or token.lower_ == "the")
