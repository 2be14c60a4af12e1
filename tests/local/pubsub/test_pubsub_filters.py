"""The filter parser, pure and table-driven."""

from __future__ import annotations

import pytest

from local.pubsub.filters import FilterError, parse

ATTRS = {
    "domain": "com",
    "lang": "en-US",
    "iana.org/language_tag": "en",
    "empty": "",
    "quote": 'say "hi"',
}

MATCHES = [
    ("", True),
    ("   ", True),
    ('attributes.domain = "com"', True),
    ('attributes.domain = "org"', False),
    ('attributes.missing = "com"', False),
    ('attributes.domain != "org"', True),
    ('attributes.domain != "com"', False),
    ('attributes.missing != "com"', True),
    ("attributes:domain", True),
    ("attributes:missing", False),
    ("attributes:empty", True),
    ('attributes.empty = ""', True),
    ('hasPrefix(attributes.lang, "en")', True),
    ('hasPrefix(attributes.lang, "fr")', False),
    ('hasPrefix(attributes.missing, "")', False),
    ('hasPrefix(attributes.lang, "")', True),
    ("NOT attributes:missing", True),
    ("NOT attributes:domain", False),
    ("-attributes:domain", False),
    ("-attributes:missing", True),
    ('NOT NOT attributes.domain = "com"', True),
    ('attributes:domain AND attributes.lang = "en-US"', True),
    ('attributes:domain AND attributes.lang = "fr"', False),
    ('attributes:missing OR attributes.lang = "en-US"', True),
    ('attributes:missing OR attributes.lang = "fr"', False),
    ("attributes:a OR attributes:b OR attributes:domain", True),
    ("attributes:domain AND attributes:lang AND attributes:empty", True),
    ('(attributes:missing OR attributes:domain) AND attributes.lang = "en-US"', True),
    ('attributes:missing OR (attributes:domain AND NOT attributes.lang = "en-US")', False),
    ("-(attributes:missing OR attributes:x)", True),
    ('attributes."iana.org/language_tag" = "en"', True),
    ('attributes:"iana.org/language_tag"', True),
    (r'attributes.quote = "say \"hi\""', True),
    (r'attributes.domain = "\x63om"', True),
    (r'attributes.domain = "\u0063om"', True),
    (r'attributes.domain = "\143om"', True),
    ('attributes.domain="com"AND attributes:lang', True),
]


@pytest.mark.parametrize(("text", "expected"), MATCHES)
def test_filter_matches(text, expected):
    assert parse(text)(ATTRS) is expected


INVALID = [
    "attributes:a AND attributes:b OR attributes:c",  # AND and OR mixed without parentheses
    "attributes:a OR attributes:b AND attributes:c",
    "attributes:a and attributes:b",  # keywords are upper case
    "attributes:a attributes:b",
    "attributes.domain = com",  # values are string literals
    'attributes.domain == "com"',
    'attributes.domain = "com',  # unterminated
    'data = "x"',  # only attributes can be filtered
    "attributes",
    "attributes.",
    "hasPrefix(attributes.domain)",
    'hasPrefix(domain, "c")',
    "(attributes:a",
    "attributes:a)",
    "NOT",
    "attributes:a AND",
    'attributes.x = "\\q"',  # unknown escape
    'attributes:""',
    "attributes:a OR " + " OR ".join(f"attributes:k{i}" for i in range(40)),  # over 256 bytes
]


@pytest.mark.parametrize("text", INVALID)
def test_invalid_filters_are_rejected(text):
    with pytest.raises(FilterError):
        parse(text)


def test_limit_is_256_bytes_not_characters():
    value = "é" * 100  # 200 bytes
    ok = f'attributes.k = "{value[: 110 // 2]}"'
    parse(ok)
    with pytest.raises(FilterError, match="256 bytes"):
        parse(f'attributes.k = "{value}{value}"')
