"""Traffic splits across model versions: validation, the choice per request, sticky keys.

Pure logic, no I/O. A split maps a deployed model (a version, or an alias resolved to one) to
an integer percent, the percents summing to 100, as Vertex AI's `Endpoint.trafficSplit`
(google/cloud/aiplatform/v1/endpoint.proto). A request draws a number `u` in [0, 1): at random,
or from a hash of its sticky key, so that one key always lands on the same version for as long
as the split does not change. Versions are laid out in sorted order on [0, 1), so the same split
always maps the same `u` to the same version in every process.

    TrafficSplit({"1": 90, "2": 10}).choose(0.95)  -> "2"
    TrafficSplit({"1": 90, "2": 10}).choose(sticky_fraction("user-42"))  -> always the same
"""

from __future__ import annotations

import bisect
import hashlib
import random
from collections.abc import Mapping

from shared.errors import echo, invalid_argument


def validate_split(split: Mapping[str, object]) -> dict[str, int]:
    """A checked copy of `split`: non-empty, integer percents in 0..100 summing to 100.
    Anything else is INVALID_ARGUMENT with a message that says how to fix it."""
    if not isinstance(split, Mapping) or not split:
        raise invalid_argument("trafficSplit must map at least one deployed model to a percent.")
    checked: dict[str, int] = {}
    for key, value in split.items():
        if not isinstance(key, str) or not key:
            raise invalid_argument(f"trafficSplit keys must be non-empty strings, got {echo(key)}.")
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            raise invalid_argument(
                f"trafficSplit[{echo(key)}] must be an integer percent from 0 to 100, "
                f"got {echo(value)}."
            )
        checked[key] = value
    total = sum(checked.values())
    if total != 100:
        raise invalid_argument(
            f"trafficSplit percents must sum to 100, they sum to {total}: {checked}."
        )
    return checked


def parse_split_args(items: list[str]) -> dict[str, int]:
    """`["1=90", "challenger=10"]` (the CLI's form) -> a validated split."""
    split: dict[str, int] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value.strip().lstrip("-").isdigit():
            raise invalid_argument(f"Expected VERSION=PERCENT, got {echo(item)}.")
        split[key.strip()] = int(value)
    return validate_split(split)


def sticky_fraction(key: str, salt: str = "") -> float:
    """A stable number in [0, 1) for `key`: the same in every process and on every machine
    (BLAKE2b, not Python's per-process salted `hash`)."""
    digest = hashlib.blake2b(f"{salt}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


class TrafficSplit:
    """A validated split laid out on [0, 1) for a choice per request in O(log n)."""

    __slots__ = ("_bounds", "_versions", "percents")

    def __init__(self, split: Mapping[str, object]) -> None:
        self.percents = validate_split(split)
        self._versions: list[str] = []
        self._bounds: list[float] = []
        cumulative = 0
        for version in sorted(self.percents):
            if self.percents[version] == 0:
                continue
            cumulative += self.percents[version]
            self._versions.append(version)
            self._bounds.append(cumulative / 100.0)

    @property
    def versions(self) -> list[str]:
        """The versions that receive traffic (percent > 0), in layout order."""
        return list(self._versions)

    def choose(self, u: float | None = None) -> str:
        """The version for the draw `u` in [0, 1); a fresh random draw when `u` is None."""
        if u is None:
            u = random.random()  # noqa: S311 - traffic splitting, not cryptography
        index = bisect.bisect_right(self._bounds, u)
        return self._versions[min(index, len(self._versions) - 1)]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrafficSplit) and other.percents == self.percents

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.percents.items())))

    def __repr__(self) -> str:
        return f"TrafficSplit({self.percents})"


def without(split: TrafficSplit, excluded: set[str] | frozenset[str]) -> TrafficSplit | None:
    """`split` with the `excluded` versions' traffic shared among the others in proportion
    (integer percents by largest remainder, still summing to 100); None when nothing is left."""
    kept = {v: p for v, p in split.percents.items() if v not in excluded and p > 0}
    total = sum(kept.values())
    if not kept or total == 0:
        return None
    exact = {v: p * 100 / total for v, p in kept.items()}
    floors = {v: int(share) for v, share in exact.items()}
    short = 100 - sum(floors.values())
    for version in sorted(exact, key=lambda v: (floors[v] - exact[v], v))[:short]:
        floors[version] += 1
    return TrafficSplit(floors)
