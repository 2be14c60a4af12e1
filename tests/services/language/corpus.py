"""Texts written for the tests, with the entities a careful reader would mark (gold), so the
tests can check types and offsets and bench/language.py can compute entity F1 on them."""

from __future__ import annotations

# (text, [(mention text, Google entity type name)])
ENTITY_SET: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Angela Merkel met Emmanuel Macron in Berlin on Tuesday.",
        [("Angela Merkel", "PERSON"), ("Emmanuel Macron", "PERSON"), ("Berlin", "LOCATION"),
         ("Tuesday", "DATE")],
    ),
    (
        "Microsoft bought GitHub for $7.5 billion in 2018.",
        [("Microsoft", "ORGANIZATION"), ("GitHub", "ORGANIZATION"), ("$7.5 billion", "PRICE"),
         ("2018", "DATE")],
    ),
    (
        "The Olympic Games were held in Tokyo, and Simone Biles won two medals.",
        [("Olympic Games", "EVENT"), ("Tokyo", "LOCATION"), ("Simone Biles", "PERSON"),
         ("two", "NUMBER")],
    ),
    (
        "Leonardo da Vinci painted the Mona Lisa, which hangs in the Louvre in Paris.",
        [("Leonardo da Vinci", "PERSON"), ("Mona Lisa", "WORK_OF_ART"), ("Louvre", "LOCATION"),
         ("Paris", "LOCATION")],
    ),
    (
        "Call our office at +1 650-253-0000 or visit 1600 Amphitheatre Parkway, Mountain View, "
        "CA 94043.",
        [("+1 650-253-0000", "PHONE_NUMBER"),
         ("1600 Amphitheatre Parkway, Mountain View, CA 94043", "ADDRESS")],
    ),
    (
        "Apple unveiled the iPhone 15 in Cupertino on September 12, 2023.",
        [("Apple", "ORGANIZATION"), ("iPhone 15", "CONSUMER_GOOD"), ("Cupertino", "LOCATION"),
         ("September 12, 2023", "DATE")],
    ),
    (
        "Barack Obama was born in Hawaii. Obama later moved to Chicago.",
        [("Barack Obama", "PERSON"), ("Obama", "PERSON"), ("Hawaii", "LOCATION"),
         ("Chicago", "LOCATION")],
    ),
    (
        "The United Nations opened a new office in Nairobi with 300 employees.",
        [("United Nations", "ORGANIZATION"), ("Nairobi", "LOCATION"), ("300", "NUMBER")],
    ),
    (
        "Toni Morrison wrote Beloved while she worked at Random House in New York.",
        [("Toni Morrison", "PERSON"), ("Beloved", "WORK_OF_ART"), ("Random House", "ORGANIZATION"),
         ("New York", "LOCATION")],
    ),
    (
        "Tickets for the World Cup final in Qatar cost €450 each.",
        [("World Cup", "EVENT"), ("Qatar", "LOCATION"), ("€450", "PRICE")],
    ),
]  # fmt: skip


def entity_f1(predicted: list[set[tuple[str, str]]]) -> tuple[float, float, float]:
    """Micro precision, recall and F1 of (mention text, type) per text against ENTITY_SET."""
    true_positive = false_positive = false_negative = 0
    for (_text, gold), found in zip(ENTITY_SET, predicted, strict=True):
        gold_set = set(gold)
        true_positive += len(found & gold_set)
        false_positive += len(found - gold_set)
        false_negative += len(gold_set - found)
    precision = true_positive / ((true_positive + false_positive) or 1)
    recall = true_positive / ((true_positive + false_negative) or 1)
    f1 = 2 * precision * recall / ((precision + recall) or 1)
    return precision, recall, f1


# One sentence per main entity type and the mention that must be found with that type.
TYPE_CASES: list[tuple[str, str, str]] = [
    ("Angela Merkel spoke to reporters.", "Angela Merkel", "PERSON"),
    ("We flew to Tokyo last spring.", "Tokyo", "LOCATION"),
    ("Microsoft hired new engineers.", "Microsoft", "ORGANIZATION"),
    ("Millions watched the Olympic Games on television.", "Olympic Games", "EVENT"),
    ("Leonardo da Vinci painted the Mona Lisa.", "Mona Lisa", "WORK_OF_ART"),
    ("He plays games on his PlayStation 5.", "PlayStation 5", "CONSUMER_GOOD"),
    ("Call me at +1 650-253-0000 tomorrow.", "+1 650-253-0000", "PHONE_NUMBER"),
    ("Send it to 1600 Amphitheatre Parkway, Mountain View, CA 94043.",
     "1600 Amphitheatre Parkway, Mountain View, CA 94043", "ADDRESS"),
    ("The shop opened on September 12, 2023.", "September 12, 2023", "DATE"),
    ("The box holds 300 screws.", "300", "NUMBER"),
    ("The ticket cost €450 in the end.", "€450", "PRICE"),
]  # fmt: skip
