"""The topology file: the shipped one is valid, and a broken one names the line at fault."""

from __future__ import annotations

import textwrap

import pytest

from deploy.topology import DEFAULT_PATH, TopologyError, load, seconds

VALID = """\
services:
  vision:
    source: services/vision
    target: vision
    port: 8081
    env:
      OUTPUT_TOPIC: text-ready
topics:
  images-finalized: {}
  text-ready: {}
  dead-letters: {}
buckets:
  "{project}-images":
    notifications:
      - topic: images-finalized
subscriptions:
  vision-images:
    topic: images-finalized
    push: {service: vision}
    dead_letter: {topic: dead-letters}
"""


def _write(tmp_path, text: str):
    path = tmp_path / "topology.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_the_shipped_topology_is_valid_and_complete():
    topology = load(DEFAULT_PATH)
    assert "vision" in topology.services
    rendered = topology.render("my-project")
    assert "my-project-images" in rendered.buckets
    assert rendered.services["vision"].env["RESULTS_BUCKET"] == "my-project-results"
    push = rendered.subscriptions["vision-images"].push
    assert (push.service, push.path) == ("vision", "/events")


def test_a_small_valid_topology_loads(tmp_path):
    topology = load(_write(tmp_path, VALID))
    assert topology.subscriptions["vision-images"].dead_letter.max_delivery_attempts == 5
    assert topology.services["vision"].publishes == ["text-ready"]


@pytest.mark.parametrize(
    ("old", "new", "line", "fragment"),
    [
        ("    port: 8081", "    port: 80", 5, "services.vision.port"),
        (
            "    topic: images-finalized\n    push",
            "    topic: nowhere\n    push",
            18,
            "topic 'nowhere' is not declared",
        ),
        ("push: {service: vision}", "push: {service: ocr}", 19, "service 'ocr'"),
        (
            "dead_letter: {topic: dead-letters}",
            "dead_letter: {topic: dead-letters, max_delivery_attempts: 3}",
            20,
            "greater than or equal to 5",
        ),
        (
            "      - topic: images-finalized",
            "      - topic: images-final",
            15,
            "buckets.{project}-images.notifications.0.topic",
        ),
        ("  text-ready: {}", "  goog-text: {}", 10, "not a valid Pub/Sub resource name"),
        ("    target: vision", "    target: vision\n    colour: blue", 5, "colour"),
    ],
)
def test_errors_name_the_line(tmp_path, old, new, line, fragment):
    assert old in VALID
    path = _write(tmp_path, VALID.replace(old, new))
    with pytest.raises(TopologyError) as info:
        load(path)
    message = str(info.value)
    assert f"{path}:{line}:" in message
    assert fragment in message


HOST = """\
hosts:
  vertex:
    port: 8070
    routes:
      endpoints: vision
"""


def test_a_host_routes_collections_to_declared_services(tmp_path):
    topology = load(_write(tmp_path, VALID + HOST))
    assert topology.hosts["vertex"].routes == {"endpoints": "vision"}
    assert load(DEFAULT_PATH).hosts["vertex"].routes["batchPredictionJobs"] == "batch_prediction"


@pytest.mark.parametrize(
    ("old", "new", "line", "fragment"),
    [
        ("endpoints: vision", "endpoints: prediction", 25, "service 'prediction' is not declared"),
        ("port: 8070", "port: 8081", 23, "port 8081 is also used by 'vision'"),
    ],
)
def test_a_broken_host_names_the_line(tmp_path, old, new, line, fragment):
    path = _write(tmp_path, (VALID + HOST).replace(old, new))
    with pytest.raises(TopologyError) as info:
        load(path)
    assert f"{path}:{line}:" in str(info.value)
    assert fragment in str(info.value)


def test_invalid_yaml_is_reported(tmp_path):
    with pytest.raises(TopologyError, match="not valid YAML"):
        load(_write(tmp_path, "services: [unclosed"))


def test_ack_deadline_bounds(tmp_path):
    text = VALID + "    ack_deadline: 601s\n"
    with pytest.raises(TopologyError, match="between 10s and 600s"):
        load(_write(tmp_path, text))


@pytest.mark.parametrize(("value", "expected"), [("10s", 10.0), ("0.5s", 0.5), (3, 3.0)])
def test_durations(value, expected):
    assert seconds(value) == expected


def test_bad_duration():
    with pytest.raises(ValueError, match="duration"):
        seconds("10m")
