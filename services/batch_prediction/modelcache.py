"""The models batch jobs use: a job's registry reference (`ModelRef`), resolved to one version,
and the versions loaded in this process (`ModelCache`).

References, as a job's `model` (Vertex puts a Model resource name there; we take our
registry's names, with or without the resource prefix):

    projects/P/locations/L/models/NAME@ALIAS     Vertex's spelling of a version alias
    projects/P/locations/L/models/NAME@VERSION   ... and of a version id
    NAME@ALIAS, NAME@VERSION, NAME/VERSION       the short forms
    NAME                                         the `champion` alias (Vertex: default version)

An alias is resolved when the job starts; the job records the version (`modelVersionId`) and
a resumed job keeps it, even if the alias has moved since.
"""

from __future__ import annotations

import collections
import re
import threading
from typing import NamedTuple

from shared.errors import echo, invalid_argument
from shared.modelruntime import ServedModel, load
from shared.registry import CHAMPION, ModelVersion, Registry

_RESOURCE = re.compile(r"^projects/[^/]+/locations/[^/]+/models/(?P<rest>.+)$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class ModelRef(NamedTuple):
    name: str
    ref: str  # an alias or a version id

    def __str__(self) -> str:
        return f"{self.name}@{self.ref}"


def parse_ref(model: str) -> ModelRef:
    """A job's `model` field -> (name, alias or version); INVALID_ARGUMENT when malformed."""
    text = model.strip()
    match = _RESOURCE.match(text)
    if match:
        text = match.group("rest")
    if "@" in text:
        name, _, ref = text.partition("@")
    elif "/" in text:
        name, _, ref = text.partition("/")
    else:
        name, ref = text, CHAMPION
    if not _NAME.match(name) or not ref or "/" in ref or "@" in ref:
        raise invalid_argument(
            f"model {echo(model)} is not a registry reference: use NAME@ALIAS, NAME@VERSION, "
            "NAME/VERSION or projects/P/locations/L/models/NAME@ALIAS."
        )
    return ModelRef(name, ref)


class ModelCache:
    """Loaded versions, the most recently used `size` of them. Versions are immutable, so a
    loaded one never goes stale (keyed by `ModelVersion.identity`: a model deleted and
    made again under its name has its ids again). Thread-safe; concurrent first uses load once."""

    def __init__(self, registry: Registry, size: int = 4) -> None:
        self.registry = registry
        self._size = size
        self._models: collections.OrderedDict[tuple[str, str, str], ServedModel] = (
            collections.OrderedDict()
        )
        # Protects `_models`; loading happens under it (a batch service loads rarely).
        self._lock = threading.Lock()

    def resolve(self, ref: ModelRef) -> ModelVersion:
        """The version `ref` names now; NOT_FOUND for an unknown model, alias or version."""
        version = self.registry.snapshot(ref.name).resolve(ref.ref)
        return self.registry.get(ref.name, version)

    def pinned(self, name: str, version_id: str) -> ModelVersion:
        """The version a job recorded when it started (`modelVersionId`)."""
        return self.registry.get(name, version_id)

    def get(self, version: ModelVersion) -> ServedModel:
        key = version.identity
        with self._lock:
            served = self._models.get(key)
            if served is None:
                served = load(version, self.registry.read_artifact(version))
                self._models[key] = served
                while len(self._models) > self._size:
                    self._models.popitem(last=False)
            self._models.move_to_end(key)
            return served
