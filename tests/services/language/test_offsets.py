"""`beginOffset` in each encoding, as Google defines it (pure, no service)."""

from __future__ import annotations

import pytest
from google.cloud import language_v1

from services.language.backends.local.offsets import OffsetMap

Encoding = language_v1.EncodingType
TEXT = "aé€😀b"  # 1, 2, 3 and 4 UTF-8 bytes; the emoji is 2 UTF-16 units


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        (Encoding.UTF8, [0, 1, 3, 6, 10, 11]),
        (Encoding.UTF16, [0, 1, 2, 3, 5, 6]),
        (Encoding.UTF32, [0, 1, 2, 3, 4, 5]),
        (Encoding.NONE, [-1] * 6),
    ],
)
def test_offsets(encoding, expected):
    offset = OffsetMap(TEXT, encoding)
    assert [offset(i) for i in range(len(TEXT) + 1)] == expected


def test_ascii_text_is_the_index_in_every_encoding():
    for encoding in (Encoding.UTF8, Encoding.UTF16, Encoding.UTF32):
        assert OffsetMap("plain", encoding)(3) == 3
