"""LABEL_DETECTION (EfficientNet-Lite0, the `labels` extra), through the official client against
the running service; and the UNIMPLEMENTED answer of a service without the extra."""

from __future__ import annotations

import base64
import importlib.resources
import json
import os
import subprocess
import sys

import pytest
from google.cloud import vision
from PIL import Image

from local.samples import png_bytes
from services.vision.backends.local.labels import MISSING_EXTRA
from tests.conftest import ROOT

Feature = vision.Feature.Type

COFFEE = {"espresso", "cup", "coffee mug", "consomme", "eggnog"}
CAT = {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}


def _photo(name: str) -> Image.Image:
    """A photograph shipped inside scikit-image's wheel (nothing is downloaded)."""
    with importlib.resources.as_file(importlib.resources.files("skimage") / "data" / name) as p:
        return Image.open(p).convert("RGB")


def _labels(client, name: str, max_results: int | None = None) -> list[vision.EntityAnnotation]:
    feature = {"type_": Feature.LABEL_DETECTION}
    if max_results is not None:
        feature["max_results"] = max_results
    response = client.annotate_image(
        {"image": {"content": png_bytes(_photo(name))}, "features": [feature]}
    )
    assert not response.error.message
    return list(response.label_annotations)


def test_a_cup_of_coffee(client):
    labels = _labels(client, "coffee.png")
    assert COFFEE & {label.description for label in labels[:5]}
    assert labels[0].description == "espresso"


def test_a_cat(client):
    labels = _labels(client, "chelsea.png")
    assert labels[0].description in CAT
    assert len(CAT & {label.description for label in labels[:5]}) >= 2


@pytest.mark.parametrize("name", ["coffee.png", "chelsea.png", "astronaut.png", "rocket.jpg"])
def test_scores_are_probabilities_sorted_descending(client, name):
    labels = _labels(client, name)
    assert 1 <= len(labels) <= 10  # maxResults defaults to 10
    scores = [label.score for label in labels]
    assert all(0 < score <= 1 for score in scores)
    assert scores == sorted(scores, reverse=True)
    assert sum(scores) <= 1 + 1e-6
    for label in labels:
        assert label.topicality == label.score
        assert label.mid == ""  # no Knowledge Graph ids offline
        assert label.description


def test_max_results_is_honoured(client):
    everything = _labels(client, "rocket.jpg", max_results=50)
    assert len(everything) > 3
    limited = _labels(client, "rocket.jpg", max_results=2)
    assert [label.description for label in limited] == [
        label.description for label in everything[:2]
    ]
    assert [label.score for label in limited] == pytest.approx(
        [label.score for label in everything[:2]]
    )


def test_labels_beside_other_features(client):
    response = client.annotate_image(
        {
            "image": {"content": png_bytes(_photo("astronaut.png"))},
            "features": [
                {"type_": Feature.LABEL_DETECTION, "max_results": 3},
                {"type_": Feature.FACE_DETECTION},
            ],
        }
    )
    assert not response.error.message
    assert 1 <= len(response.label_annotations) <= 3
    assert len(response.face_annotations) == 1


_WITHOUT_TORCH = """
import json, sys
sys.modules["torch"] = None  # as if torch were not installed: `import torch` raises ImportError
from services.vision.app import create_app
client = create_app().test_client()
body = {"requests": [{
    "image": {"content": sys.stdin.read()},
    "features": [{"type": "LABEL_DETECTION"}, {"type": "IMAGE_PROPERTIES", "maxResults": 2}],
}]}
answer = client.post("/v1/images:annotate", json=body)
print(json.dumps({"status": answer.status_code, "body": answer.get_json()}))
"""


def test_without_the_labels_extra_the_feature_is_unimplemented():
    content = base64.b64encode(png_bytes(_photo("coffee.png"))).decode()
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_TORCH],
        input=content,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "VISION_ML_BACKEND"},
            "ML_BACKEND": "local",
            "GOOGLE_CLOUD_PROJECT": "test-project",
        },
        timeout=120,
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200
    image = answer["body"]["responses"][0]
    assert image["error"] == {"code": 12, "message": MISSING_EXTRA}
    assert MISSING_EXTRA == (
        "LABEL_DETECTION needs the optional `labels` extra: pip install -e '.[labels]' "
        "(torch CPU + EfficientNet-Lite0), or set VISION_ML_BACKEND=cloud."
    )
    assert "labelAnnotations" not in image
    # The other feature is still answered.
    assert len(image["imagePropertiesAnnotation"]["dominantColors"]["colors"]) == 2
