"""`deploy/topology.yaml`: the one description of services, topics, subscriptions and buckets.

`load()` validates the file when it is read and names the line of every problem
(`deploy/topology.yaml:42: subscriptions.vision-images.ack_deadline: ...`). Both the local stack
(`mlapi up`) and the cloud deploy read it through `Topology`, so the two cannot drift apart.

Names follow Google's rules (topics and subscriptions: 3-255 characters, a letter first, then
letters, digits and `-_.~+%`, never `goog` first; buckets: 3-63 lower-case letters, digits,
`-_.`). `{project}` in a name or an env value stands for the project id; `render(project)`
substitutes it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_PATH = Path(__file__).resolve().parent / "topology.yaml"

_RESOURCE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$")
_BUCKET_NAME = re.compile(r"^[a-z0-9{][a-z0-9\-_.{}]{1,61}[a-z0-9}]$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")

EventType = Literal["OBJECT_FINALIZE", "OBJECT_DELETE", "OBJECT_ARCHIVE", "OBJECT_METADATA_UPDATE"]


class TopologyError(ValueError):
    """The topology is invalid; the message names the file and line of each problem."""


def seconds(duration: str | int | float) -> float:
    """Google's duration string ("10s", "0.5s") or a number of seconds, in seconds."""
    if isinstance(duration, int | float):
        return float(duration)
    match = _DURATION.match(duration.strip())
    if not match:
        raise ValueError(f"{duration!r} is not a duration such as '10s'")
    return float(match.group(1))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Resources(_Model):
    cpu: float = Field(default=1, gt=0, le=8)
    cpu_boost: bool = True  # Cloud Run's startup CPU boost: shorter cold starts
    # CPU outside requests (Cloud Run's --no-cpu-throttling): for work in background threads.
    cpu_always_allocated: bool = False
    memory: str = Field(default="512Mi", pattern=r"^\d+(Mi|Gi)$")
    concurrency: int = Field(default=80, ge=1, le=1000)
    min_instances: int = Field(default=0, ge=0)
    max_instances: int = Field(default=10, ge=1)
    timeout: str = "300s"

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: str) -> str:
        if not 1 <= seconds(value) <= 3600:
            raise ValueError("timeout must be between 1s and 3600s (Cloud Run's limit)")
        return value


class Service(_Model):
    source: str
    target: str
    port: int = Field(ge=1024, le=65535)
    env: dict[str, str] = Field(default_factory=dict)
    # Set by the cloud deploy only, over `env`: what is sized for the `resources` Cloud Run
    # gives the service (processes per vCPU), which the machine `mlapi up` runs on may lack.
    cloud_env: dict[str, str] = Field(default_factory=dict)
    resources: Resources = Field(default_factory=Resources)
    reads: list[str] = Field(default_factory=list, description="buckets the service reads")
    writes: list[str] = Field(default_factory=list, description="buckets the service writes")
    apis: list[str] = Field(default_factory=list, description="Google APIs its cloud backend calls")
    extras: list[str] = Field(
        default_factory=list, description="pip extras its image needs beyond the core"
    )

    @property
    def publishes(self) -> list[str]:
        """Topics the service publishes to: its `OUTPUT_TOPIC`."""
        topic = self.env.get("OUTPUT_TOPIC")
        return [topic] if topic else []


class Topic(_Model):
    message_retention: str | None = None


class Notification(_Model):
    topic: str
    event_types: list[EventType] = Field(default_factory=lambda: ["OBJECT_FINALIZE"])
    payload_format: Literal["JSON_API_V1", "NONE"] = "JSON_API_V1"
    object_name_prefix: str | None = None
    custom_attributes: dict[str, str] = Field(default_factory=dict)


class Bucket(_Model):
    notifications: list[Notification] = Field(default_factory=list)


class Push(_Model):
    service: str
    path: str = Field(default="/events", pattern=r"^/")
    oidc: bool = True
    no_wrapper: bool = False
    write_metadata: bool = False


class RetryPolicy(_Model):
    minimum_backoff: str = "10s"
    maximum_backoff: str = "600s"

    @field_validator("minimum_backoff", "maximum_backoff")
    @classmethod
    def _backoff(cls, value: str) -> str:
        if not 0 <= seconds(value) <= 600:
            raise ValueError("backoff must be between 0s and 600s")
        return value


class DeadLetter(_Model):
    topic: str
    max_delivery_attempts: int = Field(default=5, ge=5, le=100)


class Subscription(_Model):
    topic: str
    push: Push | None = None
    ack_deadline: str = "10s"
    retry_policy: RetryPolicy | None = None
    dead_letter: DeadLetter | None = None
    filter: str | None = Field(default=None, max_length=256)
    enable_message_ordering: bool = False

    @field_validator("ack_deadline")
    @classmethod
    def _ack_deadline(cls, value: str) -> str:
        if not 10 <= seconds(value) <= 600:
            raise ValueError("ack_deadline must be between 10s and 600s")
        return value


class Host(_Model):
    """A local-only front end that serves a family of Google APIs on one port, routing by
    path to the services, as Google's regional host does (`local/vertex_host.py`). Never
    deployed: in the cloud, clients call Google's own host."""

    port: int = Field(ge=1024, le=65535)
    routes: dict[str, str] = Field(
        description="resource collection after projects/*/locations/*/ -> service"
    )


class Topology(_Model):
    services: dict[str, Service] = Field(default_factory=dict)
    topics: dict[str, Topic] = Field(default_factory=dict)
    buckets: dict[str, Bucket] = Field(default_factory=dict)
    subscriptions: dict[str, Subscription] = Field(default_factory=dict)
    hosts: dict[str, Host] = Field(default_factory=dict)

    def render(self, project: str) -> Topology:
        """A copy with `{project}` substituted everywhere."""
        data = _substitute(self.model_dump(), project)
        return Topology.model_validate(data)

    def problems(self) -> list[tuple[tuple[Any, ...], str]]:
        """Cross-references and names that per-field validation cannot see."""
        found: list[tuple[tuple[Any, ...], str]] = []
        for name in (*self.topics, *self.subscriptions):
            if not _RESOURCE_NAME.match(name) or name.startswith("goog"):
                kind = "topics" if name in self.topics else "subscriptions"
                found.append(((kind, name), f"{name!r} is not a valid Pub/Sub resource name"))
        for name in self.buckets:
            if not _BUCKET_NAME.match(name):
                found.append((("buckets", name), f"{name!r} is not a valid bucket name"))
        ports: dict[int, str] = {}
        for name, service in self.services.items():
            if service.port in ports:
                found.append(
                    (
                        ("services", name, "port"),
                        f"port {service.port} is also used by {ports[service.port]!r}",
                    )
                )
            ports[service.port] = name
            for topic in service.publishes:
                if topic not in self.topics:
                    found.append(
                        (
                            ("services", name, "env", "OUTPUT_TOPIC"),
                            f"topic {topic!r} is not declared under topics",
                        )
                    )
            for key in ("reads", "writes"):
                for bucket in getattr(service, key):
                    if bucket not in self.buckets:
                        found.append(
                            (
                                ("services", name, key),
                                f"bucket {bucket!r} is not declared under buckets",
                            )
                        )
        for name, host in self.hosts.items():
            if name in self.services:
                found.append((("hosts", name), f"{name!r} is also the name of a service"))
            if host.port in ports:
                found.append(
                    (
                        ("hosts", name, "port"),
                        f"port {host.port} is also used by {ports[host.port]!r}",
                    )
                )
            ports[host.port] = name
            for collection, service in host.routes.items():
                if service not in self.services:
                    found.append(
                        (
                            ("hosts", name, "routes", collection),
                            f"service {service!r} is not declared under services",
                        )
                    )
        for name, bucket in self.buckets.items():
            for index, notification in enumerate(bucket.notifications):
                if notification.topic not in self.topics:
                    found.append(
                        (
                            ("buckets", name, "notifications", index, "topic"),
                            f"topic {notification.topic!r} is not declared under topics",
                        )
                    )
        for name, sub in self.subscriptions.items():
            if sub.topic not in self.topics:
                found.append(
                    (
                        ("subscriptions", name, "topic"),
                        f"topic {sub.topic!r} is not declared under topics",
                    )
                )
            if sub.push and sub.push.service not in self.services:
                found.append(
                    (
                        ("subscriptions", name, "push", "service"),
                        f"service {sub.push.service!r} is not declared under services",
                    )
                )
            if sub.dead_letter:
                if sub.dead_letter.topic not in self.topics:
                    found.append(
                        (
                            ("subscriptions", name, "dead_letter", "topic"),
                            f"topic {sub.dead_letter.topic!r} is not declared under topics",
                        )
                    )
                elif sub.dead_letter.topic == sub.topic:
                    found.append(
                        (
                            ("subscriptions", name, "dead_letter", "topic"),
                            "the dead-letter topic must differ from the subscription's",
                        )
                    )
            if sub.retry_policy and seconds(sub.retry_policy.minimum_backoff) > seconds(
                sub.retry_policy.maximum_backoff
            ):
                found.append(
                    (
                        ("subscriptions", name, "retry_policy"),
                        "minimum_backoff is larger than maximum_backoff",
                    )
                )
        return found


def load(path: str | Path = DEFAULT_PATH) -> Topology:
    """Read and validate a topology file; TopologyError names the line of every problem."""
    path = Path(path)
    text = path.read_text()
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise TopologyError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise TopologyError(f"{path}:1: the topology must be a mapping")
    try:
        topology = Topology.model_validate(data)
    except ValidationError as exc:
        lines = [_at(path, root, tuple(e["loc"]), e["msg"]) for e in exc.errors()]
        raise TopologyError("\n".join(lines)) from None
    problems = topology.problems()
    if problems:
        raise TopologyError("\n".join(_at(path, root, loc, message) for loc, message in problems))
    return topology


def _at(path: Path, root: yaml.Node | None, loc: tuple[Any, ...], message: str) -> str:
    dotted = ".".join(str(part) for part in loc)
    return f"{path}:{_line(root, loc)}: {dotted}: {message}"


def _line(node: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """1-based line of the deepest node of `loc` that exists in the YAML tree."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                break
            line = match[0].start_mark.line + 1
            node = match[1]
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _substitute(value: Any, project: str) -> Any:
    if isinstance(value, str):
        return value.replace("{project}", project)
    if isinstance(value, dict):
        return {_substitute(k, project): _substitute(v, project) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, project) for v in value]
    return value
