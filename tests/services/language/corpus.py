"""Texts written for the tests, with the entities Google's Natural Language would mark (gold):
type, offset and metadata, so the tests can check each and bench/language.py can report
entity F1 and per-type accuracy on them.

The gold follows Google's documented behaviour (language/v1 `Entity.Type` and the
"Analyzing Entities" example, where "1600 Pennsylvania Ave NW, Washington, DC" is an ADDRESS
with `street_number`, "October 7" a DATE with `month` and `day`, and "1600" and "7" are also
NUMBER entities of their own):

- named entities without a leading "the"; PERSON, LOCATION, ORGANIZATION, EVENT,
  WORK_OF_ART, CONSUMER_GOOD;
- every number written in digits is a NUMBER with `value`, also inside a date, a price, an
  address, a product or an identifier (not inside a phone number, which is one PHONE_NUMBER);
  quantities in words ("two") are NUMBERs too;
- PRICE is the amount with its currency (symbol or ISO code, before or after), `value` the
  amount without grouping (decimal point, scale words multiplied out), `currency` ISO 4217;
- DATE metadata `year`/`month`/`day` as far as the text gives them, without leading zeros;
- PHONE_NUMBER: `number` in the national format of libphonenumber, `national_prefix` the
  country code when written, `area_code`, `extension`;
- ADDRESS: `street_number`, `street_name`, `locality`, `broad_region`, `postal_code`,
  `country` (ISO 3166 code) as written;
- an identifier ("Invoice 4471", "Order #5521") is OTHER, not an ORGANIZATION; a currency code
  alone ("EUR") is OTHER.

`TUNE` is what the local backend was tuned on; `HELD_OUT` was written at the same time and
only measured, never tuned on. Each `Gold` is found at the `nth` occurrence of its text.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence


@dataclasses.dataclass(frozen=True)
class Gold:
    text: str
    type: str
    metadata: dict[str, str] | None = None  # None: not checked
    nth: int = 1


def G(text: str, kind: str, metadata: dict[str, str] | None = None, nth: int = 1) -> Gold:
    return Gold(text, kind, metadata, nth)


def N(text: str, value: str | None = None, nth: int = 1) -> Gold:
    """A NUMBER whose value is its digits (or `value`)."""
    return Gold(text, "NUMBER", {"value": value or text.replace(",", "")}, nth)


Case = tuple[str, list[Gold]]

TUNE: list[Case] = [
    ("Angela Merkel met Emmanuel Macron in Berlin on Tuesday.",
     [G("Angela Merkel", "PERSON"), G("Emmanuel Macron", "PERSON"), G("Berlin", "LOCATION"),
      G("Tuesday", "DATE", {})]),
    ("Microsoft bought GitHub for $7.5 billion in 2018.",
     [G("Microsoft", "ORGANIZATION"), G("GitHub", "ORGANIZATION"),
      G("$7.5 billion", "PRICE", {"currency": "USD", "value": "7500000000"}),
      N("7.5 billion", "7500000000"), G("2018", "DATE", {"year": "2018"}), N("2018")]),
    ("The Olympic Games were held in Tokyo, and Simone Biles won two medals.",
     [G("Olympic Games", "EVENT"), G("Tokyo", "LOCATION"), G("Simone Biles", "PERSON"),
      N("two", "2")]),
    ("Leonardo da Vinci painted the Mona Lisa, which hangs in the Louvre in Paris.",
     [G("Leonardo da Vinci", "PERSON"), G("Mona Lisa", "WORK_OF_ART"), G("Louvre", "LOCATION"),
      G("Paris", "LOCATION")]),
    ("Call our office at +1 650-253-0000 or visit 1600 Amphitheatre Parkway, Mountain View, "
     "CA 94043.",
     [G("+1 650-253-0000", "PHONE_NUMBER",
        {"number": "(650) 253-0000", "national_prefix": "1", "area_code": "650"}),
      G("1600 Amphitheatre Parkway, Mountain View, CA 94043", "ADDRESS",
        {"street_number": "1600", "street_name": "Amphitheatre Parkway",
         "locality": "Mountain View", "broad_region": "CA", "postal_code": "94043"}),
      N("1600"), N("94043")]),
    ("Apple unveiled the iPhone 15 in Cupertino on September 12, 2023.",
     [G("Apple", "ORGANIZATION"), G("iPhone 15", "CONSUMER_GOOD"), N("15"),
      G("Cupertino", "LOCATION"),
      G("September 12, 2023", "DATE", {"year": "2023", "month": "9", "day": "12"}),
      N("12"), N("2023")]),
    ("Barack Obama was born in Hawaii. Obama later moved to Chicago.",
     [G("Barack Obama", "PERSON"), G("Obama", "PERSON", nth=2), G("Hawaii", "LOCATION"),
      G("Chicago", "LOCATION")]),
    ("The United Nations opened a new office in Nairobi with 300 employees.",
     [G("United Nations", "ORGANIZATION"), G("Nairobi", "LOCATION"), N("300")]),
    ("Toni Morrison wrote Beloved while she worked at Random House in New York.",
     [G("Toni Morrison", "PERSON"), G("Beloved", "WORK_OF_ART"),
      G("Random House", "ORGANIZATION"), G("New York", "LOCATION")]),
    ("Tickets for the World Cup final in Qatar cost €450 each.",
     [G("World Cup", "EVENT"), G("Qatar", "LOCATION"),
      G("€450", "PRICE", {"currency": "EUR", "value": "450"}), N("450")]),
    ("Invoice 4471 from Acme Corporation totals 1,250.00 EUR, due on 15 March 2024.",
     [G("Invoice 4471", "OTHER"), N("4471"), G("Acme Corporation", "ORGANIZATION"),
      G("1,250.00 EUR", "PRICE", {"currency": "EUR", "value": "1250.00"}), N("1,250.00"),
      G("15 March 2024", "DATE", {"year": "2024", "month": "3", "day": "15"}), N("15"),
      N("2024")]),
    ("Please pay in EUR by bank transfer.", [G("EUR", "OTHER")]),
    ("The jacket costs £89.99 at Harrods.",
     [G("£89.99", "PRICE", {"currency": "GBP", "value": "89.99"}), N("89.99"),
      G("Harrods", "ORGANIZATION")]),
    ("Netflix raised its price to 15.49 dollars a month.",
     [G("Netflix", "ORGANIZATION"),
      G("15.49 dollars", "PRICE", {"currency": "USD", "value": "15.49"}), N("15.49")]),
    ("The hotel in Kyoto charged ¥12,000 per night.",
     [G("Kyoto", "LOCATION"), G("¥12,000", "PRICE", {"currency": "JPY", "value": "12000"}),
      N("12,000")]),
    ("Siemens reported revenue of USD 2.4 million for the quarter.",
     [G("Siemens", "ORGANIZATION"),
      G("USD 2.4 million", "PRICE", {"currency": "USD", "value": "2400000"}),
      N("2.4 million", "2400000")]),
    ("The contract was signed on 2021-06-30 in Geneva.",
     [G("2021-06-30", "DATE", {"year": "2021", "month": "6", "day": "30"}), N("2021"),
      N("06", "6"), N("30"), G("Geneva", "LOCATION")]),
    ("She moved to Lisbon in March 2019.",
     [G("Lisbon", "LOCATION"), G("March 2019", "DATE", {"year": "2019", "month": "3"}),
      N("2019")]),
    ("The museum reopens on May 5th.",
     [G("May 5th", "DATE", {"month": "5", "day": "5"}), N("5", nth=1)]),
    ("Our London office answers on +44 20 7946 0958.",
     [G("London", "LOCATION"),
      G("+44 20 7946 0958", "PHONE_NUMBER",
        {"number": "020 7946 0958", "national_prefix": "44", "area_code": "20"})]),
    ("For support, dial (415) 555-0132 ext. 204.",
     [G("(415) 555-0132 ext. 204", "PHONE_NUMBER",
        {"number": "(415) 555-0132", "area_code": "415", "extension": "204"})]),
    ("Ship the parcel to 221 Baker Street, London NW1 6XE, United Kingdom.",
     [G("221 Baker Street, London NW1 6XE, United Kingdom", "ADDRESS",
        {"street_number": "221", "street_name": "Baker Street", "locality": "London",
         "postal_code": "NW1 6XE", "country": "GB"}),
      N("221")]),
    ("The new branch is at 350 Fifth Avenue, New York, NY 10118.",
     [G("350 Fifth Avenue, New York, NY 10118", "ADDRESS",
        {"street_number": "350", "street_name": "Fifth Avenue", "locality": "New York",
         "broad_region": "NY", "postal_code": "10118"}),
      N("350"), N("10118")]),
    ("Serena Williams won the Wimbledon Championships seven times.",
     [G("Serena Williams", "PERSON"), G("Wimbledon Championships", "EVENT"),
      N("seven", "7")]),
    ("Tesla delivered 1.8 million cars last year.",
     [G("Tesla", "ORGANIZATION"), N("1.8 million", "1800000")]),
    ("The Great Gatsby was written by F. Scott Fitzgerald.",
     [G("Great Gatsby", "WORK_OF_ART"), G("F. Scott Fitzgerald", "PERSON")]),
    ("Samsung launched the Galaxy S24 in Seoul.",
     [G("Samsung", "ORGANIZATION"), G("Galaxy S24", "CONSUMER_GOOD"), N("24"),
      G("Seoul", "LOCATION")]),
    ("The Nile flows through Egypt and Sudan.",
     [G("Nile", "LOCATION"), G("Egypt", "LOCATION"), G("Sudan", "LOCATION")]),
    ("Order #5521 was shipped by DHL to Madrid.",
     [G("Order #5521", "OTHER"), N("5521"), G("DHL", "ORGANIZATION"),
      G("Madrid", "LOCATION")]),
    ("Elon Musk founded SpaceX in 2002.",
     [G("Elon Musk", "PERSON"), G("SpaceX", "ORGANIZATION"),
      G("2002", "DATE", {"year": "2002"}), N("2002")]),
    ("The Eiffel Tower attracts 7 million visitors a year.",
     [G("Eiffel Tower", "LOCATION"), N("7 million", "7000000")]),
    ("Amazon sold the Kindle for $89 during Prime Day.",
     [G("Amazon", "ORGANIZATION"), G("Kindle", "CONSUMER_GOOD"),
      G("$89", "PRICE", {"currency": "USD", "value": "89"}), N("89"),
      G("Prime Day", "EVENT")]),
    ("Marie Curie won the Nobel Prize in 1911.",
     [G("Marie Curie", "PERSON"), G("Nobel Prize", "OTHER"),
      G("1911", "DATE", {"year": "1911"}), N("1911")]),
    ("The flight from Dublin to Boston takes off on 3 April.",
     [G("Dublin", "LOCATION"), G("Boston", "LOCATION"),
      G("3 April", "DATE", {"month": "4", "day": "3"}), N("3")]),
    ("Shakespeare wrote Hamlet around 1600.",
     [G("Shakespeare", "PERSON"), G("Hamlet", "WORK_OF_ART"),
      G("1600", "DATE", {"year": "1600"}), N("1600")]),
    ("The repair cost 300 euros and took four days.",
     [G("300 euros", "PRICE", {"currency": "EUR", "value": "300"}), N("300"),
      N("four", "4")]),
    ("Google opened a data centre in Finland.",
     [G("Google", "ORGANIZATION"), G("Finland", "LOCATION")]),
    ("The concert at Madison Square Garden sold 20,000 tickets.",
     [G("Madison Square Garden", "LOCATION"), N("20,000")]),
    ("Beyoncé performed at the Super Bowl in Atlanta.",
     [G("Beyoncé", "PERSON"), G("Super Bowl", "EVENT"), G("Atlanta", "LOCATION")]),
    ("The lease on 10 Downing Street, London SW1A 2AA began in 1735.",
     [G("10 Downing Street, London SW1A 2AA", "ADDRESS",
        {"street_number": "10", "street_name": "Downing Street", "locality": "London",
         "postal_code": "SW1A 2AA"}),
      N("10"), G("1735", "DATE", {"year": "1735"}), N("1735")]),
    ("Nintendo sold the Switch for 299 USD in Canada.",
     [G("Nintendo", "ORGANIZATION"), G("Switch", "CONSUMER_GOOD"),
      G("299 USD", "PRICE", {"currency": "USD", "value": "299"}), N("299"),
      G("Canada", "LOCATION")]),
    ("Frida Kahlo painted The Two Fridas in Mexico City.",
     [G("Frida Kahlo", "PERSON"), G("Two Fridas", "WORK_OF_ART"),
      G("Mexico City", "LOCATION")]),
    ("The train leaves Vienna for Prague every two hours.",
     [G("Vienna", "LOCATION"), G("Prague", "LOCATION"), N("two", "2")]),
    ("Boeing delivered 42 planes to Lufthansa.",
     [G("Boeing", "ORGANIZATION"), N("42"), G("Lufthansa", "ORGANIZATION")]),
    ("Text us at 212-555-0187 before Friday.",
     [G("212-555-0187", "PHONE_NUMBER", {"number": "(212) 555-0187", "area_code": "212"}),
      G("Friday", "DATE", {})]),
    ("The Amazon River basin covers 7,000,000 square kilometres.",
     [G("Amazon River", "LOCATION"), N("7,000,000")]),
]  # fmt: skip

HELD_OUT: list[Case] = [
    ("Nelson Mandela was released from prison in February 1990.",
     [G("Nelson Mandela", "PERSON"), G("February 1990", "DATE", {"year": "1990", "month": "2"}),
      N("1990")]),
    ("IKEA opened its largest store in Manila.",
     [G("IKEA", "ORGANIZATION"), G("Manila", "LOCATION")]),
    ("The painting sold at Christie's for $450 million.",
     [G("Christie's", "ORGANIZATION"),
      G("$450 million", "PRICE", {"currency": "USD", "value": "450000000"}),
      N("450 million", "450000000")]),
    ("Send the forms to 742 Evergreen Terrace, Springfield, OR 97403.",
     [G("742 Evergreen Terrace, Springfield, OR 97403", "ADDRESS",
        {"street_number": "742", "street_name": "Evergreen Terrace", "locality": "Springfield",
         "broad_region": "OR", "postal_code": "97403"}),
      N("742"), N("97403")]),
    ("Reach the Paris desk at +33 1 42 68 53 00.",
     [G("Paris", "LOCATION"),
      G("+33 1 42 68 53 00", "PHONE_NUMBER",
        {"number": "01 42 68 53 00", "national_prefix": "33", "area_code": "1"})]),
    ("Pablo Picasso painted Guernica in 1937.",
     [G("Pablo Picasso", "PERSON"), G("Guernica", "WORK_OF_ART"),
      G("1937", "DATE", {"year": "1937"}), N("1937")]),
    ("Spotify now has 600 million users.",
     [G("Spotify", "ORGANIZATION"), N("600 million", "600000000")]),
    ("The meeting in Oslo is on 12 November 2025.",
     [G("Oslo", "LOCATION"),
      G("12 November 2025", "DATE", {"year": "2025", "month": "11", "day": "12"}), N("12"),
      N("2025")]),
    ("Invoice 9812 is payable in GBP.",
     [G("Invoice 9812", "OTHER"), N("9812"), G("GBP", "OTHER")]),
    ("A ticket to the Louvre costs €22.",
     [G("Louvre", "LOCATION"), G("€22", "PRICE", {"currency": "EUR", "value": "22"}),
      N("22")]),
    ("Lionel Messi joined Inter Miami in July 2023.",
     [G("Lionel Messi", "PERSON"), G("Inter Miami", "ORGANIZATION"),
      G("July 2023", "DATE", {"year": "2023", "month": "7"}), N("2023")]),
    ("The Sony PlayStation 5 launched at 499.99 dollars.",
     [G("Sony", "ORGANIZATION"), G("PlayStation 5", "CONSUMER_GOOD"), N("5"),
      G("499.99 dollars", "PRICE", {"currency": "USD", "value": "499.99"}), N("499.99")]),
    ("Call the front desk at (312) 555-0199.",
     [G("(312) 555-0199", "PHONE_NUMBER", {"number": "(312) 555-0199", "area_code": "312"})]),
    ("The Tour de France ends in Paris every July.",
     [G("Tour de France", "EVENT"), G("Paris", "LOCATION"), G("July", "DATE", {"month": "7"})]),
    ("Harvard University was founded in 1636 in Cambridge.",
     [G("Harvard University", "ORGANIZATION"), G("1636", "DATE", {"year": "1636"}),
      N("1636"), G("Cambridge", "LOCATION")]),
    ("The report was filed on 2019-11-04 by Deloitte.",
     [G("2019-11-04", "DATE", {"year": "2019", "month": "11", "day": "4"}), N("2019"),
      N("11"), N("04", "4"), G("Deloitte", "ORGANIZATION")]),
    ("Rent at 55 Water Street, Brooklyn, NY 11201 is £2,100 a month.",
     [G("55 Water Street, Brooklyn, NY 11201", "ADDRESS",
        {"street_number": "55", "street_name": "Water Street", "locality": "Brooklyn",
         "broad_region": "NY", "postal_code": "11201"}),
      N("55"), N("11201"), G("£2,100", "PRICE", {"currency": "GBP", "value": "2100"}),
      N("2,100")]),
    ("Jane Austen published Pride and Prejudice in 1813.",
     [G("Jane Austen", "PERSON"), G("Pride and Prejudice", "WORK_OF_ART"),
      G("1813", "DATE", {"year": "1813"}), N("1813")]),
    ("Toyota recalled three models in Australia.",
     [G("Toyota", "ORGANIZATION"), N("three", "3"), G("Australia", "LOCATION")]),
    ("Usain Bolt ran at the Beijing Olympics in 2008.",
     [G("Usain Bolt", "PERSON"), G("Beijing Olympics", "EVENT"),
      G("2008", "DATE", {"year": "2008"}), N("2008")]),
    ("The fee is 75 CHF, payable to Swiss Post.",
     [G("75 CHF", "PRICE", {"currency": "CHF", "value": "75"}), N("75"),
      G("Swiss Post", "ORGANIZATION")]),
    ("Adele sang at the Royal Albert Hall on 22 September 2015.",
     [G("Adele", "PERSON"), G("Royal Albert Hall", "LOCATION"),
      G("22 September 2015", "DATE", {"year": "2015", "month": "9", "day": "22"}), N("22"),
      N("2015")]),
    ("The Danube passes through Budapest.",
     [G("Danube", "LOCATION"), G("Budapest", "LOCATION")]),
    ("Intel hired 500 engineers in Oregon.",
     [G("Intel", "ORGANIZATION"), N("500"), G("Oregon", "LOCATION")]),
    ("Please quote order #7730 when you call 617-555-0142.",
     [G("order #7730", "OTHER"), N("7730"),
      G("617-555-0142", "PHONE_NUMBER", {"number": "(617) 555-0142", "area_code": "617"})]),
    ("The Beatles recorded Abbey Road in London.",
     [G("Beatles", "ORGANIZATION"), G("Abbey Road", "WORK_OF_ART"), G("London", "LOCATION")]),
]  # fmt: skip

ENTITY_SET: list[Case] = TUNE + HELD_OUT

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
    ("Invoice 4471 is attached.", "Invoice 4471", "OTHER"),
]  # fmt: skip


# -- scoring --------------------------------------------------------------------------------

# A found mention: (begin offset in code points, mention text, entity type name, metadata).
Found = tuple[int, str, str, dict[str, str]]


def gold_offset(text: str, gold: Gold) -> int:
    start = -1
    for _ in range(gold.nth):
        start = text.index(gold.text, start + 1)
    return start


@dataclasses.dataclass
class Score:
    precision: float
    recall: float
    f1: float
    # type name -> (gold mentions whose span was found, of them typed right)
    typed: dict[str, tuple[int, int]]
    # type name -> (gold mentions with metadata found with the right type, metadata right)
    metadata: dict[str, tuple[int, int]]
    errors: list[str]

    def type_accuracy(self) -> float:
        spans = sum(found for found, _ in self.typed.values())
        return sum(right for _, right in self.typed.values()) / (spans or 1)


def score(cases: Sequence[Case], predicted: Iterable[list[Found]]) -> Score:
    """Micro P/R/F1 of (offset, text, type); type accuracy and metadata accuracy per type. A
    span may carry two types (a year is a DATE and a NUMBER); a gold mention found only with
    another type counts as mistyped."""
    true_positive = false_positive = false_negative = 0
    typed: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    metadata: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    errors = []
    for (text, golds), found in zip(cases, predicted, strict=True):
        by_key = {(start, content, kind): meta for start, content, kind, meta in found}
        spans = {(start, content) for start, content, _, _ in found}
        gold_keys = {(gold_offset(text, g), g.text, g.type) for g in golds}
        for gold in golds:
            key = (gold_offset(text, gold), gold.text, gold.type)
            if key not in by_key:
                false_negative += 1
                if key[:2] in spans:
                    typed[gold.type][0] += 1
                    kinds = sorted(k for s, c, k in by_key if (s, c) == key[:2])
                    errors.append(f"{gold.text!r} typed {kinds}, not {gold.type}, in {text!r}")
                else:
                    errors.append(f"missed {gold.text!r} {gold.type} in {text!r}")
                continue
            true_positive += 1
            typed[gold.type][0] += 1
            typed[gold.type][1] += 1
            if gold.metadata is not None:
                metadata[gold.type][0] += 1
                if by_key[key] == gold.metadata:
                    metadata[gold.type][1] += 1
                else:
                    errors.append(f"{gold.text!r} metadata {by_key[key]}, not {gold.metadata}")
        for key in by_key:
            if key not in gold_keys:
                false_positive += 1
                errors.append(f"extra {key[1]!r} {key[2]} in {text!r}")
    precision = true_positive / ((true_positive + false_positive) or 1)
    recall = true_positive / ((true_positive + false_negative) or 1)
    f1 = 2 * precision * recall / ((precision + recall) or 1)
    return Score(
        precision,
        recall,
        f1,
        {k: (v[0], v[1]) for k, v in sorted(typed.items())},
        {k: (v[0], v[1]) for k, v in sorted(metadata.items())},
        errors,
    )


def found_in(response) -> list[Found]:
    """The mentions of an AnalyzeEntitiesResponse asked for with UTF32 offsets."""
    return [
        (m.text.begin_offset, m.text.content, e.type_.name, dict(e.metadata))
        for e in response.entities
        for m in e.mentions
    ]
