"""Vertex AI resource names and ids, as Vertex forms them (pure, no I/O).

    projects/{p}/locations/{l}/models/{model}            a model (its default version)
    projects/{p}/locations/{l}/models/{model}@{version}  one version, by id or alias
    projects/{p}/locations/{l}/endpoints/{endpoint}
    projects/{p}/locations/{l}/{collection}/{id}/operations/{operation}

A model id is a registry model name: ids given at upload follow Vertex's rule (`[a-z0-9_-]`, at
most 63, not starting with a digit or a hyphen), ids Vertex would generate are numbers, so the
two never collide. Endpoint ids follow CreateEndpointRequest.endpoint_id: a letter first then
`[a-z0-9-]` (at most 63, ending in a letter or digit), or at most 9 digits without a leading
zero; generated ones are longer numbers, as Vertex's are. Projects and locations are echoed
from the request path: one registry serves one project.
"""

from __future__ import annotations

import re
import secrets
from typing import NamedTuple

from shared.errors import invalid_argument

_USER_MODEL_ID = re.compile(r"^[a-z_][a-z0-9_-]{0,62}$")
_USER_ENDPOINT_ID = re.compile(r"^(?:[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?|[1-9][0-9]{0,8})$")
_MODEL_RESOURCE = re.compile(
    r"^projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/models/(?P<model>[^/@]+)"
    r"(?:@(?P<version>[^/@]+))?$"
)
_ENDPOINT_RESOURCE = re.compile(
    r"^projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/endpoints/(?P<endpoint>[^/]+)$"
)


def location_name(project: str, location: str) -> str:
    return f"projects/{project}/locations/{location}"


def model_name(project: str, location: str, model: str) -> str:
    return f"{location_name(project, location)}/models/{model}"


def endpoint_name(project: str, location: str, endpoint: str) -> str:
    return f"{location_name(project, location)}/endpoints/{endpoint}"


def new_id() -> str:
    """A fresh 19-digit id, the shape of the ids Vertex generates for models, endpoints,
    deployed models and operations."""
    return str(10**18 + secrets.randbelow(9 * 10**18))


class ModelRef(NamedTuple):
    project: str
    location: str
    model: str
    version: str | None  # a version id or alias; None: the default version


def split_version(segment: str) -> tuple[str, str | None]:
    """`model@version` (one path segment) -> (model, version or alias); no `@`: None."""
    model, sep, version = segment.partition("@")
    if sep and (not version or "@" in version):
        raise invalid_argument(f"Invalid model version reference {segment!r}.")
    return model, (version if sep else None)


def parse_model(resource: str, field: str) -> ModelRef:
    """A request field holding `projects/P/locations/L/models/M[@V]`."""
    match = _MODEL_RESOURCE.match(resource or "")
    if not match:
        raise invalid_argument(
            f"Invalid {field} {resource!r}: expected "
            "projects/{project}/locations/{location}/models/{model}[@{version}]."
        )
    return ModelRef(match["project"], match["location"], match["model"], match["version"] or None)


def parse_endpoint(resource: str, field: str) -> str:
    """A request field holding `projects/P/locations/L/endpoints/E` -> E."""
    match = _ENDPOINT_RESOURCE.match(resource or "")
    if not match:
        raise invalid_argument(
            f"Invalid {field} {resource!r}: expected "
            "projects/{project}/locations/{location}/endpoints/{endpoint}."
        )
    return match["endpoint"]


def check_model_id(model_id: str) -> str:
    if not _USER_MODEL_ID.match(model_id):
        raise invalid_argument(
            f"Invalid modelId {model_id!r}: up to 63 characters of [a-z0-9_-], not starting "
            "with a number or a hyphen."
        )
    return model_id


def check_endpoint_id(endpoint_id: str) -> str:
    if not _USER_ENDPOINT_ID.match(endpoint_id):
        raise invalid_argument(
            f"Invalid endpoint_id {endpoint_id!r}: a letter then up to 62 of [a-z0-9-] ending "
            "in a letter or number, or up to 9 digits with no leading zero."
        )
    return endpoint_id
