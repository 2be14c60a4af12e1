"""Traffic splits: validation, the choice per request, sticky keys."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from shared.errors import ApiError
from shared.traffic import (
    TrafficSplit,
    parse_split_args,
    sticky_fraction,
    validate_split,
    without,
)


@pytest.mark.parametrize(
    ("split", "fragment"),
    [
        ({}, "at least one"),
        ({"1": 90, "2": 20}, "sum to 110"),
        ({"1": 50}, "sum to 50"),
        ({"1": 101, "2": -1}, "integer percent from 0 to 100"),
        ({"1": 50.0, "2": 50}, "integer percent"),
        ({"1": True, "2": 99}, "integer percent"),
        ({"": 100}, "non-empty strings"),
    ],
)
def test_invalid_splits_say_what_is_wrong(split, fragment):
    with pytest.raises(ApiError, match=fragment) as caught:
        validate_split(split)
    assert caught.value.code.name == "INVALID_ARGUMENT"


@pytest.mark.parametrize(
    ("split", "u", "version"),
    [
        ({"1": 100}, 0.0, "1"),
        ({"1": 100}, 0.999999, "1"),
        ({"1": 90, "2": 10}, 0.0, "1"),
        ({"1": 90, "2": 10}, 0.8999, "1"),
        ({"1": 90, "2": 10}, 0.9, "2"),
        ({"1": 90, "2": 10}, 0.999999, "2"),
        ({"2": 10, "1": 90}, 0.95, "2"),  # layout is by sorted version, not insertion order
        ({"a": 0, "b": 100}, 0.0, "b"),  # 0% never chosen
        ({"a": 34, "b": 33, "c": 33}, 0.5, "b"),
    ],
)
def test_choice_by_draw(split, u, version):
    assert TrafficSplit(split).choose(u) == version


def test_90_10_over_10000_random_requests_is_within_statistical_bounds():
    random.seed(1234)
    split = TrafficSplit({"1": 90, "2": 10})
    seen = Counter(split.choose() for _ in range(10_000))
    # Binomial(10000, 0.1): mean 1000, sd 30. Five sd either side.
    assert 850 <= seen["2"] <= 1150
    assert seen["1"] + seen["2"] == 10_000


def test_90_10_over_10000_sticky_keys_is_within_statistical_bounds():
    split = TrafficSplit({"1": 90, "2": 10})
    seen = Counter(split.choose(sticky_fraction(f"user-{i}", "cancer")) for i in range(10_000))
    assert 850 <= seen["2"] <= 1150


def test_sticky_keys_are_stable_and_salted_per_endpoint():
    assert sticky_fraction("alice", "e1") == sticky_fraction("alice", "e1")
    assert 0 <= sticky_fraction("alice", "e1") < 1
    assert sticky_fraction("alice", "e1") != sticky_fraction("alice", "e2")
    split = TrafficSplit({"1": 50, "2": 50})
    assert len({split.choose(sticky_fraction("alice", "e")) for _ in range(100)}) == 1


def test_parse_split_args():
    assert parse_split_args(["1=90", "challenger=10"]) == {"1": 90, "challenger": 10}
    with pytest.raises(ApiError, match="VERSION=PERCENT"):
        parse_split_args(["1:90"])


@pytest.mark.parametrize(
    ("split", "excluded", "expected"),
    [
        ({"1": 90, "2": 10}, {"2"}, {"1": 100}),
        ({"1": 90, "2": 10}, set(), {"1": 90, "2": 10}),
        ({"1": 33, "2": 33, "3": 34}, {"3"}, {"1": 50, "2": 50}),
        ({"1": 20, "2": 20, "3": 60}, {"3"}, {"1": 50, "2": 50}),
        ({"1": 10, "2": 20, "3": 70}, {"1"}, {"2": 22, "3": 78}),
        ({"1": 100}, {"1"}, None),
    ],
)
def test_without_shares_traffic_of_broken_versions(split, excluded, expected):
    result = without(TrafficSplit(split), excluded)
    assert (result.percents if result else None) == expected
