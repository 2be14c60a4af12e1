"""Salience, a documented heuristic (Google's is a trained model): what the text is about
ranks first, and that is usually the subject of its first sentence.

Each mention weighs 1, multiplied by:
- its grammatical role (the role of the mention's head token, or of the noun it modifies when
  it is a compound or possessive inside a noun phrase): x3 subject of its sentence's main
  verb (nsubj, nsubjpass, or a conjunct of one), x2 another subject, x1.5 direct object or
  passive agent, x1 otherwise;
- x1.5 in the first sentence, then 1 / (1 + sentence index / 5) for later ones;
- x0.7 for a COMMON mention (identifiers, currency codes), x0.3 for dates, prices, phone
  numbers and addresses; NUMBER mentions weigh 0, as Google gives numbers salience 0.
An entity's salience is the sum of its mentions' weights, normalised so that all entities sum
to 1 (all 0 when every entity is a number). Entities come most salient first; ties keep text
order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.gapictypes import message_types

if TYPE_CHECKING:
    from services.language.backends.local.entities import Found, Mention

language_v1 = message_types("google.cloud.language_v1")

Type = language_v1.Entity.Type
MentionType = language_v1.EntityMention.Type

_SUBJECTS = frozenset({"nsubj", "nsubjpass"})
_OBJECTS = frozenset({"dobj", "agent", "pobj"})
_NOUN_MODIFIERS = frozenset({"compound", "poss", "amod", "nmod", "appos"})
_LOW = frozenset({Type.DATE, Type.PRICE, Type.PHONE_NUMBER, Type.ADDRESS})


def rank(entities: list[Found]) -> list[Found]:
    for found in entities:
        for mention in found.mentions:
            mention.weight = weight(mention)
    totals = [sum(m.weight for m in found.mentions) for found in entities]
    grand = sum(totals)
    for found, total in zip(entities, totals, strict=True):
        found.salience = round(total / grand, 4) if grand else 0.0
    order = sorted(range(len(entities)), key=lambda i: (-totals[i], i))
    return [entities[i] for i in order]


def weight(mention: Mention) -> float:
    if mention.type == Type.NUMBER:
        return 0.0
    value = _role(mention.head)
    value *= 1.5 if mention.sentence == 0 else 1 / (1 + mention.sentence / 5)
    if mention.type in _LOW:
        value *= 0.3
    elif mention.mention_type == MentionType.COMMON:
        value *= 0.7
    return value


def _role(head: Any) -> float:
    if head is None:
        return 1.0
    token = head
    # "Apple's new phone", "the Berlin office": the role is the noun phrase's.
    for _ in range(3):
        if token.dep_ in _NOUN_MODIFIERS and token.head is not token:
            token = token.head
        else:
            break
    dep = token.dep_
    if dep == "conj":  # "Merkel and Macron met": both are subjects
        first = token.head
        while first.dep_ == "conj" and first.head is not first:
            first = first.head
        dep, token = first.dep_, first
    if dep in _SUBJECTS:
        return 3.0 if token.head.dep_ == "ROOT" else 2.0
    if dep == "dobj" or dep == "agent":
        return 1.5
    if dep == "pobj" and token.head.dep_ == "agent":  # "written by Fitzgerald"
        return 1.5
    return 1.0
