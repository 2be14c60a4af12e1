"""Legal but hostile JSON, wrong types, and echoed values: refused at the edge, once, for every
service, in Google's words (regressions found by bench/fuzz.py)."""

from __future__ import annotations

import pytest
from google.cloud import vision

from shared import events, jsonbody, protojson
from shared.errors import ApiError, Code, echo

DEEP = "[" * 2000 + "]" * 2000


def _refused(call) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    assert caught.value.code == Code.INVALID_ARGUMENT
    assert str(caught.value).startswith("Invalid JSON payload received.")
    return caught.value


def _vision(body: str):
    return protojson.parse(vision.BatchAnnotateImagesRequest, body)


def test_deep_nesting_is_invalid_argument_not_a_recursion_error():
    _refused(lambda: jsonbody.loads(DEEP))
    _refused(lambda: _vision('{"requests":' + DEEP + "}"))


def test_deep_nesting_in_an_event_is_an_undecodable_event():
    with pytest.raises(events.EventDecodeError):
        events.decode({"content-type": "application/json"}, b'{"message":' + DEEP.encode() + b"}")


@pytest.mark.parametrize(
    "body",
    [
        r'{"requests":[{"features":[{"type":"\ud800"}]}]}',  # as an enum value
        r'{"\ud800":1}',  # as a key
    ],
)
def test_a_lone_surrogate_is_invalid_argument(body):
    _refused(lambda: _vision(body))


def test_numbers_out_of_range_name_the_field():
    error = _refused(
        lambda: _vision('{"requests":[{"features":[{"maxResults":' + str(10**30) + "}]}]}")
    )
    assert "'requests[0].features[0].max_results' (TYPE_INT32)" in str(error)
    _refused(
        lambda: _vision(
            '{"requests":[{"imageContext":{"cropHintsParams":{"aspectRatios":[1e400]}}}]}'
        )
    )


def test_an_unknown_enum_number_names_the_field():
    error = _refused(lambda: _vision('{"requests":[{"features":[{"type":999}]}]}'))
    assert "'requests[0].features[0].type'" in str(error)
    assert "999" in str(error)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ('{"requests":"x"}', "requests"),
        ('{"requests":[{"image":"x"}]}', "requests[0].image"),
        ('{"requests":[{"image":{"content":5}}]}', "requests[0].image.content"),
        ('{"requests":[{"features":[{"maxResults":"x"}]}]}', "requests[0].features[0].max_results"),
    ],
)
def test_a_wrong_type_anywhere_names_its_field(body, path):
    error = _refused(lambda: _vision(body))
    assert f"Invalid value at '{path}'" in str(error)
    assert error.details, "a BadRequest detail names the field for the clients"


def test_echoed_values_are_short_and_escaped():
    long = echo("a" * 500)
    assert len(long) < 60
    assert long.endswith("...'")
    assert echo("x\ny") == "'x\\ny'"
